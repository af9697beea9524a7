"""Where the selection meets the source layer (image coordinates, GIMP's conventions)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    width: int
    height: int

    @property
    def empty(self) -> bool:
        return self.width <= 0 or self.height <= 0

    def intersect(self, other: Rect) -> Rect:
        x0, y0 = max(self.x, other.x), max(self.y, other.y)
        x1 = min(self.x + self.width, other.x + other.width)
        y1 = min(self.y + self.height, other.y + other.height)
        return Rect(x0, y0, max(0, x1 - x0), max(0, y1 - y0))


def mask_plan(selection_bounds: Rect | None, layer: Rect, layer_name: str) -> str:
    """'none' (no selection: no mask) or 'selection' (the selection becomes the layer's mask).

    ``selection_bounds`` is the selection's bounding box (None when nothing is
    selected). A selection that does not touch the source would give an invisible
    color layer, so it is refused with a message saying what to do instead.
    """
    if selection_bounds is None or selection_bounds.empty:
        return "none"
    if selection_bounds.intersect(layer).empty:
        raise ValueError(
            f"the selection does not touch layer {layer_name!r}; select part of that layer "
            "or Select > None to colorize all of it"
        )
    return "selection"
