"""Pixel frames <-> numpy arrays for the daemon (zero-copy views where possible)."""

from __future__ import annotations

import numpy as np

from tinct import color
from tinct.protocol.pixels import PixelFormat

NP_DTYPES = {"u8": np.dtype("<u1"), "u16": np.dtype("<u2"), "f32": np.dtype("<f4")}


def frame_array(frame: object, fmt: PixelFormat) -> np.ndarray:
    """A read-only (H, W, C) view of a frame in its own dtype and channel order (no copy)."""
    dt = NP_DTYPES[fmt.dtype]
    flat = np.frombuffer(frame, dtype=np.uint8)
    if fmt.stride == fmt.row_bytes:
        return flat.view(dt).reshape(fmt.height, fmt.width, fmt.channels)
    # Padded rows: the first row_bytes of every stride, reinterpreted in place.
    rows = np.lib.stride_tricks.as_strided(
        flat, shape=(fmt.height, fmt.row_bytes), strides=(fmt.stride, 1), writeable=False
    )
    return rows.view(dt).reshape(fmt.height, fmt.width, fmt.channels)


def color_channels(arr: np.ndarray, fmt: PixelFormat) -> np.ndarray:
    """The (H, W, 3) color part in R, G, B order (still in the frame's dtype; gray is repeated)."""
    if fmt.channels <= 2:
        return np.repeat(arr[..., :1], 3, axis=2)
    rgb = arr[..., :3]
    return rgb[..., ::-1] if fmt.order == "bgr" else rgb


def alpha_channel(arr: np.ndarray, fmt: PixelFormat) -> np.ndarray | None:
    """The alpha plane in the frame's dtype, or None."""
    return arr[..., fmt.channels - 1] if fmt.has_alpha else None


def to_rgb_float(frame: object, fmt: PixelFormat) -> np.ndarray:
    """Frame -> (H, W, 3) float32 sRGB in [0, 1], converted in bands (no full-size temporaries)."""
    arr = frame_array(frame, fmt)
    out = np.empty((fmt.height, fmt.width, 3), np.float32)
    band = max(1, (1 << 22) // fmt.width)
    for r in range(0, fmt.height, band):
        out[r : r + band] = color.to_float(color_channels(arr[r : r + band], fmt))
    return out


def to_rgba_float(frame: object, fmt: PixelFormat) -> np.ndarray:
    """Hint frame -> (H, W, 4) float32 RGBA in [0, 1]."""
    arr = frame_array(frame, fmt)
    rgb = color.to_float(color_channels(arr, fmt))
    a = alpha_channel(arr, fmt)
    alpha = np.ones(rgb.shape[:2], np.float32) if a is None else color.to_float(a)
    return np.concatenate([rgb, alpha[..., None]], axis=2)


def opaque(dtype: str) -> float | int:
    return {"u8": 255, "u16": 65535, "f32": 1.0}[dtype]


def fit_size(width: int, height: int, side: int) -> tuple[int, int]:
    """(w, h) scaled down (never up) so the longer side is at most ``side``."""
    s = min(1.0, side / max(width, height))
    return max(1, round(width * s)), max(1, round(height * s))


def downsize(img: np.ndarray, width: int, height: int) -> np.ndarray:
    if img.shape[1] == width and img.shape[0] == height:
        return img.astype(np.float32, copy=False)
    if width <= img.shape[1] and height <= img.shape[0]:
        return color.resize_area(img.astype(np.float32, copy=False), height, width)
    return color.resize_linear(img.astype(np.float32, copy=False), height, width)


def small_source(
    frame: object, fmt: PixelFormat, width: int, height: int, image: np.ndarray | None = None
) -> tuple[np.ndarray, PixelFormat]:
    """A downsized float32 copy of a frame (RGB or RGBA, R-G-B order) and its format.

    ``image`` is the frame's full-resolution float RGB if the caller has it already.
    """
    rgb = downsize(to_rgb_float(frame, fmt) if image is None else image, width, height)
    a = alpha_channel(frame_array(frame, fmt), fmt)
    if a is not None:
        rgb = np.concatenate([rgb, downsize(color.to_float(a), width, height)[..., None]], axis=2)
    arr = np.ascontiguousarray(rgb, dtype=np.float32)
    return arr, PixelFormat.packed(width, height, arr.shape[2], "f32")
