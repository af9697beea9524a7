#!/usr/bin/env python3
"""How much of the automatic colour should come from the U-Net and how much from
the encoder prior, measured on the VALIDATION split (never on the test split).

The default result's a*b* is s x (the U-Net's decoded colour + the prior's field)
(tinct.color.precedence, step 2). This renders each photo's one prediction with
weights (u, p): u x the U-Net's colour + p x the prior's field, rendered at the
full size as `tinct colorize` does, and prints per setting what `tinct eval`
reports: mean a*b* error over all-gray's, colourfulness over the originals', and
the photos worse than gray by more than 6. u and p multiply what the folder itself
sets (its `unet_share` and its prior's `strength`): 1:1 is the folder as it is. The
tables in docs/design.md ("The mix") give the resulting absolute weights.

    python scripts/tune_prior_mix.py backend/tinct/models/default data/images/val \
        --mix 1:1,0.5:1,0.25:1.1
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np

from tinct import color
from tinct.evaluate.metrics import WORSE_THAN_GRAY, image_metrics, read_truth
from tinct.pipeline import load_pipeline
from tinct.train.data import list_images


def one_photo(pipe, truth, mixes, steps):
    """[(error, error of gray, colourfulness, the original's)] per (u, p) in MIXES."""
    gray = color.gray(truth)
    plain = pipe.predict(gray, num_inference_steps=steps)
    out = []
    for u, p in mixes:
        # s x (unet + k x prior) with s = u and k = p / u
        u_eff = max(u, 1e-3)
        latents = dataclasses.replace(plain, prior_field=plain.prior_field * (p / u_eff))
        m = image_metrics("", pipe.render(gray, latents, u_eff), truth, u_eff, 0.0, gray)
        out.append((m.ab_error, m.ab_error_gray, m.colorfulness, m.colorfulness_truth))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("folder")
    ap.add_argument("--mix", default="1:1,0.5:1,0:1,0.5:1.2,0:1.2", help="u:p,u:p,...")
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument(
        "--confidence-power", type=float, default=None, help="the prior's, for this run"
    )
    args = ap.parse_args()
    mixes = [tuple(float(x) for x in m.split(":")) for m in args.mix.split(",")]
    pipe = load_pipeline(args.model, device="cpu")
    if args.confidence_power is not None:
        pipe.prior.register_to_config(confidence_power=args.confidence_power)
    rows, names = [], []
    for path in list_images(args.folder):
        rows.append(one_photo(pipe, read_truth(path), mixes, args.steps))
        names.append(path.stem)
        print(path.stem, " ".join(f"{r[0] - r[1]:+.1f}" for r in rows[-1]), flush=True)
    arr = np.array(rows)  # photos x mixes x 4
    print(f"{len(rows)} photos\nu     p     error/gray  colourful  worse-by-6  worst")
    for k, (u, p) in enumerate(mixes):
        err, gray, cf, cft = (arr[:, k, i] for i in range(4))
        excess = err - gray
        print(
            f"{u:<5} {p:<5} {err.mean() / gray.mean():.3f}       {cf.mean() / cft.mean():.3f}"
            f"      {int((excess > WORSE_THAN_GRAY).sum()):<10}  {excess.max():+.1f}"
            f" {names[int(excess.argmax())]}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
