"""Training the chroma prior (tinct.pipeline.prior): photos at the prior's input
size as L*a*b*, random crops at random scales, and the loss the evaluation
reports, the mean Euclidean a*b* distance (so the prior learns a median, not
a mean: it commits where the corpus agrees and stays gray where it does not)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from tinct import color
from tinct.train.data import Photo


def lab_at_side(photos: list[Photo], side: int) -> list[torch.Tensor]:
    """Each photo area-resized to long side `side`, as a (3, H, W) L*a*b* tensor."""
    out = []
    for photo in photos:
        h, w = photo.rgb.shape[:2]
        f = min(1.0, side / max(h, w))
        small = color.resize_area(photo.rgb, max(1, round(h * f)), max(1, round(w * f)))
        lab = color.rgb_to_lab(np.ascontiguousarray(small, dtype=np.float32))
        out.append(torch.from_numpy(np.ascontiguousarray(lab.transpose(2, 0, 1), np.float32)))
    return out


def random_crop(
    lab: torch.Tensor, size: int, rng: np.random.Generator, min_zoom: float = 0.6
) -> torch.Tensor:
    """A size x size crop of `lab` shrunk by a random zoom in [min_zoom, 1] (at
    least `size` on each side) and mirrored half the time."""
    _, h, w = lab.shape
    zoom = rng.uniform(min_zoom, 1.0)
    sh, sw = max(size, round(h * zoom)), max(size, round(w * zoom))
    x = F.interpolate(lab[None], size=(sh, sw), mode="bilinear", align_corners=False)[0]
    i, j = rng.integers(0, sh - size + 1), rng.integers(0, sw - size + 1)
    x = x[:, i : i + size, j : j + size]
    return x.flip(-1) if rng.random() < 0.5 else x


def prior_loss(prior, lab: torch.Tensor) -> torch.Tensor:
    """Mean Euclidean a*b* distance of the prior's prediction from L* to the truth."""
    lab = lab.to(next(prior.parameters()).device)
    pred = prior(lab[:, :1]).float()
    return ((pred - lab[:, 1:]) ** 2).sum(1).add(1e-3).sqrt().mean()


def ab_error_ratio(prior, labs: list[torch.Tensor]) -> float:
    """Summed a*b* error of the prior's field over that of all-gray, whole images."""
    err = gray = 0.0
    with torch.no_grad():
        for lab in labs:
            ab = prior.field(lab[0].numpy())
            truth = lab[1:].numpy().transpose(1, 2, 0)
            err += float(np.linalg.norm(ab - truth, axis=-1).mean())
            gray += float(np.linalg.norm(truth, axis=-1).mean())
    return err / max(gray, 1e-9)
