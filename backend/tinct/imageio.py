"""Reading and writing images at their own precision.

Pillow reads most formats; 16-bit grayscale PNG/TIFF arrive as uint16. Pillow
cannot write 16-bit colour, so 16-bit and float results are written by the
small PNG encoder below (RGB/RGBA, 16 bits per channel, zlib, filter 0).
Writes go to a temporary file renamed into place: nothing is half-written.
"""

from __future__ import annotations

import os
import secrets
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from tinct.protocol.constants import MAX_FILE_PIXELS

# Sizes are checked from the header (image_size) before anything is decoded, so
# Pillow's own bomb check (a warning, then an exception at 2x) is not needed.
Image.MAX_IMAGE_PIXELS = None


class ImageReadError(ValueError):
    pass


def _tiff_header(path: Path) -> tuple[int, int, int, int] | None:
    """(width, height, samples per pixel, bytes per sample) of a TIFF's first page from
    its header, or None. Only the first page is ever read (see _read_tiff)."""
    import tifffile

    try:
        with tifffile.TiffFile(str(path)) as tif:
            page = tif.pages[0]
            itemsize = page.dtype.itemsize if page.dtype is not None else 4
            return (
                int(page.imagewidth),
                int(page.imagelength),
                int(page.samplesperpixel),
                int(itemsize),
            )
    except Exception:  # noqa: BLE001 - not a TIFF tifffile can parse: Pillow decides
        return None


def _tiff_size(path: Path) -> tuple[int, int] | None:
    """(width, height) of a TIFF's first page from its header, or None."""
    header = _tiff_header(path)
    return None if header is None else header[:2]


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) from the file's header, without decoding the pixels."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"input not found: {path}")
    with path.open("rb") as f:
        head = f.read(32)
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        size = _tiff_size(path)
        if size is not None:
            return size
    try:
        with Image.open(path) as im:
            return im.size
    except UnidentifiedImageError as exc:
        raise ImageReadError(f"cannot read {path}: not an image format Pillow knows") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(f"cannot read {path}: {exc}") from exc


def image_header(path: str | os.PathLike) -> tuple[int, int, int, int]:
    """(width, height, channels, bytes per sample) of what ``read_image`` would return
    (before alpha or gray are split off), from the file's header: nothing is decoded."""
    path = Path(path)
    w, h = image_size(path)
    with path.open("rb") as f:
        head = f.read(32)
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        header = _tiff_header(path)
        if header is not None:
            return w, h, min(max(header[2], 1), 4), min(header[3], 4)
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 26 and head[24] == 16:
        planes = {0: 1, 2: 3, 4: 2, 6: 4}.get(head[25], 4)
        return w, h, planes, 2
    try:
        with Image.open(path) as im:
            mode = im.mode
            bands = len(im.getbands())
            transparency = "transparency" in im.info
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(f"cannot read {path}: {exc}") from exc
    if mode.startswith("I;16"):
        return w, h, 1, 2
    if mode in ("I", "F"):
        return w, h, 1, 4  # "I" is read as 32-bit, then clipped to 16
    if mode not in ("L", "LA", "RGB", "RGBA"):
        bands = 4 if ("A" in mode or transparency) else 3
    return w, h, bands, 1


def check_size(path: str | os.PathLike, max_pixels: int = MAX_FILE_PIXELS) -> tuple[int, int]:
    """The header's (width, height); ImageReadError if over ``max_pixels`` (nothing decoded)."""
    w, h = image_size(path)
    if w * h > max_pixels:
        raise ImageReadError(
            f"cannot read {path}: {w}x{h} is {w * h / 1e6:.0f} MP, over the limit of "
            f"{max_pixels / 1e6:.0f} MP"
        )
    if w <= 0 or h <= 0:
        raise ImageReadError(f"cannot read {path}: empty image ({w}x{h})")
    return w, h


def check_readable(path: str | os.PathLike, max_pixels: int = MAX_FILE_PIXELS) -> tuple[int, int]:
    """Cheap header check, so a bad input fails before a model is loaded: the size
    (within ``max_pixels``) and Pillow's structural check. Returns (width, height)."""
    path = Path(path)
    size = check_size(path, max_pixels)
    with path.open("rb") as f:
        tiff = f.read(4) in (b"II*\x00", b"MM\x00*")
    if tiff and _tiff_size(path) is not None:
        return size  # tifffile reads it (float RGB too, which Pillow refuses)
    try:
        with Image.open(path) as im:
            im.verify()
    except UnidentifiedImageError as exc:
        raise ImageReadError(f"cannot read {path}: not an image format Pillow knows") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(f"cannot read {path}: {exc}") from exc
    return size


def read_image(path: str | os.PathLike, max_pixels: int = MAX_FILE_PIXELS) -> np.ndarray:
    """-> (H, W, C) array, C in 1..4, dtype uint8, uint16 or float32.

    The size is checked from the header first; float pixels must be finite (a NaN
    would spread through every filter and blacken the whole result)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input not found: {path}")
    if path.is_dir():
        raise ImageReadError(f"{path} is a directory, not an image")
    w, h = check_size(path, max_pixels)
    try:
        arr = _decode(path)
    except MemoryError:
        raise ImageReadError(
            f"cannot read {path}: not enough memory to decode {w}x{h} pixels"
        ) from None
    if arr.dtype == np.float32:
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        if bad:
            raise ImageReadError(
                f"cannot use {path}: {bad} of its samples are NaN or infinite; "
                "Tinct needs finite pixel values"
            )
    return arr


def _decode(path: Path) -> np.ndarray:
    with path.open("rb") as f:
        head = f.read(32)
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
    """A TIFF's first page at its own depth (the size checked is that page's; further
    pages are never decoded); None lets Pillow try (e.g. palette or compressed kinds),
    and Pillow too reads the first page only."""
    import tifffile

    try:
        # The first page only: a multi-page TIFF is not one image (40 pages of a
        # small file decoded 653 MB; 3 gray pages were taken for planar RGB).
        arr = tifffile.imread(str(path), key=0)
    except Exception:  # noqa: BLE001 - anything tifffile cannot decode goes to Pillow
        return None
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim == 3 and arr.shape[0] in (3, 4) and arr.shape[2] > 4:
        arr = np.moveaxis(arr, 0, -1)  # planar (separate) RGB(A)
    if arr.ndim != 3 or arr.shape[2] > 4:
        return None
    if arr.dtype in (np.float64, np.float16):
        arr = arr.astype(np.float32)
    if arr.dtype not in (np.uint8, np.uint16, np.float32):
        return None
    return arr


def check_output_name(path: str | os.PathLike) -> None:
    """A ValueError unless the file name's suffix is a format Pillow can write."""
    path = Path(path)
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None or fmt not in Image.SAVE:
        raise ValueError(
            f"unknown output format {path.suffix!r} for {path.name}; use .png, .tif or .jpg"
        )


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
    if pixels.dtype != np.uint16:
        check_output_name(path)
    # The name is chosen before the file exists, so a signal at any moment leaves either
    # no file or one the cleanup below knows (mkstemp could be interrupted between the
    # two: a SIGTERM there left the temporary file behind).
    tmp = str((path.parent or Path(".")) / f".tinct-{secrets.token_hex(8)}{suffix or '.png'}")
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        if pixels.dtype == np.uint16:
            Path(tmp).write_bytes(_png16(pixels))
        else:
            mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[pixels.shape[2]]
            im = Image.fromarray(
                np.ascontiguousarray(pixels if pixels.shape[2] > 1 else pixels[..., 0]), mode
            )
            if suffix in (".jpg", ".jpeg") and mode in ("RGBA", "LA"):
                im = im.convert("RGB")
            fmt = Image.registered_extensions()[suffix]
            im.save(tmp, format=fmt, **({"compress_level": 1} if fmt == "PNG" else {}))
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes 0600; results are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
