"""The real daemon under hostile and unlucky input: thin frames stay within the work
budget, NaN frames are refused, unauthenticated peers cannot lock clients out or
make it buffer big frames, and the launcher and runtime dir cannot be turned
against the user (loopback only; every load case bounded in count and time)."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tinct.protocol import TinctError
from tinct.protocol import constants as C
from tinct.protocol.connection import read_connection_file, write_connection_file
from tinct.protocol.zmtp import GREETING, encode_command, encode_frame_header, encode_properties
from tinct.testing import (
    DaemonHarness,
    as_layer,
    daemon_env,
    layer_to_array,
    make_image,
    rss_bytes,
    run_cli,
    serve_command,
    wait_for,
)

zmq = pytest.importorskip("zmq")


def _colorize(client, layer, **kw):
    result = None
    for ev in client.colorize(layer, steps=1, scale=1.0, **kw):
        if ev.kind == "result":
            result = ev
    return result


def test_a_thin_frame_is_colorized_in_full(daemon):
    """1 x 400,000: worked at the model's budgeted size (see the next test), the
    result at full size with the input's alpha."""
    arr = make_image(400_000, 1, channels=2)
    with daemon.connect() as client:
        out = layer_to_array(_colorize(client, as_layer(arr)).layer)
    assert out.shape == (1, 400_000, 4)
    np.testing.assert_array_equal(out[..., 3], arr[..., 1])


def test_work_size_is_within_budget_for_any_aspect(model):
    from tinct.pipeline import load_pipeline

    pipe = load_pipeline(str(model), device="cpu")
    m, budget = pipe.size_multiple, pipe.config.work_pixels
    for shape in [(1, 300_000), (300_000, 1), (1, 5_000_000), (7, 100_000), (2, 3), (1, 1)]:
        h, w = pipe.work_size_for(*shape)
        assert h % m == 0 and w % m == 0 and h >= m and w >= m
        assert h * w <= max(budget, m * m), (shape, h, w)
    # ordinary photos keep their aspect ratio
    h, w = pipe.work_size_for(3000, 4000)
    assert abs(w / h - 4 / 3) < 0.2


def test_nan_in_a_float_frame_is_refused_and_the_daemon_keeps_serving(daemon):
    arr = make_image(64, 48, channels=4, dtype="f32")
    bad = arr.copy()
    bad[5, 7, 1] = np.nan
    hints = np.zeros((48, 64, 4), np.float32)
    hints[3, 3] = [np.inf, 0, 0, 1]
    with daemon.connect() as client:
        with pytest.raises(TinctError) as exc:
            _colorize(client, as_layer(bad))
        assert exc.value.code == C.E_BAD_PIXELS and "NaN" in exc.value.message
        with pytest.raises(TinctError) as exc:
            _colorize(client, as_layer(arr), hints=as_layer(hints))
        assert exc.value.code == C.E_BAD_PIXELS and "hints" in exc.value.message
        out = layer_to_array(_colorize(client, as_layer(arr)).layer)
        assert np.isfinite(out).all() and out[..., :3].std() > 0.01


@pytest.mark.parametrize("transport", ["zmq", "pure"])
def test_a_frame_over_the_daemons_limit_is_refused_before_sending(daemon, transport):
    """libzmq would drop the connection (MAXMSGSIZE); the client says why instead."""
    huge = np.zeros((5001, 5000, 4), np.float32)  # 400 MB, never touched: no real memory
    assert huge.nbytes > C.DEFAULT_MAX_FRAME_BYTES
    with daemon.connect(transport) as client:
        with pytest.raises(TinctError) as exc:
            _colorize(client, as_layer(huge))
        assert exc.value.code == C.E_TOO_LARGE and "limit of 400 MB" in exc.value.message
        assert client.hello()["limits"]["max_frame_bytes"] == C.DEFAULT_MAX_FRAME_BYTES


def test_a_daemon_with_a_small_pixel_limit_still_explains_too_large(tmp_path, model):
    """--max-pixels 20000: the frame limit (and MAXMSGSIZE) leaves room for an RGBA u8
    frame over the pixel limit to be answered; a bigger one is refused by the client."""
    harness = DaemonHarness(
        tmp_path / "rt",
        serve_command(model, "--max-pixels", "20000", "--idle-timeout", "0"),
    )
    try:
        for transport in ("zmq", "pure"):
            with harness.connect(transport) as client:
                limit = client.hello()["limits"]["max_frame_bytes"]
                assert limit == 20000 * 16
                with pytest.raises(TinctError) as exc:  # answered by the daemon
                    _colorize(client, as_layer(make_image(160, 160)))
                assert exc.value.code == C.E_TOO_LARGE and "pixels" in exc.value.message
                big = make_image(150, 150, dtype="f32")  # 360,000 bytes > 320,000
                with pytest.raises(TinctError) as exc:  # refused before sending
                    _colorize(client, as_layer(big))
                assert exc.value.code == C.E_TOO_LARGE and "limit" in exc.value.message
                assert client.hello()["limits"]["max_frame_bytes"] == limit  # still connected
    finally:
        harness.close()


def _handshake(port: int) -> socket.socket:
    """A raw ZMTP peer that completed the NULL handshake (no token anywhere)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(GREETING)
    got = b""
    while len(got) < 64:
        got += s.recv(64 - len(got))
    s.sendall(encode_command(b"READY", encode_properties({"Socket-Type": b"DEALER"})))
    return s


def _big_sender(port: int, size: int, sent: list, stop: threading.Event) -> None:
    """Announce one frame of ``size`` bytes, push zeros until refused or done (appending
    the bytes sent to ``sent``), then hold the connection until ``stop``."""
    chunk = bytes(1 << 20)
    total = 0
    s = None
    try:
        s = _handshake(port)
        header = encode_header_frame()
        s.sendall(encode_frame_header(len(header), more=True) + header)
        s.sendall(encode_frame_header(size))
        while total < size:
            s.sendall(chunk)
            total += len(chunk)
    except OSError:
        pass
    sent.append(total)
    stop.wait(60)
    if s is not None:
        s.close()


def encode_header_frame() -> bytes:
    return json.dumps({"v": 1, "op": "echo", "id": "x", "token": "guess"}).encode()


def test_idle_connections_and_big_unauthenticated_frames_do_not_lock_clients_out(tmp_path, model):
    """1,100 idle connections against a daemon started with a 1,024 open-file limit, and
    4 unauthenticated senders of 500 MB frames; a client with the token still colorizes
    and the daemon buffers none of the big frames."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1400:
        pytest.skip(f"hard open-file limit {hard} is too low for 1,100 test connections")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1400), hard))
    cmd = serve_command(model, "--heartbeat", "0.25", "--idle-timeout", "0")
    harness = DaemonHarness(
        tmp_path / "rt", ["sh", "-c", 'ulimit -Sn 1024 && exec "$@"', "sh", *cmd]
    )
    idle: list[socket.socket] = []
    stop = threading.Event()
    senders: list[threading.Thread] = []
    try:
        client = harness.connect()
        pid = client.info.pid
        warm = _colorize(client, as_layer(make_image(64, 48)))
        assert warm is not None
        limits = Path(f"/proc/{pid}/limits").read_text()
        soft_now = int(next(x for x in limits.splitlines() if "open files" in x).split()[3])
        assert soft_now > 1100  # raised from the 1,024 it was started with
        _, peak_before = rss_bytes(pid)

        for _ in range(1100):  # finished handshakes: the daemon holds these indefinitely
            idle.append(_handshake(client.info.port))
        sent: list[int] = []
        senders = [
            threading.Thread(target=_big_sender, args=(client.info.port, 500 << 20, sent, stop))
            for _ in range(4)
        ]
        for t in senders:
            t.start()
        assert wait_for(lambda: len(sent) == 4, 120), sent

        # A new client with the token, while all of that is held.
        fresh = harness.connect("pure")
        src = make_image(96, 64, seed=3)
        out = layer_to_array(_colorize(fresh, as_layer(src)).layer)
        assert out.shape == (64, 96, 4)
        np.testing.assert_array_equal(out[..., 3], src[..., 3])
        fresh.close()
        assert len(os.listdir(f"/proc/{pid}/fd")) > 1024  # the idle ones really were held
        _, peak_after = rss_bytes(pid)
        assert peak_after < 2.5 * 2**30
        # none of the 500 MB frames was buffered (each is over the daemon's max frame size)
        assert peak_after - peak_before < 200 * 2**20, (peak_before, peak_after)
        assert client.hello()["pid"] == pid
        client.close()
    finally:
        stop.set()
        for t in senders:
            t.join(60)
        for s in idle:
            s.close()
        harness.close()


def test_launcher_fails_fast_when_the_lock_holder_does_not_match_daemon_json(daemon):
    """The connection file deleted, or the daemon stopped: the new backend exits 3 at
    once, and the launcher says so instead of waiting out its start timeout."""
    info = daemon.info
    path = daemon.runtime_dir / C.CONNECTION_FILE
    try:
        path.unlink()
        t0 = time.monotonic()
        proc = run_cli(["client", "status", "--start-timeout", "100"], daemon.runtime_dir)
        elapsed = time.monotonic() - t0
    finally:
        write_connection_file(info, daemon.runtime_dir)
    assert proc.returncode != 0
    assert f"pid {info.pid}" in proc.stderr and "kill" in proc.stderr, proc.stderr
    assert elapsed < 60, elapsed  # well inside the 100 s start timeout
    assert read_connection_file(daemon.runtime_dir) == info

    os.kill(info.pid, signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        proc = run_cli(["client", "status", "--start-timeout", "100"], daemon.runtime_dir)
        elapsed = time.monotonic() - t0
    finally:
        os.kill(info.pid, signal.SIGCONT)
    assert proc.returncode != 0 and f"pid {info.pid}" in proc.stderr, proc.stderr
    assert elapsed < 60, elapsed
    with daemon.connect() as client:  # and the daemon is fine afterwards
        assert client.hello()["pid"] == info.pid


def _client_status_without_xdg(tmp_path: Path) -> subprocess.CompletedProcess:
    env = daemon_env()
    env.pop("XDG_RUNTIME_DIR", None)
    env.pop("TINCT_RUNTIME_DIR", None)
    env["TMPDIR"] = str(tmp_path)
    env["TINCT_BACKEND_CMD"] = json.dumps([sys.executable, "-c", "raise SystemExit(9)"])
    return subprocess.run(
        [sys.executable, "-m", "tinct", "client", "status", "--start-timeout", "20"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_symlinked_runtime_dir_is_refused(tmp_path):
    victim = tmp_path / "victim-home"
    victim.mkdir(mode=0o755)
    (tmp_path / f"tinct-{os.getuid()}").symlink_to(victim)
    proc = _client_status_without_xdg(tmp_path)
    assert proc.returncode != 0
    assert "symbolic link" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert stat.S_IMODE(victim.stat().st_mode) == 0o755 and list(victim.iterdir()) == []
    serve = subprocess.run(
        [sys.executable, "-m", "tinct", "serve"],
        env={**_env_without_xdg(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert serve.returncode == 2 and "symbolic link" in serve.stderr
    assert "Traceback" not in serve.stderr and list(victim.iterdir()) == []


def _env_without_xdg(tmp_path: Path) -> dict:
    env = daemon_env()
    env.pop("XDG_RUNTIME_DIR", None)
    env.pop("TINCT_RUNTIME_DIR", None)
    env["TMPDIR"] = str(tmp_path)
    return env


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to create another user's directory")
def test_a_runtime_dir_owned_by_another_user_is_refused(tmp_path):
    squat = tmp_path / f"tinct-{os.getuid()}"
    squat.mkdir(mode=0o777)
    os.chown(squat, 65534, 65534)
    proc = _client_status_without_xdg(tmp_path)
    assert proc.returncode != 0
    assert "belongs to uid 65534" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_a_loose_daemon_json_is_tightened_with_a_warning(daemon):
    path = daemon.runtime_dir / C.CONNECTION_FILE
    os.chmod(path, 0o644)
    proc = run_cli(["client", "status"], daemon.runtime_dir)
    assert proc.returncode == 0, proc.stderr
    assert "readable by others" in proc.stderr and "0600" in proc.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(proc.stdout)["pid"] == daemon.info.pid
