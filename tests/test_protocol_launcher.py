"""Launcher configuration and connection-file handling (no daemon needed)."""

from __future__ import annotations

import json
import os
import stat
import sys

import pytest

from tinct.protocol import constants as C
from tinct.protocol import transport
from tinct.protocol.connection import (
    ConnectionInfo,
    live_connection,
    read_connection_file,
    remove_connection_file,
    runtime_dir,
    write_connection_file,
)
from tinct.protocol.launcher import backend_command, parse_command
from tinct.protocol.transport import choose_transport


def test_backend_command_precedence(tmp_path, monkeypatch):
    monkeypatch.delenv(C.ENV_BACKEND_CMD, raising=False)
    monkeypatch.setenv(C.ENV_CONFIG, str(tmp_path / "none.json"))
    assert backend_command() == [sys.executable, "-m", "tinct", "serve"]
    (tmp_path / "config.json").write_text(
        json.dumps({"backend_cmd": ["/opt/tinct-backend/tinct", "serve"]})
    )
    monkeypatch.setenv(C.ENV_CONFIG, str(tmp_path / "config.json"))
    assert backend_command() == ["/opt/tinct-backend/tinct", "serve"]
    monkeypatch.setenv(C.ENV_BACKEND_CMD, '["/x/y", "serve", "--model", "/m m"]')
    assert backend_command() == ["/x/y", "serve", "--model", "/m m"]
    monkeypatch.setenv(C.ENV_BACKEND_CMD, "/x/y serve --model '/m m'")
    assert backend_command() == ["/x/y", "serve", "--model", "/m m"]
    assert backend_command(["a", "b"]) == ["a", "b"]
    with pytest.raises(ValueError):
        parse_command([])


@pytest.mark.parametrize("has_zmq, default", [(True, "zmq"), (False, "pure")])
def test_transport_choice(monkeypatch, has_zmq, default):
    """explicit > $TINCT_TRANSPORT > zmq when importable > pure."""
    monkeypatch.setattr(transport, "zmq_available", lambda: has_zmq)
    monkeypatch.delenv(C.ENV_TRANSPORT, raising=False)
    assert choose_transport() == default
    monkeypatch.setenv(C.ENV_TRANSPORT, "pure")
    assert choose_transport() == "pure"
    assert choose_transport("pure") == "pure"
    if has_zmq:
        assert choose_transport("zmq") == "zmq"  # the argument beats the environment
    else:
        with pytest.raises(ValueError, match="pyzmq is not importable"):
            choose_transport("zmq")
    with pytest.raises(ValueError, match="carrier-pigeon"):
        choose_transport("carrier-pigeon")


def test_runtime_dir_resolution_and_mode(tmp_path, monkeypatch):
    monkeypatch.setenv(C.ENV_RUNTIME_DIR, str(tmp_path / "rt"))
    assert runtime_dir() == tmp_path / "rt"
    assert stat.S_IMODE((tmp_path / "rt").stat().st_mode) == 0o700
    monkeypatch.delenv(C.ENV_RUNTIME_DIR)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "xdg"))
    assert runtime_dir() == tmp_path / "xdg" / "tinct"
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert runtime_dir(create=False).name == f"tinct-{os.getuid()}"
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o777)
    os.chmod(loose, 0o777)
    runtime_dir(explicit=loose)
    assert stat.S_IMODE(loose.stat().st_mode) == 0o700


def test_connection_file_round_trip_and_staleness(tmp_path):
    info = ConnectionInfo(port=5555, token="t" * 32, pid=os.getpid())
    path = write_connection_file(info, tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_connection_file(tmp_path) == info
    # our pid is alive but nobody holds the daemon lock: the file is stale
    assert live_connection(tmp_path) is None
    dead = ConnectionInfo(port=5555, token="x", pid=2**22 + 12345)
    write_connection_file(dead, tmp_path)
    assert live_connection(tmp_path) is None
    remove_connection_file(info, tmp_path)  # not ours any more: left alone
    assert read_connection_file(tmp_path) == dead
    remove_connection_file(dead, tmp_path)
    assert read_connection_file(tmp_path) is None
    (tmp_path / C.CONNECTION_FILE).write_text("{garbage")
    assert read_connection_file(tmp_path) is None
