"""Finding the sky (and what stands in for it) in an image's lightness.

The one sky finder: tinct.color.prompt_regions places "blue sky" with it, and
training (tinct.train.colorwords) names the colour of the sky it finds when
it writes and renames captions. A sky is told by texture and place, never by
colour (the input is gray): smooth, reaching the top edge, mostly in the upper
half of the frame.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from tinct import color

# Source of the three below: hand-picked (b7b3828), not measured on their own.
SMOOTH_TEXTURE = 2.5  # local L* standard deviation (5 px window) below which a pixel is smooth
TEXTURE_WINDOW = 5  # side in pixels of the window `texture` measures over
MIN_SHARE = 0.01  # a backdrop covers at least this share of the image
HIGH_CENTRE = 0.5  # a backdrop's mean row lies above this share of the height
# Source: hand-picked (not swept) for the tower of tests/test_prompt_regions.py
# (11 % of the top edge); checked on the validation captions (docs/design.md).
TOP_SPAN = 0.25  # a backdrop (not a sky) spans at least this share of the top edge


def texture(lightness: np.ndarray) -> np.ndarray:
    """Local standard deviation of L* (H, W float, 0..100) over a TEXTURE_WINDOW
    square, (H, W) float32: about 0 on a clear sky, several units on foliage."""
    return color.local_std(lightness.astype(np.float32), TEXTURE_WINDOW)


def top_backdrop(texture_map: np.ndarray) -> np.ndarray:
    """Smooth regions (texture below SMOOTH_TEXTURE) that reach the top edge,
    lie mostly in the upper half and cover at least MIN_SHARE of the image: a
    sky, snow behind an animal, a studio wall. `texture_map` is `texture(L*)`,
    (H, W); returns an (H, W) boolean mask."""
    h, w = texture_map.shape
    labels, n = ndimage.label(texture_map < SMOOTH_TEXTURE)
    keep = np.zeros(n + 1, bool)
    top = np.unique(labels[0][labels[0] > 0])
    if len(top):
        rows = np.arange(h, dtype=np.float32)[:, None].repeat(w, axis=1)
        centre = ndimage.mean(rows, labels, top)
        size = ndimage.sum(np.ones_like(rows), labels, top)
        keep[
            top[(np.asarray(centre) < HIGH_CENTRE * h) & (np.asarray(size) > MIN_SHARE * h * w)]
        ] = True
    return keep[labels]


def wide_at_top(backdrop: np.ndarray) -> np.ndarray:
    """The parts of a backdrop mask (H, W bool, from `top_backdrop`) that span at
    least TOP_SPAN of the top edge: a wall, snow, a studio backdrop behind the
    subject. A narrower smooth region reaching the top is a thing standing up into
    the frame (a tower, a close-up flower), which may be the subject: rule."""
    labels, _ = ndimage.label(backdrop)
    top = labels[0][labels[0] > 0]
    ids, counts = np.unique(top, return_counts=True)
    return np.isin(labels, ids[counts >= TOP_SPAN * backdrop.shape[1]])


def sky_from_backdrop(backdrop: np.ndarray) -> np.ndarray:
    """The sky a backdrop mask (H, W bool, from `top_backdrop`) stands for, with
    its clouds and haze filled in; (H, W) boolean mask. A smooth region that runs
    from the top edge down to the bottom one is not taken for a sky (fog filling
    the frame, snow that meets a pale sky with nothing between them): rule, so
    "blue sky" then places nothing rather than tinting the fog or the snow."""
    labels, _ = ndimage.label(backdrop)
    to_bottom = np.unique(labels[-1][labels[-1] > 0])
    sky = backdrop & ~np.isin(labels, to_bottom)
    closed = ndimage.binary_closing(sky, iterations=3)
    return ndimage.binary_fill_holes(closed)


def find_sky(lightness: np.ndarray) -> np.ndarray:
    """Where the sky is, if the image has one: `sky_from_backdrop(top_backdrop(
    texture(lightness)))` for L* (H, W, 0..100); an (H, W) boolean mask, all
    False when nothing smooth reaches the top."""
    return sky_from_backdrop(top_backdrop(texture(lightness)))


__all__ = ["find_sky", "sky_from_backdrop", "texture", "top_backdrop", "wide_at_top"]
