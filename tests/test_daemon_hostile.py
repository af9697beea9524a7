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
from tinct.protocol.zmtp import ZmtpDealer
from tinct.testing import (
    STALL_STRATEGIES,
    DaemonHarness,
    as_layer,
    daemon_env,
    fd_count,
    layer_to_array,
    make_image,
    open_idle_connections,
    rss_bytes,
    run_cli,
    serve_command,
    stalling_peer,
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


def test_nan_in_float_hints_or_reference_is_refused_naming_the_frame(daemon):
    """With a reference the hints are not the last frame: each frame is checked for what it
    is (NaN hints with a same-size reference used to pass, a NaN reference gave 'internal')."""
    arr = make_image(64, 48, channels=4, dtype="f32")
    hints = np.zeros((48, 64, 4), np.float32)
    hints[10:20, 10:20] = [0.9, 0.1, 0.1, 1.0]
    nan_hints = hints.copy()
    nan_hints[3, 3] = [np.nan, 0, 0, 1]
    ref = make_image(64, 48, channels=3, dtype="f32", seed=5)  # same size as the image
    nan_ref = ref.copy()
    nan_ref[7, 9, 2] = np.inf
    with daemon.connect() as client:
        cases = [
            ("hints", dict(hints=as_layer(nan_hints), reference=as_layer(ref))),
            ("reference", dict(hints=as_layer(hints), reference=as_layer(nan_ref))),
            ("reference", dict(reference=as_layer(nan_ref))),
        ]
        for name, kw in cases:
            with pytest.raises(TinctError) as exc:
                _colorize(client, as_layer(arr), **kw)
            assert exc.value.code == C.E_BAD_PIXELS, exc.value
            assert f"the {name} frame has 1 NaN or infinite" in exc.value.message
            assert "\n" not in exc.value.message
        ok = _colorize(client, as_layer(arr), hints=as_layer(hints), reference=as_layer(ref))
        assert np.isfinite(layer_to_array(ok.layer)).all()


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


STALLED_PEERS = 8
ANNOUNCE = 399_000_000  # under the old 400 MB frame limit (protocol 1's MAXMSGSIZE)
PUSH = 380 << 20


def _raise_nofile(need: int) -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < need:
        pytest.skip(f"hard open-file limit {hard} is too low for {need} test connections")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need), hard))


def test_stalled_unauthenticated_peers_cannot_make_the_daemon_hold_memory(tmp_path, model):
    """8 peers without the token each announce a 399 MB frame (every way in: the old NULL
    handshake, a PLAIN HELLO of that size, one at the wire-frame limit, a wrong token
    then a message), push what they can of 380 MiB and stall. The daemon holds
    <= 300 MB more than when idle (protocol 1: 3.7 GB), closes every one of them within
    the handshake timeout, and a client with the token colorizes meanwhile.
    (Real sizes: the daemon stops each peer at the frame's size field or after at most
    WIRE_FRAME_BYTES; benchmarks/bench_daemon_hostile.py times it.)"""
    harness = DaemonHarness(
        tmp_path / "rt", serve_command(model, "--heartbeat", "0.25", "--idle-timeout", "0")
    )
    stop = threading.Event()
    report: list[dict] = []
    peers: list[threading.Thread] = []
    try:
        client = harness.connect()
        pid = client.info.pid
        src = make_image(256, 192, seed=4)
        assert _colorize(client, as_layer(src)) is not None  # warm
        idle_rss, _ = rss_bytes(pid)

        peers = [
            threading.Thread(
                target=stalling_peer,
                args=(client.info.port, STALL_STRATEGIES[i % 4], ANNOUNCE, PUSH, stop, report),
            )
            for i in range(STALLED_PEERS)
        ]
        for t in peers:
            t.start()
        # Every peer has pushed what it could and been closed (each is reported once closed
        # or at stop): within the handshake timeout plus a generous margin.
        assert wait_for(lambda: len(report) == STALLED_PEERS, C.HANDSHAKE_TIMEOUT + 30), report
        held_rss, _ = rss_bytes(pid)
        for r in report:
            assert r["closed_after"] is not None, r
            assert r["closed_after"] < C.HANDSHAKE_TIMEOUT + 15, r
        # A client with the token: a fresh connection of each kind.
        for transport in ("zmq", "pure"):
            with harness.connect(transport) as fresh:
                out = layer_to_array(_colorize(fresh, as_layer(src)).layer)
            np.testing.assert_array_equal(out[..., 3], src[..., 3])
        assert held_rss - idle_rss <= 300 * 10**6, (idle_rss, held_rss, report)
        assert client.hello()["pid"] == pid
        client.close()
    finally:
        stop.set()
        for t in peers:
            t.join(30)
        harness.close()


@pytest.mark.parametrize("transport", ["zmq", "pure"])
def test_idle_connections_without_the_token_are_closed_and_lock_no_client_out(
    tmp_path, model, transport
):
    """2,000 connections that send a greeting (or nothing) and then idle: a client with
    the token colorizes while they are open, and the daemon closes every one of them
    within the handshake timeout, giving their file descriptors back (20,000 by hand:
    benchmarks/bench_daemon_hostile.py --idle 20000)."""
    count = 2000
    _raise_nofile(count + 200)
    harness = DaemonHarness(
        tmp_path / "rt", serve_command(model, "--heartbeat", "0.25", "--idle-timeout", "0")
    )
    idle: list[socket.socket] = []
    try:
        client = harness.connect(transport)
        pid = client.info.pid
        assert _colorize(client, as_layer(make_image(32, 32))) is not None
        fds_before = fd_count(pid)
        idle = open_idle_connections(client.info.port, count)
        src = make_image(96, 64, seed=3)
        with harness.connect(transport) as fresh:  # while they are open
            out = layer_to_array(_colorize(fresh, as_layer(src)).layer)
        np.testing.assert_array_equal(out[..., 3], src[..., 3])
        opened = time.monotonic()

        def closed(s: socket.socket) -> bool:
            s.setblocking(False)
            try:
                while s.recv(1 << 16):  # the daemon's greeting, then its close
                    pass
            except BlockingIOError:
                return False
            except OSError:
                pass
            return True

        def all_closed() -> bool:
            return all(closed(s) for s in idle)

        assert wait_for(all_closed, C.HANDSHAKE_TIMEOUT + 60, interval=0.5)
        assert time.monotonic() - opened < C.HANDSHAKE_TIMEOUT + 60
        assert wait_for(lambda: fd_count(pid) <= fds_before + 20, 30), (fds_before, fd_count(pid))
        assert _colorize(client, as_layer(src)) is not None  # the first connection still works
        client.close()
    finally:
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


def test_a_loose_daemon_json_gets_a_new_token_and_the_old_one_is_refused(daemon):
    """daemon.json found 0644: whoever could read it may hold the token, so the daemon
    publishes a new one (mode 0600) and refuses the old one, in the handshake and in the
    header; a client that read the loose file itself tightens it, warns, and gets the new
    token; a client connected before reconnects with it by itself."""
    path = daemon.runtime_dir / C.CONNECTION_FILE
    old = daemon.info
    earlier = daemon.connect("pure")  # connected with the old token
    assert earlier.hello()["pid"] == old.pid

    # 1. The daemon finds it loose.
    os.chmod(path, 0o644)
    rotated = lambda: json.loads(path.read_text())["token"] != old.token  # noqa: E731 (no chmod)
    assert wait_for(rotated, 10), "the token was not rotated"
    new = daemon.info
    assert new.pid == old.pid and new.port == old.port
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    user = C.PLAIN_USERNAME.encode()
    with pytest.raises(ConnectionError, match="refused the handshake"):
        ZmtpDealer("127.0.0.1", old.port, plain=(user, old.token.encode()))
    raw = ZmtpDealer("127.0.0.1", new.port, plain=(user, new.token.encode()))
    try:  # a transport made with the new token, a request with the old one
        header = {"v": C.PROTOCOL_VERSION, "op": "shutdown", "id": "old", "token": old.token}
        raw.send_multipart([json.dumps(header).encode()])
        reply = json.loads(bytes(raw.recv_multipart(10)[0]))
    finally:
        raw.close()
    assert reply["code"] == C.E_UNAUTHORIZED, reply
    time.sleep(1.1)  # idle: the client looks at daemon.json before its next request
    assert earlier.hello()["pid"] == old.pid and earlier.info.token == new.token
    log = (daemon.runtime_dir / C.LOG_FILE).read_text()
    assert "readable by others (mode 644): rotated the token" in log, log[-2000:]

    # 2. A client reads it loose first (the daemon stopped meanwhile, so it cannot look
    #    first): the client tightens it and warns; the daemon, seeing it was changed,
    #    rotates again, and the CLI client gets the newest token.
    os.kill(old.pid, signal.SIGSTOP)
    try:
        os.chmod(path, 0o644)
        proc = subprocess.Popen(
            [sys.executable, "-m", "tinct", "client", "status"],
            env={**daemon_env(), "TINCT_RUNTIME_DIR": str(daemon.runtime_dir)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert wait_for(lambda: stat.S_IMODE(path.stat().st_mode) == 0o600, 60)
    finally:
        os.kill(old.pid, signal.SIGCONT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "readable by others" in err and "0600" in err and "Traceback" not in err
    assert json.loads(out)["pid"] == old.pid
    newest = daemon.info
    assert newest.token not in (old.token, new.token)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    earlier.close()


def test_one_big_rescale_does_not_evict_another_clients_job(tmp_path, model):
    """Client B rescales its job to 1536x1536 (36 MiB of float source, over the whole
    32 MiB cache): client A's job stays cached and rescalable (it used to be evicted:
    'unknown_job'). The big rescale is still answered, at its size."""
    harness = DaemonHarness(
        tmp_path / "rt",
        serve_command(model, "--heartbeat", "0.25", "--idle-timeout", "0", "--cache-mb", "32"),
    )
    try:
        a, b = harness.connect("zmq"), harness.connect("pure")
        job_a = _colorize(a, as_layer(make_image(64, 48, seed=1))).job
        job_b = _colorize(b, as_layer(make_image(64, 48, seed=2))).job
        big = b.rescale(job_b, 1.0, size=(1536, 1536))
        assert (big.layer.format.width, big.layer.format.height) == (1536, 1536)
        small = a.rescale(job_a, 0.5, size=(32, 24))
        assert small.job == job_a and small.layer.format.width == 32
        assert b.rescale(job_b, 1.2, size=(32, 24)).job == job_b  # B's own job is kept too
        cache = a.status()["cache"]
        assert cache["jobs"] == 2 and cache["bytes"] <= cache["max_bytes"], cache
        a.close()
        b.close()
    finally:
        harness.close()


@pytest.mark.parametrize("transport", ["zmq", "pure"])
def test_a_big_frame_sent_in_wire_frames_is_not_held_twice(tmp_path, model, transport):
    """A 120 MB image arrives as ~920 wire frames of 128 KiB; joining them into one buffer
    frees each as it goes (and gives the heap back), so the daemon peaks at about one
    frame's size more than before, not two; the echo comes back byte for byte."""
    harness = DaemonHarness(tmp_path / "rt", serve_command(model, "--idle-timeout", "0"))
    try:
        client = harness.connect(transport)
        pid = client.info.pid
        small = np.arange(64 * 64 * 4, dtype=np.uint8).reshape(64, 64, 4)
        assert bytes(client.echo(as_layer(small)).data) == small.tobytes()
        _, peak_before = rss_bytes(pid)
        arr = np.random.default_rng(1).integers(0, 256, (5000, 6000, 4), np.uint8)
        back = client.echo(as_layer(arr))
        assert memoryview(back.data).nbytes == arr.nbytes and bytes(back.data) == arr.tobytes()
        _, peak_after = rss_bytes(pid)
        assert peak_after - peak_before < 1.4 * arr.nbytes, (peak_before, peak_after)
        client.close()
    finally:
        harness.close()
