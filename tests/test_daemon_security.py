"""Loopback-only bind, 0600 connection file, token on every request, one daemon per user, lifecycle."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import time

import pytest

from tinct.protocol import TinctError
from tinct.protocol import constants as C
from tinct.protocol.connection import read_connection_file
from tinct.protocol.messages import encode_header
from tinct.protocol.zmtp import ZmtpDealer
from tinct.testing import (
    DaemonHarness,
    as_layer,
    daemon_env,
    make_image,
    pid_running,
    run_cli,
    serve_command,
    wait_for,
)

zmq = pytest.importorskip("zmq")


def _listening_addresses(pid: int) -> list[tuple[str, int]]:
    """(ip, port) of every TCP socket the process listens on, from /proc."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    found = []
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        try:
            lines = open(f"/proc/{pid}/net/{table}").read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            local, state, inode = parts[1], parts[3], parts[9]
            if state != "0A" or inode not in inodes:  # 0A = LISTEN
                continue
            hexip, hexport = local.split(":")
            raw = bytes.fromhex(hexip)
            if family == socket.AF_INET:
                ip = socket.inet_ntop(family, raw[::-1])
            else:
                ip = socket.inet_ntop(
                    family, b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                )
            found.append((ip, int(hexport, 16)))
    return found


def test_binds_loopback_only(daemon):
    info = daemon.info
    addrs = _listening_addresses(info.pid)
    assert addrs == [("127.0.0.1", info.port)], addrs
    # and it is not reachable on another local address
    try:
        other = socket.gethostbyname(socket.gethostname())
    except OSError:
        other = "127.0.0.1"
    if not other.startswith("127."):
        with pytest.raises(OSError):
            socket.create_connection((other, info.port), timeout=1).close()


def test_connection_file_and_runtime_dir_modes(daemon):
    path = daemon.runtime_dir / C.CONNECTION_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(daemon.runtime_dir.stat().st_mode) == 0o700
    data = json.loads(path.read_text())
    assert (
        set(data) >= {"port", "token", "pid", "protocol"} and data["protocol"] == C.PROTOCOL_VERSION
    )
    assert len(data["token"]) >= 24


def test_requests_without_the_right_token_do_no_work(daemon, zctx):
    info = daemon.info
    good = daemon.connect("zmq")
    before = good.status()
    img = make_image(16, 16)
    fmt = as_layer(img).format.to_json()
    # Without the token no connection gets past the handshake: refused before any message.
    for password in (b"", b"wrong", info.token[:-1].encode(), info.token.encode() + b"x"):
        with pytest.raises(ConnectionError, match="refused the handshake"):
            ZmtpDealer("127.0.0.1", info.port, plain=(C.PLAIN_USERNAME.encode(), password))
    with pytest.raises(ConnectionError, match="closed during the handshake|mechanism"):
        ZmtpDealer("127.0.0.1", info.port)  # NULL: no credentials at all
    with pytest.raises(ConnectionError, match="refused the handshake"):
        ZmtpDealer("127.0.0.1", info.port, plain=(b"admin", info.token.encode()))
    # With it, every request still carries it: a wrong one in the header does nothing.
    ctx = zctx
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, 5000)
    sock.plain_username = C.PLAIN_USERNAME.encode()
    sock.plain_password = info.token.encode()
    sock.connect(f"tcp://127.0.0.1:{info.port}")
    for token in (None, "", "wrong", info.token[:-1], info.token + "x"):
        for op, extra, frames in (
            ("colorize", {"image": fmt}, [img.tobytes()]),
            ("shutdown", {}, []),
            ("status", {}, []),
            ("echo", {"image": fmt}, [img.tobytes()]),
        ):
            header = {"v": C.PROTOCOL_VERSION, "op": op, "id": "t", **extra}
            if token is not None:
                header["token"] = token
            sock.send_multipart([encode_header(header), *frames])
            reply = json.loads(sock.recv_multipart()[0])
            assert reply["reply"] == "error" and reply["code"] == C.E_UNAUTHORIZED, reply
    sock.close(0)
    after = good.status()
    assert after["jobs"] == before["jobs"] and after["queued"] == {"colorize": 0, "interactive": 0}
    assert after["cache"]["jobs"] == before["cache"]["jobs"]
    assert good.hello()["pid"] == info.pid  # the unauthorised shutdowns did nothing
    good.close()


def test_second_daemon_refuses_to_start(daemon, model):
    before = read_connection_file(daemon.runtime_dir)
    env = daemon_env()
    env["TINCT_RUNTIME_DIR"] = str(daemon.runtime_dir)
    proc = subprocess.run(
        serve_command(model), env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert read_connection_file(daemon.runtime_dir) == before


def test_cli_client_colorize_and_rescale(daemon, tmp_path):
    import numpy as np

    src = make_image(40, 30, 4, "u16")
    np.save(tmp_path / "in.npy", src)
    np.save(tmp_path / "ref.npy", make_image(70, 50, 3, "u8", seed=5))  # another size, colour
    out = run_cli(
        [
            "client",
            "colorize",
            str(tmp_path / "in.npy"),
            "-o",
            str(tmp_path / "out.npy"),
            "--reference",
            str(tmp_path / "ref.npy"),
            "--steps",
            "1",
            "--transport",
            "pure",
            "-q",
        ],
        daemon.runtime_dir,
    )
    assert out.returncode == 0, out.stderr
    job = json.loads(out.stdout)["job"]
    res = np.load(tmp_path / "out.npy")
    assert (
        res.shape == (30, 40, 4)
        and res.dtype == np.uint16
        and np.array_equal(res[..., 3], src[..., 3])
    )
    out = run_cli(
        [
            "client",
            "rescale",
            job,
            "--scale",
            "1.4",
            "--size",
            "20x15",
            "-o",
            str(tmp_path / "small.png"),
        ],
        daemon.runtime_dir,
    )
    assert out.returncode == 0, out.stderr
    from PIL import Image

    assert Image.open(tmp_path / "small.png").size == (20, 15)
    bad = run_cli(["client", "rescale", "nope", "-o", str(tmp_path / "x.png")], daemon.runtime_dir)
    assert bad.returncode == 1 and "unknown_job" in bad.stderr and "Traceback" not in bad.stderr


def test_idle_shutdown_and_sigterm_remove_the_connection_file(tmp_path, model):
    harness = DaemonHarness(tmp_path / "idle", serve_command(model, "--idle-timeout", "1"))
    try:
        client = harness.connect()
        pid = client.info.pid
        client.close()
        assert wait_for(lambda: not pid_running(pid), 15), "idle daemon did not exit"
        assert read_connection_file(harness.runtime_dir) is None
    finally:
        harness.close()
    harness = DaemonHarness(tmp_path / "term", serve_command(model, "--idle-timeout", "0"))
    try:
        client = harness.connect()
        pid = client.info.pid
        client.close()
        os.kill(pid, 15)
        assert wait_for(lambda: not pid_running(pid), 15)
        assert read_connection_file(harness.runtime_dir) is None
    finally:
        harness.close()


def test_launcher_reports_a_backend_that_cannot_start(tmp_path):
    from tinct.protocol import Launcher, LaunchError

    la = Launcher(tmp_path, ["/bin/sh", "-c", "echo model missing >&2; exit 7"], start_timeout=10)
    t0 = time.monotonic()
    with pytest.raises(LaunchError) as info:
        la.connect()
    assert (
        time.monotonic() - t0 < 10
        and "code 7" in info.value.message
        and "model missing" in info.value.message
    )
    assert isinstance(info.value, TinctError)
