"""Talking to the daemon from worker threads (host-free: no krita, no Qt).

``Session`` owns one client, made once the daemon is found or started through the
vendored Launcher, on a thread (``BackendStart``): the docker begins that start early
(``start_early``, when it is shown with a document open) and Colorize waits on the
same start, hearing its phases, and may cancel it (the backend being started is
stopped, nothing is left running). ``Latest`` runs a
function on a background thread for the newest submitted value only, so a
slider dragged faster than the daemon answers never builds a queue. What a
worker hands back to the UI thread is a ``WorkerMessage``: a ``WorkerEvent``
and its payload.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from collections.abc import Callable
from enum import Enum
from typing import NamedTuple

from .tinct_protocol import Client, Event, Launcher, LaunchError, Layer, live_connection
from .tinct_protocol.constants import ENV_BACKEND_CMD, StartPhase
from .tinct_protocol.launcher import load_config
from .tinct_protocol.readable import backend_log_path
from .tinct_protocol.starting import BackendStart


class WorkerEvent(Enum):
    DAEMON = "daemon"  # a queued or progress event of the running colorize
    RESULT = "result"  # the colorize finished (its result event)
    CANCELLED = "cancelled"
    ERROR = "error"  # a message for the status line
    ADJUSTED = "adjusted"  # a slider render is ready
    CONNECTED = "connected"  # the daemon answered: ``text`` is its version line
    PHASE = "phase"  # the backend is being started: ``phase`` says how far
    FORGOTTEN = "forgotten"  # the daemon no longer holds the job ``text`` (a slider render)


class Adjusted(NamedTuple):
    """A slider render: the full-region color layer for ``target`` at ``scale``."""

    target: object  # the docker's result it was rendered for (stale once that changed)
    job: str
    scale: float
    data: bytes | bytearray
    premasked: bool  # the selection's mask is in its alpha already
    final: bool  # the full-resolution render that stays (slider released)
    started: float  # time.monotonic() when the render began
    seq: int = 0  # the slider move it renders (``slider.SliderPreview``)


class WorkerMessage(NamedTuple):
    """What a worker thread hands the UI thread: an event and its payload."""

    event: WorkerEvent
    daemon: Event | None = None  # DAEMON, RESULT
    error: str | None = None  # ERROR: one line
    adjusted: Adjusted | None = None  # ADJUSTED
    details: str = ""  # ERROR: what the Details button shows
    text: str = ""  # CONNECTED: the backend's version line
    run: int | None = None  # the colorize run it belongs to (None: not a colorize's)
    view: object = None  # the docker's per-document view it belongs to
    phase: StartPhase | None = None  # PHASE


def default_backend_cmd() -> list[str] | None:
    """None = let the Launcher decide (env or config set); else an explicit command.

    Inside Krita ``sys.executable`` may be Krita itself, so the Launcher's last
    resort (``python -m tinct serve``) is only used when it really is a Python.
    """
    if os.environ.get(ENV_BACKEND_CMD) or load_config().get("backend_cmd"):
        return None
    exe = shutil.which("tinct")
    if exe:
        return [exe, "serve"]
    if "python" in os.path.basename(sys.executable or "").lower():
        return None
    raise LaunchError(
        "no Tinct backend configured: run `tinct install`, or set TINCT_BACKEND_CMD "
        "to the command that starts `tinct serve`"
    )


class Session:
    def __init__(self, launcher_factory: Callable[[], Launcher] | None = None):
        factory = launcher_factory or (lambda: Launcher(backend_cmd=default_backend_cmd()))
        self.start = BackendStart(factory)
        self._client = None
        self._lock = threading.Lock()
        self.hello: dict | None = None  # the daemon's hello, once connected

    def start_early(self) -> None:
        """Find or start the daemon now, on a thread, so Colorize need not wait for it
        (a failure is kept for the next ``client`` call, which raises it)."""
        if self._client is None:
            self.start.begin()

    def cancel_start(self) -> None:
        """Stop a start under way (its backend is ended); a running daemon is kept."""
        self.start.cancel()

    def client(
        self,
        on_phase: Callable[[StartPhase], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ):
        """The connected client, once the daemon is found or started (``BackendStart``:
        the early start if one is under way). ON_PHASE hears the start's phases;
        CANCELLED (asked while waiting) cancels it, raising Cancelled. A daemon that went
        away since (idle shutdown) is started again the same way."""
        with self._lock:
            if self._client is not None and self._gone():
                self._client.close()
                self._client = None
                self.start.reset()
            if self._client is None:
                launcher, info = self.start.wait(on_phase, cancelled)
                client = None
                try:
                    client = Client(info, launcher.transport,
                                    heartbeat_timeout=launcher.heartbeat_timeout,
                                    launcher=launcher)  # fmt: skip
                    self.hello = client.hello()
                except Exception:
                    if client is not None:
                        client.close()
                    self.start.reset()  # gone right after starting: the next call looks again
                    raise
                self._client = client
            return self._client

    def _gone(self) -> bool:
        """Whether the client's daemon is no longer the live one (checked cheaply: the
        connection file and the lock, no round trip)."""
        client = self._client
        live = live_connection(client.launcher.runtime_dir)
        return live is None or (live.pid, live.token) != (client.info.pid, client.info.token)

    def log_path(self) -> str | None:
        """The backend's log, for error messages (None when no runtime dir can be named)."""
        return backend_log_path()

    def colorize(
        self,
        image: Layer,
        hints: Layer | None,
        *,
        prompt: str,
        steps: int,
        scale: float | str,
        on_event: Callable,
        seed: int | None = None,
        reference: Layer | None = None,
    ):
        """Run one colorize; every event goes to ``on_event``; returns the result event.
        ``reference``: a colour photo of any size whose colours the result borrows."""
        client = self.client()
        rid = client.enqueue_colorize(
            image, prompt=prompt, hints=hints, steps=steps, scale=scale, seed=seed,
            preview_side=0, reference=reference,
        )  # fmt: skip
        result = None
        for ev in client.events(rid):
            on_event(ev)
            if ev.kind == "result":
                result = ev
        return result

    def rescale(self, job: str, scale: float, size: tuple[int, int], dtype: str):
        return self.client().rescale(job, scale, size=size, dtype=dtype)

    def apply(self, job: str, scale: float):
        return self.client().apply(job, scale)

    def cancel(self, job: str) -> None:
        self.client().cancel(job)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


class Latest:
    """Run ``fn(value)`` on one background thread, always for the newest value only."""

    def __init__(self, fn: Callable[[object], None]):
        self._fn = fn
        self._cond = threading.Condition()
        self._pending: list = []
        self._busy = False
        self._thread: threading.Thread | None = None

    def submit(self, value: object) -> None:
        with self._cond:
            self._pending = [value]  # replaces anything not yet started
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True, name="tinct-latest")
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._pending:
                    if not self._cond.wait(timeout=5.0) and not self._pending:
                        self._thread = None
                        return
                    continue
                value = self._pending.pop()
                self._busy = True
            try:
                self._fn(value)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def idle(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is pending or running (for tests)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)
