"""Colour from a reference photo (exemplar-based colorization).

The method follows Welsh, Ashikhmin and Mueller (2002), "Transferring Color
to Greyscale Images", with the transfer made sparse and spread edge-aware:

1. Luminance remapping (their eq. 1): the reference's L* is shifted and
   scaled so its mean and standard deviation equal the target's, so matching
   compares like with like even when one photo is darker.
2. Features on both images: L*, and the mean and standard deviation of L* in
   a small window (their "neighbourhood statistics"), so a flat sky and a
   textured tree of the same lightness are told apart.
3. A jittered grid of target pixels is matched against a bounded, jittered
   sample of reference pixels (`cKDTree`, k nearest). A match is kept only
   when it is close (feature distance under `MAX_DISTANCE`) and its
   neighbours agree on the colour (a*b* spread under `MAX_SPREAD`): the
   confident matches become sparse hints.
4. `tinct.color.hints.propagate` spreads them along regions of like lightness,
   exactly as painted hints; `tinct.color.precedence.prefer_painted` then lets
   painted hints win wherever both reach. The model fills what neither reaches.

Everything is deterministic (a fixed seed for the jitter) and bounded: the
reference is reduced to at most `REFERENCE_PIXELS`, and at most
`REFERENCE_SAMPLES` of its pixels and `TARGET_SAMPLES` target pixels are
matched, whatever the sizes.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial import cKDTree

from tinct import color

REFERENCE_PIXELS = 256 * 256  # the reference is reduced to about this many pixels
REFERENCE_SAMPLES = 8192  # reference pixels in the search tree
TARGET_SAMPLES = 16384  # target pixels matched (a jittered grid at work size)
WINDOW = 5  # side of the window for the local mean and std of L*
STD_WEIGHT = 1.0  # weight of the local std against L* (Welsh et al. weigh them equally)
NEIGHBOURS = 6  # reference matches per target pixel
# Source: hand-picked (073ca19), not swept; measured only as the whole matcher: 0.611x gray.
MAX_DISTANCE = 6.0  # feature distance (L* units) beyond which a match is not trusted
# Source: hand-picked (073ca19), not swept; measured only as the whole matcher: 0.611x gray.
MAX_SPREAD = 10.0  # a*b* spread among the neighbours beyond which they disagree
MIN_CHROMA_STD = 1.0  # a reference with less a*b* spread than this counts as gray
SEED = 15


class GrayReferenceError(ValueError):
    """The reference photo has no colour to give."""


def is_gray(rgb: np.ndarray) -> bool:
    """True when the image carries no colour worth transferring."""
    small = _reduce(rgb, 128 * 128)
    ab = color.rgb_to_lab(small)[..., 1:]
    return float(np.linalg.norm(ab, axis=-1).mean()) < MIN_CHROMA_STD


def reduce(reference: np.ndarray) -> np.ndarray:
    """The reference at the size matching uses (about REFERENCE_PIXELS): callers that
    colour many images from one reference reduce it once."""
    return _reduce(reference.astype(np.float32, copy=False), REFERENCE_PIXELS)


def _reduce(rgb: np.ndarray, max_pixels: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    f = min(1.0, math.sqrt(max_pixels / float(h * w)))
    if f >= 1.0:
        return rgb
    return color.resize_area(rgb, max(1, round(h * f)), max(1, round(w * f)))


def features(lightness: np.ndarray) -> np.ndarray:
    """(h, w) L* -> (h, w, 2) features: L* and the windowed std of L* (weighted)."""
    lum = lightness.astype(np.float32)
    std = color.local_std(lum, WINDOW, mode="nearest")
    return np.stack([lum, STD_WEIGHT * std], axis=-1)


def remap_lightness(ref_l: np.ndarray, target_l: np.ndarray) -> np.ndarray:
    """Welsh et al.'s luminance remapping: the reference's L* with the target's mean and std."""
    sd_r, sd_t = float(ref_l.std()), float(target_l.std())
    return (ref_l - float(ref_l.mean())) * (sd_t / max(sd_r, 1e-6)) + float(target_l.mean())


def _jittered_grid(h: int, w: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """Flat indices of about `count` pixels: one random pixel per grid cell."""
    step = max(1, int(math.sqrt(h * w / float(count))))
    ys = np.arange(0, h, step)
    xs = np.arange(0, w, step)
    gy, gx = np.meshgrid(ys, xs, indexing="ij")
    gy = np.minimum(gy + rng.integers(0, step, gy.shape), h - 1)
    gx = np.minimum(gx + rng.integers(0, step, gx.shape), w - 1)
    return (gy * w + gx).ravel()


def reference_hints(reference: np.ndarray, lightness: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sparse hints from a reference photo.

    reference: float32 sRGB (H, W, 3) of any size; lightness: the target's L*
    at work size (h, w). Returns a*b* (h, w, 2) and a mask (h, w) in {0, 1}
    where a confident match was found. A gray reference raises GrayReferenceError.
    """
    ref = reduce(reference)  # one pass over a big reference; the rest is bounded
    if is_gray(ref):
        raise GrayReferenceError(
            "the reference photo is gray (no colour to lend); give a colour photo"
        )
    rng = np.random.default_rng(SEED)
    h, w = lightness.shape
    ref_lab = color.rgb_to_lab(ref)
    # 1. Luminance remapping
    ref_l = remap_lightness(ref_lab[..., 0], lightness)
    # 2. Features on both
    ref_f = features(ref_l).reshape(-1, 2)
    tgt_f = features(lightness).reshape(-1, 2)
    ref_ab = ref_lab[..., 1:].reshape(-1, 2)
    # 3. Match a jittered grid of target pixels against a sample of the reference
    rh, rw = ref.shape[:2]
    pool = _jittered_grid(rh, rw, REFERENCE_SAMPLES, rng)
    tree = cKDTree(ref_f[pool])
    where = _jittered_grid(h, w, TARGET_SAMPLES, rng)
    k = min(NEIGHBOURS, len(pool))
    dist, idx = tree.query(tgt_f[where], k=k)
    dist, idx = dist.reshape(len(where), k), idx.reshape(len(where), k)
    ab = ref_ab[pool][idx]  # (n, k, 2)
    centre = ab.mean(axis=1)
    spread = np.sqrt(((ab - centre[:, None, :]) ** 2).sum(axis=-1).mean(axis=1))
    keep = (dist.mean(axis=1) <= MAX_DISTANCE) & (spread <= MAX_SPREAD)
    hint_ab = np.zeros((h * w, 2), np.float32)
    mask = np.zeros(h * w, np.float32)
    hint_ab[where[keep]] = centre[keep]
    mask[where[keep]] = 1.0
    return hint_ab.reshape(h, w, 2), mask.reshape(h, w)
