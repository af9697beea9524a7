#!/usr/bin/env python3
"""Any aspect ratio costs about the same: a 1x300000 image against 300x1000.

Both have 300,000 pixels. The model works at a budgeted size whatever the
shape (a thin image is padded up to the U-Net's multiple on its short side and
shrunk on its long side), so the rest is per-pixel work. Each image is
colorized by a fresh `tinct colorize` process; the script prints wall time and
peak RSS of each and the ratios thin / regular (target: both <= 2).

    python benchmarks/bench_aspect.py [--model DIR] [--repeats 2]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_common import model_and_repeats
from PIL import Image


def make_image(height: int, width: int) -> Image.Image:
    y, x = np.mgrid[0:height, 0:width]
    return Image.fromarray(((x * 7 + y * 3) % 256).astype(np.uint8))


def run_once(src: Path, dst: Path, model: str | None) -> tuple[float, int]:
    """(wall seconds, peak RSS bytes) of one `tinct colorize` process."""
    cmd = [sys.executable, "-m", "tinct", "colorize", str(src), "-o", str(dst), "--quiet"]
    cmd += ["--scale", "1", "--steps", "2"]
    if model:
        cmd += ["--model", model]
    t0 = time.perf_counter()
    pid = subprocess.Popen(cmd).pid
    _, status, usage = os.wait4(pid, 0)  # rusage of that child alone: its own peak
    seconds = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed")
    return seconds, usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)


def main() -> int:
    args = model_and_repeats(__doc__, repeats=2)
    tmp = Path(tempfile.mkdtemp(prefix="tinct-aspect-"))
    shapes = {"regular 300x1000": (300, 1000), "thin 1x300000": (1, 300000)}
    best: dict[str, tuple[float, int]] = {}
    for name, (h, w) in shapes.items():
        src = tmp / f"{h}x{w}.png"
        make_image(h, w).save(src)
        runs = [run_once(src, tmp / f"out-{h}x{w}.png", args.model) for _ in range(args.repeats)]
        best[name] = (min(r[0] for r in runs), min(r[1] for r in runs))
        print(f"{name:18s} {best[name][0]:7.2f} s  peak RSS {best[name][1] / 2**20:7.0f} MiB")
    (t_reg, m_reg), (t_thin, m_thin) = best.values()
    print(f"time ratio thin/regular:   {t_thin / t_reg:.2f}  (target <= 2)")
    print(f"memory ratio thin/regular: {m_thin / m_reg:.2f}  (target <= 2)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
