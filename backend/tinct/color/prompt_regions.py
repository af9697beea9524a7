"""Colour words in a prompt, placed where they belong.

The U-Net reads a prompt as one vector: "blue sky, green grass" tints the
whole image with its first colour word (measured in the model card). This
module gives the words a place instead. It parses the prompt into phrases,
each a colour and the thing it names ("red brick castle", "blue sky", "white
snow"), scores every pixel at work size for each phrase, and returns an a*b*
field with a weight, which the render blends over the model's colour the way
it blends painted hints (tinct.color.hints).

A pixel's score for a phrase is the product of two likelihoods:
- where the thing is: sky is smooth and reaches the top edge; grass, leaves
  and trees are textured; snow and water lie low; the clause's subject stands
  apart from the image border and near its centre; what the subject stands
  "on", "in" or "among" is the rest (the setting).
- how light the colour is: white and yellow are light, black and dark blue
  dark, brown and red in between (a soft L* range per word).
Phrases compete per pixel with a "nothing named here" option, so a pixel no
phrase fits keeps the model's colour. Details ("eyes", "stripes", "nose") are
too small to place and are skipped; a prompt with no places ("a photo in blue
tones") tints the whole image lightly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

# word -> (a*, b*, lightest-typical L*, darkest-typical L*): the chroma a
# natural thing of that colour typically has (less than the pure colour's),
# and the lightness range where that colour occurs.
COLOURS: dict[str, tuple[float, float, float, float]] = {
    "red": (42.0, 28.0, 25.0, 65.0),
    "crimson": (45.0, 20.0, 25.0, 60.0),
    "orange": (28.0, 52.0, 40.0, 80.0),
    "golden": (8.0, 48.0, 50.0, 90.0),
    "gold": (8.0, 48.0, 50.0, 90.0),
    "yellow": (-2.0, 58.0, 60.0, 100.0),
    "green": (-28.0, 26.0, 15.0, 75.0),
    "olive": (-8.0, 25.0, 20.0, 60.0),
    "cyan": (-25.0, -12.0, 40.0, 90.0),
    "turquoise": (-30.0, -5.0, 40.0, 85.0),
    "teal": (-25.0, -8.0, 20.0, 60.0),
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
LIGHTER = ("light", "pale", "bright")
DARKER = ("dark", "deep")
PALE_CHROMA = 0.6  # "pale blue" keeps this share of blue's chroma
LIGHTNESS_SOFTNESS = 6.0  # L* outside a colour's range where its likelihood falls to e^-1/2

# Nouns naming places with a look of their own; any other noun is a thing.
SKY = {"sky", "skies", "clouds", "cloud", "sunset", "sunrise", "horizon"}
FOLIAGE = {
    "leaves",
    "leaf",
    "foliage",
    "trees",
    "tree",
    "forest",
    "woods",
    "bush",
    "bushes",
    "hedge",
    "plants",
    "plant",
    "grass",
    "lawn",
    "meadow",
    "field",
    "fields",
    "moss",
    "vegetation",
    "greenery",
    "jungle",
    "garden",
}
CLOTHES = {"suit", "coat", "dress", "shirt", "jacket", "hat", "scarf", "sweater", "uniform", "cap"}
LOW = {
    "snow",
    "ice",
    "water",
    "river",
    "sea",
    "lake",
    "ocean",
    "pond",
    "sand",
    "beach",
    "ground",
    "floor",
    "road",
    "street",
    "table",
    "desk",
    "soil",
    "earth",
    "path",
}
WHOLE = {"photo", "photograph", "image", "picture", "tones", "tone", "tint", "hues", "light"}
# Too small to place from a caption: skipped (the thing they belong to keeps its colour).
DETAILS = {
    "eyes",
    "eye",
    "nose",
    "mouth",
    "lips",
    "stripes",
    "stripe",
    "spots",
    "spot",
    "centre",
    "center",
    "beak",
    "ears",
    "ear",
    "whiskers",
    "buttons",
    "button",
    "wheels",
    "windows",
    "window",
    "patch",
    "patches",
    "dots",
    "lines",
    "letters",
    "text",
    "logo",
    "tail",
}
SETTING_WORDS = {
    "on",
    "in",
    "among",
    "amid",
    "against",
    "over",
    "under",
    "above",
    "below",
    "behind",
    "beside",
    "near",
    "across",
    "through",
    "before",
    "at",
    "by",
}
JOINERS = {"and", "or", "&"}
FILLER = {
    "a",
    "an",
    "the",
    "of",
    "its",
    "their",
    "his",
    "her",
    "some",
    "two",
    "three",
    "many",
    "few",
    "lit",
    "front",
}

NONE_WEIGHT = 0.35  # the "nothing named here" option's score
WHOLE_WEIGHT = 0.5  # how far a place-less colour ("in blue tones") pulls every pixel


@dataclass(frozen=True)
class Phrase:
    """One colour and the thing it names; `role` is how the thing is placed."""

    colour: str
    ab: tuple[float, float]
    lightness: tuple[float, float]  # (darkest, lightest) typical L*
    noun: str
    role: str  # "sky", "foliage", "low", "subject", "setting" or "whole"


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
    if noun in FOLIAGE:
        return "foliage"
    if noun in LOW:
        return "low"
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

    for i, tok in enumerate(tokens):
        if tok in COLOURS:
            if not pending:
                colours_after_setting = setting and not word_after
                if word_after:  # a noun before the colour: remember it
                    last_noun, last_setting, word_after = word_after, setting, ""
            pending.append((tok, modifier))
            modifier = None
        elif tok in LIGHTER or tok in DARKER:
            modifier = tok
        elif tok in FILLER:
            continue
        elif tok in JOINERS:
            if pending and word_after:  # "white clouds and a kite": the clouds are done
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


# ------------------------------------------------------------- placing ---


def _texture(lightness: np.ndarray) -> np.ndarray:
    mean = ndimage.uniform_filter(lightness, 5)
    var = ndimage.uniform_filter(lightness * lightness, 5) - mean * mean
    return np.sqrt(np.maximum(var, 0.0))


def _smoothstep(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _sky(lightness: np.ndarray, texture: np.ndarray) -> np.ndarray:
    """Smooth regions that reach the top edge and lie mostly in the upper half."""
    h, w = lightness.shape
    smooth = texture < 2.5
    labels, n = ndimage.label(smooth)
    if n == 0:
        return np.zeros_like(lightness)
    top = np.unique(labels[0][labels[0] > 0])
    rows = np.arange(h, dtype=np.float32)[:, None].repeat(w, axis=1)
    keep = np.zeros(n + 1, bool)
    if len(top):
        centre = ndimage.mean(rows, labels, top)
        size = ndimage.sum(np.ones_like(rows), labels, top)
        keep[top[(np.asarray(centre) < 0.5 * h) & (np.asarray(size) > 0.01 * h * w)]] = True
    region = keep[labels].astype(np.float32)
    # Clouds and haze inside the sky: fill holes, then soften the edge a little.
    region = ndimage.binary_closing(region > 0, iterations=3).astype(np.float32)
    region = ndimage.binary_fill_holes(region > 0).astype(np.float32)
    return ndimage.uniform_filter(region, 5)


def _subject(lightness: np.ndarray, texture: np.ndarray) -> np.ndarray:
    """How unlike the image border a pixel looks (lightness, texture), weighted
    toward the centre: a plain saliency that finds the thing a caption is about."""
    h, w = lightness.shape
    feats = np.stack([lightness / 10.0, np.log1p(texture) * 2.0], axis=-1)
    ring = max(2, min(h, w) // 20)
    border = np.concatenate(
        [
            feats[:ring].reshape(-1, 2),
            feats[-ring:].reshape(-1, 2),
            feats[:, :ring].reshape(-1, 2),
            feats[:, -ring:].reshape(-1, 2),
        ]
    )
    rng = np.random.default_rng(0)
    border = border[rng.choice(len(border), size=min(len(border), 256), replace=False)]
    small = feats[::4, ::4].reshape(-1, 1, 2)
    # Kernel density of the border's looks at each pixel: common on the border
    # means background; a few border pixels alike (a paw at the edge) do not.
    density = np.exp(-0.5 * ((small - border[None]) ** 2).sum(-1)).mean(axis=1)
    unlike = 1.0 - density / (density + 0.05)
    unlike = unlike.reshape(feats[::4, ::4].shape[:2]).astype(np.float32)
    unlike = np.kron(unlike, np.ones((4, 4), np.float32))[:h, :w]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    centre = np.exp(-0.5 * (((yy - h / 2) / (0.35 * h)) ** 2 + ((xx - w / 2) / (0.35 * w)) ** 2))
    return ndimage.uniform_filter(np.clip(unlike * (0.4 + 0.6 * centre), 0, 1), 7)


def place(lightness: np.ndarray, phrases: list[Phrase]) -> tuple[np.ndarray, np.ndarray]:
    """(a*b* field (H, W, 2), weight (H, W) in [0, 1]) for `phrases` on an image
    of lightness `lightness` (L*, work size)."""
    h, w = lightness.shape
    field = np.zeros((h, w, 2), np.float32)
    if not phrases:
        return field, np.zeros((h, w), np.float32)
    lightness = lightness.astype(np.float32)
    texture = _texture(lightness)
    # Only a prompt that names the sky looks for one: smooth backdrops reaching
    # the top (snow behind a tiger, a dark studio wall) are not skies otherwise.
    named_sky = any(p.role == "sky" for p in phrases)
    sky = _sky(lightness, texture) if named_sky else np.zeros((h, w), np.float32)
    yy = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None] * np.ones((1, w), np.float32)
    maps = {
        "sky": sky,
        "foliage": _smoothstep(texture, 1.5, 5.0) * (1.0 - sky),
        "whole": np.full((h, w), WHOLE_WEIGHT, np.float32),
    }
    subject = _subject(lightness, texture) * (1.0 - sky)
    maps["subject"] = subject
    maps["setting"] = (1.0 - subject) * (1.0 - sky)
    # Snow, water, a table: the setting, more likely low in the frame.
    maps["low"] = maps["setting"] * (0.4 + 0.6 * _smoothstep(yy, 0.3, 0.7))
    scores = []
    for p in phrases:
        lo, hi = p.lightness
        outside = np.maximum(lo - lightness, 0.0) + np.maximum(lightness - hi, 0.0)
        light = np.exp(-0.5 * (outside / LIGHTNESS_SOFTNESS) ** 2)
        if p.role == "whole":  # "in red tones": the highlights are red-toned too
            light = np.ones_like(light)
        scores.append(maps[p.role] * light)
    scores = np.stack(scores)
    total = scores.sum(0)
    weight = total / (total + NONE_WEIGHT)
    shares = scores / np.maximum(total, 1e-6)
    ab = np.array([p.ab for p in phrases], np.float32)
    field = np.einsum("khw,kc->hwc", shares, ab)
    return field.astype(np.float32), weight.astype(np.float32)


def prompt_field(lightness: np.ndarray, prompt: str) -> tuple[np.ndarray, np.ndarray] | None:
    """`place(lightness, parse(prompt))`, or None when the prompt names no colour."""
    phrases = parse(prompt)
    if not phrases:
        return None
    return place(lightness, phrases)


__all__ = ["COLOURS", "Phrase", "parse", "place", "prompt_field"]
