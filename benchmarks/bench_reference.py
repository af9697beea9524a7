#!/usr/bin/env python3
"""Cost of colouring from a reference photo (`tinct colorize --reference`).

Prints, from one run on this machine:
- the work a reference adds, measured exactly: `tinct.color.reference.reference_hints`
  (one reduction of the reference to `REFERENCE_PIXELS`, luminance remapping,
  features, k-d tree matching of at most `TARGET_SAMPLES` pixels) plus one more
  `tinct.color.hints.propagate`, for a 1 MP and a 24 MP photo and reference, and
  the ratio 24 MP / 1 MP (only the one reduction grows with the pixel count);
- warm in-process colorize (predict + render at scale 1) of the same photos
  without and with the reference, interleaved, best of each: on a busy
  machine the difference is within the run-to-run noise.

    python benchmarks/bench_reference.py [--model DIR] [--repeats 3]
"""

from __future__ import annotations

import time

import numpy as np
from bench_common import best_of, model_and_repeats, photo

from tinct import color
from tinct.color import hints, reference
from tinct.pipeline import load_pipeline

SIZES = {"1 MP": (816, 1224), "24 MP": (3984, 6000)}


def colour_photo(height: int, width: int) -> np.ndarray:
    """The sample tinted by lightness (dark: warm, bright: sky blue), mirrored so
    it is not the target itself."""
    rgb = photo(height, width)[:, ::-1]
    lightness = color.luminance_lstar(rgb)
    t = (lightness / 100.0)[..., None]
    ab = (1.0 - t) * np.array([25.0, 35.0]) + t * np.array([-5.0, -30.0])
    return np.ascontiguousarray(color.merge_luma(lightness, ab.astype(np.float32)))


def main() -> int:
    args = model_and_repeats(__doc__)
    pipe = load_pipeline(args.model)

    # 1. The work a reference adds, exactly: matching against the work size of the
    #    photo, and one more propagation of the matches.
    added = {}
    for label, (h, w) in SIZES.items():
        wh, ww = pipe.work_size_for(h, w)
        lightness = color.luminance_lstar(color.resize_area(photo(h, w), wh, ww))
        ref = colour_photo(h, w)

        def work(ref=ref, lightness=lightness) -> None:
            ab, mask = reference.reference_hints(ref, lightness)
            hints.propagate(lightness, ab, mask)

        work()  # warm-up
        added[label] = best_of(args.repeats, work)
        print(f"match + propagate, {label} reference -> {ww}x{wh} work size: {added[label]:.3f} s")
    print(
        "added work, 24 MP / 1 MP reference: "
        f"{added['24 MP'] / added['1 MP']:.2f}x (the pixel count grows 24x)"
    )

    # 2. Whole colorizes with and without a reference, interleaved (best of each).
    for label, (h, w) in SIZES.items():
        rgb, ref = photo(h, w), colour_photo(h, w)

        def run(with_ref: bool, rgb=rgb, ref=ref) -> float:
            t0 = time.perf_counter()
            latents = pipe.predict(rgb, reference=ref if with_ref else None)
            pipe.render(rgb, latents, 1.0, workers=2)
            return time.perf_counter() - t0

        run(True)
        pairs = [(run(False), run(True)) for _ in range(args.repeats)]
        plain, lent = min(p for p, _ in pairs), min(r for _, r in pairs)
        print(
            f"colorize {label} ({w}x{h}): {plain:.2f} s, with a reference {lent:.2f} s "
            f"= {lent / plain:.2f}x (+{lent - plain:.2f} s)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
