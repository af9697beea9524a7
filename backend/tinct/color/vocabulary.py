"""Tinct's one colour vocabulary: the colour words it knows and what each means.

Read by the prompt parser (tinct.color.prompt_words), which turns a word into a
typical a*b* and lightness range, and by training (tinct.train.colorwords),
which names an image's hue and strips the words a hue rotation made false. One
table, so a word the captions were trained to drop is a word the parser reads.

Hue angles are CIELAB hue (degrees, atan2(b*, a*)); the naming ranges were
placed around the Lab hues of typical sRGB colours (red 40, orange 73, yellow
103, green 136, cyan 196, sky blue ~270, pure blue 306, purple 328, hot pink 350).
"""

from __future__ import annotations

import math

# word -> (a*, b*, darkest-typical L*, lightest-typical L*): the chroma a natural
# thing of that colour typically has (less than the pure colour's), and the
# lightness range where that colour occurs. a* = b* = 0: an achromatic word.
COLOURS: dict[str, tuple[float, float, float, float]] = {
    "red": (42.0, 28.0, 25.0, 65.0),
    "crimson": (45.0, 20.0, 25.0, 60.0),
    "scarlet": (48.0, 34.0, 30.0, 62.0),
    "maroon": (30.0, 14.0, 12.0, 38.0),
    "orange": (28.0, 52.0, 40.0, 80.0),
    "golden": (8.0, 48.0, 50.0, 90.0),
    "gold": (8.0, 48.0, 50.0, 90.0),
    "yellow": (-2.0, 58.0, 60.0, 100.0),
    "lime": (-30.0, 48.0, 50.0, 88.0),
    "green": (-28.0, 26.0, 15.0, 75.0),
    "olive": (-8.0, 25.0, 20.0, 60.0),
    "cyan": (-25.0, -12.0, 40.0, 90.0),
    "turquoise": (-30.0, -5.0, 40.0, 85.0),
    "teal": (-25.0, -8.0, 20.0, 60.0),
    "azure": (-4.0, -30.0, 45.0, 88.0),
    "blue": (0.0, -32.0, 10.0, 85.0),
    "navy": (8.0, -30.0, 5.0, 35.0),
    "purple": (32.0, -36.0, 15.0, 65.0),
    "violet": (30.0, -38.0, 20.0, 70.0),
    "magenta": (50.0, -25.0, 30.0, 70.0),
    "pink": (30.0, 6.0, 55.0, 92.0),
    "brown": (12.0, 22.0, 10.0, 55.0),
    "tan": (6.0, 20.0, 50.0, 85.0),
    "beige": (3.0, 14.0, 65.0, 95.0),
    "gray": (0.0, 0.0, 0.0, 100.0),
    "grey": (0.0, 0.0, 0.0, 100.0),
    "silver": (0.0, 0.0, 50.0, 95.0),
    "white": (0.0, 0.0, 72.0, 100.0),
    "black": (0.0, 0.0, 0.0, 28.0),
}
# Words that shift a colour's lightness ("light blue", "dark red").
LIGHTER = ("light", "pale", "bright")
DARKER = ("dark", "deep")
PALE_CHROMA = 0.6  # "pale blue" keeps this share of blue's chroma

# The words that carry a hue: a hue rotation makes them false (white stays white).
HUE_WORDS = tuple(w for w, (a, b, _, _) in COLOURS.items() if math.hypot(a, b) > 0.0)

# Naming a hue: (word, start, end) in degrees, end exclusive; "pink" wraps through 0.
# The ranges tile the circle; each word is in COLOURS.
HUE_RANGES: tuple[tuple[str, float, float], ...] = (
    ("pink", 345.0, 375.0),
    ("red", 15.0, 55.0),
    ("orange", 55.0, 85.0),
    ("yellow", 85.0, 115.0),
    ("green", 115.0, 180.0),
    ("cyan", 180.0, 225.0),
    ("blue", 225.0, 315.0),
    ("purple", 315.0, 345.0),
)
HUE_NAMES = tuple(word for word, _, _ in HUE_RANGES)


def hue_center(word: str) -> float:
    """The middle of the naming range of `word` (one of HUE_NAMES), in degrees
    (0..360). Raises ValueError for any other word."""
    for name, start, end in HUE_RANGES:
        if name == word:
            return ((start + end) / 2.0) % 360.0
    raise ValueError(f"unknown colour word {word!r}; expected one of {', '.join(HUE_NAMES)}")


def word_for_hue(degrees: float) -> str:
    """The HUE_NAMES word whose range holds the CIELAB hue `degrees` (any real
    number, taken modulo 360)."""
    h = float(degrees) % 360.0
    for name, start, end in HUE_RANGES:
        if start <= h < end or start <= h + 360.0 < end:
            return name
    raise AssertionError(f"hue {h} not covered")  # the ranges tile the circle


__all__ = [
    "COLOURS",
    "DARKER",
    "HUE_NAMES",
    "HUE_RANGES",
    "HUE_WORDS",
    "LIGHTER",
    "PALE_CHROMA",
    "hue_center",
    "word_for_hue",
]
