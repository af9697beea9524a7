"""Edge-aware propagation of colour hints (and, later, reference matches).

A few painted dots must colour the whole region they sit in, and stop where
the lightness changes: the colorization-by-optimization idea of Levin,
Lischinski and Weiss (2004), posed here as one sparse, symmetric positive
definite solve on a grid of at most `GRID_PIXELS` pixels:

    (L_w + lam * I + mu * M) x = mu * M y

L_w is the graph Laplacian of the 4-neighbour grid with affinities
w_ij = exp(-(L*_i - L*_j)^2 / (2 sigma^2)) (strong between pixels of like
lightness, near zero across an edge), M holds the painted coverage, and a
small `lam` lets the hints' reach fade with the affinity-weighted distance
instead of filling every region regardless of edges. Solving for y = 1
gives the hints' *reach* (1 at a painted pixel, falling off across edges and
far away); solving for y = a*, b* and dividing by the reach gives the colour
they carry there: an edge-aware weighted average of the painted colours.

The solve passes colour only between neighbours: inside a region the hints
reach, a pixel takes the colour of the hints nearest along its paths, however
unlike their lightness is to its own. A second, non-local estimate weighs every
painted colour by likeness of lightness and of texture (the local spread of L*,
`texture`) and loosely by distance, as colour transfer by luminance does; the
field is `NONLOCAL_SHARE` of it and the rest the solve's (on real photos the mix
beats either alone).

The reach is the solve's, gated by likeness: a pixel unlike every painted one in
lightness and texture loses reach in proportion to its best kernel value (over
`LIKENESS_FULL`). A soft horizon passes the solve's colour from a smooth sky into
textured grass of similar lightness; the gate keeps it out (one blue patch in the
`make demo` sky: grass b* -16.6 ungated, 0.0 gated), while 16 patches scattered
over real photos lose almost nothing to it.

The render trusts the field over the model by `render_weight` = reach /
REACH_FULL (capped at 1): inside a hinted region the hints win, across an edge
or in texture unlike any hint's the model keeps its own colour.

The U-Net has hint channels (`input_confidence`, reach / INPUT_REACH, marks
everywhere the hints reach at all), but the pipeline leaves them empty
(`UNET_SEES_HINTS`): fed the field, the bundled U-Net painted the hints' colour
far past their reach. One blue patch in the `make demo` sky turned the grass
blue (mean b* -36.9 against -12.7 with the channels empty), while 16 patches
scattered over each validation photo gained little from it (0.849x against
0.864x inverse distance).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import maximum_filter
from scipy.sparse import coo_matrix, diags
from scipy.sparse.linalg import splu

from tinct import color

GRID_PIXELS = 128 * 128  # the solve's grid; the field is upsampled guided by the luma
# SIGMA_LSTAR was chosen on the validation photos model v0.5 never saw
# (scripts/tune_hint_reach.py, 16 true-colour patches per photo; sigma 2 was worse).
SIGMA_LSTAR = 4.0  # lightness difference (L* units) where an affinity falls to e^-1/2
AFFINITY_FLOOR = 1e-5  # keeps the grid connected; colour barely leaks across hard edges
# Source: hand-picked when the solve landed (ddff8da), never swept on its own.
SCREENING = 1e-4  # lam: hints' reach fades over ~1/sqrt(lam) grid pixels of flat region
# Source: hand-picked when the solve landed (ddff8da), never swept on its own.
DATA_WEIGHT = 10.0  # mu: how firmly painted pixels hold their colour in the solve
# Reach at which the hints fully replace the model's colour. A flat region with a
# few dots in it keeps a reach above ~0.7 throughout; textured or far regions,
# where the model knows better than the field, fall well below.
# The settings below were chosen on the validation photos with 16 true-colour
# patches (scripts/tune_hint_reach.py, work size, bundled v0.6): the earlier
# 0.6 : 0.4 mix on lightness alone with REACH_FULL 0.6 gave 0.905x inverse
# distance; with texture in the non-local kernel, the likeness gate, a 0.6 share
# and REACH_FULL 0.3, 0.830x (`tinct eval --hint-check 16`: 0.864x -> 0.788x).
REACH_FULL = 0.3
NONLOCAL_SHARE = 0.6
NONLOCAL_SIGMA_LSTAR = 6.0  # lightness likeness (L* units)
# Source: hand-picked (beae8cb), not swept; measured only as one of the set above REACH_FULL.
TEXTURE_SIGMA = 3.0  # texture likeness, in `texture` units
NONLOCAL_DISTANCE = 0.25  # spatial falloff, a share of the grid's long side
NONLOCAL_SOURCES = 1024  # at most this many painted grid pixels take part
# The gate: the solve's reach times like / LIKENESS_FULL (capped at 1). Above 1 even a
# pixel just like a painted one keeps only 1 / LIKENESS_FULL of its reach, so only
# where the solve reaches strongly (on and near the strokes, inside their region) does
# the render trust the hints fully (REACH_FULL). Chosen on the validation split through
# the whole pipeline (scripts/tune_hint_features.py --full / --points 16, v0.8): 0.3
# flooded 32 % of other colours at 0.794x inverse distance with 16 patches; 2.0 floods
# 14.1 % at 0.815x (table in docs/design.md, "Hints with image features").
LIKENESS_FULL = 2.0
INPUT_REACH = 0.04  # the U-Net's hint-confidence channel saturates here (as trained)
# With image features (unit vectors per pixel from the encoder prior), likeness also
# needs like features: exp(-|f_i - f_j|^2 / (2 FEATURE_SIGMA^2)), |f_i - f_j|^2 in [0, 4].
# So a stroke on trees stops at a ridge or meadow of the same lightness.
# Source: set by hand on one synthetic trees/meadow case (tests/test_hints.py), not on photos.
FEATURE_SIGMA = 0.35
UNET_SEES_HINTS = False  # module docstring: the render's blend carries the hints alone


def _grid_shape(h: int, w: int, max_pixels: int) -> tuple[int, int]:
    f = min(1.0, math.sqrt(max_pixels / float(h * w)))
    return max(1, round(h * f)), max(1, round(w * f))


def _system(
    lightness: np.ndarray,
    mask: np.ndarray,
    sigma: float = SIGMA_LSTAR,
    features: np.ndarray | None = None,
):
    """The sparse matrix L_w + lam I + mu M of the module docstring; with `features`
    ((h, w, C) unit vectors) an affinity also needs like features (FEATURE_SIGMA)."""
    h, w = lightness.shape
    idx = np.arange(h * w).reshape(h, w)
    rows, cols, vals = [], [], []
    f = features if features is not None else np.zeros((h, w, 1), np.float32)
    for a, b, da, db, fa, fb in (
        (idx[:, :-1], idx[:, 1:], lightness[:, :-1], lightness[:, 1:], f[:, :-1], f[:, 1:]),
        (idx[:-1, :], idx[1:, :], lightness[:-1, :], lightness[1:, :], f[:-1, :], f[1:, :]),
    ):
        df2 = ((fa - fb) ** 2).sum(-1)
        wgt = np.exp(-((da - db) ** 2) / (2.0 * sigma**2) - df2 / (2.0 * FEATURE_SIGMA**2))
        wgt = wgt + AFFINITY_FLOOR
        rows.append(a.ravel())
        cols.append(b.ravel())
        vals.append(wgt.ravel())
    r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    n = h * w
    off = coo_matrix((np.concatenate([-v, -v]), (np.concatenate([r, c]), np.concatenate([c, r]))))
    degree = np.bincount(r, v, minlength=n) + np.bincount(c, v, minlength=n)
    diagonal = degree + SCREENING + DATA_WEIGHT * mask.ravel()
    return (off.tocsc() + diags(diagonal, format="csc")).tocsc()


def texture(lightness: np.ndarray) -> np.ndarray:
    """Local texture: 10 ln(1 + the standard deviation of L* over 3x3 pixels), at
    the input's own size (a grid cell averages it: fine grain survives the grid)."""
    spread = color.local_std(lightness.astype(np.float64), 3)
    return (10.0 * np.log1p(spread)).astype(np.float32)


def nonlocal_average(
    lightness: np.ndarray,
    grain: np.ndarray,
    hint_ab: np.ndarray,
    hint_mask: np.ndarray,
    features: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's average of the painted a*b*, weighted by the paint's coverage, by
    likeness of lightness and texture (`grain`, see `texture`) and by distance
    (module docstring); (h, w, 2). Also each pixel's likeness to the painted pixel
    most like it, in lightness and texture (and `features`, when given): (h, w) in (0, 1]."""
    h, w = lightness.shape
    src = np.flatnonzero(hint_mask.ravel() > 0)
    if len(src) > NONLOCAL_SOURCES:  # evenly spaced over the painted pixels: deterministic
        src = src[np.linspace(0, len(src) - 1, NONLOCAL_SOURCES).astype(np.int64)]
    sy, sx = (src // w).astype(np.float32), (src % w).astype(np.float32)
    flat_l = lightness.ravel().astype(np.float32)
    flat_t = grain.ravel().astype(np.float32)
    s_light, s_grain = flat_l[src], flat_t[src]
    s_ab = hint_ab.reshape(-1, 2)[src].astype(np.float32)
    s_log_m = np.log(hint_mask.ravel()[src].astype(np.float32))
    flat_f = features.reshape(h * w, -1).astype(np.float32) if features is not None else None
    s_f = flat_f[src] if flat_f is not None else None
    reach2 = 2.0 * (NONLOCAL_DISTANCE * max(h, w)) ** 2
    out = np.empty((h * w, 2), np.float32)
    like = np.empty(h * w, np.float32)
    for start in range(0, h * w, 4096):  # bounded memory: 4096 x NONLOCAL_SOURCES
        p = np.arange(start, min(start + 4096, h * w))
        py, px = (p // w).astype(np.float32), (p % w).astype(np.float32)
        log_like = -((flat_l[p, None] - s_light) ** 2) / (2.0 * NONLOCAL_SIGMA_LSTAR**2) - (
            (flat_t[p, None] - s_grain) ** 2
        ) / (2.0 * TEXTURE_SIGMA**2)
        if flat_f is not None:  # |f_p - f_s|^2 = 2 - 2 f_p.f_s for unit vectors
            log_like -= (2.0 - 2.0 * flat_f[p] @ s_f.T) / (2.0 * FEATURE_SIGMA**2)
        like[p] = np.exp(log_like.max(axis=1))
        logk = log_like - ((py[:, None] - sy) ** 2 + (px[:, None] - sx) ** 2) / reach2 + s_log_m
        k = np.exp(logk - logk.max(axis=1, keepdims=True))  # rows stay finite far off
        out[p] = (k @ s_ab) / k.sum(axis=1, keepdims=True)
    return out.reshape(h, w, 2), like.reshape(h, w)


def propagate(
    lightness: np.ndarray,
    hint_ab: np.ndarray,
    hint_mask: np.ndarray,
    max_pixels: int = GRID_PIXELS,
    sigma: float = SIGMA_LSTAR,
    nonlocal_share: float = NONLOCAL_SHARE,
    features: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Spread sparse a*b* hints along regions of like lightness (and like image
    features: `features` (h_f, w_f, C) at any size, e.g. the encoder prior's).

    lightness (h, w) in L*, hint_ab (h, w, 2), hint_mask (h, w) in [0, 1].
    Returns the propagated a*b* field (h, w, 2) and the hints' reach (h, w) in
    [0, 1] (see `render_weight`, `input_confidence`). `sigma` is the solve's
    lightness scale, `nonlocal_share` the field's share of `nonlocal_average`.
    Cost is bounded by `max_pixels`, whatever the input size.
    """
    h, w = lightness.shape
    m = np.clip(np.asarray(hint_mask, np.float32), 0.0, 1.0)
    if float(m.max()) <= 0.0:
        return np.zeros((h, w, 2), np.float32), np.zeros((h, w), np.float32)
    gh, gw = _grid_shape(h, w, max_pixels)
    grain = texture(lightness)
    if (gh, gw) != (h, w):
        small_l = color.resize_area(lightness.astype(np.float32), gh, gw)
        grain = color.resize_area(grain, gh, gw)
        small_ab, small_m = color.resize_area_premultiplied(hint_ab, m, gh, gw)
    else:
        small_l, small_ab, small_m = lightness.astype(np.float32), hint_ab, m
    feats = _unit_features(features, gh, gw) if features is not None else None
    solver = splu(_system(small_l.astype(np.float64), small_m.astype(np.float64), sigma, feats))
    rhs = (
        DATA_WEIGHT
        * small_m.reshape(-1, 1)
        * np.concatenate([np.ones((gh * gw, 1)), small_ab.reshape(-1, 2)], axis=1)
    )
    x = solver.solve(rhs.astype(np.float64)).astype(np.float32).reshape(gh, gw, 3)
    average, like = nonlocal_average(small_l, grain, small_ab, small_m, feats)
    # Widened by a grid pixel or two: an edge's own pixels (a lightness between
    # both sides', the step's spread) are like neither side, yet belong to both.
    like = maximum_filter(like, size=5, mode="nearest")
    gated = x[..., 0] * np.clip(like / LIKENESS_FULL, 0.0, 1.0)
    x = np.concatenate([x, gated[..., None], average], axis=-1)
    if (gh, gw) != (h, w):
        full = lightness.astype(np.float32) / 100.0
        x = color.guided_upsample(x, small_l / 100.0, full, radius=2, eps=1e-3)
    # Where the hints barely reach the ratio is noise; its weight there is ~0 anyway.
    field = np.clip(x[..., 1:3] / np.maximum(x[..., 0:1], 1e-6), -128.0, 128.0)
    field = (1.0 - nonlocal_share) * field + nonlocal_share * x[..., 4:6]
    return field.astype(np.float32), np.clip(x[..., 3], 0.0, 1.0).astype(np.float32)


def _unit_features(features: np.ndarray, h: int, w: int) -> np.ndarray:
    """(h_f, w_f, C) features resized to the grid (h, w), each pixel's a unit vector."""
    f = np.asarray(features, np.float32)
    if f.shape[:2] != (h, w):
        f = color.resize_linear(f, h, w)
    return f / np.maximum(np.linalg.norm(f, axis=-1, keepdims=True), 1e-6)


def render_weight(reach: np.ndarray) -> np.ndarray:
    """How far the render trusts the field over the model's colour, in [0, 1]."""
    return np.clip(reach / REACH_FULL, 0.0, 1.0).astype(np.float32)


def input_confidence(reach: np.ndarray) -> np.ndarray:
    """The U-Net's hint-confidence channel, in [0, 1]."""
    return np.clip(reach / INPUT_REACH, 0.0, 1.0).astype(np.float32)


def hint_chroma(
    rgb: np.ndarray,
    alpha: np.ndarray,
    lightness: np.ndarray,
    grid_pixels: int = GRID_PIXELS,
    **solve,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Painted hints at work size (colour (h, w, 3), coverage alpha (h, w), the
    input's L*) -> painted a*b* (0 where unpainted), mask in [0, 1], and the
    hints propagated edge-aware (`propagate`, which takes `solve`: field and reach)."""
    ab = color.rgb_to_lab(np.clip(rgb, 0.0, 1.0))[..., 1:]
    ab[alpha <= 0] = 0.0
    mask = np.clip(alpha, 0.0, 1.0)
    field, reach = propagate(lightness, ab, mask, grid_pixels, **solve)
    return ab, mask, field, reach
