"""How long the knob must rest before a release finds the full-size scale nodes warm:
the daemon's idle warming (`Compute.warm_one`) after a drag, in the order of the
checkout it runs from (run it from two checkouts to compare orders).

    python benchmarks/bench_warm_order.py [--model DIR | --tiny] [--repeat N]

In process, one torch thread (run with OMP_NUM_THREADS=1), the bundled model, a 2450x1630
(4 MP) RGBA8 frame. After the colorize nothing is warmed (a drag right after it, as
bench_daemon.py's); the slider is dragged 1.05 -> 1.45 in 9 preview rescales (the
preview's nodes it crosses get decoded), then rests: `warm_one` until it has nothing
left, each decode timed. Prints when (after WARM_QUIET) the full-size pair around 1.45
is in, and a release's `apply` at 1.45 with that pair in and without it.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from tinct import color  # noqa: E402
from tinct.protocol.pixels import PixelFormat  # noqa: E402
from tinct.server.cache import CachedJob, JobCache  # noqa: E402
from tinct.server.frames import fit_size, small_source  # noqa: E402
from tinct.server.render import render_layer  # noqa: E402
from tinct.server.worker import PREVIEW_DECODE_REDUCE, WARM_QUIET, Compute, Defaults  # noqa: E402
from tinct.testing import make_image, save_tiny_model  # noqa: E402

FULL = (2450, 1630)
DRAG = [round(1.05 + 0.05 * i, 2) for i in range(9)]  # 1.05 -> 1.45


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--tiny", action="store_true", help="the tiny test model (not representative)")
    ap.add_argument("--repeat", type=int, default=3, help="warming runs (medians printed)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    from tinct.pipeline.loading import load_pipeline

    model = save_tiny_model(Path(tempfile.mkdtemp()) / "tiny") if args.tiny else args.model
    pipe = load_pipeline(model, device="cpu")
    step = pipe.scale_node_step
    w, h = FULL
    frame = make_image(w, h, 4, "u8", seed=2)
    fmt = PixelFormat.packed(w, h, 4, "u8")
    source = frame.tobytes()
    small, sfmt = small_source(source, fmt, *fit_size(w, h, Defaults().preview_side))
    last = DRAG[-1]
    pair = {(1, k) for k in (int(last // step + 1e-6), int(last // step + 1e-6) + 1)}
    ready, total, counts, apply_with, apply_without = [], [], [], [], []
    with torch.inference_mode():
        latents = pipe.predict(color.to_float(frame[..., :3]))
        for s in DRAG:  # the drag: preview rescales, nothing warmed before
            render_layer(pipe, small, sfmt, latents, s, reduce=PREVIEW_DECODE_REDUCE)
        after_drag = copy.copy(latents.decoded)
        for _ in range(args.repeat):
            latents.decoded = copy.copy(after_drag)
            cache = JobCache(max_bytes=1 << 32, max_jobs=4)
            cache.put(CachedJob("bench", latents, source, fmt))
            compute = Compute(pipe, cache, Defaults())
            compute.slider_at("bench", last)
            t0, at, n = time.perf_counter(), None, 0
            while compute.warm_one():
                n += 1
                if at is None and pair <= set(latents.decoded):
                    at = time.perf_counter() - t0
            total.append(time.perf_counter() - t0)
            ready.append(at if at is not None else float("nan"))
            counts.append(n)
            t = time.perf_counter()
            render_layer(pipe, source, fmt, latents, last)
            apply_with.append(time.perf_counter() - t)
            latents.decoded = copy.copy(after_drag)
            t = time.perf_counter()
            render_layer(pipe, source, fmt, latents, last)
            apply_without.append(time.perf_counter() - t)
    print(f"model: {model or 'bundled default'}, node step {step:.3g} on the slider, 4 MP")
    print(f"drag {DRAG[0]} -> {last}: {len(after_drag)} preview nodes decoded by it")
    print(f"rest after the drag: {statistics.median(counts):.0f} decodes, "
          f"{statistics.median(total):.2f} s (median of {args.repeat})")  # fmt: skip
    print(f"the full-size pair around {last} in after WARM_QUIET ({WARM_QUIET} s) + "
          f"{statistics.median(ready):.2f} s of warming "
          f"(runs: {' '.join(f'{x:.2f}' for x in ready)})")  # fmt: skip
    print(f"a release's apply at {last}: {np.median(apply_with):.2f} s with the pair warm, "
          f"{np.median(apply_without):.2f} s without")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
