#!/usr/bin/env python3
"""Choose the prompt placer's learned cues on the VALIDATION split's true captions: the
colour likelihood's power (LIKELY_POWER in tinct.color.prompt_regions) and how far a
noun the encoder's classifier finds replaces its role's rule map (NOUN_TRUST); also
check a rule's threshold (regions.TOP_SPAN; 0 turns it off).

Per photo with a caption (FOLDER/captions.txt): one prediction with the caption
(the U-Net gets the empty prompt whenever colour words are placed, so the colour
latent does not depend on the power), then the placed field is recomputed for each
power and the result rendered at scale 1.0 as `tinct eval --caption-check` does.
Power 0 and trust 0 are the placing rules alone. Printed per (power, trust): the mean a*b* error against
all-gray, against no prompt, and how many photos the caption makes worse than no
prompt by more than 3 (the issue's bound: at most one in five). Never run it on the
test split.

    python scripts/tune_prompt_likely.py data/images/val --powers 0,0.5,1,2,3
    python scripts/tune_prompt_likely.py data/images/val --powers 1 --trusts 0,0.5,1
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np

from tinct import color
from tinct.color import prompt_regions, regions
from tinct.evaluate.checks import read_captions
from tinct.evaluate.metrics import ab_error, read_truth
from tinct.pipeline import load_pipeline
from tinct.train.data import list_images


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("--model", default=None, help="model folder (default: the bundled one)")
    ap.add_argument("--powers", default="0,0.5,1,2,3")
    ap.add_argument("--trusts", default=str(prompt_regions.NOUN_TRUST))
    ap.add_argument("--top-spans", default=str(regions.TOP_SPAN), help="regions.TOP_SPAN values")
    ap.add_argument("--steps", type=int, default=4)
    args = ap.parse_args()
    pipe = load_pipeline(args.model, device="cpu") if args.model else load_pipeline(device="cpu")
    captions = read_captions(Path(args.folder))
    grid = [
        (float(p), float(t), float(s))
        for p in args.powers.split(",")
        for t in args.trusts.split(",")
        for s in args.top_spans.split(",")
    ]
    rows = []
    for path in list_images(args.folder):
        if path.stem not in captions:
            continue
        truth = read_truth(path)
        gray = color.gray(truth)
        plain = pipe.render(gray, pipe.predict(gray, num_inference_steps=args.steps), 1.0)
        told = pipe.predict(gray, prompt=captions[path.stem], num_inference_steps=args.steps)
        row = [ab_error(gray, truth), ab_error(plain, truth)]
        where = None
        if told.prompt_field is None:  # no colour words: the power changes nothing
            row += [ab_error(pipe.render(gray, told, 1.0), truth)] * len(grid)
        else:
            reading = pipe.prior.read(told.work_lightness, [None])
            where = reading.noun_maps(pipe.embed_texts)
            for power, trust, span in grid:
                prompt_regions.LIKELY_POWER, prompt_regions.NOUN_TRUST = power, trust
                regions.TOP_SPAN = span
                field, weight = prompt_regions.prompt_field(
                    told.work_lightness, captions[path.stem], reading.likelihood, where
                )
                again = dataclasses.replace(told, prompt_field=field, prompt_weight=weight)
                row.append(ab_error(pipe.render(gray, again, 1.0), truth))
        rows.append(row)
        found = where.found() if where is not None else []
        print(path.stem, " ".join(f"{v:.2f}" for v in row), "nouns found:", found, flush=True)
    arr = np.array(rows)
    gray_err, plain_err = arr[:, 0].mean(), arr[:, 1].mean()
    print(f"{len(rows)} photos; all-gray {gray_err:.3f}, no prompt {plain_err:.3f}")
    print("power  trust  top-span  x gray  x no-prompt  worse-by-3")
    for k, (power, trust, span) in enumerate(grid):
        err = arr[:, 2 + k]
        worse = int((err - arr[:, 1] > 3.0).sum())
        print(
            f"{power:5.2f}  {trust:5.2f}  {span:8.2f}  {err.mean() / gray_err:.3f}  "
            f"{err.mean() / plain_err:.3f}  {worse}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
