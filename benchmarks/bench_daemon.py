"""Measure the daemon: transport overhead, warm colorize scaling, rescale latency, peak RSS.

    python benchmarks/bench_daemon.py [--model DIR] [--repeat N]

Starts a real `tinct serve` in a temporary runtime dir (through the same
Launcher the plugins use), prints one table of numbers measured in this run,
and stops the daemon. The model is --model, else backend/tinct/models/default
if it holds a model, else the default architecture with random weights (same
compute as a trained one; the colors are meaningless, the timings are not).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))

import numpy as np  # noqa: E402

from tinct.server_testing import (  # noqa: E402
    DaemonHarness,
    as_layer,
    make_image,
    rss_bytes,
    save_tiny_model,
    serve_command,
)

MP24 = (6000, 4000)  # 24 MP
MP025 = (612, 408)  # 0.25 MP, same 3:2 aspect
MP1 = (1224, 816)  # 1 MP preview


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def colorize(client, layer, **kw):
    return list(client.colorize(layer, **kw))[-1]


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--steps", type=int, default=None, help="sampling steps (default: the daemon's)"
    )
    ap.add_argument(
        "--tiny", action="store_true", help="use the tiny test model (fast, not representative)"
    )
    ap.add_argument(
        "--threads", type=int, default=None, help="torch threads in the daemon (default: torch's)"
    )
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="tinct-bench-"))
    model, model_note = args.model, str(args.model)
    default = ROOT / "backend" / "tinct" / "models" / "default"
    if model is None and (default / "model_index.json").exists():
        model, model_note = default, "bundled default"
    if args.tiny:
        model, model_note = (
            save_tiny_model(tmp / "tiny"),
            "tiny random test model (not representative)",
        )
    elif model is None:
        # No trained model yet: the default architecture with random weights costs the same compute.
        from tinct.pipeline.components import build_default_pipeline

        model = tmp / "random-default"
        build_default_pipeline(seed=0).save_pretrained(str(model))
        model_note = "default architecture, RANDOM weights (no trained model found; pass --model)"

    harness = DaemonHarness(
        tmp / "rt",
        serve_command(model, "--idle-timeout", "0", threads=args.threads),
        heartbeat_timeout=60,
        start_timeout=300,
    )
    rows: list[tuple[str, str, str]] = []
    try:
        client = harness.connect("zmq")
        pid = client.info.pid
        hello = client.hello()
        print(f"daemon pid {pid}, model: {model_note}, device {hello['device']}", flush=True)
        steps = {"steps": args.steps} if args.steps else {}

        # 1. Warm colorize: 0.25 MP vs 24 MP (first a warm-up, then the median of a few runs).
        small = as_layer(make_image(*MP025, seed=1))
        big_arr = make_image(*MP24, seed=2)
        big = as_layer(big_arr)
        colorize(client, small, **steps)
        base_rss, _ = rss_bytes(pid)
        t_small = statistics.median(timed(lambda: colorize(client, small, **steps), args.repeat))
        result = None

        def run_big():
            nonlocal result
            result = colorize(client, big, **steps)

        t_big_all = timed(run_big, max(2, args.repeat // 2))
        t_big = statistics.median(t_big_all)
        _, peak = rss_bytes(pid)
        rows.append(("warm colorize 0.25 MP (612x408)", f"{t_small:.3f} s", ""))
        phases = ", ".join(f"{k} {v:.2f}" for k, v in result.header.get("timings", {}).items())
        rows.append(
            ("warm colorize 24 MP (6000x4000)", f"{t_big:.3f} s", f"in daemon, s: {phases}")
        )
        rows.append(("  ratio 24 MP / 0.25 MP", f"{t_big / t_small:.2f}x", "target <= 3"))
        rows.append(
            (
                "peak daemon RSS, 24 MP RGBA8 job",
                f"{peak / 2**30:.2f} GB",
                f"target <= 2.5 (idle after warm-up {base_rss / 2**30:.2f} GB)",
            )
        )

        # 2. Rescale at a 1 MP preview from the 24 MP job's cached latents.
        job = result.job
        t0 = time.perf_counter()
        client.rescale(job, 1.0, size=MP1)
        first = time.perf_counter() - t0
        scales = [0.6 + 0.04 * i for i in range(20)]
        lat = []
        for s in scales:
            t0 = time.perf_counter()
            client.rescale(job, s, size=MP1)
            lat.append(time.perf_counter() - t0)
        lat.sort()
        rows.append(
            (
                "rescale 1 MP preview, p50",
                f"{1000 * lat[len(lat) // 2]:.0f} ms",
                f"target <= 150 (p90 {1000 * lat[int(len(lat) * 0.9)]:.0f} ms, first call {1000 * first:.0f} ms)",
            )
        )
        t0 = time.perf_counter()
        client.apply(job, 1.2)
        rows.append(("apply 24 MP at a new scale", f"{time.perf_counter() - t0:.3f} s", ""))

        # 3. Transport: 24 MP RGBA8 round trip (echo op) per transport vs an in-process copy.
        payload = big_arr.tobytes()
        echo_layer = as_layer(np.frombuffer(payload, np.uint8).reshape(big_arr.shape))
        t_copy = statistics.median(timed(lambda: bytes(bytearray(payload)), args.repeat))
        rows.append(("in-process copy of 96 MB (24 MP RGBA8)", f"{1000 * t_copy:.0f} ms", "1.00x"))
        for name in ("zmq", "pure"):
            c = harness.connect(name)
            c.echo(echo_layer)  # warm-up: first large buffers in both processes
            t = statistics.median(timed(lambda c=c: c.echo(echo_layer), args.repeat))
            rows.append(
                (
                    f"round trip 24 MP RGBA8, {name} transport",
                    f"{1000 * t:.0f} ms",
                    f"{t / t_copy:.2f}x the copy",
                )
            )
            c.close()
        client.close()
    finally:
        harness.close()

    width = max(len(r[0]) for r in rows)
    print()
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>10}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
