"""Host-free pixel logic for the Krita plugin (standard library only, no krita import).

Krita hands out pixels as raw bytes: RGBA/U8 and RGBA/U16 as B, G, R, A
(little-endian 16-bit), RGBA/F32 as R, G, B, A (little-endian float). The
wire protocol accepts both orders ("bgr"/"rgb"), so a layer's bytes go to the
daemon unchanged and come back in the same layout. Everything here works on
whole buffers with slice assignment or big-integer bit operations, so a
6000x4000 layer costs C-speed passes, never a Python loop per pixel (except
over the partially selected pixels of a feathered selection).
"""

from __future__ import annotations

import re
import struct
from array import array
from dataclasses import dataclass

from .request import UserError
from .tinct_protocol.constants import DTYPES
from .tinct_protocol.geometry import Rect

# Krita colorDepth() -> wire dtype; channel order of Krita's RGBA layout per dtype.
KRITA_DEPTHS = {"U8": "u8", "U16": "u16", "F32": "f32"}
ORDER = {"u8": "bgr", "u16": "bgr", "f32": "rgb"}
ITEMSIZE = DTYPES  # wire dtype -> bytes per sample
_ARRAY_CODE = {"u8": "B", "u16": "H", "f32": "f"}
_PARTIAL = re.compile(rb"[\x01-\xfe]")

GRAY_MODEL = "GRAYA"  # how a black-and-white scan opens; converted to RGBA with the result


def wire_format(color_model: str, color_depth: str) -> tuple[str, str]:
    """(dtype, order) of a layer's RGBA pixels, or UserError with a message for the user.

    A Grayscale layer gets the layout it will have once the image is RGBA (its pixels
    go through ``gray_to_rgba``).
    """
    if color_model not in ("RGBA", GRAY_MODEL):
        raise UserError(
            f"Tinct colorizes RGB and Grayscale layers; this layer's color model is "
            f"{color_model} {color_depth}. Convert it with Image > Convert Image Color Space "
            "(RGB/Alpha)."
        )
    dtype = KRITA_DEPTHS.get(color_depth)
    if dtype is None:
        raise UserError(
            f"Tinct reads 8-bit, 16-bit integer and 32-bit float RGB layers; this one is "
            f"{color_depth}. Convert it with Image > Convert Image Color Space."
        )
    return dtype, ORDER[dtype]


@dataclass
class Pixels:
    """A plain value for a region of a layer: bytes + extent + format (RGBA, 4 channels)."""

    data: bytes | bytearray
    rect: Rect
    dtype: str
    order: str

    def __post_init__(self):
        expected = self.rect.width * self.rect.height * 4 * ITEMSIZE[self.dtype]
        n = memoryview(self.data).nbytes
        if n != expected:
            raise ValueError(
                f"pixel buffer is {n} bytes; a {self.rect.width}x{self.rect.height} RGBA "
                f"{self.dtype} region needs {expected}"
            )


def swap_red_blue(data: bytes | bytearray, dtype: str) -> bytearray:
    """BGRA <-> RGBA (the same operation both ways)."""
    a = array(_ARRAY_CODE[dtype])
    a.frombytes(bytes(data))
    out = array(_ARRAY_CODE[dtype], a)
    out[0::4] = a[2::4]
    out[2::4] = a[0::4]
    return bytearray(out.tobytes())


def gray_to_rgba(data: bytes | bytearray, dtype: str) -> bytearray:
    """Gray+alpha samples (Krita's GRAYA layout) -> RGBA with R = G = B (any channel order)."""
    a = array(_ARRAY_CODE[dtype])
    a.frombytes(bytes(data))
    n = len(a) // 2
    out = array(_ARRAY_CODE[dtype], bytes(4 * n * ITEMSIZE[dtype]))
    gray = a[0::2]
    out[0::4] = gray
    out[1::4] = gray
    out[2::4] = gray
    out[3::4] = a[1::2]
    return bytearray(out.tobytes())


def to_order(data: bytes | bytearray, dtype: str, src_order: str, dst_order: str):
    return data if src_order == dst_order else swap_red_blue(data, dtype)


def convert_depth(data: bytes | bytearray, src: str, dst: str) -> bytearray:
    """Convert samples between u8, u16 and f32 (nominal range 0..1; floats are clipped)."""
    if src == dst:
        return bytearray(data)
    if src == "u8" and dst == "u16":
        out = bytearray(2 * len(data))
        out[0::2] = data  # v * 257 = (v << 8) | v
        out[1::2] = data
        return out
    if src == "u16" and dst == "u8":
        a = array("H")
        a.frombytes(bytes(data))
        return bytearray(min(255, (v + 128) // 257) for v in a)
    a = array(_ARRAY_CODE[src])
    a.frombytes(bytes(data))
    if dst == "f32":
        peak = 255.0 if src == "u8" else 65535.0
        return bytearray(array("f", [v / peak for v in a]).tobytes())
    peak = 255 if dst == "u8" else 65535
    vals = [0 if v != v else int(min(1.0, max(0.0, v)) * peak + 0.5) for v in a]
    return bytearray(array(_ARRAY_CODE[dst], vals).tobytes())


def alpha_is_empty(data: bytes | bytearray, dtype: str) -> bool:
    """True when every pixel's alpha is zero (e.g. an unpainted hint layer)."""
    size = ITEMSIZE[dtype]
    mv = memoryview(bytes(data))
    for k in range(size):
        if mv[3 * size + k :: 4 * size].tobytes().strip(b"\0"):
            return False
    return True


def selection_bounds(mask: bytes | bytearray, width: int, height: int) -> Rect:
    """The bounding box of the nonzero part of a one-byte-per-pixel mask (relative)."""
    if len(mask) != width * height:
        raise ValueError(f"mask is {len(mask)} bytes; {width}x{height} needs {width * height}")
    rows = [y for y in range(height) if mask[y * width : (y + 1) * width].strip(b"\0")]
    if not rows:
        return Rect(0, 0, 0, 0)
    x0, x1 = width, 0
    for y in rows:
        row = bytes(mask[y * width : (y + 1) * width])
        x0 = min(x0, len(row) - len(row.lstrip(b"\0")))
        x1 = max(x1, len(row.rstrip(b"\0")))
    return Rect(x0, rows[0], x1 - x0, rows[-1] - rows[0] + 1)


def mask_alpha(data: bytes | bytearray, dtype: str, mask: bytes | bytearray) -> bytearray:
    """Multiply each pixel's alpha by mask/255 (mask: one byte per pixel, 0..255).

    Fully selected / unselected pixels go through one big-integer AND (C speed);
    only partially selected pixels (a feathered edge) are visited one by one.
    """
    size = ITEMSIZE[dtype]
    n = len(mask)
    if len(data) != n * 4 * size:
        raise ValueError(f"{len(data)} bytes of {dtype} RGBA do not match a mask of {n} pixels")
    binary = bytes(mask).translate(bytes([0] + [0] * 254 + [255]))  # partial -> 0 for now
    andmask = bytearray(b"\xff" * len(data))
    for k in range(size):
        andmask[3 * size + k :: 4 * size] = binary
    out = (int.from_bytes(data, "little") & int.from_bytes(andmask, "little")).to_bytes(
        len(data), "little"
    )
    out = bytearray(out)
    partial = [m.start() for m in _PARTIAL.finditer(bytes(mask))]
    if partial:
        fmt = {"u8": "<B", "u16": "<H", "f32": "<f"}[dtype]
        src = bytes(data)
        for i in partial:
            off = (i * 4 + 3) * size
            (a,) = struct.unpack_from(fmt, src, off)
            m = mask[i]
            if dtype == "f32":
                v = a * m / 255.0
            else:
                v = (a * m + 127) // 255
            struct.pack_into(fmt, out, off, v)
    return out
