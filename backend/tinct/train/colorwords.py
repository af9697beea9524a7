"""Colour words for captions: name an image's dominant hue, rotate hues.

Hue-shift augmentation turns a red car blue; the caption must then say
"blue", or the model learns that prompts lie. Hues are CIELAB hue angles
(degrees, atan2(b*, a*)); the ranges below were placed around the Lab hues of
typical sRGB colours (red 40, orange 73, yellow 103, green 136, cyan 196,
sky blue ~270, pure blue 306, purple/magenta 328, hot pink 350).
"""

from __future__ import annotations

import re

import numpy as np

from tinct import color

# (word, start, end) in degrees, end exclusive; "pink" wraps through 0.
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
COLOR_WORDS = tuple(word for word, _, _ in HUE_RANGES)
# Words captions commonly use for colours; removed from a caption whose image
# was hue-shifted, since they no longer describe it.
_STALE = COLOR_WORDS + (
    "violet",
    "magenta",
    "teal",
    "turquoise",
    "brown",
    "golden",
    "gold",
    "crimson",
    "scarlet",
    "navy",
    "azure",
    "lime",
    "olive",
    "maroon",
    "beige",
    "tan",
)
_STALE_RE = re.compile(r"\b(?:light |dark |bright |pale )?(?:" + "|".join(_STALE) + r")\b,?\s*")


def hue_center(word: str) -> float:
    """The middle of `word`'s hue range, in degrees (0..360)."""
    for name, start, end in HUE_RANGES:
        if name == word:
            return ((start + end) / 2.0) % 360.0
    raise ValueError(f"unknown colour word {word!r}; expected one of {', '.join(COLOR_WORDS)}")


def word_for_hue(degrees: float) -> str:
    h = float(degrees) % 360.0
    for name, start, end in HUE_RANGES:
        if start <= h < end or start <= h + 360.0 < end:
            return name
    raise AssertionError(f"hue {h} not covered")  # the ranges tile the circle


def dominant_color_word(rgb: np.ndarray, min_chroma: float = 12.0) -> str | None:
    """The colour word covering most chroma in `rgb` (H, W, 3 sRGB in [0, 1]),
    or None when the image is close to gray (too little colour to name)."""
    ab = color.rgb_to_lab(rgb)[..., 1:].reshape(-1, 2)
    chroma = np.hypot(ab[:, 0], ab[:, 1])
    keep = chroma >= min_chroma
    # Need a visible share of coloured pixels, not a few speckles.
    if keep.mean() < 0.05:
        return None
    hue = np.degrees(np.arctan2(ab[keep, 1], ab[keep, 0])) % 360.0
    weights = np.zeros(len(HUE_RANGES))
    for i, (_, start, end) in enumerate(HUE_RANGES):
        inside = ((hue >= start) & (hue < end)) | ((hue + 360.0 >= start) & (hue + 360.0 < end))
        weights[i] = chroma[keep][inside].sum()
    return HUE_RANGES[int(weights.argmax())][0]


def rotate_hue(rgb: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate a*b* by `degrees` at constant L*: the gray version is unchanged
    (out-of-gamut colours lose chroma, never lightness; see color.merge_luma)."""
    lab = color.rgb_to_lab(rgb)
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    a, b = lab[..., 1], lab[..., 2]
    ab = np.stack([c * a - s * b, s * a + c * b], axis=-1).astype(np.float32)
    return color.merge_luma(lab[..., 0], ab).astype(np.float32)


def strip_color_words(caption: str) -> str:
    """The caption without colour words (and a dangling comma)."""
    text = _STALE_RE.sub("", caption)
    return re.sub(r"\s+", " ", text).strip(" ,")


def with_color_word(caption: str, word: str | None, stale: bool) -> str:
    """`word` first, then the caption (without its colour words when `stale`)."""
    rest = strip_color_words(caption) if stale else caption.strip()
    if word is None:
        return rest
    return f"{word}, {rest}" if rest else word


def _band_word(lab: np.ndarray, min_chroma: float = 10.0) -> str | None:
    """The colour word of most chroma in a band of Lab pixels, None when gray."""
    ab = lab[..., 1:].reshape(-1, 2)
    chroma = np.hypot(ab[:, 0], ab[:, 1])
    keep = chroma >= min_chroma
    if keep.mean() < 0.3:
        return None
    hue = np.degrees(np.arctan2(ab[keep, 1], ab[keep, 0])) % 360.0
    return word_for_hue(float(np.median(hue)))


def _centre(lab: np.ndarray) -> np.ndarray:
    """The middle half of an image in each direction, where its subject usually is."""
    h, w = lab.shape[:2]
    return lab[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4]


def _top_band(lab: np.ndarray) -> np.ndarray:
    """The top fifth of an image, where its sky is if it has one."""
    return lab[: max(1, lab.shape[0] // 5)]


def _green(ab: np.ndarray) -> np.ndarray:
    """Where a*b* is clearly green (greenery), as a boolean mask."""
    return (ab[..., 0] < -6.0) & (np.hypot(ab[..., 0], ab[..., 1]) > 10.0)


def region_caption(rgb: np.ndarray, subject: str = "") -> str:
    """A caption naming colours by region, in the words people type: the subject
    with the colour of the image's centre ("red parrot"), the sky when the top
    band is bright and smooth ("blue sky", "white sky"), and greenery when
    green covers a good share of the lower half ("green foliage")."""
    lab = color.rgb_to_lab(np.clip(rgb, 0.0, 1.0))
    parts = []
    if subject:
        word = _band_word(_centre(lab))
        parts.append(f"{word} {subject}" if word else subject)
    top = _top_band(lab)
    smooth = float(np.abs(np.diff(top[..., 0], axis=1)).mean()) < 2.0
    if smooth and float(top[..., 0].mean()) > 55.0:
        word = _band_word(top, min_chroma=6.0)
        if word in ("blue", "cyan"):
            parts.append("blue sky")
        elif word is None:
            parts.append("white sky")
    if _green(lab[lab.shape[0] // 2 :, :, 1:]).mean() > 0.2:
        parts.append("green foliage")
    return ", ".join(parts)


_GREENERY = ("foliage", "grass", "leaves", "lawn", "meadow", "trees", "forest")


def recoloured_caption(caption: str, original: np.ndarray, shifted: np.ndarray) -> str:
    """The caption of a hue-shifted copy with each region's colour word renamed
    where that region is: "... sky" from the top band, greenery words from the
    pixels that were green in `original`, the first part (the subject) from the
    centre. Unlike one colour word put first (which taught prompts to tint the
    whole image), the words stay bound to their regions. Parts it cannot place
    lose their colour words."""
    lab = color.rgb_to_lab(np.clip(shifted, 0.0, 1.0))
    was_green = _green(color.rgb_to_lab(np.clip(original, 0.0, 1.0))[..., 1:])
    parts = [p.strip() for p in strip_color_words(caption).split(",") if p.strip()]
    out = []
    for i, part in enumerate(parts):
        noun = part.split()[-1].lower().strip(".")
        if noun == "sky":
            word = _band_word(_top_band(lab), min_chroma=6.0)
            out.append(f"{word} sky" if word else ("white sky" if "white" in part else part))
        elif noun in _GREENERY and was_green.mean() > 0.02:
            word = _band_word(lab[was_green][None])
            out.append(f"{word} {part}" if word else part)
        elif i == 0:
            word = _band_word(_centre(lab))
            out.append(f"{word} {part}" if word else part)
        else:
            out.append(part)
    return ", ".join(out)
