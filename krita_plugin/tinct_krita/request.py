"""What the docker asks for (host-free: no krita, no Qt).

``ColorizeRequest`` (the vendored protocol's, the same value as the GIMP plug-in's)
holds everything that affects a result; this module maps the docker's controls to
it: the Colourfulness slider counts hundredths of the protocol's bounds.
``UserError`` is any refusal whose message tells the user what to do instead.
"""

from __future__ import annotations

from .tinct_protocol.colorize_request import ColorizeRequest, clamp_scale
from .tinct_protocol.constants import MAX_SCALE, MIN_SCALE

__all__ = ["ColorizeRequest", "UserError", "clamp_scale", "scale_to_slider", "slider_to_scale"]

SCALE_MIN, SCALE_MAX = MIN_SCALE, MAX_SCALE  # the protocol's user-facing bounds
SLIDER_MIN, SLIDER_MAX = round(SCALE_MIN * 100), round(SCALE_MAX * 100)  # hundredths


class UserError(ValueError):
    """A layer, selection or choice Tinct cannot colorize; the message says what to do."""


def slider_to_scale(ticks: int) -> float:
    return clamp_scale(ticks / 100.0)


def scale_to_slider(scale: float) -> int:
    return int(round(clamp_scale(scale) * 100))
