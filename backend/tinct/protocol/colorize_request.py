"""What the user asked a plugin for: one value holding everything that affects a result.

Both plugins build a ``ColorizeRequest`` from their controls (Krita's docker, GIMP's
procedure arguments); saved with the result, it reproduces it. Defaults and bounds
are the protocol's constants, so the two plugins, the CLI and the daemon agree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .constants import (
    DEFAULT_SCALE,
    DEFAULT_SEED,
    DEFAULT_STEPS,
    DEFAULT_VARIATIONS,
    FEATURE_VARIATIONS,
    MAX_SCALE,
    MAX_SEED,
    MAX_VARIATIONS,
    MIN_SCALE,
    MIN_SEED,
    MIN_VARIATIONS,
)


def clamp_scale(value: float) -> float:
    """A colourfulness within the protocol's user-facing bounds."""
    return max(MIN_SCALE, min(MAX_SCALE, float(value)))


def variation_seeds(seed: int, variations: int) -> list[int]:
    """The seeds of `variations` colourings from `seed`: seed, seed + 1, ... (wrapping
    past MAX_SEED to 1, never to 0, the model's own colouring). Each result carries its
    own seed, so that seed with one variation gives that result again."""
    n = max(MIN_VARIATIONS, min(MAX_VARIATIONS, int(variations)))
    out, s = [], max(MIN_SEED, min(MAX_SEED, int(seed)))
    for _ in range(n):
        out.append(s)
        s = s + 1 if s < MAX_SEED else 1
    return out


def variations_refusal(hello: dict | None, variations: int, seed: int) -> str | None:
    """Why a daemon (by its hello) cannot give what was asked, or None when it can: more
    than one variation, or a seed other than 0, needs a model that draws variations
    (hello's "variations" feature); such a daemon would ignore the seed."""
    if variations <= 1 and seed == 0:
        return None
    if FEATURE_VARIATIONS in ((hello or {}).get("features") or ()):
        return None
    return (
        "this backend's model cannot draw variations (its colour prior has no "
        "distribution): set Variations to 1 and Seed to 0, or use a model with an "
        "encoder prior"
    )


@dataclass(frozen=True)
class ColorizeRequest:
    """Everything that affects one result; saved with it, it reproduces the result."""

    prompt: str = ""
    steps: int = DEFAULT_STEPS
    scale: float = DEFAULT_SCALE  # the colourfulness sent (the slider's number)
    hint_layer: str | None = None  # the hint layer's name
    reference_document: str | None = None  # the reference layer's image and name
    reference_layer: str | None = None
    variations: int = DEFAULT_VARIATIONS  # how many colourings (one result layer each)
    seed: int = DEFAULT_SEED  # the first one's seed (0: the model's own colouring)

    def wire_scale(self) -> float:
        """The scale as sent: the slider's value clamped to the protocol's bounds
        (MIN_SCALE-MAX_SCALE)."""
        return clamp_scale(self.scale)

    def seeds(self) -> list[int]:
        """One seed per variation asked for (`variation_seeds`)."""
        return variation_seeds(self.seed, self.variations)

    def colorize_kwargs(self, seed: int | None = None) -> dict:
        """Keyword arguments of the client's colorize / enqueue_colorize (minus pixels) for
        the variation of `seed` (default: the first)."""
        return {
            "prompt": self.prompt,
            "scale": self.wire_scale(),
            "steps": self.steps,
            "seed": self.seeds()[0] if seed is None else seed,
        }

    def to_json(self) -> dict:
        """All fields as a JSON-ready dict (what a plugin saves with the result)."""
        return asdict(self)
