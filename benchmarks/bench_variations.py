#!/usr/bin/env python3
"""Variations: how far apart N colourings of one photo are, and what they cost in error.

For each photo (data/images/val by default) the pipeline predicts once with the
generators of seeds 0, 1, ..., N-1 (seed 0: the model's own colouring; others: draws
from the encoder prior's distribution, tinct.pipeline.encoder_prior.EncoderPrior.sample)
and reads each colouring's a*b* at work size, colourfulness 1. Prints per photo:
- the mean a*b* distance over all pairs of variations, and the smallest pair's
  (the target is a mean >= 5: distinct colourings, not noise);
- each variation's mean a*b* error against the original over all-gray's.
Run once per restraint to compare (--confidence-power; the pipeline's is
VARIATION_CONFIDENCE_POWER).

    python benchmarks/bench_variations.py [--model runs/v08-cand] [--n 4]
        [--photos a.png b.png ...] [--confidence-power 0.25]
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = (
    "skimage_coffee.png",
    "tuxtype_kcas0.png",
    "skimage_chelsea.png",
    "scribus_sunset.png",
    "palapeli_citrus-fruits.png",
    "cimg_parrot.png",
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(ROOT / "runs" / "v08-cand"))
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--photos", nargs="*", default=list(PHOTOS))
    ap.add_argument("--confidence-power", type=float, default=None)
    ap.add_argument("--steps", type=int, default=4)
    args = ap.parse_args()

    import torch

    from tinct import color
    from tinct.imageio import read_image
    from tinct.pipeline import load_pipeline, pipeline_tinct

    torch.set_num_threads(1)
    if args.confidence_power is not None:
        pipeline_tinct.VARIATION_CONFIDENCE_POWER = args.confidence_power
    pipe = load_pipeline(args.model, device="cpu")
    if not pipe.draws_variations:
        raise SystemExit(f"{args.model}: its prior draws no variations (not an encoder prior)")
    power = pipeline_tinct.VARIATION_CONFIDENCE_POWER
    print(f"model {args.model}, {args.n} variations (seeds 0..{args.n - 1}), power {power}")
    means, errors = [], []
    for name in args.photos:
        path = Path(name) if Path(name).exists() else ROOT / "data" / "images" / "val" / name
        original = color.to_float(read_image(path))[..., :3]
        t0 = time.perf_counter()
        gens = [pipeline_tinct.seed_generator(s) for s in range(args.n)]
        variations = pipe.predict_variations(
            original, num_inference_steps=args.steps, generators=gens
        )
        abs_ = [pipe.chroma_at_work(v, 1.0) for v in variations]
        seconds = time.perf_counter() - t0
        truth = color.rgb_to_lab(color.resize_area(original, *abs_[0].shape[:2]))[..., 1:]
        gray = float(np.linalg.norm(truth, axis=-1).mean())
        pairs = [
            float(np.linalg.norm(a - b, axis=-1).mean()) for a, b in itertools.combinations(abs_, 2)
        ]
        err = [float(np.linalg.norm(a - truth, axis=-1).mean()) / gray for a in abs_]
        means.append(np.mean(pairs))
        errors.append(err)
        print(
            f"{path.name:32s} pairs mean {np.mean(pairs):5.1f} min {min(pairs):5.1f}  "
            f"error/gray {' '.join(f'{e:.3f}' for e in err)}  ({seconds:.1f} s)"
        )
    errors = np.array(errors)
    print(
        f"over {len(means)} photos: mean pair distance {np.mean(means):.1f} "
        f"(smallest photo {min(means):.1f}, {sum(m >= 5 for m in means)} of {len(means)} >= 5); "
        f"error/gray variation 1 {errors[:, 0].mean():.3f}, others {errors[:, 1:].mean():.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
