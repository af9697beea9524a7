"""Helpers to run a real `tinct serve` process in tests and benchmarks (like numpy.testing).

Not used by the daemon itself, and left out of the standalone backend. Everything here works on real processes and
sockets: a tiny seeded model saved to disk, a daemon started through the same
Launcher the plugins use, and a teardown that leaves no process behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import tinct
from tinct import color
from tinct.protocol import Launcher, Layer
from tinct.protocol.connection import read_connection_file
from tinct.server.frames import NP_DTYPES, rgb_array, wire_dtype
from tinct.server.runtime import rss_bytes as rss_bytes  # for the tests: a daemon's memory

BACKEND_DIR = Path(next(iter(tinct.__path__))).resolve().parent


def save_tiny_model(directory: Path, seed: int = 0, encoder_prior: bool = False) -> Path:
    """A tiny seeded random model saved to ``directory``. ``encoder_prior``: with an
    untrained EncoderPrior head (the real frozen EfficientNet-Lite0 under it), so the
    model draws variations (its distribution is random, but it is one)."""
    from tinct.pipeline.components import build_tiny_pipeline

    directory.mkdir(parents=True, exist_ok=True)
    pipe = build_tiny_pipeline(seed=seed)
    if encoder_prior:
        import torch

        from tinct.pipeline.encoder_prior import EncoderPrior

        torch.manual_seed(seed)
        pipe.register_modules(prior=EncoderPrior(width=8, input_side=128).eval())
    pipe.save_pretrained(str(directory))
    return directory


def serve_command(model_dir: Path | None, *flags: str, threads: int | None = 1) -> list[str]:
    """`python -m tinct serve [--model DIR] [--threads N] FLAGS...`.

    Tests default to one torch thread: on a 2-core machine that is also training,
    two OpenMP threads made the tiny model's many small ops ~50x slower.
    """
    cmd = [sys.executable, "-m", "tinct", "serve"]
    if model_dir is not None:
        cmd += ["--model", str(model_dir)]
    if threads:
        cmd += ["--threads", str(threads)]
    return cmd + list(flags)


def daemon_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(BACKEND_DIR), *filter(None, [env.get("PYTHONPATH")])])
    return env


class DaemonHarness:
    """A daemon in its own runtime dir, started by a Launcher; ``close`` kills whatever it started."""

    def __init__(
        self,
        runtime_dir: Path,
        command: list[str],
        *,
        heartbeat_timeout: float = 3.0,
        start_timeout: float = 90.0,
    ):
        self.runtime_dir = runtime_dir
        self.launchers: list[Launcher] = []
        self.command = command
        self.heartbeat_timeout = heartbeat_timeout
        self.start_timeout = start_timeout
        self.seen_pids: set[int] = set()

    def launcher(self, transport: str | None = None) -> Launcher:
        la = Launcher(
            self.runtime_dir,
            self.command,
            transport=transport,
            start_timeout=self.start_timeout,
            heartbeat_timeout=self.heartbeat_timeout,
            env=daemon_env(),
        )
        self.launchers.append(la)
        return la

    def connect(self, transport: str | None = None):
        client = self.launcher(transport).connect()
        self.seen_pids.add(client.info.pid)
        return client

    @property
    def info(self):
        return read_connection_file(self.runtime_dir)

    def close(self) -> None:
        info = self.info
        if info is not None:
            self.seen_pids.add(info.pid)
        for la in self.launchers:
            self.seen_pids.update(p.pid for p in la.processes)
            la.stop_started(timeout=10)
        for pid in self.seen_pids:  # daemons started by someone else in this dir (e.g. a CLI run)
            if pid_running(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        deadline = time.monotonic() + 10
        while any(pid_running(p) for p in self.seen_pids) and time.monotonic() < deadline:
            time.sleep(0.05)


def pid_running(pid: int) -> bool:
    """True if the process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


# --- images -------------------------------------------------------------------


def make_image(
    width: int, height: int, channels: int = 4, dtype: str = "u8", seed: int = 0
) -> np.ndarray:
    """A smooth colourful test picture with a varying alpha, as (H, W, C) in ``dtype``."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack(
        [
            0.5 + 0.4 * np.sin(x / max(width, 1) * 6.0 + rng.uniform(0, 3)),
            0.5 + 0.4 * np.cos(y / max(height, 1) * 5.0 + rng.uniform(0, 3)),
            0.5 + 0.4 * np.sin((x + y) / max(width + height, 1) * 7.0),
        ],
        axis=-1,
    )
    alpha = (x + y) / max(width + height - 2, 1)
    f = np.concatenate([rgb, alpha[..., None]], axis=-1)
    if channels == 1:
        f = color.gray(rgb)[..., :1]
    elif channels == 2:
        f = np.concatenate([color.gray(rgb)[..., :1], alpha[..., None]], axis=-1)
    elif channels == 3:
        f = rgb
    return np.ascontiguousarray(color.from_float(f, NP_DTYPES[dtype]))


def as_layer(arr: np.ndarray, order: str = "rgb") -> Layer:
    wire = wire_dtype(arr.dtype)
    h, w, c = arr.shape
    return Layer.from_buffer(np.ascontiguousarray(arr), w, h, c, wire, order=order)


def layer_to_array(layer: Layer) -> np.ndarray:
    """A received layer as a new (H, W, C) array in R, G, B(, A) order."""
    return rgb_array(layer.data, layer.format)


def lstar(arr: np.ndarray) -> np.ndarray:
    rgb, _ = color.split_alpha(color.to_float(arr))
    return color.luminance_lstar(rgb)


def wait_for(predicate, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def run_cli(
    args: list[str], runtime_dir: Path, timeout: float = 120
) -> subprocess.CompletedProcess:
    env = daemon_env()
    env["TINCT_RUNTIME_DIR"] = str(runtime_dir)
    return subprocess.run(
        [sys.executable, "-m", "tinct", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# --- hostile peers (tests/test_daemon_hostile.py, benchmarks/bench_daemon_hostile.py) ----

# How a peer without the token tries to make the daemon hold memory:
STALL_STRATEGIES = (
    "null-message",  # NULL handshake (protocol 1), a header, then one huge pixel frame
    "plain-hello",  # PLAIN greeting, then a HELLO command announced at ``announce`` bytes
    "plain-limit",  # PLAIN greeting, a HELLO just at the wire-frame limit, all but 1 byte
    "wrong-token",  # PLAIN HELLO with a guessed password, then a huge pixel frame anyway
)


def stalling_peer(
    port: int, strategy: str, announce: int, push: int, stop, report: list, chunk: int = 1 << 20
) -> None:
    """A raw ZMTP peer without the token: handshake as ``strategy`` says, announce a frame
    of ``announce`` bytes, push up to ``push`` bytes of it, then stall (hold the
    connection, send nothing) until ``stop`` is set or the daemon closes it.

    Appends {"strategy", "pushed", "closed_after"} to ``report`` (closed_after: seconds
    from the stall to the daemon's close, None if it was still open at ``stop``)."""
    import json
    import select
    import socket
    import struct

    from tinct.protocol.constants import PLAIN_USERNAME, WIRE_FRAME_BYTES
    from tinct.protocol.zmtp import encode_command, encode_frame_header, encode_properties, greeting

    pushed, closed_after, sock = 0, None, None
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        user = PLAIN_USERNAME.encode()
        if strategy == "null-message":
            sock.sendall(greeting(b"NULL"))
            sock.sendall(encode_command(b"READY", encode_properties({"Socket-Type": b"DEALER"})))
        else:
            sock.sendall(greeting(b"PLAIN"))
        if strategy in ("null-message", "wrong-token"):
            if strategy == "wrong-token":
                sock.sendall(encode_command(b"HELLO", bytes([len(user)]) + user + b"\x05guess"))
            head = json.dumps({"v": 1, "op": "echo", "id": "x", "token": "guess"}).encode()
            sock.sendall(encode_frame_header(len(head), more=True) + head)
            sock.sendall(struct.pack("!BQ", 0x02, announce))  # a long message frame
        elif strategy == "plain-hello":
            sock.sendall(struct.pack("!BQ", 0x06, announce))  # a long command frame
        elif strategy == "plain-limit":
            announce = min(announce, WIRE_FRAME_BYTES)
            push = min(push, announce - 1)
            sock.sendall(struct.pack("!BQ", 0x06, announce))
        else:
            raise ValueError(f"unknown strategy {strategy!r}")
        block = bytes(chunk)
        while pushed < push:
            n = min(chunk, push - pushed)
            sock.sendall(block[:n])
            pushed += n
    except OSError:
        pass  # refused or dropped while pushing: what it managed is in ``pushed``
    stalled = time.monotonic()
    try:
        poller = select.poll()  # select() refuses fds above 1023
        if sock is not None:
            poller.register(sock, select.POLLIN)
        while sock is not None and not stop.is_set():
            if poller.poll(50):
                if not sock.recv(1 << 16):
                    closed_after = time.monotonic() - stalled
                    break
    except OSError:
        closed_after = time.monotonic() - stalled
    report.append({"strategy": strategy, "pushed": pushed, "closed_after": closed_after})
    stop.wait()
    if sock is not None:
        sock.close()


def open_idle_connections(port: int, count: int, greet: bool = True) -> list:
    """``count`` raw TCP connections to the daemon that send at most a PLAIN greeting and
    then nothing (no token): the caller closes them."""
    import socket

    from tinct.protocol.zmtp import greeting

    out = []
    for i in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        if greet and i % 2 == 0:
            s.sendall(greeting(b"PLAIN"))
        out.append(s)
    return out


def fd_count(pid: int) -> int:
    """Open file descriptors of a process (Linux)."""
    return len(os.listdir(f"/proc/{pid}/fd"))
