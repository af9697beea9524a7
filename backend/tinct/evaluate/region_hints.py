"""`tinct eval --region-hint-check`: do hints on one region stay in it?

Per photo: the true a*b* is split into 4 clusters (k-means); the largest with
mean chroma >= MIN_CHROMA gets PATCHES true-colour PATCH x PATCH patches at
random places wholly inside it; the photo is colorized at scale 1.0 with and
without them. Reported:
- in-region: the a*b* error inside the cluster with hints over without (a hint
  must help where it was painted; target <= 0.8);
- flood: of the pixels whose true colour differs from the hints' mean colour by
  more than FAR, the share pulled more than PULL units toward that colour
  (distance to it shrinks by more than PULL; target <= 15 %).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage

from tinct import color
from tinct.evaluate.metrics import read_truth

CLUSTERS = 4
MIN_CHROMA = 10.0
PATCHES = 6
PATCH = 7
FAR = 20.0
PULL = 10.0


def kmeans_ab(ab: np.ndarray, k: int, rng: np.random.Generator, iters: int = 20) -> np.ndarray:
    """(N, 2) a*b* -> (N,) labels of k clusters (Lloyd's algorithm, k-means++-like seeds)."""
    sample = ab[rng.choice(len(ab), size=min(len(ab), 20000), replace=False)]
    centres = [sample[rng.integers(len(sample))]]
    for _ in range(k - 1):
        d2 = np.min([((sample - c) ** 2).sum(1) for c in centres], axis=0)
        centres.append(sample[rng.choice(len(sample), p=d2 / max(d2.sum(), 1e-9))])
    c = np.stack(centres)
    for _ in range(iters):
        labels = ((sample[:, None] - c[None]) ** 2).sum(-1).argmin(1)
        c = np.stack(
            [sample[labels == j].mean(0) if (labels == j).any() else c[j] for j in range(k)]
        )
    return ((ab[:, None] - c[None]) ** 2).sum(-1).argmin(1)


def region_hints(truth: np.ndarray, rng: np.random.Generator):
    """(RGBA hints, region mask, hints' mean a*b*) or None when no cluster is
    colourful and large enough to hold the patches."""
    h, w = truth.shape[:2]
    lab = color.rgb_to_lab(truth)
    labels = kmeans_ab(lab[..., 1:].reshape(-1, 2), CLUSTERS, rng).reshape(h, w)
    sizes = np.bincount(labels.ravel(), minlength=CLUSTERS)
    for j in np.argsort(-sizes):
        region = labels == j
        if np.hypot(*lab[region][:, 1:].mean(0)) < MIN_CHROMA:
            continue
        inside = ndimage.binary_erosion(region, np.ones((PATCH, PATCH), bool))
        ys, xs = np.nonzero(inside)
        if len(ys) < PATCHES:
            continue
        hints = np.zeros((h, w, 4), np.float32)
        r = PATCH // 2
        for k in rng.choice(len(ys), PATCHES, replace=False):
            y, x = ys[k], xs[k]
            hints[y - r : y + r + 1, x - r : x + r + 1, :3] = truth[
                y - r : y + r + 1, x - r : x + r + 1
            ]
            hints[y - r : y + r + 1, x - r : x + r + 1, 3] = 1.0
        painted = hints[..., 3] > 0
        return hints, region, lab[painted][:, 1:].mean(0)
    return None


def region_hint_check(pipe, paths: list[Path], steps: int, seed: int, bar=None) -> dict:
    """Per-photo in-region error ratio and flood share; their means over the photos."""
    rows, skipped = [], []
    for i, path in enumerate(paths):
        truth = read_truth(path)
        found = region_hints(truth, np.random.default_rng([seed, i]))
        if found is None:
            skipped.append(path.stem)
            if bar is not None:
                bar.update(1)
            continue
        hints, region, hint_ab = found
        gray = color.gray(truth)
        plain = pipe.render(gray, pipe.predict(gray, num_inference_steps=steps), 1.0)
        hinted = pipe.render(gray, pipe.predict(gray, hints=hints, num_inference_steps=steps), 1.0)
        true_ab = color.rgb_to_lab(truth)[..., 1:]
        ab0, ab1 = (
            color.rgb_to_lab(np.ascontiguousarray(x[..., :3], np.float32))[..., 1:]
            for x in (plain, hinted)
        )
        err0 = np.linalg.norm(ab0 - true_ab, axis=-1)[region].mean()
        err1 = np.linalg.norm(ab1 - true_ab, axis=-1)[region].mean()
        far = np.linalg.norm(true_ab - hint_ab, axis=-1) > FAR
        pulled = np.linalg.norm(ab0 - hint_ab, axis=-1) - np.linalg.norm(ab1 - hint_ab, axis=-1)
        flood = float((pulled[far] > PULL).mean()) if far.any() else 0.0
        rows.append(
            {
                "name": path.stem,
                "region_share": float(region.mean()),
                "in_region_ratio": float(err1 / max(err0, 1e-9)),
                "flood_share": flood,
            }
        )
        if bar is not None:
            bar.update(1)
    n = max(len(rows), 1)
    return {
        "patches": PATCHES,
        "in_region_ratio": sum(r["in_region_ratio"] for r in rows) / n,
        "flood_share": sum(r["flood_share"] for r in rows) / n,
        "images": rows,
        "skipped": skipped,
    }
