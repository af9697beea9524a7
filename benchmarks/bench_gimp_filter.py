"""What GIMP's slider preview filter does, in real GIMP 3 (under Xvfb): its pixels against
the model ``bench_preview_accuracy.py`` measures with, and how fast a change shows.

    python benchmarks/bench_gimp_filter.py

Runs benchmarks/gimp/filter_checks.py in GIMP twice (the trixie chroot of
tests/test_gimp_host.py on Debian 12, as the other host benchmarks):
- pixels: 4096 sRGB colours, ``gegl:saturation`` (CIE-Lab) at 0, 0.5, 1.5 and 2, the
  8-bit composite against ``bench_preview_accuracy.scaled_d50`` (babl's D50 Lab) and
  ``scaled_d65`` (the backend's Lab); then in LCh Color mode over a gray ramp, the
  filter against its own 8-bit output written as pixels (whether the canvas sees the
  filter's output clipped to the layer's 8 bits, as the accuracy model assumes);
- repaint: a 2450x1630 LCh Color layer with a display: per filter scale change, the
  time to ``filter.update()`` + ``Gimp.displays_flush()`` returning (what
  ``bench_hosts.py`` counts as on the canvas) and to the first changed screen pixel
  of the canvas (GIMP draws after the flush returns); the same for a whole-layer write.
Prints; asserts nothing.
"""

from __future__ import annotations

import os
import shutil
import sys

import numpy as np
from bench_common import ROOT
from bench_preview_accuracy import lab8, scaled_d50, scaled_d65

sys.path.insert(0, str(ROOT / "tests"))  # the real-host tests' helpers


def run(check: str) -> dict:
    from test_gimp_gui import gimp_folder, run_gimp_walk, walk_env

    root, work, inner = gimp_folder("tinct-bench-filter-")
    try:
        (work / "tmp").mkdir()
        (work / "walk.py").write_text(
            (ROOT / "benchmarks" / "gimp" / "filter_checks.py").read_text()
        )
        env = walk_env(inner, ["/bin/false"], TINCT_FILTER_CHECK=check,
                       TINCT_FILTER_OUT=str(inner / "walk.json"))  # fmt: skip
        found, log = run_gimp_walk(root, inner, work, env, 300)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if "error" in found:
        raise SystemExit(f"{check}: {found['error']}\n{log[-2000:]}")
    return found


def rgb(values: list) -> np.ndarray:
    return np.asarray(values, np.uint8).reshape(64, 64, 4)[..., :3]


def main() -> int:
    from test_gimp_host import find_gimp

    if find_gimp() is None:
        print("GIMP 3 is not installed: `bash scripts/install_host_gimp.sh` as root")
        return 0
    print(f"load average: {' '.join(open('/proc/loadavg').read().split()[:3])}")
    found = run("pixels")
    colours = rgb(found["colours"])
    print(f"GIMP {found['version']}: gegl:saturation (CIE-Lab) on 4096 colours, 8-bit")
    for ratio in [k for k in found if k not in ("version", "colours")]:
        got = found[ratio]
        gimp = rgb(got["filtered"])
        for name, model in (("D50 (babl)", scaled_d50), ("D65 (backend)", scaled_d65)):
            ours = model(colours, float(ratio))
            codes = np.abs(ours.astype(int) - gimp.astype(int)).max()
            de = np.linalg.norm(lab8(ours) - lab8(gimp), axis=-1)
            print(f"  x{float(ratio):<4} model {name:<14} max {codes:3d} codes, CIELAB mean "
                  f"{de.mean():.3f} p99 {np.percentile(de, 99):.2f}")  # fmt: skip
        a, b = rgb(got["lch_filter"]), rgb(got["lch_pixels"])
        print(f"  x{float(ratio):<4} LCh Color composite, filter vs its 8-bit output as "
              f"pixels: max {np.abs(a.astype(int) - b.astype(int)).max()} codes")  # fmt: skip
    found = run("repaint")
    print(f"\nrepaint, 2450x1630 LCh Color layer in a display (Xvfb); load average "
          f"{' '.join(open('/proc/loadavg').read().split()[:3])}")  # fmt: skip
    for name in ("filter", "write"):
        rows = found[name]
        ret = [r[1] * 1000 for r in rows]
        seen = [r[2] * 1000 for r in rows if r[2] is not None]
        print(f"  {name:<6} update/write + flush returned: median {np.median(ret):.0f} ms, "
              f"max {max(ret):.0f}; first screen change: median {np.median(seen):.0f} ms, "
              f"max {max(seen):.0f} ({len(rows) - len(seen)} of {len(rows)} never seen)")  # fmt: skip
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    raise SystemExit(main())
