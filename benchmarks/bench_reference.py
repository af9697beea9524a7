#!/usr/bin/env python3
"""Cost of colouring from a reference photo (`tinct colorize --reference`).

Prints, from one run on this machine:
- `tinct.reference.reference_hints` alone (luminance remapping, features,
  k-d tree matching) against the model's work size, with a 1 MP and a 24 MP
  reference: seconds (the reference is reduced to `REFERENCE_PIXELS` first and
  at most `TARGET_SAMPLES` pixels are matched, so only the reduction grows);
- warm in-process colorize (predict + render at scale 1) of a 1 MP and a
  24 MP photo, each without and with a reference of the same size, and the
  ratios with / without (the reference costs one reduction, one match and
  one extra propagation, so its extra time should grow far slower than the
  24x pixel count).

    python benchmarks/bench_reference.py [--model DIR] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from PIL import Image

from tinct import color, reference
from tinct.pipeline import load_pipeline

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"1 MP": (816, 1224), "24 MP": (3984, 6000)}


def photo(height: int, width: int) -> np.ndarray:
    gray = Image.open(ROOT / "docs" / "sample-bw.png").convert("RGB")
    return color.to_float(np.asarray(gray.resize((width, height), Image.BILINEAR)))


def colour_photo(height: int, width: int) -> np.ndarray:
    """The sample tinted by lightness (dark: warm, bright: sky blue), mirrored so
    it is not the target itself."""
    rgb = photo(height, width)[:, ::-1]
    lightness = color.luminance_lstar(rgb)
    t = (lightness / 100.0)[..., None]
    ab = (1.0 - t) * np.array([25.0, 35.0]) + t * np.array([-5.0, -30.0])
    return np.ascontiguousarray(color.merge_luma(lightness, ab.astype(np.float32)))


def best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", default=None)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    pipe = load_pipeline(args.model)

    # 1. The matching alone, against the work size of a 1 MP photo.
    wh, ww = pipe.work_size_for(*SIZES["1 MP"])
    lightness = color.luminance_lstar(color.resize_area(photo(*SIZES["1 MP"]), wh, ww))
    for label, (h, w) in SIZES.items():
        ref = colour_photo(h, w)
        reference.reference_hints(ref, lightness)  # warm-up
        t = best_of(args.repeats, lambda ref=ref: reference.reference_hints(ref, lightness))
        print(f"reference_hints, {label} reference -> {ww}x{wh} work size: {t:.3f} s")

    # 2. Whole colorizes with and without a reference, small and large.
    extra = {}
    for label, (h, w) in SIZES.items():
        rgb, ref = photo(h, w), colour_photo(h, w)

        def run(with_ref: bool, rgb=rgb, ref=ref) -> None:
            latents = pipe.predict(rgb, reference=ref if with_ref else None)
            pipe.render(rgb, latents, 1.0, workers=2)

        run(True)
        plain = best_of(args.repeats, lambda run=run: run(False))
        lent = best_of(args.repeats, lambda run=run: run(True))
        extra[label] = lent - plain
        print(
            f"colorize {label} ({w}x{h}): {plain:.2f} s, with a reference {lent:.2f} s "
            f"= {lent / plain:.2f}x (+{lent - plain:.2f} s)"
        )
    print(
        "extra time for a reference, 24 MP / 1 MP: "
        f"{extra['24 MP'] / max(extra['1 MP'], 1e-3):.2f}x (the pixel count grows 24x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
