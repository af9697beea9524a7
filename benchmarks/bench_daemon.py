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

from tinct.testing import (  # noqa: E402
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


def _size(wh: tuple[int, int]) -> str:
    return f"{wh[0] * wh[1] / 1e6:.2g} MP ({wh[0]}x{wh[1]})"


def measure(
    harness: DaemonHarness,
    *,
    big: tuple[int, int] = MP24,
    small: tuple[int, int] = MP025,
    preview: tuple[int, int] = MP1,
    repeat: int = 5,
    steps: int | None = None,
    rescales: int = 20,
    log=print,
) -> tuple[list[tuple[str, str, str]], dict]:
    """Measure a started daemon: warm colorize at two sizes, slider rescale, apply,
    transport. -> (table rows, figures by name). Sizes are (width, height)."""
    rows: list[tuple[str, str, str]] = []
    fig: dict = {}
    client = harness.connect("zmq")
    pid = client.info.pid
    hello = client.hello()
    fig["device"] = hello["device"]
    log(f"daemon pid {pid}, device {hello['device']}")
    kw = {"steps": steps} if steps else {}

    # 1. Warm colorize: small vs big (first a warm-up, then the median of a few runs).
    small_layer = as_layer(make_image(*small, seed=1))
    big_arr = make_image(*big, seed=2)
    big_layer = as_layer(big_arr)
    colorize(client, small_layer, **kw)
    base_rss, _ = rss_bytes(pid)
    t_small = statistics.median(timed(lambda: colorize(client, small_layer, **kw), repeat))
    result = None

    def run_big():
        nonlocal result
        result = colorize(client, big_layer, **kw)

    t_big = statistics.median(timed(run_big, max(2, repeat // 2)))
    _, peak = rss_bytes(pid)
    fig.update(warm_small_s=t_small, warm_big_s=t_big, ratio=t_big / t_small)
    fig.update(peak_rss_gb=peak / 2**30, result_size=(result.layer.width, result.layer.height))
    rows.append((f"warm colorize {_size(small)}", f"{t_small:.3f} s", ""))
    phases = ", ".join(f"{k} {v:.2f}" for k, v in result.header.get("timings", {}).items())
    rows.append((f"warm colorize {_size(big)}", f"{t_big:.3f} s", f"in daemon, s: {phases}"))
    rows.append(("  ratio big / small", f"{t_big / t_small:.2f}x", "target <= 3 (24 / 0.25 MP)"))
    rows.append(
        (
            "peak daemon RSS, big RGBA8 job",
            f"{peak / 2**30:.2f} GB",
            f"target <= 2.5 at 24 MP (idle after warm-up {base_rss / 2**30:.2f} GB)",
        )
    )

    # 2. Rescale at a preview size from the big job's cached latents.
    job = result.job
    t0 = time.perf_counter()
    client.rescale(job, 1.0, size=preview)
    first = time.perf_counter() - t0
    lat = []
    for i in range(rescales):
        s = 0.6 + 0.8 * i / max(rescales - 1, 1)
        t0 = time.perf_counter()
        client.rescale(job, s, size=preview)
        lat.append(time.perf_counter() - t0)
    lat.sort()
    p50, p90 = lat[len(lat) // 2], lat[int(len(lat) * 0.9)]
    fig.update(rescale_p50_ms=1000 * p50, rescale_p90_ms=1000 * p90)
    rows.append(
        (
            f"rescale {_size(preview)} preview, p50",
            f"{1000 * p50:.0f} ms",
            f"target <= 150 at 1 MP (p90 {1000 * p90:.0f} ms, first call {1000 * first:.0f} ms)",
        )
    )
    t0 = time.perf_counter()
    client.apply(job, 1.2)
    fig["apply_s"] = time.perf_counter() - t0
    rows.append(("apply big at a new scale", f"{fig['apply_s']:.3f} s", ""))

    # 3. Transport: big RGBA8 round trip (echo op) per transport vs an in-process copy.
    payload = big_arr.tobytes()
    mb = len(payload) / 1e6
    echo_layer = as_layer(np.frombuffer(payload, np.uint8).reshape(big_arr.shape))
    t_copy = statistics.median(timed(lambda: bytes(bytearray(payload)), repeat))
    fig["copy_ms"] = 1000 * t_copy
    rows.append((f"in-process copy of {mb:.0f} MB (big RGBA8)", f"{1000 * t_copy:.1f} ms", "1.00x"))
    for name in ("zmq", "pure"):
        c = harness.connect(name)
        c.echo(echo_layer)  # warm-up: first large buffers in both processes
        t = statistics.median(timed(lambda c=c: c.echo(echo_layer), repeat))
        fig[f"roundtrip_{name}_ms"] = 1000 * t
        rows.append(
            (
                f"round trip big RGBA8, {name} transport",
                f"{1000 * t:.1f} ms",
                f"{t / t_copy:.2f}x the copy",
            )
        )
        c.close()
    client.close()
    return rows, fig


def print_rows(rows: list[tuple[str, str, str]], out=print) -> None:
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        out(f"{name:<{width}}  {value:>10}  {note}".rstrip())


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
    ap.add_argument("--device", default=None, help="the daemon's --device (default: its choice)")
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

    flags = ["--idle-timeout", "0", *(["--device", args.device] if args.device else [])]
    harness = DaemonHarness(
        tmp / "rt",
        serve_command(model, *flags, threads=args.threads),
        heartbeat_timeout=60,
        start_timeout=300,
    )
    try:
        print(f"model: {model_note}", flush=True)
        rows, _ = measure(harness, repeat=args.repeat, steps=args.steps)
    finally:
        harness.close()
    print()
    print_rows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
