"""Reading and writing images at their own precision.

Pillow reads most formats; 16-bit grayscale PNG/TIFF arrive as uint16. Pillow
cannot write 16-bit colour, so 16-bit and float results are written by the
small PNG encoder below (RGB/RGBA, 16 bits per channel, zlib, filter 0).
Writes go to a temporary file renamed into place: nothing is half-written.
"""

from __future__ import annotations

import os
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

Image.MAX_IMAGE_PIXELS = 400_000_000  # large scans are our users' daily bread


class ImageReadError(ValueError):
    pass


def check_readable(path: str | os.PathLike) -> None:
    """Cheap header check, so a bad input fails before a model is loaded."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"input not found: {path}")
    try:
        with Image.open(path) as im:
            im.verify()
    except UnidentifiedImageError as exc:
        raise ImageReadError(f"cannot read {path}: not an image format Pillow knows") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(f"cannot read {path}: {exc}") from exc


def read_image(path: str | os.PathLike) -> np.ndarray:
    """-> (H, W, C) array, C in 1..4, dtype uint8, uint16 or float32."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input not found: {path}")
    if path.is_dir():
        raise ImageReadError(f"{path} is a directory, not an image")
    head = path.open("rb").read(32)
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 26 and head[24] == 16:
        return _read_png16(path)
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        arr = _read_tiff(path)
        if arr is not None:
            return arr
    try:
        with Image.open(path) as im:
            im.load()
            mode = im.mode
            if mode in ("I;16", "I;16B", "I;16L"):
                arr = np.asarray(im, dtype=np.uint16)
            elif mode == "I":
                arr = np.asarray(im, dtype=np.int64)
                arr = np.clip(arr, 0, 65535).astype(np.uint16)
            elif mode == "F":
                arr = np.asarray(im, dtype=np.float32)
            elif mode in ("L", "LA", "RGB", "RGBA"):
                arr = np.asarray(im, dtype=np.uint8)
            elif "A" in im.getbands() or "transparency" in im.info:
                arr = np.asarray(im.convert("RGBA"), dtype=np.uint8)
            else:
                arr = np.asarray(im.convert("RGB"), dtype=np.uint8)
    except UnidentifiedImageError as exc:
        raise ImageReadError(f"cannot read {path}: not an image format Pillow knows") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(f"cannot read {path}: {exc}") from exc
    if arr.ndim == 2:
        arr = arr[..., None]
    return arr


def _read_png16(path: Path) -> np.ndarray:
    """16-bit PNG at full depth (Pillow would reduce colour ones to 8 bits)."""
    import png

    try:
        width, height, rows, info = png.Reader(filename=str(path)).asDirect()
        arr = np.vstack([np.asarray(row, dtype=np.uint16) for row in rows])
    except (png.Error, ValueError, OSError) as exc:
        raise ImageReadError(f"cannot read {path}: {exc}") from exc
    return arr.reshape(height, width, info["planes"])


def _read_tiff(path: Path) -> np.ndarray | None:
    """TIFF at its own depth; None lets Pillow try (e.g. palette or compressed kinds)."""
    import tifffile

    try:
        arr = tifffile.imread(str(path))
    except Exception:  # noqa: BLE001 - anything tifffile cannot decode goes to Pillow
        return None
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[2] > 4:
        return None
    if arr.dtype in (np.float64, np.float16):
        arr = arr.astype(np.float32)
    if arr.dtype not in (np.uint8, np.uint16, np.float32):
        return None
    return arr


def _png16(pixels: np.ndarray) -> bytes:
    h, w, c = pixels.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    rows = pixels.astype(">u2").reshape(h, w * c).view(np.uint8)
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rows], axis=1).tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", w, h, 16, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 3))
        + chunk(b"IEND", b"")
    )


def write_image(path: str | os.PathLike, pixels: np.ndarray) -> None:
    """Write (H, W, C) uint8/uint16 pixels; 16-bit goes to PNG (or TIFF for 1 channel)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if pixels.dtype == np.uint16 and suffix != ".png":
        raise ValueError(
            f"16-bit results are written as PNG; use a .png name instead of {path.name}"
        )
    fd, tmp = tempfile.mkstemp(prefix=".tinct-", suffix=suffix or ".png", dir=path.parent or ".")
    os.close(fd)
    try:
        if pixels.dtype == np.uint16:
            Path(tmp).write_bytes(_png16(pixels))
        else:
            mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[pixels.shape[2]]
            im = Image.fromarray(
                np.ascontiguousarray(pixels if pixels.shape[2] > 1 else pixels[..., 0]), mode
            )
            if suffix in (".jpg", ".jpeg") and mode in ("RGBA", "LA"):
                im = im.convert("RGB")
            fmt = Image.registered_extensions().get(suffix)
            if fmt is None:
                raise ValueError(
                    f"unknown output format {suffix!r} for {path.name}; use .png, .tif or .jpg"
                )
            im.save(tmp, format=fmt, **({"compress_level": 1} if fmt == "PNG" else {}))
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes 0600; results are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
