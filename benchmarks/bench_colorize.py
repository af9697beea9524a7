#!/usr/bin/env python3
"""Colorize timing: 2560x1600 vs 640x400, and the cold CLI wall time.

Prints, from one run on this machine:
- cold `tinct colorize` of a 2560x1600 black-and-white photo (process start,
  model load, colorize, write) and its |dL*| against the input;
- warm in-process colorize at 640x400 and at 2560x1600, and their ratio
  (target <= 2.5: the model runs at ~0.25 MP, the rest is per-pixel work).

    python benchmarks/bench_colorize.py [--model DIR] [--repeats 3]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_common import model_and_repeats
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def make_photo(width: int, height: int) -> Image.Image:
    """The sample black-and-white photo scaled up to the requested size."""
    return (
        Image.open(ROOT / "docs" / "sample-bw.png")
        .convert("L")
        .resize((width, height), Image.LANCZOS)
    )


def main() -> int:
    args = model_and_repeats(__doc__)
    tmp = Path(tempfile.mkdtemp(prefix="tinct-bench-"))
    big, small = tmp / "big.png", tmp / "small.png"
    make_photo(2560, 1600).save(big)
    make_photo(640, 400).save(small)

    # 1. Cold: a fresh process, model load included.
    cmd = [
        sys.executable,
        "-m",
        "tinct",
        "colorize",
        str(big),
        "-o",
        str(tmp / "out.png"),
        "--quiet",
    ]
    if args.model:
        cmd += ["--model", args.model]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    cold = time.perf_counter() - t0

    from tinct import color
    from tinct.imageio import read_image
    from tinct.pipeline import load_pipeline

    src = color.to_float(np.repeat(read_image(big), 3, axis=2))
    res = color.to_float(read_image(tmp / "out.png"))
    dl = np.abs(color.luminance_lstar(res) - color.luminance_lstar(src))

    # 2. Warm, in-process: the same work at two sizes.
    pipe = load_pipeline(args.model)
    timings = {}
    for name, path in (("640x400", small), ("2560x1600", big)):
        image = color.to_float(np.repeat(read_image(path), 3, axis=2))
        pipe(image, num_inference_steps=4)  # warm-up
        runs = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            pipe(image, num_inference_steps=4)
            runs.append(time.perf_counter() - t)
        timings[name] = min(runs)

    print(f"cold tinct colorize 2560x1600 (load + run + write): {cold:.2f} s   (target <= 10 s)")
    print(
        f"  |dL*| vs input: mean {dl.mean():.3f} (<= 0.5), p99 {np.percentile(dl, 99):.3f} (<= 2.0)"
    )
    print(f"warm colorize 640x400:   {timings['640x400']:.3f} s")
    print(f"warm colorize 2560x1600: {timings['2560x1600']:.3f} s")
    print(
        f"ratio 2560x1600 / 640x400: {timings['2560x1600'] / timings['640x400']:.2f}   (target <= 2.5)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
