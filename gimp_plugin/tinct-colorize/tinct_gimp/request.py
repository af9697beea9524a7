"""The procedure's arguments, declared once, and their validation (host-free: no gi).

`ARGUMENTS` drives both the Gimp.Procedure declaration (so the same procedure
runs from the dialog, from scripts and in batch mode) and `ColorizeRequest`
(the vendored protocol's, the same value as the Krita plugin's), the one value
holding everything that affects the result. Defaults, bounds and the slider's
name come from the protocol's constants, as in the CLI, the daemon and the Krita
plugin. Variations (1-4) give that many result layers, from seeds Seed, Seed + 1, ...
(seed 0 is the model's own colouring); each layer's name carries its seed, which with
one variation gives that layer again. The colourfulness sent is always the slider's.
`AUX_ARGUMENTS` are the dialog's hint and reference picks, kept with the last-used values
(GIMP saves an interactive run's whole config), so Repeat and Re-show use them too.
``UserError`` is any refusal whose message tells the user what to do instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinct_protocol.colorize_request import ColorizeRequest
from tinct_protocol.constants import (
    DEFAULT_SCALE,
    DEFAULT_SEED,
    DEFAULT_STEPS,
    DEFAULT_VARIATIONS,
    MAX_PROMPT_CHARS,
    MAX_SCALE,
    MAX_SEED,
    MAX_STEPS,
    MAX_VARIATIONS,
    MIN_SCALE,
    MIN_SEED,
    MIN_STEPS,
    MIN_VARIATIONS,
    SCALE_WORD,
)
from tinct_protocol.layers import (
    HINT_LAYER_NAME,
    NO_HINTS,
    NO_REFERENCE,
    REFERENCE_TIP,
    REFERENCE_WORD,
    is_result_name,
)

PROCEDURE = "plug-in-tinct-colorize"
PAINT_HINTS_PROCEDURE = "plug-in-tinct-paint-hints"


class UserError(ValueError):
    """Bad input or a refused image: returned as a procedure error, never a traceback."""


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
    Argument(
        "prompt",
        "string",
        "_Prompt",
        "Colours and what they name, e.g. blue sky, red car (optional)",
        "",
    ),
    Argument(
        "scale",
        "double",
        f"{SCALE_WORD[:4]}_{SCALE_WORD[4:]}",  # Alt+U: Alt+C is the dialogs' Cancel
        f"{SCALE_WORD}: 0 = gray, 1 = as predicted, more = more saturated",
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
        "variations",
        "int",
        "_Variations",
        "How many colourings: one result layer each, seeds Seed, Seed + 1, ... "
        "(more than 1 needs a model that draws variations)",
        DEFAULT_VARIATIONS,
        MIN_VARIATIONS,
        MAX_VARIATIONS,
    ),
    Argument(
        "seed",
        "int",
        "See_d",  # Alt+D: Alt+E is the reference's
        "0 = the model's own colouring; another seed draws another plausible one, the same "
        "seed the same result (a result layer's name says its seed)",
        DEFAULT_SEED,
        MIN_SEED,
        MAX_SEED,
    ),
    Argument(
        "hint-layer",
        "layer",
        "Hint la_yer",  # Alt+L is Load Saved Settings
        f"Color strokes to follow (none given: a layer named '{HINT_LAYER_NAME}' if there "
        "is one; the dialog shows which, with an explicit 'no hints')",
    ),
    Argument(
        "reference-layer",
        "layer",
        f"R_{REFERENCE_WORD[1:]}",  # Alt+E: Alt+R is the dialog's Reset
        f"{REFERENCE_TIP}; none given: no reference (the dialog lists every open image's "
        f"layers after an explicit '{NO_REFERENCE}')",
    ),
)


# The dialog's picks, by name (layer objects do not outlive the session; a label does):
# saved with the last-used values, not arguments of the procedure (a script passes layers).
AUX_ARGUMENTS = (
    Argument(
        "hint-choice",
        "string",
        "Hint choice",
        f"The hint list's pick in the last dialog (a layer's name or '{NO_HINTS}'; '' = none "
        "made): Repeat uses it",
        "",
    ),
    Argument(
        "reference-choice",
        "string",
        "Reference choice",
        f"The reference list's pick in the last dialog ('image / layer' or '{NO_REFERENCE}'; "
        "'' = none made): Repeat uses it",
        "",
    ),
)


def last_choices(
    hint_choice: str, reference_choice: str, layer_names: list[str], references: dict
) -> tuple[str | None, object]:
    """Repeat's hint and reference, from the last dialog's picks (``AUX_ARGUMENTS``): the
    hint (a layer name, NO_HINTS, or None: no pick made) and the reference (a layer from
    REFERENCES, label -> layer; NO_REFERENCE; or None: no pick made). A picked layer that
    is no longer there is a UserError naming it (never a silent run without it)."""
    hint = hint_choice or None
    if hint not in (None, NO_HINTS) and hint not in layer_names:
        raise UserError(
            f"the last run's hint layer '{hint}' is not in this image; run Tinct Colorize… "
            "to pick hints (Repeat uses the last dialog's choices)"
        )
    if not reference_choice:
        return hint, None
    if reference_choice == NO_REFERENCE:
        return hint, NO_REFERENCE
    if reference_choice not in references:
        raise UserError(
            f"the last run's reference '{reference_choice}' is not open any more; open it "
            "again, or run Tinct Colorize… to pick another"
        )
    return hint, references[reference_choice]


def _whole(name: str, value: object, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{name} is {value}; choose {lo} to {hi}")
    return value


def check_arguments(
    prompt: object,
    scale: object,
    steps: object,
    hint_layer: str | None = None,
    reference_layer: str | None = None,
    reference_document: str | None = None,
    *,
    variations: object = DEFAULT_VARIATIONS,
    seed: object = DEFAULT_SEED,
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
    _whole("steps", steps, MIN_STEPS, MAX_STEPS)
    _whole("variations", variations, MIN_VARIATIONS, MAX_VARIATIONS)
    _whole("seed", seed, MIN_SEED, MAX_SEED)
    word = SCALE_WORD.lower()
    names = {
        "hint_layer": hint_layer,
        "reference_document": reference_document,
        "reference_layer": reference_layer,
    }
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or scale != scale:
        raise ValueError(f"{word} (scale) must be a number, got {scale!r}")
    if not MIN_SCALE <= scale <= MAX_SCALE:
        raise ValueError(f"{word} (scale) is {scale}; choose {MIN_SCALE:g} to {MAX_SCALE:g}")
    return ColorizeRequest(
        prompt, steps, scale=float(scale), variations=variations, seed=seed, **names
    )


def is_helper(name: str, hint_name: str | None = None) -> bool:
    """A hint or Tinct result layer: never the layer to colorize, nor a hint layer for it."""
    return name == HINT_LAYER_NAME or name == hint_name or is_result_name(name)


def pick_hint_layer(chosen: str | None, layer_names: list[str], source_name: str) -> str | None:
    """The hint layer's name: the chosen one, else a layer named "Tinct hints", else None.

    Returns the name only; the plug-in maps it back to its layer. The source itself
    can never be its own hint layer.
    """
    if chosen is not None:
        if chosen == source_name:
            raise ValueError(
                f"the hint layer {chosen!r} is the layer being colorized; paint hints "
                f"on a separate layer (e.g. one named '{HINT_LAYER_NAME}')"
            )
        if is_result_name(chosen):
            raise ValueError(
                f"the hint layer {chosen!r} is a Tinct result; paint hints on a separate "
                f"layer (Filters > Colors > Tinct Paint Hints makes '{HINT_LAYER_NAME}')"
            )
        return chosen
    if HINT_LAYER_NAME in layer_names and source_name != HINT_LAYER_NAME:
        return HINT_LAYER_NAME
    return None


def check_reference(name: str, *, is_source: bool, is_group: bool) -> str:
    """The reference layer's name, or ValueError saying why that layer cannot be one."""
    if is_source:
        raise ValueError(
            f"the reference {name!r} is the layer being colorized; pick a colour photo "
            "from another layer or image as the reference"
        )
    if is_group:
        raise ValueError(f"the reference {name!r} is a layer group; pick a pixel layer")
    return name
