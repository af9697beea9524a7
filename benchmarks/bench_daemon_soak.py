"""The daemon under many clients: 16-client fairness, a 200-job soak, kill -9 mid-job.

    python benchmarks/bench_daemon_soak.py [--clients 16] [--jobs 200] [--backend DIR]

- fairness: --clients clients (zmq and pure, alternating) each queue 4 colorize jobs
  behind a 24 MP gate job, so all wait together; the daemon's finishing order ("seq")
  gives, while every client still has jobs waiting, the largest gap between the most
  and the least served client (round robin: 1);
- soak: the same clients run --jobs colorize jobs in all (sizes, dtypes and channel
  counts varied; every 5th followed by a rescale and an apply): errors, wrong results
  (alpha not copied, lightness moved), throughput, the daemon's RSS first / last / peak;
- kill -9: a 200-step job, the daemon killed after its first progress: how long until
  the client raises daemon_lost (heartbeat timeout 2 s), then how long the next
  request takes to relaunch a daemon and get a result; both transports.

Uses the tiny random model (the daemon's machinery is what is measured). Prints one
block of figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
ap.add_argument("--clients", type=int, default=16)
ap.add_argument("--jobs", type=int, default=200)
ap.add_argument("--backend", default=str(ROOT / "backend"))
ARGS = ap.parse_args()
sys.path.insert(0, ARGS.backend)

import numpy as np  # noqa: E402

from tinct.protocol import DaemonLost  # noqa: E402
from tinct.protocol import constants as C  # noqa: E402
from tinct.testing import (  # noqa: E402
    DaemonHarness,
    as_layer,
    layer_to_array,
    lstar,
    make_image,
    rss_bytes,
    save_tiny_model,
    serve_command,
    wait_for,
)

PER_CLIENT = 4


def fairness(harness: DaemonHarness) -> None:
    clients = [harness.connect("zmq" if i % 2 == 0 else "pure") for i in range(ARGS.clients)]
    gate_client = harness.connect()
    gate = gate_client.enqueue_colorize(as_layer(np.full((4000, 6000, 4), 128, np.uint8)), steps=2)
    assert wait_for(lambda: gate_client.status()["running"], 60)
    results: dict = {}
    errors: list = []
    barrier = threading.Barrier(ARGS.clients + 1)

    def run(c: int) -> None:
        try:
            barrier.wait(30)
            rids = [
                clients[c].enqueue_colorize(as_layer(make_image(40 + c, 32 + j, seed=c)), steps=2)
                for j in range(PER_CLIENT)
            ]
            for j, rid in enumerate(rids):
                results[c, j] = list(clients[c].events(rid))[-1]
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in range(ARGS.clients)]
    for t in threads:
        t.start()
    barrier.wait(30)
    queued = wait_for(
        lambda: gate_client.status()["queued"]["colorize"] == ARGS.clients * PER_CLIENT, 60, 0.01
    )
    list(gate_client.events(gate))
    t0 = time.perf_counter()
    for t in threads:
        t.join(300)
    elapsed = time.perf_counter() - t0
    order = sorted(results, key=lambda k: results[k].header["seq"])
    done = [0] * ARGS.clients
    spread = 0
    for c, _ in order:
        done[c] += 1
        if all(d < PER_CLIENT for d in done):
            spread = max(spread, max(done) - min(done))
    print(
        f"fairness: {ARGS.clients} clients x {PER_CLIENT} jobs, all queued together: {queued}; "
        f"results {len(results)}/{ARGS.clients * PER_CLIENT}, errors {len(errors)}; "
        f"largest served gap while all waited: {spread} (round robin = 1); {elapsed:.1f} s"
    )
    for cl in [*clients, gate_client]:
        cl.close()


def soak(harness: DaemonHarness) -> None:
    clients = [harness.connect("zmq" if i % 2 == 0 else "pure") for i in range(ARGS.clients)]
    pid = clients[0].info.pid
    first, _ = rss_bytes(pid)
    counter = iter(range(ARGS.jobs))
    lock = threading.Lock()
    stats = {"ok": 0, "wrong": 0, "errors": [], "extra": 0}
    seconds: list[float] = []

    def run(c: int) -> None:
        client = clients[c]
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            dtype = ("u8", "u16", "f32")[n % 3]
            src = make_image(48 + n % 97, 40 + n % 61, channels=1 + n % 4, dtype=dtype, seed=n)
            try:
                t0 = time.perf_counter()
                ev = list(client.colorize(as_layer(src), steps=2))[-1]
                seconds.append(time.perf_counter() - t0)
                out = layer_to_array(ev.layer)
                alpha_ok = src.shape[2] % 2 == 1 or np.array_equal(out[..., 3], src[..., -1])
                luma = (
                    np.abs(lstar(out[..., :3]) - lstar(src[..., :3])).mean()
                    if src.shape[2] >= 3
                    else 0.0
                )
                with lock:
                    stats["ok" if alpha_ok and luma < 0.5 else "wrong"] += 1
                if n % 5 == 0:
                    client.rescale(ev.job, 1.3, size=(32, 24))
                    client.apply(ev.job, 0.7)
                    with lock:
                        stats["extra"] += 2
            except Exception as exc:
                with lock:
                    stats["errors"].append(f"{type(exc).__name__}: {exc}")

    t0 = time.perf_counter()
    threads = [threading.Thread(target=run, args=(c,)) for c in range(ARGS.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(1200)
    elapsed = time.perf_counter() - t0
    last, peak = rss_bytes(pid)
    print(
        f"soak: {ARGS.jobs} colorize jobs (+{stats['extra']} rescale/apply) from "
        f"{ARGS.clients} clients in {elapsed:.1f} s ({ARGS.jobs / elapsed:.1f} jobs/s); "
        f"ok {stats['ok']}, wrong {stats['wrong']}, errors {len(stats['errors'])} "
        f"{stats['errors'][:3]}"
    )
    print(
        f"  colorize latency median {statistics.median(seconds):.3f} s, "
        f"max {max(seconds):.3f} s; daemon RSS first {first / 1e6:.0f} MB, last "
        f"{last / 1e6:.0f} MB, peak {peak / 1e6:.0f} MB; same daemon: "
        f"{clients[0].hello()['pid'] == pid}"
    )
    for cl in clients:
        cl.close()


def kill9(model: Path, tmp: Path) -> None:
    for transport in ("zmq", "pure"):
        rt = tmp / f"kill-{transport}"
        harness = DaemonHarness(
            rt,
            serve_command(model, "--heartbeat", "0.2", "--idle-timeout", "0"),
            heartbeat_timeout=2.0,
        )
        try:
            client = harness.connect(transport)
            pid = client.info.pid
            events = client.colorize(as_layer(make_image(256, 256, seed=1)), steps=200)
            next(events)
            next(events)
            os.kill(pid, signal.SIGKILL)
            t0 = time.perf_counter()
            try:
                for _ in events:
                    pass
                lost = "no error!"
            except DaemonLost as exc:
                lost = f"{exc.code} after {time.perf_counter() - t0:.2f} s"
            t1 = time.perf_counter()
            result = list(client.colorize(as_layer(make_image(32, 24)), steps=1))[-1]
            again = time.perf_counter() - t1
            print(
                f"kill -9 ({transport}): {lost}; next request relaunched a daemon "
                f"(pid {client.info.pid} != {pid}: {client.info.pid != pid}) and got a "
                f"{result.kind} in {again:.1f} s"
            )
            client.shutdown()
            client.close()
        finally:
            harness.close()


def main() -> None:
    print(f"backend: {ARGS.backend}  protocol {C.PROTOCOL_VERSION}")
    with tempfile.TemporaryDirectory() as tmp:
        model = save_tiny_model(Path(tmp) / "model")
        harness = DaemonHarness(
            Path(tmp) / "rt",
            serve_command(model, "--heartbeat", "0.25", "--idle-timeout", "0"),
        )
        try:
            fairness(harness)
            soak(harness)
        finally:
            harness.close()
        kill9(model, Path(tmp))


if __name__ == "__main__":
    main()
