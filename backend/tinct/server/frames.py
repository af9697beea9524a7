"""Pixel frames <-> numpy arrays for the daemon (zero-copy views where possible)."""

from __future__ import annotations

import math

import numpy as np

from tinct import color
from tinct.protocol.geometry import fit_size  # noqa: F401 (the daemon's, shared with the plugins)
from tinct.protocol.pixels import PixelFormat

# The one map between the wire's sample types and numpy's (the protocol itself
# is numpy-free: plugins vendor it).
NP_DTYPES = {"u8": np.dtype("<u1"), "u16": np.dtype("<u2"), "f32": np.dtype("<f4")}


def wire_dtype(dtype: np.dtype) -> str | None:
    """The wire name of a numpy sample type (either byte order), or None if it has none."""
    for wire, dt in NP_DTYPES.items():
        if np.dtype(dtype).newbyteorder("<") == dt:
            return wire
    return None


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


def rgb_array(frame: object, fmt: PixelFormat) -> np.ndarray:
    """A frame as a new (H, W, C) array in R, G, B(, A) order (a BGR frame's channels swapped)."""
    arr = frame_array(frame, fmt)
    if fmt.order == "bgr" and fmt.channels >= 3:
        return arr[..., [2, 1, 0, *range(3, fmt.channels)]]
    return arr.copy()


def count_nonfinite(frame: object, fmt: PixelFormat) -> int:
    """How many samples of an f32 frame are NaN or infinite (0 for integer frames)."""
    if fmt.dtype != "f32":
        return 0
    arr = frame_array(frame, fmt)
    band = max(1, (1 << 22) // max(1, fmt.width * fmt.channels))
    return sum(
        int(arr[r : r + band].size - np.count_nonzero(np.isfinite(arr[r : r + band])))
        for r in range(0, fmt.height, band)
    )


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
    """The fully opaque alpha value of a wire dtype: 255 (u8), 65535 (u16) or 1.0 (f32)."""
    return {"u8": 255, "u16": 65535, "f32": 1.0}[dtype]


_PIL_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def reduce_frame(frame: object, fmt: PixelFormat, factor: int) -> np.ndarray:
    """Box-average a frame by an integer ``factor`` (partial boxes at the edges count
    what they cover): (ceil(H / f), ceil(W / f), C) float32 in [0, 1], R-G-B order.

    One pass over the full-resolution pixels; everything small (the model's
    input, previews) is cut from this instead of from the full frame.
    """
    from PIL import Image

    mode = _PIL_MODES[fmt.channels]
    if fmt.dtype == "u8":
        raw = mode.replace("RGB", "BGR") if fmt.order == "bgr" else mode
        im = Image.frombuffer(mode, (fmt.width, fmt.height), frame, "raw", raw, fmt.stride, 1)
        out = color.to_float(np.asarray(im.reduce(factor) if factor > 1 else im))
        return out if out.ndim == 3 else out[..., None]
    arr = frame_array(frame, fmt)
    if fmt.channels >= 3 and fmt.order == "bgr":
        arr = arr[..., [2, 1, 0, 3][: fmt.channels]]
    planes = []
    for c in range(fmt.channels):
        im = Image.fromarray(color.to_float(arr[..., c]), mode="F")
        planes.append(np.asarray(im.reduce(factor) if factor > 1 else im, dtype=np.float32))
    return np.stack(planes, axis=-1)


def downsize(img: np.ndarray, width: int, height: int) -> np.ndarray:
    """A float32 image (H, W, C) resized to (height, width): area-averaged when shrinking, linear
    when growing either side, unchanged when the size already matches.
    """
    if img.shape[1] == width and img.shape[0] == height:
        return img.astype(np.float32, copy=False)
    if width <= img.shape[1] and height <= img.shape[0]:
        return color.resize_area(img.astype(np.float32, copy=False), height, width)
    return color.resize_linear(img.astype(np.float32, copy=False), height, width)


def with_rgb(arr: np.ndarray) -> np.ndarray:
    """(H, W, C) float pixels in R-G-B(-A) order, gray (+ alpha) repeated into R, G, B."""
    if arr.shape[2] > 2:
        return arr
    return np.concatenate([np.repeat(arr[..., :1], 3, axis=2), arr[..., 1:]], axis=2)


def small_source(
    frame: object,
    fmt: PixelFormat,
    width: int,
    height: int,
    reduced: np.ndarray | None = None,
) -> tuple[np.ndarray, PixelFormat]:
    """A downsized float32 copy of a frame (RGB or RGBA, R-G-B order) and its format.

    Made from one integer box-reduction of the frame (``reduce_frame``; pass
    ``reduced`` if the caller has one already), never a full-size float copy.
    """
    if reduced is None:
        factor = max(1, min(fmt.width // width, fmt.height // height))
        reduced = reduce_frame(frame, fmt, factor)
    arr = np.ascontiguousarray(with_rgb(downsize(reduced, width, height)), dtype=np.float32)
    return arr, PixelFormat.packed(width, height, arr.shape[2], "f32")


def reduce_hints(hints: np.ndarray, height: int, width: int) -> np.ndarray:
    """RGBA hints shrunk with premultiplied alpha (painted colours do not fade into
    the unpainted pixels' colour)."""
    if hints.shape[:2] == (height, width):
        return hints
    rgb, alpha = color.resize_area_premultiplied(hints[..., :3], hints[..., 3], height, width)
    rgb = np.clip(rgb, 0.0, 1.0)
    return np.concatenate([rgb, alpha[..., None]], axis=2).astype(np.float32)


def reference_photo(frame: object, fmt: PixelFormat) -> np.ndarray:
    """A colorize request's reference frame -> float32 RGB, box-reduced in one pass to
    a few times what tinct.color.reference matches on (it works on a bounded sample).
    Raises ValueError when the photo has NaN or infinite samples, or is gray: it would
    have no colour to lend."""
    from tinct.color import reference

    bad = count_nonfinite(frame, fmt)
    if bad:
        raise ValueError(
            f"the reference frame has {bad} NaN or infinite samples; send finite pixel values"
        )
    factor = max(1, int(math.sqrt(fmt.pixels / (4 * reference.REFERENCE_PIXELS))))
    rgb = np.ascontiguousarray(reduce_frame(frame, fmt, factor)[..., :3])
    if reference.is_gray(rgb):
        raise ValueError("'reference' is gray: it has no colour to lend; send a colour photo")
    return rgb
