#!/usr/bin/env python3
"""Choose the hints' likeness gate (FEATURE_SIGMA, LIKENESS_FULL, SCREENING) on the
VALIDATION split, fast: the region-hint check of `tinct eval` with the prior's
field standing in for the U-Net's colour.

Per photo, as tinct.evaluate.region_hints does (same patches, same seeds): six
true-colour patches inside the largest colourful a*b* cluster; the field
without hints is the prior's, with hints the pipeline's blend of it with the
propagated hints (render_weight) and the painted pixels pasted. Printed per
setting: the in-region error ratio (target <= 0.8) and the flood share (target
<= 15 %), and the 16-point check's error against inverse distance is left to
`tinct eval --hint-check 16` on the setting chosen here. With `--full` the
pipeline itself is measured, as `tinct eval --region-hint-check` does (U-Net and
prior under the hints, rendered at full size); the U-Net does not see the hints,
so one prediction per photo serves every setting. Never run it on the test split.

    python scripts/tune_hint_features.py runs/v08-cand data/images/val
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np

from tinct import color
from tinct.color import hints as H
from tinct.evaluate.checks import hint_points, inverse_distance
from tinct.evaluate.metrics import ab_error, read_truth
from tinct.evaluate.region_hints import FAR, PULL, region_hints
from tinct.pipeline import load_pipeline
from tinct.train.data import list_images


def use(setting) -> None:
    """Set hints' FEATURE_SIGMA, LIKENESS_FULL and SCREENING to SETTING's."""
    H.FEATURE_SIGMA, H.LIKENESS_FULL, H.SCREENING = setting


def one_photo(pipe, truth, rng, settings):
    found = region_hints(truth, rng)
    if found is None:
        return None
    hints, region, hint_ab = found
    h, w = pipe.work_size_for(*truth.shape[:2])
    small = color.resize_area(truth, h, w)
    lightness = color.rgb_to_lab(small)[..., 0]
    true_ab = color.rgb_to_lab(small)[..., 1:]
    reg = color.resize_area(region.astype(np.float32), h, w) > 0.5
    field, feats = pipe.prior.field_and_features(lightness)
    rgb, alpha = color.resize_area_premultiplied(hints[..., :3], hints[..., 3], h, w)
    far = np.linalg.norm(true_ab - hint_ab, axis=-1) > FAR
    err0 = np.linalg.norm(field - true_ab, axis=-1)[reg].mean()
    out = []
    for setting in settings:
        use(setting)
        ab, mask, hfield, reach = H.hint_chroma(rgb, alpha, lightness, features=feats)
        wgt = H.render_weight(reach)[..., None]
        hinted = field * (1 - wgt) + hfield * wgt
        hinted = np.where(mask[..., None] > 0, ab, hinted)
        err1 = np.linalg.norm(hinted - true_ab, axis=-1)[reg].mean()
        pulled = np.linalg.norm(field - hint_ab, axis=-1) - np.linalg.norm(
            hinted - hint_ab, axis=-1
        )
        flood = float((pulled[far] > PULL).mean()) if far.any() else 0.0
        out.append((err1 / max(err0, 1e-9), flood))
    return out


def with_hints(pipe, plain, hints, feats):
    """PLAIN's prediction with HINTS (RGBA, image size) spread at today's settings; the
    U-Net does not see hints, so its colour latent is the same."""
    hinted = pipe.hint_inputs(hints, plain.work_lightness, features=feats)
    return dataclasses.replace(
        plain,
        hint_ab=hinted.ab,
        hint_alpha=hinted.mask,
        hint_field=hinted.field,
        hint_confidence=hinted.confidence,
    )


def one_photo_full(pipe, truth, rng, settings):
    """As `one_photo`, through the whole pipeline (tinct.evaluate.region_hints)."""
    found = region_hints(truth, rng)
    if found is None:
        return None
    hints, region, hint_ab = found
    gray = color.gray(truth)
    plain = pipe.predict(gray, num_inference_steps=4)
    true_ab = color.rgb_to_lab(truth)[..., 1:]

    def ab_of(latents):
        rgb = pipe.render(gray, latents, 1.0)
        return color.rgb_to_lab(np.ascontiguousarray(rgb[..., :3], np.float32))[..., 1:]

    ab0 = ab_of(plain)
    err0 = np.linalg.norm(ab0 - true_ab, axis=-1)[region].mean()
    far = np.linalg.norm(true_ab - hint_ab, axis=-1) > FAR
    _, feats = pipe.prior.field_and_features(plain.work_lightness)
    out = []
    for setting in settings:
        use(setting)
        latents = with_hints(pipe, plain, hints, feats)
        ab1 = ab_of(latents)
        err1 = np.linalg.norm(ab1 - true_ab, axis=-1)[region].mean()
        pulled = np.linalg.norm(ab0 - hint_ab, axis=-1) - np.linalg.norm(ab1 - hint_ab, axis=-1)
        flood = float((pulled[far] > PULL).mean()) if far.any() else 0.0
        out.append((err1 / max(err0, 1e-9), flood))
    return out


def one_photo_points(pipe, truth, rng, settings, n):
    """`tinct eval --hint-check N` for one photo, per setting: (a*b* error over inverse
    distance's, that error, inverse distance's) through the whole pipeline
    (tinct.evaluate.checks.hint_check)."""
    gray = color.gray(truth)
    h, w = truth.shape[:2]
    hints, centres, ab = hint_points(truth, n, rng, max(1, min(h, w) // 128))
    plain = pipe.predict(gray, num_inference_steps=4)
    field = inverse_distance((h, w), centres, ab)
    field = np.where(hints[..., 3:] > 0, color.rgb_to_lab(truth)[..., 1:], field)
    err_idw = ab_error(color.merge_luma(color.luminance_lstar(gray), field), truth)
    _, feats = pipe.prior.field_and_features(plain.work_lightness)
    out = []
    for setting in settings:
        use(setting)
        latents = with_hints(pipe, plain, hints, feats)
        err = ab_error(pipe.render(gray, latents, 1.0), truth)
        out.append((err, err_idw))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("folder")
    ap.add_argument("--sigmas", default="0.35,0.25,0.2,0.15,0.1")
    ap.add_argument("--likeness", default="0.3")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--screening", default=str(H.SCREENING), help="hints.SCREENING values")
    ap.add_argument("--full", action="store_true", help="measure the whole pipeline")
    ap.add_argument(
        "--points", type=int, default=0, help="instead: the N-point hint check (whole pipeline)"
    )
    ap.add_argument("--per-photo", action="store_true", help="print each photo's flood")
    args = ap.parse_args()
    pipe = load_pipeline(args.model, device="cpu")
    settings = [
        (float(s), float(lk), float(sc))
        for s in args.sigmas.split(",")
        for lk in args.likeness.split(",")
        for sc in args.screening.split(",")
    ]
    rows, names = [], []
    for i, path in enumerate(list_images(args.folder)):
        rng = np.random.default_rng([args.seed, i])
        if args.points:
            r = one_photo_points(pipe, read_truth(path), rng, settings, args.points)
        else:
            r = (one_photo_full if args.full else one_photo)(pipe, read_truth(path), rng, settings)
        if r is not None:
            rows.append(r)
            names.append(path.stem)
    arr = np.array(rows)  # photos x settings x 2
    if args.points:  # as tinct eval reports it: the ratio of the mean errors
        print(f"{len(rows)} photos\nsigma  likeness  screening  {args.points} points / IDW")
        for k, (s, lk, sc) in enumerate(settings):
            print(f"{s:<6} {lk:<9} {sc:<10g} {arr[:, k, 0].mean() / arr[:, k, 1].mean():.3f}")
        return 0
    if args.per_photo:  # flood per photo and setting
        for name, r in zip(names, rows, strict=True):
            print(f"{name:<40} " + " ".join(f"{flood:.2f}" for _, flood in r))
    print(f"{len(rows)} photos\nsigma  likeness  screening  in-region  flood")
    for k, (s, lk, sc) in enumerate(settings):
        print(f"{s:<6} {lk:<9} {sc:<10g} {arr[:, k, 0].mean():.3f}      {arr[:, k, 1].mean():.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
