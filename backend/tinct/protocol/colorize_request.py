"""What the user asked a plugin for: one value holding everything that affects a result.

Both plugins build a ``ColorizeRequest`` from their controls (Krita's docker, GIMP's
procedure arguments); saved with the result, it reproduces it. Defaults and bounds
are the protocol's constants, so the two plugins, the CLI and the daemon agree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .constants import DEFAULT_SCALE, DEFAULT_STEPS, MAX_SCALE, MIN_SCALE


def clamp_scale(value: float) -> float:
    """A colourfulness within the protocol's user-facing bounds."""
    return max(MIN_SCALE, min(MAX_SCALE, float(value)))


@dataclass(frozen=True)
class ColorizeRequest:
    """Everything that affects one result; saved with it, it reproduces the result."""

    prompt: str = ""
    steps: int = DEFAULT_STEPS
    auto: bool = True  # Tinct picks the colourfulness (``scale`` is then not sent)
    scale: float = DEFAULT_SCALE
    hint_layer: str | None = None  # the hint layer's name
    reference_document: str | None = None  # the reference layer's image and name
    reference_layer: str | None = None

    def wire_scale(self) -> float | str:
        """The scale as sent: "auto" when Tinct picks it, else the slider's value clamped to the
        protocol's bounds (MIN_SCALE-MAX_SCALE).
        """
        return "auto" if self.auto else clamp_scale(self.scale)

    def colorize_kwargs(self) -> dict:
        """Keyword arguments of the client's colorize / enqueue_colorize (minus pixels)."""
        return {"prompt": self.prompt, "scale": self.wire_scale(), "steps": self.steps}

    def to_json(self) -> dict:
        """All fields as a JSON-ready dict (what a plugin saves with the result)."""
        return asdict(self)
