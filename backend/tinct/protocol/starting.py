"""One start of the daemon on a background thread, shared (standard library only).

A plugin starts the backend early (Krita: when its docker is shown with a document
open; GIMP: when the Colorize dialog opens), so that the first Colorize does not wait
for it; that Colorize then waits on the same start, never a second one. Waiting hears
the start's phases (``StartPhase``) and may be cancelled: the backend being started is
then stopped (``Launcher.start``), so nothing is left running. A start that failed is
raised to the first caller that waits, which shows it as it would a start of its own;
the next ``begin`` tries again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .connection import ConnectionInfo
from .constants import StartPhase
from .errors import Cancelled
from .launcher import STOP_WAIT, Launcher, OnPhase

POLL = 0.05  # seconds between a waiter's looks at the start (its phase, a cancel)


class _Attempt:
    """One try at finding or starting the daemon, on its own thread."""

    def __init__(self, previous: _Attempt | None):
        self.previous = previous  # a cancelled try still stopping its backend
        self.cancel = threading.Event()
        self.done = threading.Event()
        self.phase: StartPhase | None = None
        self.launcher: Launcher | None = None
        self.info: ConnectionInfo | None = None
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None


class BackendStart:
    """Finds or starts the daemon once, on a thread; ``wait`` joins the start under way.

    LAUNCHER_FACTORY makes the Launcher (it may raise, e.g. a LaunchError for a backend
    that is not configured: that is the start's error, raised by ``wait``).
    """

    def __init__(self, launcher_factory: Callable[[], Launcher]):
        self._factory = launcher_factory
        self._lock = threading.Lock()
        self._attempt: _Attempt | None = None
        self._stopping: _Attempt | None = None  # the last cancelled try
        self.launches = 0  # tries begun (a test counts them)

    # --- the start ---------------------------------------------------------------
    def begin(self) -> None:
        """Start finding or starting the daemon on a thread, unless a try is under way,
        has succeeded, or failed without anyone having been told yet."""
        with self._lock:
            if self._attempt is not None:
                return
            stopping = self._stopping
            if stopping is not None and stopping.done.is_set():
                stopping = self._stopping = None
            attempt = self._attempt = _Attempt(stopping)
            self.launches += 1
        attempt.thread = threading.Thread(
            target=self._run, args=(attempt,), daemon=True, name="tinct-start"
        )
        attempt.thread.start()

    def _run(self, attempt: _Attempt) -> None:
        try:
            if attempt.previous is not None:  # its backend must be gone before ours starts
                attempt.previous.done.wait(2 * STOP_WAIT + 1)
                attempt.previous = None
            attempt.launcher = self._factory()
            attempt.info = attempt.launcher.ensure(self._phase_setter(attempt), attempt.cancel)
        except BaseException as exc:  # handed to whoever waits
            attempt.error = exc
        finally:
            attempt.done.set()

    @staticmethod
    def _phase_setter(attempt: _Attempt) -> OnPhase:
        def on_phase(phase: StartPhase) -> None:
            attempt.phase = phase

        return on_phase

    @property
    def phase(self) -> StartPhase | None:
        """The phase of the try under way (None: none, or a daemon that was running)."""
        attempt = self._attempt
        return attempt.phase if attempt is not None and not attempt.done.is_set() else None

    @property
    def running(self) -> bool:
        """Whether a try is under way."""
        attempt = self._attempt
        return attempt is not None and not attempt.done.is_set()

    def wait(
        self,
        on_phase: OnPhase | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> tuple[Launcher, ConnectionInfo]:
        """(launcher, connection info) of the live daemon, beginning a start if none is
        under way. ON_PHASE hears the start's phase when it changes (the one it is in
        first); CANCELLED is asked every POLL seconds: True cancels the start (Cancelled).
        A failed start raises its error here once; the next ``begin`` tries again."""
        self.begin()
        attempt = self._attempt
        if attempt is None:  # cancelled by another thread just now
            raise Cancelled("cancelled", "the backend's start was cancelled")
        told = None
        while not attempt.done.wait(POLL):
            if cancelled is not None and cancelled():
                self.cancel()
                raise Cancelled("cancelled", "the backend's start was cancelled")
            phase = attempt.phase
            if phase is not None and phase != told and on_phase is not None:
                on_phase(phase)
                told = phase
        if attempt.error is not None:
            with self._lock:
                if self._attempt is attempt:
                    self._attempt = None  # told once: the next begin tries again
            raise attempt.error
        return attempt.launcher, attempt.info

    def cancel(self) -> None:
        """Stop the try under way (its thread stops the backend it started); a try that
        succeeded is kept. Returns at once; ``join`` waits for the backend to be gone."""
        with self._lock:
            attempt = self._attempt
            if attempt is None or attempt.done.is_set():
                return
            attempt.cancel.set()
            # the next begin starts afresh, once this try's backend is gone
            self._attempt = None
            self._stopping = attempt

    def reset(self) -> None:
        """Forget a finished start (its daemon went away): the next ``begin`` looks again."""
        with self._lock:
            attempt = self._attempt
            if attempt is not None and attempt.done.is_set():
                self._attempt = None

    def join(self, timeout: float = 2 * STOP_WAIT + 1) -> bool:
        """Wait until no try is running (a cancelled one has stopped its backend); True
        when none is left running within TIMEOUT seconds."""
        attempts = [self._attempt, self._stopping]
        return all(a is None or a.done.wait(timeout) for a in attempts)
