"""Colour words in a prompt, placed where they belong.

The U-Net reads a prompt as one vector: "blue sky, green grass" tints the
whole image with its first colour word (measured in the model card). This
module gives the words a place instead. It parses the prompt into phrases,
each a colour and the thing it names ("red brick castle", "blue sky", "white
snow"), scores every pixel at work size for each phrase, and returns an a*b*
field with a weight, which the render blends over the model's colour the way
it blends painted hints (tinct.color.hints).

A pixel's score for a phrase is the product of two likelihoods:
- where the thing is: sky is smooth and reaches the top edge (found by
  tinct.color.regions, as training's captions find it); grass, leaves
  and trees are textured; snow and water lie low; the clause's subject stands
  apart from the image border and is not a backdrop reaching the top edge;
  what the subject stands "on", "in" or "among" is the rest (the setting).
  (learned, when the pipeline has the encoder prior and its text encoder) for a thing
  ("cat", "mug", "bridge", "tie"), the rule's map is moved toward where the encoder's
  ImageNet classifier sees the noun (`Where`, tinct.pipeline.noun_maps): the rule to
  the power 1 - `NOUN_TRUST` times that map to the power `NOUN_TRUST`. Nouns the
  classifier has no class for, or does not see ("sky", "snow", "flag"), keep the rule.
- how light the colour is: white and yellow are light, black and dark blue
  dark, brown and red in between (a soft L* range per word), relative to the
  prompt's best-fitting colour at that pixel: lightness chooses between the
  prompt's colours ("a red, white and black flag") but never vetoes the
  prompt ("red sky" reddens a bright sky).
- (learned, when the pipeline has the encoder prior) how likely the colour is
  there: the prior's predicted probability of a*b* within `LIKELY_RADIUS` of the
  phrase's colour at each pixel, relative to where in this image it is likeliest
  (its `LIKELY_TOP` quantile), to the power `LIKELY_POWER`. The prior has seen
  grass, leaves and brick: "green trees" greens the grass (p 0.23) and not a
  brick wall beside it (p 0.07). Relative, so a colour the prior finds unlikely
  everywhere ("red sky") is still placed where it is least unlikely.
Phrases compete per pixel with a "nothing named here" option, so a pixel no
place fits keeps the model's colour. Details ("eyes", "stripes", "nose") are
too small to place and are skipped; a prompt with no places ("a photo in blue
tones") tints the whole image lightly.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from tinct import color
from tinct.color import regions
from tinct.color.prompt_words import Phrase, parse

# Source: hand-picked (b7b3828), not swept; placing as a whole: captions 0.931x -> 0.822x gray.
NONE_WEIGHT = 0.35  # the "nothing named here" option's score
# Source: hand-picked (b7b3828), not swept; at it "in X tones" shifts val hues 20-32 (model card).
WHOLE_WEIGHT = 0.5  # how far a place-less colour ("in blue tones") pulls every pixel
LIGHTNESS_SOFTNESS = 6.0  # L* outside a colour's range where its likelihood falls to e^-1/2
BORDER_GRID = 120  # the border-distance graph's long side, in nodes
BORDER_STEP_FREE = 1.0  # L* steps this small cost nothing (grain, soft shading)
BORDER_HALF = 15.0  # L* of climbing that makes a pixel half "subject"
# Source of the two below: hand-picked (b7b3828), not measured on their own.
CENTRE_PULL = 0.6  # share of "unlike the border" that depends on nearness to the centre
LOW_PULL = 0.6  # share of a setting's likelihood that depends on being low in the frame
# Source: hand-picked (not swept): a backdrop covering this share of the image is
# what "wall" or "background" names; with less, the setting is.
BACKDROP_SHARE = 0.1
# The learned cue (module docstring). Source: LIKELY_RADIUS and LIKELY_TOP hand-picked
# (one a*b* bin either side; the top twentieth of the image), LIKELY_POWER chosen on the
# validation captions (scripts/tune_prompt_likely.py; docs/design.md, "Tuned numbers").
LIKELY_RADIUS = 20.0
LIKELY_TOP = 0.95
LIKELY_POWER = 1.0

# A colour's likelihood map: a*b* (a, b) -> (H, W) probability the model gives to colours
# within `radius` a*b* units of it at each pixel, at the work size.
Likelihood = Callable[[tuple[float, float], float], np.ndarray]
# Where a noun is: noun -> (H, W) map in [0, 1] at the work size, or None when the
# learned placer has no answer (tinct.pipeline.noun_maps: the encoder's classifier).
Where = Callable[[str], "np.ndarray | None"]
# Roles whose noun the learned placer may place: things, not the sky, foliage or a tone.
NOUN_ROLES = frozenset({"subject", "setting", "low", "backdrop"})
# How far a found noun's map replaces its role's rule map: score = rule^(1 - t) * map^t.
# Source: chosen on the validation captions among 0, 0.25, 0.5, 0.75, 1
# (scripts/tune_prompt_likely.py --trusts; docs/design.md, "Nouns placed by the classifier").
NOUN_TRUST = 0.25


def _smoothstep(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _soft(mask: np.ndarray) -> np.ndarray:
    """A mask with its edge softened a little, as float32 in [0, 1]."""
    return ndimage.uniform_filter(mask.astype(np.float32), 5)


def _unlike_border(lightness: np.ndarray, texture: np.ndarray) -> np.ndarray:
    """How unlike the image border a pixel looks (lightness, texture), weighted
    toward the centre: common on the border means background; a few border
    pixels alike (a paw at the edge) do not."""
    h, w = lightness.shape
    feats = np.stack([lightness / 10.0, np.log1p(texture) * 2.0], axis=-1)
    ring = max(2, min(h, w) // 20)
    border = np.concatenate(
        [
            feats[:ring],
            feats[-ring:],
            feats[:, :ring].swapaxes(0, 1),
            feats[:, -ring:].swapaxes(0, 1),
        ],
        axis=None,
    ).reshape(-1, 2)
    rng = np.random.default_rng(0)
    border = border[rng.choice(len(border), size=min(len(border), 256), replace=False)]
    small = feats[::4, ::4]
    density = np.exp(-0.5 * ((small.reshape(-1, 1, 2) - border[None]) ** 2).sum(-1)).mean(axis=1)
    unlike = (1.0 - density / (density + 0.05)).reshape(small.shape[:2]).astype(np.float32)
    unlike = np.kron(unlike, np.ones((4, 4), np.float32))[:h, :w]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    centre = np.exp(-0.5 * (((yy - h / 2) / (0.35 * h)) ** 2 + ((xx - w / 2) / (0.35 * w)) ** 2))
    near_centre = (1.0 - CENTRE_PULL) + CENTRE_PULL * centre
    return ndimage.uniform_filter(np.clip(unlike * near_centre, 0, 1), 7)


def _far_from_border(lightness: np.ndarray) -> np.ndarray:
    """Geodesic distance to the image border over the (slightly blurred)
    lightness, steps under BORDER_STEP_FREE free, mapped to [0, 1): background
    flows to the border through like pixels (grass receding, a plain wall), a
    thing is fenced off by its outline (Wei et al. 2012, geodesic saliency)."""
    h, w = lightness.shape
    f = BORDER_GRID / max(h, w)
    hs, ws = max(4, round(h * f)), max(4, round(w * f))
    small = ndimage.gaussian_filter(color.resize_area(lightness, hs, ws), 1.0).ravel()
    n = hs * ws
    idx = np.arange(n).reshape(hs, ws)
    pairs = [(idx[:, :-1].ravel(), idx[:, 1:].ravel()), (idx[:-1].ravel(), idx[1:].ravel())]
    a = np.concatenate([p for p, _ in pairs] + [q for _, q in pairs])
    b = np.concatenate([q for _, q in pairs] + [p for p, _ in pairs])
    cost = np.maximum(np.abs(small[a] - small[b]) - BORDER_STEP_FREE, 0.0) + 1e-3
    ring = np.unique(np.concatenate([idx[0], idx[-1], idx[:, 0], idx[:, -1]]))
    a = np.concatenate([a, np.full(len(ring), n)])  # one source joined to the whole border
    b = np.concatenate([b, ring])
    cost = np.concatenate([cost, np.full(len(ring), 1e-6)])
    graph = coo_matrix((cost, (a, b)), shape=(n + 1, n + 1)).tocsr()
    dist = dijkstra(graph, indices=n)[:n].reshape(hs, ws)
    return color.resize_linear((dist / (dist + BORDER_HALF)).astype(np.float32), h, w)


def _subject(lightness: np.ndarray, texture: np.ndarray) -> np.ndarray:
    """Where the thing a caption is about is likely to be: unlike the border in
    its looks, or fenced off from it by an outline (either cue suffices)."""
    return np.maximum(_unlike_border(lightness, texture), _far_from_border(lightness))


def place(
    lightness: np.ndarray,
    phrases: list[Phrase],
    likely: Likelihood | None = None,
    where: Where | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(a*b* field (H, W, 2), weight (H, W) in [0, 1]) for `phrases` on an image
    of lightness `lightness` (L*, work size); `likely` and `where` (optional) are the
    learned cues of the module docstring."""
    h, w = lightness.shape
    if not phrases:
        return np.zeros((h, w, 2), np.float32), np.zeros((h, w), np.float32)
    lightness = lightness.astype(np.float32)
    texture = regions.texture(lightness)
    # Only a prompt that names the sky gives that colour to smooth regions
    # reaching the top: otherwise they are backdrops (snow behind a tiger, a
    # dark studio wall), holes (the flower in front of it) left out.
    top = regions.top_backdrop(texture)
    backdrop = _soft(regions.wide_at_top(top))
    named_sky = any(p.role == "sky" for p in phrases)
    sky = _soft(regions.sky_from_backdrop(top)) if named_sky else np.zeros((h, w), np.float32)
    yy = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None] * np.ones((1, w), np.float32)
    maps = {
        "sky": sky,
        "foliage": _smoothstep(texture, 1.5, 5.0) * (1.0 - sky),
        "whole": np.full((h, w), WHOLE_WEIGHT, np.float32),
    }
    # A smooth region spanning the top edge is a backdrop (sky, snow, a wall)
    # whether or not the prompt names a sky: never the subject. A narrow one (a
    # tower) may be.
    subject = _subject(lightness, texture) * (1.0 - np.maximum(backdrop, sky))
    maps["subject"] = subject
    maps["setting"] = (1.0 - subject) * (1.0 - sky)
    # Snow, water, a table: the setting, more likely low in the frame.
    low = (1.0 - LOW_PULL) + LOW_PULL * _smoothstep(yy, 0.3, 0.7)
    maps["low"] = maps["setting"] * low
    maps["grass"] = maps["foliage"] * low  # grass, a lawn: textured and on the ground
    # A wall, a background: the smooth backdrop reaching the top edge (not a named
    # sky); where there is little of one, what is not the subject.
    behind = backdrop * (1.0 - sky)
    fallback = 1.0 - min(1.0, float(behind.mean()) / BACKDROP_SHARE)
    maps["backdrop"] = np.maximum(behind, maps["setting"] * fallback)
    lights = []
    for p in phrases:
        lo, hi = p.lightness
        outside = np.maximum(lo - lightness, 0.0) + np.maximum(lightness - hi, 0.0)
        light = np.exp(-0.5 * (outside / LIGHTNESS_SOFTNESS) ** 2)
        if p.role == "whole":  # "in red tones": the highlights are red-toned too
            light = np.ones_like(light)
        lights.append(light)
    # Lightness chooses between the prompt's colours; it does not veto the
    # prompt: "red sky" reddens a bright sky though red is seldom that light.
    # (An absolute veto measured 0.815x gray against 0.839x on the validation
    # captions at work size, and left "red sky" on a bright sky gray.)
    lights = np.stack(lights)
    lights = lights / np.maximum(lights.max(0), 1e-6)
    scores = np.stack([_where_it_is(p, maps[p.role], where) for p in phrases]) * lights
    if likely is not None:
        for k, p in enumerate(phrases):
            if p.role != "whole":  # "in blue tones" is about the whole image
                scores[k] *= relative_likelihood(likely(p.ab, LIKELY_RADIUS))
    total = scores.sum(0)
    weight = total / (total + NONE_WEIGHT)
    shares = scores / np.maximum(total, 1e-6)
    ab = np.array([p.ab for p in phrases], np.float32)
    field = np.einsum("khw,kc->hwc", shares, ab)
    return field.astype(np.float32), weight.astype(np.float32)


def _where_it_is(phrase: Phrase, rule: np.ndarray, where: Where | None) -> np.ndarray:
    """The phrase's place: its role's rule map, moved toward where the learned placer
    sees its noun (`NOUN_TRUST`) when the noun is a thing it finds."""
    if where is None or phrase.role not in NOUN_ROLES or NOUN_TRUST <= 0.0:
        return rule
    found = where(phrase.noun)
    if found is None:
        return rule
    return (np.clip(rule, 0.0, 1.0) ** (1.0 - NOUN_TRUST) * found**NOUN_TRUST).astype(np.float32)


def relative_likelihood(q: np.ndarray, power: float | None = None) -> np.ndarray:
    """A colour's likelihood map (H, W) relative to where in the image it is likeliest
    (its `LIKELY_TOP` quantile), capped at 1, to the power `power` (default
    `LIKELY_POWER`; 0 gives all ones)."""
    power = LIKELY_POWER if power is None else power
    top = max(float(np.quantile(q, LIKELY_TOP)), 1e-6)
    return (np.clip(q / top, 0.0, 1.0) ** power).astype(np.float32)


def prompt_field(
    lightness: np.ndarray,
    prompt: str,
    likely: Likelihood | None = None,
    where: Where | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """`place(lightness, parse(prompt), likely, where)`, or None when the prompt names no
    colour."""
    phrases = parse(prompt)
    if not phrases:
        return None
    return place(lightness, phrases, likely, where)


__all__ = ["Likelihood", "Where", "place", "prompt_field", "relative_likelihood"]
