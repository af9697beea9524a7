#!/usr/bin/env python3
"""Choose `tinct.color.hints` settings on the validation split (the only split tuned on).

For each photo: gray it, give 16 true-colour patches (as `tinct eval
--hint-check 16` does), predict once, then for each solve setting (sigma, the
non-local share) blend the propagated field into the model's chroma with
confidence = reach / R for several R (REACH_FULL), and report the a*b* error of
each, and of the field alone, against inverse-distance interpolation of the
same patches, all at work size.

    python scripts/tune_hint_reach.py data/images/val
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from tinct import color
from tinct.color import hints
from tinct.evaluate.checks import hint_points, inverse_distance
from tinct.evaluate.metrics import ab_error, read_truth
from tinct.pipeline import load_pipeline
from tinct.train.data import list_images

CANDIDATES = (0.04, 0.16, 0.3, 0.6, float("inf"))  # inf: the model alone
SOLVES = ((4.0, 0.4), (4.0, 0.6), (4.0, 0.7))  # (sigma, non-local share)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("folder")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--model", default=None)
    args = ap.parse_args()
    paths = list_images(args.folder)[: args.limit]
    pipe = load_pipeline(args.model)
    errs: dict[tuple, list[float]] = {}
    idw_errs = []
    for i, path in enumerate(paths):
        truth = read_truth(path)
        gray = color.gray(truth)
        h, w = truth.shape[:2]
        painted, centres, ab = hint_points(truth, 16, np.random.default_rng([7, i]), 3)
        latents = pipe.predict(gray, hints=painted)
        light = latents.work_lightness
        rgb, alpha = color.resize_area_premultiplied(
            painted[..., :3], painted[..., 3], *light.shape
        )
        solved = {
            (sigma, share): hints.hint_chroma(rgb, alpha, light, sigma=sigma, nonlocal_share=share)[
                2:
            ]  # field, reach
            for sigma, share in SOLVES
        }
        latents.hint_field = latents.hint_confidence = None
        model_ab = pipe.chroma_at_work(latents, 1.0)  # model + pasted patches, no field
        lab_truth = color.rgb_to_lab(color.resize_area(truth, *light.shape))[..., 1:]
        idw = inverse_distance((h, w), centres, ab)
        idw = np.where(painted[..., 3:] > 0, color.rgb_to_lab(truth)[..., 1:], idw)
        idw_errs.append(ab_error(color.merge_luma(color.luminance_lstar(gray), idw), truth))
        for solve, (field, reach) in solved.items():
            for r in CANDIDATES:
                c = np.clip(reach / r, 0.0, 1.0)[..., None]
                blend = model_ab * (1 - c) + field * c
                err = float(np.linalg.norm(blend - lab_truth, axis=-1).mean())
                errs.setdefault((solve, r), []).append(err)
            err = float(np.linalg.norm(field - lab_truth, axis=-1).mean())
            errs.setdefault((solve, "field"), []).append(err)
        print(f"{path.stem:40s} idw {idw_errs[-1]:.2f}", file=sys.stderr)
    idw = np.mean(idw_errs)
    for ((sigma, share), r), e in errs.items():
        what = "the field alone" if r == "field" else f"REACH_FULL {r:6.3f}"
        print(
            f"sigma {sigma:4.1f}, non-local share {share:.1f}, {what}: a*b* error {np.mean(e):.2f} "
            f"= {np.mean(e) / idw:.3f}x inverse distance"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
