"""Find the running daemon through its connection file, or start one (standard library only).

The backend command comes from, in order: the ``backend_cmd`` argument,
$TINCT_BACKEND_CMD (a JSON list, or a shell-style command line), the
``backend_cmd`` key of the config file ($TINCT_CONFIG, else
$XDG_CONFIG_HOME/tinct/config.json or ~/.config/tinct/config.json; the
installer records the bundled backend there), else
``[sys.executable, "-m", "tinct", "serve"]``.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from .connection import (
    ConnectionInfo,
    RuntimeDirError,
    live_connection,
    lock_holder,
    runtime_dir,
)
from .constants import (
    CONNECTION_FILE,
    DEFAULT_HEARTBEAT_TIMEOUT,
    DEFAULT_START_TIMEOUT,
    ENV_BACKEND_CMD,
    ENV_CONFIG,
    ENV_RUNTIME_DIR,
    EXIT_ALREADY_RUNNING,
    LOCK_FILE,
    LOG_FILE,
    StartPhase,
)
from .errors import Cancelled, LaunchError, TinctError
from .isolation import backend_environment

STOP_WAIT = 3.0  # seconds a cancelled start's backend gets to exit on SIGTERM before SIGKILL


class Flag(Protocol):
    """What cancels a start: a ``threading.Event``, or anything with ``is_set``."""

    def is_set(self) -> bool: ...


OnPhase = Callable[[StartPhase], None]


def runtime_dir_of(explicit: str | Path | None) -> Path:
    """`runtime_dir(explicit)` with its failure raised as the plugins' LaunchError."""
    try:
        return runtime_dir(explicit=explicit)
    except RuntimeDirError as exc:
        raise LaunchError(str(exc)) from exc


def config_path() -> Path:
    """Tinct's config file: $TINCT_CONFIG, else %APPDATA%/tinct/config.json on Windows, else
    $XDG_CONFIG_HOME (default ~/.config)/tinct/config.json.
    """
    if os.environ.get(ENV_CONFIG):
        return Path(os.environ[ENV_CONFIG])
    if os.name == "nt" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "tinct" / "config.json"
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "tinct" / "config.json"


def load_config() -> dict:
    """The config file's JSON object, or {} when it is missing, unreadable or not an object."""
    try:
        obj = json.loads(config_path().read_text())
    except (OSError, ValueError):
        return {}
    return obj if isinstance(obj, dict) else {}


def parse_command(value: object) -> list[str]:
    """A backend command as an argv list, from a list of strings, a JSON list, or a command line
    (shell-split; Windows rules on Windows). Raises ValueError for anything else or an empty
    command.
    """
    if isinstance(value, list) and value and all(isinstance(x, str) for x in value):
        return list(value)
    if isinstance(value, str) and value.strip():
        text = value.strip()
        if text.startswith("["):
            return parse_command(json.loads(text))
        return shlex.split(text, posix=os.name != "nt")
    raise ValueError(
        f"backend command must be a non-empty list of strings or a command line, got {value!r}"
    )


def backend_command(explicit: list[str] | str | None = None) -> list[str]:
    """The command that starts the daemon: `explicit` > $TINCT_BACKEND_CMD > the config file's
    "backend_cmd" (what `tinct install` records) > `python -m tinct serve` of this interpreter.
    """
    if explicit:
        return parse_command(explicit)
    if os.environ.get(ENV_BACKEND_CMD):
        return parse_command(os.environ[ENV_BACKEND_CMD])
    configured = load_config().get("backend_cmd")
    if configured:
        return parse_command(configured)
    return [sys.executable, "-m", "tinct", "serve"]


class Launcher:
    """Connects clients to the user's daemon, starting (or restarting) it when needed."""

    def __init__(
        self,
        runtime_dir: str | Path | None = None,
        backend_cmd: list[str] | str | None = None,
        *,
        transport: str | None = None,
        start_timeout: float = DEFAULT_START_TIMEOUT,
        probe_timeout: float = 3.0,
        heartbeat_timeout: float = DEFAULT_HEARTBEAT_TIMEOUT,
        env: dict | None = None,
    ):
        self.runtime_dir = runtime_dir_of(runtime_dir)
        self.backend_cmd = backend_command(backend_cmd)
        self.transport = transport
        self.start_timeout = start_timeout
        self.probe_timeout = probe_timeout
        self.heartbeat_timeout = heartbeat_timeout
        self.env = env
        self.processes: list[subprocess.Popen] = []  # daemons we started (reaped on relaunch)

    def _dir(self) -> Path:
        return self.runtime_dir

    def connect(self):
        """A Client for the live daemon; starts one if none answers."""
        from .client import Client

        info = self.ensure()
        return Client(info, self.transport, heartbeat_timeout=self.heartbeat_timeout, launcher=self)

    def connect_with_hello(self):
        """`connect`, then the daemon's hello: (client, hello dict). The client is
        closed again if the hello fails, so nothing is left open."""
        client = self.connect()
        try:
            return client, client.hello()
        except Exception:
            client.close()
            raise

    def find(self) -> ConnectionInfo | None:
        """The live daemon's connection info if it answers hello, else None."""
        info = live_connection(self._dir())
        if info is None:
            return None
        return info if self._probe(info) else None

    def ensure(self, on_phase: OnPhase | None = None, cancel: Flag | None = None) -> ConnectionInfo:
        """The live daemon's connection info, starting one when none answers hello (daemons this
        launcher started and that died are reaped first). ON_PHASE and CANCEL: see ``start``.
        """
        self._reap()
        return self.find() or self.start(on_phase, cancel)

    def _probe(self, info: ConnectionInfo) -> bool:
        from .client import Client

        try:
            client = Client(
                info,
                self.transport,
                heartbeat_timeout=self.probe_timeout,
                connect_timeout=self.probe_timeout,
            )
        except TinctError:
            return False
        try:
            client.hello()
            return True
        except TinctError:
            return False
        finally:
            client.close()

    def start(self, on_phase: OnPhase | None = None, cancel: Flag | None = None) -> ConnectionInfo:
        """Start the backend command and wait (bounded) until it answers hello.

        ON_PHASE hears each StartPhase as it begins: STARTING once the process runs, LOADING
        once it holds the daemon lock (it is loading the model; ``daemon.lock`` says
        "<pid>" until it serves). When CANCEL is set the wait ends within 50 ms: the
        backend this call started is stopped (SIGTERM to its process group, SIGKILL after
        STOP_WAIT seconds), so nothing is left running, and Cancelled is raised.
        """
        directory = self._dir()
        # Isolated from the host: none of its Python variables (an ``env`` given to the
        # Launcher is taken as it is), and the runtime dir as the working directory
        # (`python -m tinct` would import a ./tinct folder there first).
        env = backend_environment(os.environ) if self.env is None else dict(self.env)
        env[ENV_RUNTIME_DIR] = str(directory)
        log_path = directory / LOG_FILE
        kwargs: dict = {}
        if os.name == "nt":
            kwargs["creationflags"] = (
                subprocess.CREATE_NEW_PROCESS_GROUP | 0x00000008
            )  # DETACHED_PROCESS
        else:
            kwargs["start_new_session"] = (
                True  # the daemon outlives the plugin; idle shutdown ends it
            )
        with open(log_path, "ab") as log:
            try:
                proc = subprocess.Popen(
                    self.backend_cmd,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    env=env,
                    cwd=directory,
                    **kwargs,
                )
            except OSError as exc:
                raise LaunchError(
                    f"cannot start the Tinct backend {self.backend_cmd!r}: {exc}",
                    summary=f"cannot start the Tinct backend {self.backend_cmd[0]!r} "
                    f"({exc.strerror or exc})",
                    log_path=str(log_path),
                    details=str(exc),
                ) from exc
        self.processes.append(proc)
        phase = StartPhase.STARTING
        if on_phase is not None:
            on_phase(phase)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if cancel is not None and cancel.is_set():
                self._stop(proc)
                raise Cancelled("cancelled", "the backend's start was cancelled")
            if phase is StartPhase.STARTING and _holder_loading(directory):
                phase = StartPhase.LOADING
                if on_phase is not None:
                    on_phase(phase)
            self._reap()  # a daemon that just died (e.g. the one we replace) must not linger as a zombie
            info = live_connection(directory)
            if info is not None and self._probe(info):
                return info
            code = proc.poll()
            if code == EXIT_ALREADY_RUNNING and _holder_serving(directory):
                info = live_connection(directory)  # it may have published just now
                if info is not None and self._probe(info):
                    return info
                raise _lock_held_error(directory)
            # Exit 3 with the holder still loading: another launch won the race; wait for it.
            if code is not None and code != EXIT_ALREADY_RUNNING:
                raise _start_failed(
                    f"the Tinct backend exited with code {code} while starting", log_path
                )
            time.sleep(0.05)
        raise _start_failed(
            f"the Tinct backend did not answer within {self.start_timeout:.0f} s", log_path
        )

    def _stop(self, proc: subprocess.Popen) -> None:
        """End a backend this launcher started (and what it started: its process group)."""
        if proc.poll() is None:
            _signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(STOP_WAIT)
            except subprocess.TimeoutExpired:
                _signal_group(proc, getattr(signal, "SIGKILL", signal.SIGTERM))
                proc.wait(STOP_WAIT)
        self._reap()

    def _reap(self) -> None:
        """Collect exit codes of daemons we started that have died (no zombies)."""
        self.processes = [p for p in self.processes if p.poll() is None]

    def stop_started(self, timeout: float = 5.0) -> None:
        """Terminate every daemon this launcher started (used by tests and embedders)."""
        for p in self.processes:
            if p.poll() is None:
                p.terminate()
        for p in self.processes:
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout)
        self.processes = []


def connect(transport: str | None = None, **kwargs):
    """Shortcut: ``Launcher(**kwargs).connect()``."""
    return Launcher(transport=transport, **kwargs).connect()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    """SIG to PROC's process group (the launcher made it a session leader); on Windows, or
    when the group is gone, to PROC alone."""
    try:
        if os.name != "nt":
            os.killpg(proc.pid, sig)
            return
    except OSError:
        pass
    try:
        proc.send_signal(sig)
    except OSError:
        pass


def _holder_loading(directory: Path) -> bool:
    """Whether a daemon holds the lock and is not serving yet: it loads its model between
    taking the lock and publishing its connection file (ours, or the one of a launch that
    won a race, which ours then waits for)."""
    holder = lock_holder(directory)
    return holder is not None and not holder[1]


def _holder_serving(directory: Path) -> bool:
    holder = lock_holder(directory)
    return holder is not None and holder[1]


def _lock_held_error(directory: Path) -> LaunchError:
    """The backend we started found the lock held by a daemon that is serving but does
    not answer with the connection file we have: waiting cannot help."""
    holder = lock_holder(directory)
    pid = holder[0] if holder else "?"
    return LaunchError(
        f"a Tinct daemon (pid {pid}) holds {directory / LOCK_FILE} but does not answer "
        f"with the token in {directory / CONNECTION_FILE} (file removed or replaced, or "
        f"the daemon stopped); end that process (kill {pid}) and try again"
    )


def _start_failed(summary: str, log_path: Path) -> LaunchError:
    """A backend that did not start: SUMMARY, then the log's last lines (the CLI prints
    them all; a plugin shows SUMMARY and the log's path)."""
    tail = _tail(log_path)
    return LaunchError(
        f"{summary}; last lines of {log_path}:\n{tail}",
        summary=summary,
        log_path=str(log_path),
        details=tail,
    )


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
