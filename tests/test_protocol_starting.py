"""Starting the daemon: the launcher's phases, a cancelled start that leaves nothing
running, and the shared start the plugins begin early (BackendStart). Real processes:
a real daemon on the tiny model, and small scripts that hang or fail as a broken
backend does."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

from tinct.protocol import Cancelled, LaunchError
from tinct.protocol.constants import LOG_FILE, StartPhase
from tinct.protocol.launcher import Launcher
from tinct.protocol.starting import BackendStart
from tinct.testing import daemon_env, pid_running, save_tiny_model, serve_command

# Hangs like a backend stuck while starting; a child in its process group hangs too
# (the launcher must end the whole group). Writes "pid child_pid" to argv[1].
HANGING = """\
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
with open(sys.argv[1], "w") as f:
    f.write(f"{os.getpid()} {child.pid}")
time.sleep(120)
"""

# Exits 1 at once with a traceback in its log, as a backend with a broken install.
FAILING = """\
import sys
with open(sys.argv[1], "a") as f:
    f.write("started\\n")
print("Traceback (most recent call last):", file=sys.stderr)
print("RuntimeError: the model folder is missing", file=sys.stderr)
sys.exit(1)
"""


def _script(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "backend.py"
    path.write_text(text)
    return path


def _wait_for(cond, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def _hanging_pids(marker: Path) -> list[int]:
    assert _wait_for(lambda: marker.exists() and marker.read_text().strip(), 20)
    return [int(p) for p in marker.read_text().split()]


def test_a_cancelled_start_stops_the_backend_and_its_children(tmp_path):
    marker = tmp_path / "pids"
    cmd = [sys.executable, str(_script(tmp_path, HANGING)), str(marker)]
    launcher = Launcher(tmp_path / "rt", cmd, start_timeout=60)
    cancel = threading.Event()
    phases: list[StartPhase] = []
    errors: list[BaseException] = []

    def start():
        try:
            launcher.start(phases.append, cancel)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=start)
    thread.start()
    pids = _hanging_pids(marker)
    assert all(pid_running(p) for p in pids)
    t0 = time.monotonic()
    cancel.set()
    thread.join(10)
    stopped = time.monotonic() - t0
    assert not thread.is_alive() and stopped < 2.0, stopped
    assert len(errors) == 1 and isinstance(errors[0], Cancelled), errors
    assert errors[0].code == "cancelled"
    assert phases == [StartPhase.STARTING]  # it never took the lock: no LOADING
    assert _wait_for(lambda: not any(pid_running(p) for p in pids), 5), pids
    assert launcher.processes == []


@pytest.mark.slow
def test_an_early_start_is_the_one_colorize_waits_for_and_reports_loading(tmp_path):
    """begin() (the docker shown / the dialog opened), then wait() (Colorize) joins that
    same start: one backend launched, one daemon in the log; the phases heard are the
    start's (LOADING last: the daemon holds its lock while it loads the model)."""
    model = save_tiny_model(tmp_path / "model")
    rt = tmp_path / "rt"
    launchers: list[Launcher] = []

    def factory():
        la = Launcher(rt, serve_command(model, "--idle-timeout", "0"), env=daemon_env())
        launchers.append(la)
        return la

    start = BackendStart(factory)
    try:
        start.begin()
        start.begin()  # shown again: still the one start
        assert start.running
        phases: list[StartPhase] = []
        launcher, info = start.wait(phases.append)
        assert phases and phases[-1] == StartPhase.LOADING, phases
        assert set(phases) <= {StartPhase.STARTING, StartPhase.LOADING}
        assert start.launches == 1 and len(launchers) == 1
        assert [p.pid for p in launcher.processes] == [info.pid]
        again = start.wait()  # a later Colorize: the same daemon, nothing started
        assert again[1] == info and start.launches == 1
        log = (rt / LOG_FILE).read_text()
        assert log.count("serving protocol") == 1 and "second one" not in log, log
    finally:
        for la in launchers:
            la.stop_started()


def test_a_failed_early_start_is_raised_once_to_colorize_then_tried_again(tmp_path):
    starts = tmp_path / "starts"
    cmd = [sys.executable, str(_script(tmp_path, FAILING)), str(starts)]
    start = BackendStart(lambda: Launcher(tmp_path / "rt", cmd, start_timeout=30))
    start.begin()  # early: nobody is told yet
    assert _wait_for(lambda: not start.running, 20)
    with pytest.raises(LaunchError) as info:
        start.wait()  # Colorize: the start's own error, as a start of its own gives it
    assert info.value.summary == "the Tinct backend exited with code 1 while starting"
    assert info.value.log_path == str(tmp_path / "rt" / LOG_FILE)
    assert "RuntimeError: the model folder is missing" in info.value.details
    assert starts.read_text().count("started") == 1  # not started again for it
    with pytest.raises(LaunchError):
        start.wait()  # the next Colorize tries again
    assert start.launches == 2 and starts.read_text().count("started") == 2


def test_a_start_that_cannot_be_configured_is_the_starts_error(tmp_path):
    def factory():
        raise LaunchError("no Tinct backend configured: run `tinct install`")

    start = BackendStart(factory)
    with pytest.raises(LaunchError, match="no Tinct backend configured"):
        start.wait()


def test_cancelling_a_wait_stops_the_start_and_the_next_wait_starts_afresh(tmp_path):
    marker = tmp_path / "pids"
    cmd = [sys.executable, str(_script(tmp_path, HANGING)), str(marker)]
    start = BackendStart(lambda: Launcher(tmp_path / "rt", cmd, start_timeout=60))
    start.begin()
    pids = _hanging_pids(marker)
    phases: list[StartPhase] = []
    pressed = time.monotonic() + 0.3
    t0 = time.monotonic()
    with pytest.raises(Cancelled):
        start.wait(phases.append, cancelled=lambda: time.monotonic() > pressed)
    assert time.monotonic() - t0 < 1.0  # the wait ends at once
    assert phases == [StartPhase.STARTING]
    assert not start.running
    assert start.join() and not any(pid_running(p) for p in pids), pids
    # Colorize again: a new start (the old one's backend is gone first)
    marker.unlink()
    start.begin()
    assert start.launches == 2 and start.running
    new = _hanging_pids(marker)
    assert set(new).isdisjoint(pids)
    start.cancel()
    assert start.join() and not any(pid_running(p) for p in new)
