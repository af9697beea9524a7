#!/usr/bin/env python3
"""Cost of hints: the edge-aware propagation alone, and whole colorizes with and without hints.

Prints, from one run on this machine:
- `tinct.color.hints.propagate` at the model's work size (640x400) with 16 hint
  patches: seconds (its sparse solve runs on a grid of at most
  `hints.GRID_PIXELS`, so the cost does not grow with the photo), and its
  non-local estimate at its bound (a full grid, `hints.NONLOCAL_SOURCES`
  painted pixels: a long stroke);
- warm in-process colorize (predict + render at scale 1) of a 0.25 MP and a
  24 MP photo, each without and with 16 hint patches, and the ratios
  with / without hints (the hints are reduced to the work size first, so
  the extra cost at 24 MP should stay close to the one at 0.25 MP).

    python benchmarks/bench_hints.py [--model DIR] [--repeats 3]
"""

from __future__ import annotations

import numpy as np
from bench_common import best_of, model_and_repeats, photo

from tinct import color
from tinct.color import hints
from tinct.pipeline import load_pipeline

SIZES = {"0.25 MP": (400, 640), "24 MP": (3984, 6000)}


def hint_patches(height: int, width: int, count: int = 16, seed: int = 0) -> np.ndarray:
    """RGBA: `count` sky-blue patches of 1/90 of the short side."""
    rng = np.random.default_rng(seed)
    out = np.zeros((height, width, 4), np.float32)
    r = max(1, min(height, width) // 180)
    for y, x in zip(
        rng.integers(r, height - r, count), rng.integers(r, width - r, count), strict=True
    ):
        out[y - r : y + r + 1, x - r : x + r + 1] = (0.35, 0.55, 0.85, 1.0)
    return out


def main() -> int:
    args = model_and_repeats(__doc__)

    # 1. The propagation alone at work size.
    h, w = SIZES["0.25 MP"]
    rgb = photo(h, w)
    lightness = color.luminance_lstar(rgb)
    painted = hint_patches(h, w)
    ab = color.rgb_to_lab(painted[..., :3])[..., 1:]
    mask = painted[..., 3]
    hints.propagate(lightness, ab, mask)  # warm-up (imports, allocator)
    t_prop = best_of(args.repeats, lambda: hints.propagate(lightness, ab, mask))
    print(f"propagate 640x400, 16 patches (grid <= {hints.GRID_PIXELS} px): {t_prop:.3f} s")
    # its non-local estimate at its bound: a full grid, NONLOCAL_SOURCES painted pixels
    gh = gw = int(hints.GRID_PIXELS**0.5)
    grid_l = color.resize_area(lightness, gh, gw)
    grid_t = color.resize_area(hints.texture(lightness), gh, gw)
    grid_m = np.zeros((gh, gw), np.float32)
    grid_m.ravel()[:: max(1, gh * gw // hints.NONLOCAL_SOURCES)] = 1.0
    grid_ab = np.broadcast_to(np.float32([10.0, -30.0]), (gh, gw, 2)).copy()
    t_nl = best_of(args.repeats, lambda: hints.nonlocal_average(grid_l, grid_t, grid_ab, grid_m))
    print(
        f"  its non-local estimate at the bound ({gh}x{gw} grid, "
        f"{int(grid_m.sum())} painted grid pixels): {t_nl:.3f} s"
    )

    # 2. Whole colorizes with and without hints, small and large.
    pipe = load_pipeline(args.model)
    extra = {}
    for label, (h, w) in SIZES.items():
        rgb, painted = photo(h, w), hint_patches(h, w)

        def run(with_hints: bool, rgb=rgb, painted=painted) -> None:
            latents = pipe.predict(rgb, hints=painted if with_hints else None)
            pipe.render(rgb, latents, 1.0, workers=2)

        run(True)
        plain = best_of(args.repeats, lambda run=run: run(False))
        hinted = best_of(args.repeats, lambda run=run: run(True))
        extra[label] = hinted - plain
        print(
            f"colorize {label} ({w}x{h}): {plain:.2f} s, with 16 hints {hinted:.2f} s "
            f"= {hinted / plain:.2f}x (+{hinted - plain:.2f} s)"
        )
    print(
        "extra time for hints, 24 MP / 0.25 MP: "
        f"{extra['24 MP'] / max(extra['0.25 MP'], 1e-3):.2f}x (the pixel count grows 94x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
