"""Peers without the token against a real daemon: the memory they make it hold, and how
long a client with the token then waits for a colorize (issue 27, items 3 and 4).

    python benchmarks/bench_daemon_hostile.py [--model DIR] [--peers 8] [--seconds 20]
    python benchmarks/bench_daemon_hostile.py --idle 20000
    PYTHONPATH=/tmp/base/backend python benchmarks/bench_daemon_hostile.py --backend /tmp/base/backend

--peers N: N attackers, all the time for --seconds, each announcing a 399 MB frame,
pushing up to 380 MiB of it and stalling (reconnecting when the daemon drops it), in
turn by every way in: the NULL handshake and a message (protocol 1), a PLAIN HELLO of
that size, a HELLO at the 128 KiB wire-frame limit, a wrong token then a message.
Prints the daemon's RSS idle and (sampled, the largest) under attack, and a client's
colorize time idle and under attack (median of --repeats) with their ratio.

--idle N: N raw connections opened at once (from several processes, each under its
open-file limit) that send a greeting or nothing and then idle; prints a fresh token
client's colorize time with them open, the daemon's open fds, and how long until the
daemon had closed them all.

--backend DIR runs another checkout's daemon and client (e.g. `git archive` of the
commit before protocol 2 into /tmp/base) for a before/after; the attackers here use raw
sockets only. The attackers run in this process (threads) or in child processes: on a
2-core machine they compete with the daemon for the CPU, as a real attacker would.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", default=None, help="model folder (default: a tiny random one)")
    ap.add_argument("--backend", default=str(ROOT / "backend"))
    ap.add_argument("--peers", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--announce", type=int, default=399_000_000)
    ap.add_argument("--push", type=int, default=380 << 20)
    ap.add_argument("--strategies", default="null-message,plain-hello,plain-limit,wrong-token")
    ap.add_argument(
        "--reconnect",
        action="store_true",
        help="each peer reconnects when dropped (a flood) instead of attacking once",
    )
    ap.add_argument("--idle", type=int, default=0, help="idle connections instead of peers")
    ap.add_argument(
        "--idle-handshake",
        choices=["plain", "null"],
        default="plain",
        help="idle ones send a PLAIN greeting (or nothing), or finish a NULL handshake",
    )
    ap.add_argument("--attack-port", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--attack-strategy", default="", help=argparse.SUPPRESS)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--size", type=int, default=1024, help="side of the client's test image")
    return ap.parse_args()


ARGS = _args()
sys.path.insert(0, ARGS.backend)

from tinct.protocol import constants as C  # noqa: E402
from tinct.testing import (  # noqa: E402
    DaemonHarness,
    as_layer,
    make_image,
    rss_bytes,
    save_tiny_model,
    serve_command,
)

SIGNATURE = b"\xff" + b"\x00" * 8 + b"\x7f"


def greeting(mechanism: bytes) -> bytes:
    return SIGNATURE + b"\x03\x01" + mechanism.ljust(20, b"\x00") + b"\x00" * 32


def command(name: bytes, body: bytes = b"") -> bytes:
    payload = bytes([len(name)]) + name + body
    if len(payload) <= 255:
        return struct.pack("!BB", 0x04, len(payload)) + payload
    return struct.pack("!BQ", 0x06, len(payload)) + payload


def attack_once(port: int, strategy: str, announce: int, push: int, stop: threading.Event):
    """One connection: handshake as ``strategy``, announce, push, stall until closed or
    stop. Returns the bytes pushed."""
    pushed = 0
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
    except OSError:
        time.sleep(0.05)
        return 0
    try:
        if strategy == "null-message":
            ready = bytes([11]) + b"Socket-Type" + struct.pack("!I", 6) + b"DEALER"
            s.sendall(greeting(b"NULL") + command(b"READY", ready))
        else:
            s.sendall(greeting(b"PLAIN"))
        if strategy in ("null-message", "wrong-token"):
            if strategy == "wrong-token":
                s.sendall(command(b"HELLO", b"\x05tinct\x05guess"))
            head = json.dumps({"v": 1, "op": "echo", "id": "x", "token": "guess"}).encode()
            s.sendall(struct.pack("!BB", 0x01, len(head)) + head)
            s.sendall(struct.pack("!BQ", 0x02, announce))
        elif strategy == "plain-hello":
            s.sendall(struct.pack("!BQ", 0x06, announce))
        elif strategy == "plain-limit":
            announce, push = 1 << 17, (1 << 17) - 1
            s.sendall(struct.pack("!BQ", 0x06, announce))
        block = bytes(1 << 20)
        while pushed < push and not stop.is_set():
            n = min(len(block), push - pushed)
            s.sendall(block[:n])
            pushed += n
        s.settimeout(0.1)
        while not stop.is_set():  # stall until the daemon closes us
            try:
                if not s.recv(1 << 16):
                    break
            except TimeoutError:
                continue
    except OSError:
        pass
    finally:
        s.close()
    return pushed


def attacker_process() -> None:
    """A child process: one peer, attacking until its stdin closes; prints its totals."""
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    made = pushed = 0
    while not stop.is_set():
        pushed += attack_once(
            ARGS.attack_port, ARGS.attack_strategy, ARGS.announce, ARGS.push, stop
        )
        made += 1
        if not ARGS.reconnect:
            stop.wait()
    print(made, pushed, flush=True)


def colorize_seconds(client, layer) -> float:
    t0 = time.perf_counter()
    events = list(client.colorize(layer, steps=4, scale=1.0))
    assert events[-1].kind == "result", events[-1]
    return time.perf_counter() - t0


def bench_peers(harness: DaemonHarness) -> None:
    client = harness.connect()
    pid, port = client.info.pid, client.info.port
    layer = as_layer(make_image(ARGS.size, ARGS.size, seed=1))
    colorize_seconds(client, layer)  # warm
    idle = [colorize_seconds(client, layer) for _ in range(ARGS.repeats)]
    time.sleep(1)
    idle_rss, _ = rss_bytes(pid)

    strategies = ARGS.strategies.split(",")
    flags = ["--reconnect"] if ARGS.reconnect else []
    peers = [
        subprocess.Popen(
            [sys.executable, __file__, "--backend", ARGS.backend, "--attack-port", str(port)]
            + ["--attack-strategy", strategies[i % len(strategies)]]
            + ["--announce", str(ARGS.announce), "--push", str(ARGS.push), *flags],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(ARGS.peers)
    ]
    stop = threading.Event()
    peak = [0]

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_bytes(pid)[0])
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    time.sleep(ARGS.seconds / 2)  # attack only: what the daemon holds for the peers
    held = peak[0]
    attacked = []
    t_end = time.monotonic() + ARGS.seconds / 2
    while time.monotonic() < t_end or len(attacked) < ARGS.repeats:
        attacked.append(colorize_seconds(client, layer))
    stop.set()
    sampler.join(5)
    totals = []
    for p in peers:
        p.stdin.close()
        totals.append([int(x) for x in p.stdout.readline().split()] or [0, 0])
        p.wait(30)
    i, a = statistics.median(idle), statistics.median(attacked)
    shape = "reconnecting when dropped" if ARGS.reconnect else "once each"
    print(f"backend: {ARGS.backend}  protocol {C.PROTOCOL_VERSION}")
    print(f"peers: {ARGS.peers} x ({', '.join(strategies)}), {shape}, {ARGS.seconds:.0f} s")
    print(
        f"  connections made: {sum(t[0] for t in totals)}, "
        f"bytes pushed: {sum(t[1] for t in totals) / 2**20:.1f} MiB"
    )
    print(f"daemon RSS idle:                    {idle_rss / 1e6:8.1f} MB")
    print(f"daemon RSS, peers only (largest):   {held / 1e6:8.1f} MB")
    print(f"  held more than idle:              {(held - idle_rss) / 1e6:8.1f} MB")
    print(f"client colorize {ARGS.size}x{ARGS.size}, 4 steps (median):")
    print(f"  idle {i:.3f} s, under attack {a:.3f} s ({len(attacked)} runs): ratio {a / i:.2f}")
    client.close()


CHILD = r"""
import os, resource, socket, sys, time
port, count, how = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
mech = b"NULL" if how == "null" else b"PLAIN"
greet = b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x01" + mech.ljust(20, b"\x00") + b"\x00" * 32
if how == "null":  # protocol 1's handshake, completed: READY with Socket-Type DEALER
    props = bytes([11]) + b"Socket-Type" + (6).to_bytes(4, "big") + b"DEALER"
    body = bytes([5]) + b"READY" + props
    greet += bytes([0x04, len(body)]) + body
socks = []
for i in range(count):
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            break
        except OSError:
            time.sleep(0.01)
    if i % 2 == 0 or how == "null":
        try: s.sendall(greet)
        except OSError: pass
    socks.append(s)
print("open", flush=True)
t0 = time.monotonic()
left = list(socks)
while left and time.monotonic() - t0 < 120:
    still = []
    for s in left:
        s.setblocking(False)
        try:
            while s.recv(65536):
                pass
        except BlockingIOError:
            still.append(s)
        except OSError:
            pass
    left = still
    time.sleep(0.2)
print("closed", round(time.monotonic() - t0, 2), len(left), flush=True)
sys.stdin.read()
"""


def bench_idle(harness: DaemonHarness) -> None:
    client = harness.connect()
    pid, port = client.info.pid, client.info.port
    layer = as_layer(make_image(ARGS.size, ARGS.size, seed=1))
    colorize_seconds(client, layer)
    fds_idle = len(os.listdir(f"/proc/{pid}/fd"))
    idle = statistics.median(
        colorize_seconds(fresh, layer) for fresh in [harness.connect() for _ in range(ARGS.repeats)]
    )
    per_child = 5000
    children = []
    left = ARGS.idle
    t0 = time.monotonic()
    while left > 0:
        n = min(per_child, left)
        children.append(
            subprocess.Popen(
                [sys.executable, "-c", CHILD, str(port), str(n), ARGS.idle_handshake],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
        left -= n
    max_fds = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            try:
                max_fds[0] = max(max_fds[0], len(os.listdir(f"/proc/{pid}/fd")))
            except OSError:
                pass
            time.sleep(0.05)

    threading.Thread(target=sample, daemon=True).start()
    for c in children:
        assert c.stdout.readline().strip() == "open"
    opened = time.monotonic() - t0
    t1 = time.perf_counter()
    try:
        fresh = harness.connect()
        with_idle = f"{colorize_seconds(fresh, layer):.3f} s"
    except Exception as exc:  # protocol 1: locked out (launch_failed / daemon_lost)
        with_idle = f"FAILED ({type(exc).__name__}: {str(exc)[:100]})"
    first = time.perf_counter() - t1
    closed = [c.stdout.readline().split() for c in children]
    stop.set()
    for c in children:
        c.stdin.close()
        c.wait(30)
    print(f"backend: {ARGS.backend}  protocol {C.PROTOCOL_VERSION}")
    print(f"idle connections: {ARGS.idle} from {len(children)} processes, open in {opened:.1f} s")
    print(f"daemon fds: {fds_idle} idle, {max_fds[0]} at most while they were open")
    print(f"fresh token client, colorize {ARGS.size}x{ARGS.size}:")
    print(f"  idle {idle:.3f} s; with them open {with_idle} (connect + colorize {first:.3f} s)")
    print(f"  closed by the daemon (per process: seconds, still open): {closed}")
    try:
        print(f"daemon still the same process: {client.hello()['pid'] == pid}")
    except Exception as exc:
        print(f"the first client: FAILED ({type(exc).__name__}: {str(exc)[:100]})")
    client.close()


def main() -> None:
    if ARGS.attack_port:
        attacker_process()
        return
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(ARGS.model) if ARGS.model else save_tiny_model(Path(tmp) / "model")
        harness = DaemonHarness(Path(tmp) / "rt", serve_command(model, "--idle-timeout", "0"))
        try:
            (bench_idle if ARGS.idle else bench_peers)(harness)
        finally:
            harness.close()


if __name__ == "__main__":
    main()
