#!/usr/bin/env python3
"""The Krita plugin's whole-layer pixel passes stay C-speed on a 6000x4000 layer.

The plugin runs in Krita's own Python with the standard library only, so its
masking (`mask_alpha`, half the layer selected) and the live preview's upscaling
(`upscale_nearest` of a 384x256 preview, then `copy_alpha`: `tinct.protocol.preview`,
which both plugins vendor) must never loop in
Python per pixel. Each pass is timed (best of N) on a 6000x4000 RGBA u8 layer
and printed as a ratio to one plain copy of that layer's bytes, measured in the
same run (a per-pixel Python loop would be some 1000x).

This was a timed unit test (tests/test_krita_logic.py, "under 5 s"); timings
belong here, the tests keep the arithmetic.

    python benchmarks/bench_plugin_pixels.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import tempfile
from pathlib import Path

from bench_common import best_of

from tinct.install.krita import stage_krita
from tinct.protocol.preview import copy_alpha, upscale_nearest


def load_pixels():
    """The staged plugin's pixels module (imported as the installer lays it out)."""
    pykrita = Path(tempfile.mkdtemp(prefix="tinct-bench-krita-"))
    stage_krita(pykrita)
    pkg = pykrita / "tinct_krita"
    spec = importlib.util.spec_from_file_location(
        "tinct_krita", pkg / "__init__.py", submodule_search_locations=[str(pkg)]
    )
    mod = importlib.util.module_from_spec(spec)
    sys.modules["tinct_krita"] = mod
    spec.loader.exec_module(mod)  # outside Krita: registers nothing
    return importlib.import_module("tinct_krita.pixels")


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    px = load_pixels()
    w, h = 6000, 4000
    data = bytes(w * h * 4)
    mask = bytearray(w * h)
    mask[: w * h // 2] = b"\xff" * (w * h // 2)
    small = bytes(384 * 256 * 4)
    masked = px.mask_alpha(data, "u8", bytes(mask))
    assert len(masked) == len(data)

    def preview() -> None:
        copy_alpha(upscale_nearest(small, 384, 256, w, h, 4), masked, "u8")

    t_copy = best_of(args.repeats, lambda: bytearray(data))
    t_mask = best_of(args.repeats, lambda: px.mask_alpha(data, "u8", bytes(mask)))
    t_up = best_of(args.repeats, preview)
    print(f"6000x4000 u8, best of {args.repeats}:")
    print(f"  copy of the layer        {t_copy:6.3f} s")
    print(f"  mask_alpha (half)        {t_mask:6.3f} s  {t_mask / t_copy:6.1f}x a copy")
    print(f"  preview upscale + alpha  {t_up:6.3f} s  {t_up / t_copy:6.1f}x a copy")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
