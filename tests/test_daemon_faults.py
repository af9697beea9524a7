"""kill -9 of the daemon mid-job: a clear error within the heartbeat timeout, then a relaunch."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tinct.protocol import DaemonLost
from tinct.protocol.connection import read_connection_file
from tinct.testing import (
    DaemonHarness,
    as_layer,
    layer_to_array,
    lstar,
    make_image,
    pid_running,
    serve_command,
    wait_for,
)

HEARTBEAT_TIMEOUT = 2.0


@pytest.mark.parametrize("transport", ["zmq", "pure"])
def test_kill_9_mid_job_then_relaunch(tmp_path, model, transport):
    harness = DaemonHarness(
        tmp_path,
        serve_command(model, "--heartbeat", "0.2", "--idle-timeout", "0"),
        heartbeat_timeout=HEARTBEAT_TIMEOUT,
    )
    try:
        client = harness.connect(transport)
        first = read_connection_file(tmp_path)
        src = make_image(256, 256, seed=1)
        events = client.colorize(as_layer(src), steps=200)
        assert next(events).kind == "queued"
        assert next(events).kind == "started"
        assert next(events).kind == "progress"
        os.kill(first.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        with pytest.raises(DaemonLost) as info:
            for _ in events:
                pass
        waited = time.monotonic() - killed_at
        assert waited < HEARTBEAT_TIMEOUT + 1.0, waited
        assert info.value.code == "daemon_lost" and "daemon" in info.value.message

        # The next request goes through the launcher: a new daemon, a new connection file.
        small = make_image(32, 24, seed=2)
        result = list(client.colorize(as_layer(small), steps=1))[-1]
        second = read_connection_file(tmp_path)
        assert second.pid != first.pid and second.token != first.token and second.port
        assert client.info.pid == second.pid
        out = layer_to_array(result.layer)
        assert abs(lstar(out[..., :3]) - lstar(small[..., :3])).mean() < 0.5
        # the killed daemon was reaped: no zombie, no orphan
        assert wait_for(lambda: not pid_running(first.pid), 5)
        assert not os.path.exists(f"/proc/{first.pid}")
        client.shutdown()
        client.close()
        assert wait_for(lambda: not pid_running(second.pid), 10)
        assert read_connection_file(tmp_path) is None, "clean shutdown removes the connection file"
    finally:
        harness.close()
    assert not any(pid_running(p) for p in harness.seen_pids)


def test_request_after_idle_shutdown_relaunches(tmp_path, model, transport="zmq"):
    """The daemon exits while the client is idle: the next request starts a new one, no error.

    (zmq is the harder case: a DEALER whose peer is gone would queue the request forever.)
    """
    harness = DaemonHarness(tmp_path, serve_command(model, "--idle-timeout", "1"))
    try:
        client = harness.connect(transport)
        first = client.hello()["pid"]
        assert wait_for(lambda: not pid_running(first), 15), "idle daemon did not exit"
        t0 = time.monotonic()
        second = client.hello()["pid"]
        assert second != first and time.monotonic() - t0 < 60
        result = list(client.colorize(as_layer(make_image(16, 16)), steps=1))[-1]
        assert result.kind == "result"
        client.close()
    finally:
        harness.close()
    assert not any(pid_running(p) for p in harness.seen_pids)
