"""Host-free pixel logic of the GIMP plug-in: formats and where the selection applies.

Pixels cross to the daemon at the drawable's own precision: 8-bit as u8, 16-bit
as u16, everything wider (32-bit integer, half, float, double) as f32, always
non-linear ("perceptual") R'G'B'A, which is what the daemon's colour maths expects.
A ``BablFormat`` is how Gegl reads and writes such pixels (not the wire protocol's
``PixelFormat``, which describes one frame). Rectangles are the protocol's ``Rect``
(image coordinates, GIMP's conventions).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from tinct_protocol.geometry import Rect


@dataclass(frozen=True)
class BablFormat:
    babl: str  # what Gegl.Buffer.get / set take, e.g. "R'G'B'A u16"
    dtype: str  # the wire dtype: "u8" | "u16" | "f32"
    itemsize: int

    def row_bytes(self, width: int) -> int:
        return width * 4 * self.itemsize


U8 = BablFormat("R'G'B'A u8", "u8", 1)
U16 = BablFormat("R'G'B'A u16", "u16", 2)
F32 = BablFormat("R'G'B'A float", "f32", 4)

# Hints are always read as 8-bit: they are strokes, not image data.
HINT_FORMAT = U8


def format_for_precision(precision_name: str) -> BablFormat:
    """``precision_name`` is a Gimp.Precision value's name, e.g. "U16_NON_LINEAR"."""
    name = precision_name.upper()
    if name.startswith("GIMP_PRECISION_"):
        name = name[len("GIMP_PRECISION_") :]
    component = name.split("_", 1)[0]
    if component == "U8":
        return U8
    if component == "U16":
        return U16
    if component in ("U32", "HALF", "FLOAT", "DOUBLE"):
        return F32
    raise ValueError(
        f"precision {precision_name!r} is not one Tinct knows; expected an 8-bit, 16-bit, "
        "32-bit, half, float or double precision"
    )


def check_pixels(data_len: int, width: int, height: int, fmt: BablFormat, what: str) -> None:
    """Raise ValueError when a read or a reply does not hold width x height RGBA pixels."""
    expected = fmt.row_bytes(width) * height
    if data_len != expected:
        raise ValueError(
            f"{what} holds {data_len} bytes; {width}x{height} {fmt.babl} needs {expected}"
        )


def packed(data: object, width: int, height: int, stride: int, fmt: BablFormat) -> bytes:
    """The rows of a (possibly padded) reply frame as one packed bytes object for Gegl."""
    row = fmt.row_bytes(width)
    view = memoryview(data).cast("B")
    if view.nbytes != stride * height or stride < row:
        raise ValueError(
            f"reply holds {view.nbytes} bytes; {height} rows of stride {stride} (>= {row}) expected"
        )
    if stride == row:
        return view.tobytes()
    return b"".join(view[y * stride : y * stride + row] for y in range(height))


class MaskPlan(Enum):
    NONE = "none"  # no selection: no mask
    SELECTION = "selection"  # the selection becomes the color layer's mask


def mask_plan(selection_bounds: Rect | None, layer: Rect, layer_name: str) -> MaskPlan:
    """Whether the selection becomes the color layer's mask.

    ``selection_bounds`` is the selection's bounding box (None when nothing is
    selected). A selection that does not touch the source would give an invisible
    color layer, so it is refused with a message saying what to do instead.
    """
    if selection_bounds is None or selection_bounds.empty:
        return MaskPlan.NONE
    if selection_bounds.intersect(layer).empty:
        raise ValueError(
            f"the selection does not touch layer {layer_name!r}; select part of that layer "
            "or Select > None to colorize all of it"
        )
    return MaskPlan.SELECTION
