"""Layer names both plugins use: the result layer says how it was made; the hint layer;
the words and entries of the hint and reference choices.

Host-free, so GIMP and Krita name and recognise layers the same way (and tests check
it without a host). A result is named ``Tinct — "blue sky" x1.10`` (the prompt, cut
to PROMPT_CHARS, the colourfulness, and a variation's seed unless 0); colorized from a
reference layer, ``Tinct — "blue sky" ref "beach" x1.10``; a variation,
``Tinct — "blue sky" x1.10 seed 7``.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

RESULT_PREFIX = "Tinct"
HINT_LAYER_NAME = "Tinct hints"
HINTS_MARK = "+hints"  # in a result's name: painted hints were sent
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


# Unicode categories that never reach a layer name. Control characters (NUL, ESC,
# newlines) and line or paragraph separators become spaces; format characters (bidi
# overrides and isolates, zero-width spaces, BOM), surrogates, private-use and
# unassigned code points are dropped.
_AS_SPACE = frozenset(("Cc", "Zl", "Zp"))
_DROPPED = frozenset(("Cf", "Cs", "Co", "Cn"))
# Format characters that real words need (Persian, Indic scripts, emoji sequences).
_JOINERS = frozenset(("\u200c", "\u200d"))


def _safe_char(ch: str) -> str:
    category = unicodedata.category(ch)
    if category in _AS_SPACE:
        return " "
    if category in _DROPPED and ch not in _JOINERS:
        return ""
    return ch


def clean_name_text(text: str) -> str:
    """User text (a prompt, a layer name) made safe for a layer name: control
    characters become spaces and invisible ones go (a bidi override cannot reorder the
    rest of the name, a NUL cannot cut it short), runs of whitespace one space."""
    return " ".join("".join(map(_safe_char, str(text))).split())


def _cut(text: str, chars: int) -> str:
    text = clean_name_text(text)
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "\u2026"


def scale_text(scale: float) -> str:
    """The colourfulness as names and labels show it: two decimals, halves rounded up as
    written (1.895 -> "1.90", where ``f"{1.895:.2f}"`` gives "1.89")."""
    value = Decimal(repr(float(scale))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{value:.2f}"


def result_layer_name(
    prompt: str,
    scale: float,
    auto: bool = False,
    reference: str | None = None,
    hints: bool = False,
    seed: int = 0,
) -> str:
    """``Tinct — "PROMPT" +hints ref "LAYER" x1.10 seed 7`` (parts left out when empty;
    `` auto`` when Tinct picked the colourfulness, as older plugins did; the seed when
    not 0). The plugins call ``naming.result_name``."""
    prompt = _cut(prompt, PROMPT_CHARS)
    words = f' {DASH} "{prompt}"' if prompt else ""
    if hints:
        words += f" {HINTS_MARK}"
    if reference:
        words += f' ref "{_cut(reference, REFERENCE_CHARS)}"'
    tail = (" auto" if auto else "") + (f" seed {int(seed)}" if seed else "")
    return f"{RESULT_PREFIX}{words} x{scale_text(scale)}{tail}"


# What result_layer_name makes, in full (a host may append " #2" to a duplicate name):
# a name merely starting "Tinct x" ("Tinct xylophone") is not a result.
_RESULT_NAME = re.compile(
    rf'{RESULT_PREFIX}(?: {DASH} ".*")?(?: {re.escape(HINTS_MARK)})?(?: ref ".*")? x\d+\.\d\d'
    r"(?: auto)?(?: seed \d+)?(?: #\d+)?",
    re.DOTALL,
)


def is_result_name(name: str) -> bool:
    """True for a name ``result_layer_name`` makes (and the older plain "Tinct color")."""
    if name == "Tinct color" or re.fullmatch(r"Tinct color #\d+", name):
        return True
    return _RESULT_NAME.fullmatch(name) is not None


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
