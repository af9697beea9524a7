"""Pixel frames: a raw buffer described by width, height, channels, dtype, stride.

Standard library only. A frame's bytes are rows of ``stride`` bytes, top row
first; each row holds ``width * channels`` samples of ``dtype`` (little-endian)
followed by padding up to ``stride``. The frame is exactly ``stride * height``
bytes long.
"""

from __future__ import annotations

from dataclasses import dataclass

from .constants import (
    CHANNELS,
    DTYPES,
    E_BAD_DTYPE,
    E_BAD_HEADER,
    E_BAD_PIXELS,
    E_TOO_LARGE,
    ORDERS,
)
from .errors import ProtocolError


@dataclass(frozen=True)
class PixelFormat:
    """How a pixel frame is laid out: width x height pixels of `channels` (1-4) samples of `dtype`
    ("u8", "u16", "f32"), `stride` bytes per row (>= the packed row) and, for colour, channel
    order "rgb" or "bgr".
    """

    width: int
    height: int
    channels: int
    dtype: str  # "u8" | "u16" | "f32"
    stride: int  # bytes per row, >= width * channels * itemsize
    order: str = "rgb"  # channel order of color frames: "rgb" or "bgr"

    @property
    def itemsize(self) -> int:
        """Bytes per sample (1, 2 or 4)."""
        return DTYPES[self.dtype]

    @property
    def row_bytes(self) -> int:
        """Bytes of one packed row: width x channels x itemsize (stride may be more)."""
        return self.width * self.channels * self.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes of the whole frame: stride x height."""
        return self.stride * self.height

    @property
    def pixels(self) -> int:
        """width x height."""
        return self.width * self.height

    @property
    def has_alpha(self) -> bool:
        """True for gray + alpha (2 channels) and RGBA (4)."""
        return self.channels in (2, 4)

    @classmethod
    def packed(
        cls, width: int, height: int, channels: int, dtype: str, order: str = "rgb"
    ) -> PixelFormat:
        """A format with no row padding."""
        return cls(width, height, channels, dtype, width * channels * DTYPES[dtype], order)

    def to_json(self) -> dict:
        """The format as a header's JSON object (what `from_json` reads back)."""
        return {
            "width": self.width,
            "height": self.height,
            "channels": self.channels,
            "dtype": self.dtype,
            "stride": self.stride,
            "order": self.order,
        }

    @classmethod
    def from_json(
        cls, obj: object, *, field: str = "image", max_pixels: int | None = None
    ) -> PixelFormat:
        """Validate a header's pixel description; raise ProtocolError naming the bad field."""
        if not isinstance(obj, dict):
            raise ProtocolError(
                E_BAD_HEADER, f"'{field}' must be an object, got {type(obj).__name__}"
            )
        dtype = obj.get("dtype")
        if not isinstance(dtype, str) or dtype not in DTYPES:
            raise ProtocolError(
                E_BAD_DTYPE, f"'{field}.dtype' is {dtype!r}; expected one of {', '.join(DTYPES)}"
            )
        vals = {}
        for key in ("width", "height", "channels", "stride"):
            v = obj.get(key)
            if not _is_int(v) or v <= 0:
                raise ProtocolError(
                    E_BAD_HEADER, f"'{field}.{key}' must be a positive integer, got {v!r}"
                )
            vals[key] = v
        if vals["channels"] not in CHANNELS:
            raise ProtocolError(
                E_BAD_HEADER, f"'{field}.channels' is {vals['channels']}; expected 1, 2, 3 or 4"
            )
        order = obj.get("order", "rgb")
        if not isinstance(order, str) or order not in ORDERS:
            raise ProtocolError(
                E_BAD_HEADER, f"'{field}.order' is {order!r}; expected 'rgb' or 'bgr'"
            )
        fmt = cls(vals["width"], vals["height"], vals["channels"], dtype, vals["stride"], order)
        if max_pixels is not None and fmt.pixels > max_pixels:
            raise ProtocolError(
                E_TOO_LARGE,
                f"'{field}' is {fmt.width}x{fmt.height} = {fmt.pixels} pixels; "
                f"this daemon accepts at most {max_pixels}",
            )
        if fmt.stride < fmt.row_bytes:
            raise ProtocolError(
                E_BAD_PIXELS,
                f"'{field}.stride' is {fmt.stride} bytes but a row of {fmt.width} x {fmt.channels} "
                f"{dtype} samples needs {fmt.row_bytes}",
            )
        if fmt.stride % fmt.itemsize:
            raise ProtocolError(
                E_BAD_PIXELS,
                f"'{field}.stride' ({fmt.stride}) must be a multiple of {fmt.itemsize} for {dtype}",
            )
        return fmt

    def check_frame(self, frame_len: int, *, field: str = "image") -> None:
        """Raise ProtocolError (E_BAD_PIXELS, naming `field`) unless a frame of `frame_len` bytes
        is exactly stride x height.
        """
        if frame_len != self.nbytes:
            raise ProtocolError(
                E_BAD_PIXELS,
                f"'{field}' frame is {frame_len} bytes; {self.height} rows x stride {self.stride} "
                f"= {self.nbytes} expected",
            )


@dataclass
class Layer:
    """Pixels plus their format: what a plugin reads from, and writes to, its host."""

    format: PixelFormat
    data: object  # any bytes-like object (bytes, bytearray, memoryview, numpy array, zmq frame)

    @classmethod
    def from_buffer(
        cls,
        data: object,
        width: int,
        height: int,
        channels: int,
        dtype: str,
        stride: int | None = None,
        order: str = "rgb",
    ) -> Layer:
        """A Layer over `data` (any bytes-like object, not copied) with the given layout; `stride`
        defaults to a packed row. Raises ValueError for an unknown dtype or a buffer whose size
        does not match.
        """
        if dtype not in DTYPES:
            raise ValueError(f"dtype is {dtype!r}; expected one of {', '.join(DTYPES)}")
        if stride is None:
            stride = width * channels * DTYPES[dtype]
        fmt = PixelFormat(width, height, channels, dtype, stride, order)
        n = memoryview(data).nbytes
        if n != fmt.nbytes:
            raise ValueError(
                f"buffer is {n} bytes; {width}x{height}x{channels} {dtype} with stride {stride} "
                f"needs {fmt.nbytes}"
            )
        return cls(fmt, data)

    @property
    def width(self) -> int:
        """Width in pixels."""
        return self.format.width

    @property
    def height(self) -> int:
        """Height in pixels."""
        return self.format.height

    def tobytes(self) -> bytes:
        """A copy of the pixels as bytes (rows with their stride)."""
        return memoryview(self.data).cast("B").tobytes()


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)
