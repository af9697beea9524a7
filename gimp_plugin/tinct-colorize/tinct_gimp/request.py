"""The procedure's arguments, declared once, and their validation.

`ARGUMENTS` drives both the Gimp.Procedure declaration (so the same procedure
runs from the dialog, from scripts and in batch mode) and `ColorizeRequest`,
the one value holding everything that affects the result.
"""

from __future__ import annotations

from dataclasses import dataclass

PROCEDURE = "plug-in-tinct-colorize"
NEW_LAYER_NAME = "Tinct color"
DEFAULT_HINT_LAYER = "Tinct hints"

# Mirrors the protocol's limits (tinct_protocol.constants); the daemon checks again.
MAX_PROMPT_CHARS = 2000
MIN_STEPS, MAX_STEPS, DEFAULT_STEPS = 1, 200, 20
MIN_SCALE, MAX_SCALE, DEFAULT_SCALE = 0.0, 4.0, 1.0
MAX_SEED = 2**31 - 1  # a GIMP int argument is 32-bit


@dataclass(frozen=True)
class Argument:
    name: str
    kind: str  # "string" | "double" | "boolean" | "int" | "layer"
    nick: str
    blurb: str
    default: object = None
    minimum: float | None = None
    maximum: float | None = None


ARGUMENTS = (
    Argument("prompt", "string", "_Prompt", "What the picture shows (optional)", ""),
    Argument(
        "auto",
        "boolean",
        "_Automatic strength",
        "Let the model pick the color strength (ignores Strength)",
        True,
    ),
    Argument(
        "scale",
        "double",
        "_Strength",
        "Color strength: 0 = gray, 1 = as predicted, >1 = more saturated",
        DEFAULT_SCALE,
        MIN_SCALE,
        MAX_SCALE,
    ),
    Argument(
        "steps",
        "int",
        "S_teps",
        "Denoising steps (more = slower, finer)",
        DEFAULT_STEPS,
        MIN_STEPS,
        MAX_STEPS,
    ),
    Argument(
        "seed",
        "int",
        "See_d",
        "Random seed; -1 = a new one each run (same seed + inputs = same colors)",
        -1,
        -1,
        MAX_SEED,
    ),
    Argument(
        "hint-layer",
        "layer",
        "_Hint layer",
        f"Color strokes to follow (default: a layer named '{DEFAULT_HINT_LAYER}')",
    ),
)


@dataclass(frozen=True)
class ColorizeRequest:
    prompt: str
    scale: float | str  # a number, or "auto"
    steps: int
    seed: int | None  # None = the daemon picks one
    hint_layer: str | None  # the hint layer's name, for messages

    def colorize_kwargs(self) -> dict:
        """Keyword arguments of tinct_protocol.Client.colorize (minus pixels)."""
        return {"prompt": self.prompt, "scale": self.scale, "steps": self.steps, "seed": self.seed}


def check_arguments(
    prompt: object,
    auto: object,
    scale: object,
    steps: object,
    seed: object = -1,
    hint_layer: str | None = None,
) -> ColorizeRequest:
    """Validate the procedure's values; ValueError names the argument, the value and the fix."""
    if prompt is None:
        prompt = ""
    if not isinstance(prompt, str):
        raise ValueError(f"prompt must be text, got {type(prompt).__name__}")
    prompt = prompt.strip()
    if len(prompt) > MAX_PROMPT_CHARS:
        raise ValueError(
            f"prompt is {len(prompt)} characters; shorten it to at most {MAX_PROMPT_CHARS}"
        )
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise ValueError(f"steps must be a whole number, got {steps!r}")
    if not MIN_STEPS <= steps <= MAX_STEPS:
        raise ValueError(f"steps is {steps}; choose {MIN_STEPS} to {MAX_STEPS}")
    if isinstance(seed, bool) or not isinstance(seed, int) or not -1 <= seed <= MAX_SEED:
        raise ValueError(f"seed is {seed!r}; use -1 (random) or 0 to {MAX_SEED}")
    seed_value = None if seed == -1 else seed
    if auto:
        return ColorizeRequest(prompt, "auto", steps, seed_value, hint_layer)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or scale != scale:
        raise ValueError(f"strength (scale) must be a number, got {scale!r}")
    if not MIN_SCALE <= scale <= MAX_SCALE:
        raise ValueError(
            f"strength (scale) is {scale}; choose {MIN_SCALE:g} to {MAX_SCALE:g} "
            "or turn on Automatic strength"
        )
    return ColorizeRequest(prompt, float(scale), steps, seed_value, hint_layer)


def pick_hint_layer(chosen: str | None, layer_names: list[str], source_name: str) -> str | None:
    """The hint layer's name: the chosen one, else a layer named "Tinct hints", else None.

    Returns the name only; the plug-in maps it back to its layer. The source itself
    can never be its own hint layer.
    """
    if chosen is not None:
        if chosen == source_name:
            raise ValueError(
                f"the hint layer {chosen!r} is the layer being colorized; paint hints "
                f"on a separate layer (e.g. one named '{DEFAULT_HINT_LAYER}')"
            )
        return chosen
    if DEFAULT_HINT_LAYER in layer_names and source_name != DEFAULT_HINT_LAYER:
        return DEFAULT_HINT_LAYER
    return None
