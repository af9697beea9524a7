"""Layer names both plugins use: the result layer says how it was made; the hint layer;
the words and entries of the hint and reference choices.

Host-free, so GIMP and Krita name and recognise layers the same way (and tests check
it without a host). A result is named ``Tinct — "blue sky" x1.10`` (the prompt, cut
to PROMPT_CHARS, and the colourfulness; "auto" when Tinct picked it); colorized from a
reference layer, ``Tinct — "blue sky" ref "beach" x1.10``.
"""

from __future__ import annotations

RESULT_PREFIX = "Tinct"
HINT_LAYER_NAME = "Tinct hints"
PROMPT_CHARS = 40
REFERENCE_CHARS = 30
DASH = "\u2014"  # em dash
NO_HINTS = "(no hints)"  # the hint choice's first entry, in both plugins
NO_REFERENCE = "(no reference)"  # the reference choice's first entry, in both plugins
REFERENCE_WORD = "Reference"  # the label of that choice
REFERENCE_TIP = (
    "A colour photo of a similar scene, from any open image: the result borrows its "
    "colours (painted hints win where both reach)"
)


def _cut(text: str, chars: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "\u2026"


def result_layer_name(
    prompt: str, scale: float, auto: bool = False, reference: str | None = None
) -> str:
    """``Tinct — "PROMPT" ref "LAYER" x1.10`` (parts left out when empty; `` auto`` when
    Tinct picked the colourfulness)."""
    prompt = _cut(prompt, PROMPT_CHARS)
    words = f' {DASH} "{prompt}"' if prompt else ""
    if reference:
        words += f' ref "{_cut(reference, REFERENCE_CHARS)}"'
    return f"{RESULT_PREFIX}{words} x{scale:.2f}{' auto' if auto else ''}"


def is_result_name(name: str) -> bool:
    """True for a name ``result_layer_name`` makes (and the older plain "Tinct color")."""
    if name == "Tinct color" or name.startswith("Tinct color #"):
        return True
    if not name.startswith(RESULT_PREFIX + " "):
        return False
    rest = name[len(RESULT_PREFIX) + 1 :]
    return rest.startswith((f'{DASH} "', "x", 'ref "'))


def reference_label(image: str, layer: str) -> str:
    """How the reference choice lists a layer: ``image / layer``."""
    return f"{image} / {layer}"


def hint_choices(layer_names: list[str], source_name: str | None) -> list[str]:
    """What a hint choice offers: NO_HINTS, then every layer that is neither the source
    nor a Tinct result."""
    return [NO_HINTS] + [n for n in layer_names if n != source_name and not is_result_name(n)]


def reference_choices(layers: list[tuple[str, str, object]], source: object) -> list:
    """What a reference choice offers: ``(NO_REFERENCE, None)``, then
    ``("image / layer", key)`` for every ``(image, layer, key)`` that is not the source
    (by key), a hint layer or a Tinct result."""
    out = [(NO_REFERENCE, None)]
    for image, name, key in layers:
        if key != source and name != HINT_LAYER_NAME and not is_result_name(name):
            out.append((reference_label(image, name), key))
    return out
