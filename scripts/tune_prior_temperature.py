#!/usr/bin/env python3
"""Choose the encoder prior's annealed-mean temperature on the VALIDATION split.

For each temperature: the prior's field alone (no U-Net) on every photo of the
folder at the prior's input size, against the truth: mean a*b* error over
all-gray's, the worst photo's excess over gray, and the field's chroma over the
truth's (how colourful, 1 = as the originals). Never run it on the test split.

    python scripts/tune_prior_temperature.py runs/eyes/model data/images/val
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from tinct.pipeline import load_pipeline
from tinct.train.data import list_images, load_photos
from tinct.train.prior import lab_at_side


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("folder")
    ap.add_argument("--temperatures", default="0.2,0.3,0.38,0.5,0.7,1.0")
    args = ap.parse_args()
    prior = load_pipeline(args.model, device="cpu").prior
    if prior is None or not hasattr(prior, "annealed_mean"):
        print("the model has no encoder prior", file=sys.stderr)
        return 2
    photos = load_photos(args.folder)
    names = [p.stem for p in list_images(args.folder)]
    labs = lab_at_side(photos, int(prior.config.input_side))
    saved = prior.config.temperature
    print("T      err/gray  worst(+)  chroma/true")
    for t in (float(x) for x in args.temperatures.split(",")):
        prior.register_to_config(temperature=t)
        errs, grays, chroma, truth_chroma = [], [], [], []
        with torch.no_grad():
            for lab in labs:
                ab = prior.field(lab[0].numpy())
                true = lab[1:].numpy().transpose(1, 2, 0)
                errs.append(float(np.linalg.norm(ab - true, axis=-1).mean()))
                grays.append(float(np.linalg.norm(true, axis=-1).mean()))
                chroma.append(float(np.linalg.norm(ab, axis=-1).mean()))
                truth_chroma.append(grays[-1])
        excess = np.array(errs) - np.array(grays)
        k = int(excess.argmax())
        print(
            f"{t:<6.2f} {sum(errs) / sum(grays):.3f}     {excess[k]:+6.2f} ({names[k][:20]})"
            f"  {sum(chroma) / sum(truth_chroma):.2f}"
        )
    prior.register_to_config(temperature=saved)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
