"""Colour words for captions: name an image's dominant hue, rotate hues.

Hue-shift augmentation turns a red car blue; the caption must then say
"blue", or the model learns that prompts lie. The words, their hue ranges and
which of them carry a hue are tinct.color.vocabulary's (the prompt parser reads
the same table); the sky is found by tinct.color.regions, as prompts place it.
"""

from __future__ import annotations

import re

import numpy as np

from tinct import color
from tinct.color.regions import find_sky
from tinct.color.vocabulary import DARKER, HUE_RANGES, HUE_WORDS, LIGHTER, hue_center, word_for_hue

# Words a hue rotation makes false (every word with a hue, with its modifier); removed
# from a caption whose image was hue-shifted. White, black and gray stay true.
_STALE_RE = re.compile(
    r"\b(?:(?:" + "|".join(LIGHTER + DARKER) + r") )?(?:" + "|".join(HUE_WORDS) + r")\b,?\s*"
)

__all__ = [
    "dominant_color_word",
    "hue_center",
    "recoloured_caption",
    "region_caption",
    "rotate_hue",
    "strip_color_words",
    "with_color_word",
    "word_for_hue",
]


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


def _sky_word(lab: np.ndarray, sky: np.ndarray) -> str | None:
    """The colour word of the sky pixels `sky` (a mask) of a Lab image, None when gray."""
    return _band_word(lab[sky][None], min_chroma=6.0)


def _green(ab: np.ndarray) -> np.ndarray:
    """Where a*b* is clearly green (greenery), as a boolean mask."""
    return (ab[..., 0] < -6.0) & (np.hypot(ab[..., 0], ab[..., 1]) > 10.0)


def region_caption(rgb: np.ndarray, subject: str = "") -> str:
    """A caption naming colours by region, in the words people type: the subject
    with the colour of the image's centre ("red parrot"), the sky when
    tinct.color.regions finds a bright one ("blue sky", "white sky"), and
    greenery when green covers a good share of the lower half ("green
    foliage"). `rgb` is (H, W, 3) sRGB in [0, 1]; returns the parts joined by
    ", " (empty when none applies)."""
    lab = color.rgb_to_lab(np.clip(rgb, 0.0, 1.0))
    parts = []
    if subject:
        word = _band_word(_centre(lab))
        parts.append(f"{word} {subject}" if word else subject)
    sky = find_sky(lab[..., 0])
    if sky.mean() > 0.02 and float(lab[..., 0][sky].mean()) > 55.0:
        word = _sky_word(lab, sky)
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
    where that region is: "... sky" from the sky tinct.color.regions finds
    (in `original`'s lightness, which the rotation kept), greenery words from the
    pixels that were green in `original`, the first part (the subject) from the
    centre. Unlike one colour word put first (which taught prompts to tint the
    whole image), the words stay bound to their regions. Parts it cannot place
    lose their colour words. Both images are (H, W, 3) sRGB in [0, 1]."""
    lab = color.rgb_to_lab(np.clip(shifted, 0.0, 1.0))
    original_lab = color.rgb_to_lab(np.clip(original, 0.0, 1.0))
    was_green = _green(original_lab[..., 1:])
    sky = find_sky(original_lab[..., 0])
    parts = [p.strip() for p in strip_color_words(caption).split(",") if p.strip()]
    out = []
    for i, part in enumerate(parts):
        noun = part.split()[-1].lower().strip(".")
        if noun == "sky":
            word = _sky_word(lab, sky) if sky.any() else None
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
