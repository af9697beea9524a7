#!/usr/bin/env python3
"""Peak memory depends on pixels, not on height or width alone.

A square image and two extreme strips of the same pixel count (default
5,000,000: 2236x2236 against 1x5,000,000 and 5,000,000x1) are colorized

- by a fresh `tinct colorize` process each (peak RSS of that child, wait4), and
- by a fresh `tinct serve` daemon each, through the plugins' client (the
  daemon's VmHWM after the job, Linux),

and the script prints each peak and the ratios strip / square (target: <= 1.5).

    python benchmarks/bench_memory_shape.py [--model DIR] [--pixels N] [--no-daemon] [--no-cli]

Memory: each process holds the model plus a few tens of bytes per pixel; at the
default 5 MP about 1 GB each (a 1x5,000,000 strip took 5.6 GB before issue 27).
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402


def shapes(pixels: int) -> dict[str, tuple[int, int]]:
    """name -> (height, width); the square rounded to the same pixel count."""
    side = math.isqrt(pixels)
    return {
        f"square {side}x{side}": (side, side),
        f"tall 1x{pixels}": (pixels, 1),
        f"wide {pixels}x1": (1, pixels),
    }


def make_png(path: Path, height: int, width: int) -> None:
    """A gray u8 picture with some structure (a strip is not constant either)."""
    n = height * width
    i = np.arange(n, dtype=np.int64)
    pix = ((i * 7 + (i // max(width, 1)) * 3) % 256).astype(np.uint8).reshape(height, width)
    Image.fromarray(pix).save(path, compress_level=1)


# A child's ru_maxrss counts the address space it was forked from; measured through a
# small Python in between, a grandchild's counts only that small parent's.
_PEAK = (
    "import resource, subprocess, sys; rc = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024); sys.exit(rc)"
)


def cli_peak(src: Path, dst: Path, model: str | None) -> int:
    """Peak RSS (bytes) of one `tinct colorize` process."""
    cmd = [sys.executable, "-m", "tinct", "colorize", str(src), "-o", str(dst), "--quiet"]
    cmd += ["--scale", "1", "--steps", "1"]
    if model:
        cmd += ["--model", model]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "backend"))
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK, *cmd], env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.strip()}")
    return int(proc.stdout.split()[-1])


def daemon_peak(src: Path, model: str | None) -> int:
    """Peak RSS (bytes) of a fresh daemon that colorized ``src`` once."""
    from tinct.imageio import read_image
    from tinct.testing import DaemonHarness, as_layer, rss_bytes, serve_command

    arr = read_image(src)
    harness = DaemonHarness(
        Path(tempfile.mkdtemp(prefix="tinct-memshape-rt-")),
        serve_command(Path(model) if model else None, threads=None),
    )
    try:
        client = harness.connect("zmq")
        pid = client.info.pid
        results = list(client.colorize(as_layer(arr), steps=1, scale=1.0))
        if not results:
            raise SystemExit("the daemon returned nothing")
        return rss_bytes(pid)[1]
    finally:
        harness.close()


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", default=None)
    ap.add_argument("--pixels", type=int, default=5_000_000)
    ap.add_argument("--no-cli", action="store_true")
    ap.add_argument("--no-daemon", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tinct-memshape-"))
    kinds = [k for k, off in (("cli", args.no_cli), ("daemon", args.no_daemon)) if not off]
    peaks: dict[str, dict[str, int]] = {k: {} for k in kinds}
    for name, (h, w) in shapes(args.pixels).items():
        src = tmp / f"{h}x{w}.png"
        make_png(src, h, w)
        for kind in kinds:
            if kind == "cli":
                peak = cli_peak(src, tmp / f"out-{h}x{w}.png", args.model)
            else:
                peak = daemon_peak(src, args.model)
            peaks[kind][name] = peak
            print(f"{kind:6s} {name:22s} peak RSS {peak / 2**20:8.0f} MiB", flush=True)
        src.unlink()
    for kind in kinds:
        square, *strips = peaks[kind].items()
        for name, peak in strips:
            print(
                f"{kind:6s} ratio {name.split()[0]}/square: {peak / square[1]:.2f}  (target <= 1.5)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
