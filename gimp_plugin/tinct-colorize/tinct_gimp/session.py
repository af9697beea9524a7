"""Talking to the daemon (host-free: no gi).

GIMP runs each procedure call in a fresh plug-in process, so a ``Session`` holds
one client for one run, connected through the vendored Launcher (which finds the
running daemon or starts it) on a thread (``BackendStart``): the run begins that start
when its dialog opens (``start_early``), and the job waits on the same start, hearing
its phases; a Cancel while it starts stops the backend being started (and waits until
it is gone: the plug-in's process ends with the run). ``colorize`` runs the job on a worker thread and
hands its events back to the calling (UI) thread as ``WorkerMessage`` values, so
the dialogs stay live and a Cancel reaches the daemon while the job runs.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from enum import Enum
from typing import NamedTuple, Protocol

from tinct_protocol import Cancelled, Client, Event, Launcher, Layer
from tinct_protocol.about import backend_line
from tinct_protocol.colorize_request import ColorizeRequest, variations_refusal
from tinct_protocol.constants import StartPhase
from tinct_protocol.starting import BackendStart

PREVIEW_SIDE = 0  # no thumbnails while the job runs: the result goes on the real layer
POLL_SECONDS = 0.03  # how often the UI thread looks for a Cancel while no event comes


class WorkerEvent(Enum):
    DAEMON = "daemon"  # a queued, progress or result event of the job
    DONE = "done"  # the job's events are over
    ERROR = "error"  # the worker failed (the exception is re-raised on the UI thread)
    CONNECTED = "connected"  # the daemon answered: ``text`` is its version line
    PHASE = "phase"  # the backend is being started: ``phase`` says how far


class WorkerMessage(NamedTuple):
    """What the worker thread hands the UI thread: an event and its payload."""

    event: WorkerEvent
    daemon: Event | None = None  # DAEMON
    error: BaseException | None = None  # ERROR
    text: str = ""  # CONNECTED
    phase: StartPhase | None = None  # PHASE


class Progress(Protocol):
    """What shows a job's progress: GIMP's status bar or the plug-in's progress dialog."""

    cancel_sent: bool

    def show(self, ev: Event) -> None: ...

    def connected(self, backend: str) -> None:
        """The daemon answered; BACKEND is its version line (``about.backend_line``)."""

    def phase(self, phase: StartPhase) -> None:
        """The backend is being started (STARTING) or loads its model (LOADING)."""

    def poll(self) -> bool | None:
        """True once when the user asked to cancel (the caller sends the cancel)."""


class Newest:
    """Runs ``work(item)`` on one thread for the newest item submitted: an item submitted
    while one runs replaces any not yet started, so a slider dragged faster than the
    daemon answers never builds a queue, and the next render starts as soon as the last
    one is in (while the caller writes that one). ``done(result)`` hears each result, or
    the exception ``work`` raised, on the thread, once ``busy`` says whether another item
    is already on its way."""

    def __init__(self, work: Callable[[object], object], done: Callable[[object], None]):
        self._work, self._done = work, done
        self._cond = threading.Condition()
        self._pending: list = []  # at most one item, not yet started
        self._running = False
        self._handing = False  # a result is being handed to ``done``
        self._closed = False
        self._thread: threading.Thread | None = None

    def submit(self, item: object) -> None:
        """Run ITEM next (replacing an item not yet started)."""
        with self._cond:
            self._pending = [item]
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name="tinct-newest")
                self._thread.start()
            self._cond.notify_all()

    @property
    def busy(self) -> bool:
        """Whether an item runs or waits to."""
        with self._cond:
            return self._running or bool(self._pending)

    def drop_pending(self) -> None:
        """Forget the item not yet started, if any (the one running finishes)."""
        with self._cond:
            self._pending = []
            self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing runs or waits and the last result is handed to ``done``;
        False if TIMEOUT seconds passed first."""
        with self._cond:
            return self._cond.wait_for(
                lambda: not (self._running or self._pending or self._handing), timeout
            )

    def close(self, timeout: float = 10.0) -> None:
        """Drop what waits, let what runs finish (at most TIMEOUT seconds), end the thread."""
        with self._cond:
            self._closed, self._pending = True, []
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._closed)
                if self._closed:
                    return
                item = self._pending.pop()
                self._running = True
            try:
                out = self._work(item)
            except Exception as exc:  # handed to ``done``
                out = exc
            with self._cond:
                self._running, self._handing = False, True  # ``busy``: is another coming?
            try:
                self._done(out)
            finally:
                with self._cond:
                    self._handing = False
                    self._cond.notify_all()


class Session:
    def __init__(self, launcher_factory: Callable[[], Launcher] = Launcher):
        self.start = BackendStart(launcher_factory)
        self._client = None
        self.hello: dict | None = None  # the daemon's hello, once connected

    def start_early(self) -> None:
        """Find or start the daemon now, on a thread (the dialog is up meanwhile); a
        failure is raised by the job's ``client`` call, as a start of its own would be."""
        self.start.begin()

    def client(
        self,
        on_phase: Callable[[StartPhase], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ):
        """The connected client, once the daemon is found or started (the early start if
        one is under way). ON_PHASE hears the start's phases; CANCELLED, asked while
        waiting, cancels it (Cancelled)."""
        if self._client is None:
            launcher, info = self.start.wait(on_phase, cancelled)
            client = Client(info, launcher.transport,
                            heartbeat_timeout=launcher.heartbeat_timeout,
                            launcher=launcher)  # fmt: skip
            try:
                self.hello = client.hello()
            except Exception:
                client.close()
                raise
            self._client = client
        return self._client

    def backend(self) -> str:
        """The backend's version line ("" before connecting)."""
        return backend_line(self.hello) if self.hello is not None else ""

    def colorize(
        self,
        image: Layer,
        hints: Layer | None,
        reference: Layer | None,
        req: ColorizeRequest,
        progress: Progress,
        seed: int | None = None,
    ) -> Event:
        """Run one colorize (the variation of SEED, default the request's first); every
        event goes to ``progress``, which may cancel it (then ``Cancelled``, also when the
        result beat the cancel). Returns the result event. A daemon whose model draws no
        variations refuses more than one, or a seed, with a ValueError saying so.

        Connecting (finding or starting the daemon, the longest wait of a cold start)
        happens on the worker thread too, so Cancel is live from the start: pressed
        before the job is queued, it gives up at once (a job queued after that is
        cancelled by the worker)."""
        messages: queue.Queue[WorkerMessage] = queue.Queue()
        abandoned = threading.Event()

        def on_phase(phase: StartPhase) -> None:
            messages.put(WorkerMessage(WorkerEvent.PHASE, phase=phase))

        def work():
            try:
                client = self.client(on_phase, abandoned.is_set)
                messages.put(WorkerMessage(WorkerEvent.CONNECTED, text=self.backend()))
                refusal = variations_refusal(self.hello, req.variations, req.seed)
                if refusal:
                    raise ValueError(refusal)
                for ev in client.colorize(
                    image,
                    hints=hints,
                    reference=reference,
                    preview_side=PREVIEW_SIDE,
                    **req.colorize_kwargs(seed),
                ):
                    if abandoned.is_set() and ev.kind == "queued":
                        client.cancel(ev.job)
                    messages.put(WorkerMessage(WorkerEvent.DAEMON, daemon=ev))
                messages.put(WorkerMessage(WorkerEvent.DONE))
            except Exception as exc:  # handed to the UI thread
                messages.put(WorkerMessage(WorkerEvent.ERROR, error=exc))

        threading.Thread(target=work, daemon=True, name="tinct-colorize").start()
        job = result = None
        while True:
            try:
                message = messages.get(timeout=POLL_SECONDS)
            except queue.Empty:
                message = None
            if message is not None:
                if message.event == WorkerEvent.ERROR:
                    raise message.error
                if message.event == WorkerEvent.DONE:
                    break
                if message.event == WorkerEvent.CONNECTED:
                    progress.connected(message.text)
                    continue
                if message.event == WorkerEvent.PHASE:
                    progress.phase(message.phase)
                    continue
                ev = message.daemon
                if ev.kind == "queued":
                    job = ev.job
                elif ev.kind == "result":
                    result = ev
                progress.show(ev)
            # Checked after every event too: a fast job's events never leave the queue
            # empty for long, and a Cancel pressed then must still reach the daemon.
            if progress.poll() is not None:
                if job is None:  # still starting: give up now, the backend's start too
                    abandoned.set()
                    self.start.cancel()
                    self.start.join()  # gone before the plug-in's process ends
                    raise Cancelled("cancelled", "cancelled by the user while starting")
                self._client.cancel(job)
        if progress.cancel_sent:  # the result beat the cancel: drop it
            raise Cancelled("cancelled", "cancelled by the user")
        return result

    def apply(self, job: str, scale: float) -> Event:
        """The job's full-resolution layer at colourfulness SCALE."""
        return self.client().apply(job, scale)

    def rescale(self, job: str, scale: float, size: tuple[int, int], dtype: str) -> Event:
        """The job's layer at colourfulness SCALE, rendered at SIZE (the slider's preview)."""
        return self.client().rescale(job, scale, size=size, dtype=dtype)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
