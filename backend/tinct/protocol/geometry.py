"""Rectangles and sizes that the plugins and the daemon compute the same way.

``Rect`` is a layer's or a selection's extent in image coordinates (both plugins);
``fit_size`` is how big a preview of a layer is (the daemon's ``preview_side`` and
both plugins' slider preview, ``preview.preview_size``, which asks the daemon for
exactly that size).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rect:
    """An extent in image coordinates (pixels): top-left corner (x, y), width and height."""

    x: int
    y: int
    width: int
    height: int

    @property
    def empty(self) -> bool:
        """True when the rectangle covers no pixel (a side <= 0)."""
        return self.width <= 0 or self.height <= 0

    def intersect(self, other: Rect) -> Rect:
        """The overlap of two rectangles; an empty Rect (width or height 0) when they do not meet."""
        x0, y0 = max(self.x, other.x), max(self.y, other.y)
        x1 = min(self.x + self.width, other.x + other.width)
        y1 = min(self.y + self.height, other.y + other.height)
        return Rect(x0, y0, max(0, x1 - x0), max(0, y1 - y0))


def fit_size(width: int, height: int, side: int) -> tuple[int, int]:
    """(w, h) scaled down (never up) so the longer side is at most ``side``."""
    s = min(1.0, side / max(width, height))
    return max(1, round(width * s)), max(1, round(height * s))
