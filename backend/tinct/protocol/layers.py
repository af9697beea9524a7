"""Layer names both plugins use: the result layer says how it was made; the hint layer.

Host-free, so GIMP and Krita name and recognise layers the same way (and tests check
it without a host). A result is named ``Tinct — "blue sky" x1.10`` (the prompt, cut
to PROMPT_CHARS, and the colourfulness; "auto" when Tinct picked it).
"""

from __future__ import annotations

RESULT_PREFIX = "Tinct"
HINT_LAYER_NAME = "Tinct hints"
PROMPT_CHARS = 40
DASH = "\u2014"  # em dash


def result_layer_name(prompt: str, scale: float, auto: bool = False) -> str:
    """``Tinct — "PROMPT" x1.10`` (``Tinct x1.10`` without a prompt; `` auto`` when picked)."""
    prompt = " ".join(prompt.split())
    if len(prompt) > PROMPT_CHARS:
        prompt = prompt[: PROMPT_CHARS - 1].rstrip() + "\u2026"
    words = f' {DASH} "{prompt}"' if prompt else ""
    return f"{RESULT_PREFIX}{words} x{scale:.2f}{' auto' if auto else ''}"


def is_result_name(name: str) -> bool:
    """True for a name ``result_layer_name`` makes (and the older plain "Tinct color")."""
    if name == "Tinct color" or name.startswith("Tinct color #"):
        return True
    if not name.startswith(RESULT_PREFIX + " "):
        return False
    rest = name[len(RESULT_PREFIX) + 1 :]
    return rest.startswith((f'{DASH} "', "x"))
