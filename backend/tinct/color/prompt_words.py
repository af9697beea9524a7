"""Colour words in a prompt and the things they name.

`parse("a red brick castle with gray roofs, blue sky")` gives one `Phrase` per
colour: the colour's typical a*b* and lightness range (from the one vocabulary,
tinct.color.vocabulary), the noun it names, and the noun's role, which says how
tinct.color.prompt_regions finds it in the image: "sky", "foliage", "grass"
(foliage low in the frame), "low" (snow, water, a table: the setting, low in
the frame), "subject" (the clause's head noun), "setting" (what the subject is
"on", "in" or "among"), or "whole" (no place: "a photo in blue tones").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tinct.color.vocabulary import COLOURS, DARKER, LIGHTER, PALE_CHROMA

# Nouns naming places with a look of their own; any other noun is a thing.
SKY = frozenset({"sky", "skies", "clouds", "cloud", "sunset", "sunrise", "horizon"})
FOLIAGE = frozenset(
    """
    leaves leaf foliage trees tree forest woods bush bushes hedge plants plant
    vegetation greenery jungle garden
    """.split()
)
# Backdrops: what stands behind the subject, often a smooth region reaching the top
# edge that is no sky ("a blue wall", "a man against a white background").
BACKDROP = frozenset({"wall", "walls", "background", "backdrop", "curtain", "curtains"})
# Textured like foliage, and lying on the ground: low in the frame.
GROUND_COVER = frozenset({"grass", "lawn", "meadow", "field", "fields", "moss", "pasture"})
CLOTHES = frozenset(
    {"suit", "coat", "dress", "shirt", "jacket", "hat", "scarf", "sweater", "uniform", "cap"}
)
LOW = frozenset(
    """
    snow ice water river sea lake ocean pond sand beach ground floor road street
    table desk soil earth path
    """.split()
)
WHOLE = frozenset(
    {"photo", "photograph", "image", "picture", "tones", "tone", "tint", "hues", "light"}
)
# Too small to place from a caption: skipped (the thing they belong to keeps its colour).
DETAILS = frozenset(
    """
    eyes eye nose mouth lips stripes stripe spots spot centre center beak ears ear
    whiskers buttons button wheels windows window patch patches dots lines letters
    text logo tail
    """.split()
)
SETTING_WORDS = frozenset(
    """
    on in among amid against over under above below behind beside near across
    through before at by
    """.split()
)
JOINERS = frozenset({"and", "or", "&"})
# Verbs that join a noun to its colour ("the sky is blue"): never the noun themselves.
COPULAS = frozenset(
    """
    is are was were be been being looks look looking seems seem appears appear turns
    turned turning painted glows glowing
    """.split()
)
# An article before a colour word with no noun after it makes the word the thing
# itself ("an orange on a table", "a lime"), not a colour.
ARTICLES = frozenset({"a", "an", "the"})
FILLER = frozenset(
    """
    a an the of its their his her some two three many few lit front
    """.split()
)


@dataclass(frozen=True)
class Phrase:
    """One colour and the thing it names; `role` is how the thing is placed."""

    colour: str
    ab: tuple[float, float]
    lightness: tuple[float, float]  # (darkest, lightest) typical L*
    noun: str
    role: str  # "sky", "foliage", "grass", "low", "backdrop", "subject", "setting", "whole"


def _colour(word: str, modifier: str | None) -> tuple[tuple[float, float], tuple[float, float]]:
    a, b, lo, hi = COLOURS[word]
    if modifier in LIGHTER:
        lo = (lo + hi) / 2.0
        if modifier == "pale":
            a, b = a * PALE_CHROMA, b * PALE_CHROMA
    elif modifier in DARKER:
        hi = (lo + hi) / 2.0
    return (a, b), (lo, hi)


def _role(noun: str, after_setting_word: bool) -> str:
    if noun in SKY:
        return "sky"
    if noun in GROUND_COVER:
        return "grass"
    if noun in FOLIAGE:
        return "foliage"
    if noun in LOW:
        return "low"
    if noun in BACKDROP:
        return "backdrop"
    if noun in WHOLE or noun == "":
        return "whole"
    if noun in CLOTHES:  # "a man in a red coat": the coat is on the subject
        return "subject"
    return "setting" if after_setting_word else "subject"


def parse(prompt: str) -> list[Phrase]:
    """The prompt's colour phrases, in order. A run of colours ("red, white and
    blue flag") all name the noun that ends it; a colour after its noun ("a
    bridge lit orange") names that noun; a colour alone after "on" or "in" ("on
    white") names the setting; a prompt of colours alone names the whole image."""
    tokens = re.findall(r"[a-z]+|,", prompt.lower())
    phrases: list[Phrase] = []
    pending: list[tuple[str, str | None]] = []  # colours waiting for their noun
    modifier: str | None = None
    word_after = ""  # the last content word since the first pending colour
    last_noun, last_setting = "", False  # the last noun before that, and its clause
    setting = False  # inside a clause opened by "on", "in", "among" ...
    colours_after_setting = False

    def flush() -> None:
        nonlocal word_after, last_noun, last_setting, colours_after_setting
        if word_after:
            noun, after_setting = word_after, setting
        elif colours_after_setting:
            noun, after_setting = "", True
        else:
            noun, after_setting = last_noun, last_setting
        role = "setting" if noun == "" and after_setting else _role(noun, after_setting)
        if noun not in DETAILS:
            for word, mod in pending:
                ab, light = _colour(word, mod)
                phrases.append(Phrase(word, ab, light, noun, role))
        pending.clear()
        if word_after:
            last_noun, last_setting = word_after, setting
        word_after, colours_after_setting = "", False

    after_noun = False  # the pending colours came after their noun ("the sky is blue")
    for i, tok in enumerate(tokens):
        if tok in COLOURS and _names_a_thing(tokens, i):
            tok = "_" + tok  # "an orange on a table": the fruit, a noun
        if tok in COLOURS:
            if not pending:
                after_noun = i > 0 and (tokens[i - 1] in COPULAS or tokens[i - 1] == "lit")
                colours_after_setting = setting and not word_after
                if word_after:  # a noun before the colour: remember it
                    last_noun, last_setting, word_after = word_after, setting, ""
            pending.append((tok, modifier))
            modifier = None
        elif tok in LIGHTER or tok in DARKER:
            modifier = tok
        elif tok in FILLER or tok in COPULAS:
            continue
        elif tok in JOINERS:
            # "white clouds and a kite": the clouds are done; "the car is red and the
            # sky is blue": a colour after its noun ends its phrase.
            if pending and (word_after or after_noun):
                flush()
        elif tok in (",", "with") or tok in SETTING_WORDS:
            if tok == "," and pending and _colour_list_continues(tokens, i):
                continue
            if pending:
                flush()
            elif word_after:
                last_noun, last_setting, word_after = word_after, setting, ""
            if tok in SETTING_WORDS:
                setting = True
            elif tok == ",":
                setting = False  # a new clause names a new subject
        else:  # a noun or an adjective: the last one before a break is the noun
            word_after = tok
    if pending:
        flush()
    return phrases


def _names_a_thing(tokens: list[str], i: int) -> bool:
    """Whether the colour word at i is a noun: after an article and followed by no
    word that could be its noun (a setting word, a joiner, a comma or the end)."""
    if i == 0 or tokens[i - 1] not in ARTICLES:
        return False
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ","
    if nxt in (",",) or nxt in JOINERS:  # "a red, white and blue flag" is a colour list
        after = tokens[i + 2] if i + 2 < len(tokens) else ""
        return not (after in COLOURS or after in LIGHTER or after in DARKER)
    return nxt in SETTING_WORDS or nxt in COPULAS


def _colour_list_continues(tokens: list[str], i: int) -> bool:
    """Whether the comma at i sits inside a run of colours ("red, white and blue")."""
    return (
        i + 1 < len(tokens)
        and (tokens[i + 1] in COLOURS or tokens[i + 1] in LIGHTER or tokens[i + 1] in DARKER)
        and not _ends_clause(tokens, i)
    )


def _ends_clause(tokens: list[str], i: int) -> bool:
    """A comma after a noun ends the clause even if a colour follows."""
    j = i - 1
    while j >= 0 and tokens[j] in JOINERS:
        j -= 1
    return j >= 0 and tokens[j] not in COLOURS
