"""The docker's state machine (host-free: no krita, no Qt).

The docker widget only forwards user actions and worker events here and
redraws from ``controls()``; all decisions (what may run now, what the slider
does, what the status line says) are made here and unit tested without Krita.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

from .request import slider_to_scale
from .tinct_protocol.constants import DEFAULT_STEPS, SCALE_WORD, Reply, StartPhase
from .tinct_protocol.progress import RunProgress, Stage


class Phase(Enum):
    IDLE = "idle"  # nothing to adjust yet
    # reading pixels, connecting to the daemon or starting it (its own phases: progress)
    STARTING = "starting"
    COLORIZING = "colorizing"  # job running in the daemon
    CANCELLING = "cancelling"
    READY = "ready"  # a result exists; the slider adjusts it
    ADJUSTING = "adjusting"  # rescale/apply in flight (the slider stays live)


BUSY = (Phase.STARTING, Phase.COLORIZING, Phase.CANCELLING)  # a colorize is under way
ADJUSTABLE = (Phase.READY, Phase.ADJUSTING)  # a result the slider adjusts


class Adjust(Enum):
    """What a slider move asks of the daemon."""

    PREVIEW = "preview"  # small and fast, while dragging
    APPLY = "apply"  # full resolution, on release


class Adjustment(NamedTuple):
    """A slider move for the render worker: what to render, of which job, at which scale
    (SEQ: the move's number, ``slider.SliderPreview``)."""

    action: Adjust
    job: str
    scale: float
    seq: int = 0


@dataclass
class Controls:
    colorize: bool
    cancel: bool
    slider: bool
    progress_visible: bool
    progress_busy: bool  # no fraction to show yet (starting, loading, queued): a busy bar


class DockerState:
    """One document's Tinct state: its phase, jobs, status line and error (the docker
    keeps one per open document)."""

    def __init__(self):
        self.phase = Phase.IDLE
        self.job: str | None = None  # the finished job the slider adjusts
        self.running_job: str | None = None  # the colorize job in the daemon
        self.scale: float | None = None
        self.auto_scale: float | None = None
        self.step = 0
        self.total = 0
        self.status = "Ready."
        self.error: str | None = None
        self.details = ""  # what the error's Details button shows ("" = no button)
        self.run = 0  # counts colorize runs: worker messages name the run they belong to
        self.expected = 1  # results the run brings (its variations)
        self.received = 0
        self.abandoned_run: int | None = None  # cancelled while starting
        self.cancelled_run: int | None = None  # cancelled: it queues no further variation
        # the written layer is being added to the image: too late for Cancel
        self.committing = False
        self.progress = RunProgress(DEFAULT_STEPS)  # what the run under way says

    # --- user actions --------------------------------------------------------
    def colorize_clicked(self) -> bool:
        """True if a colorize may start now."""
        if self.phase in BUSY:
            return False
        self.phase, self.step, self.total, self.error = Phase.STARTING, 0, 0, None
        self.details = ""
        self.committing = False
        self.expected, self.received = 1, 0  # expect_results says when there are more
        self.run += 1
        self.progress = RunProgress(DEFAULT_STEPS)
        self.status = self.progress.text
        return True

    def expect_results(self, n: int, steps: int = DEFAULT_STEPS) -> None:
        """The run under way brings N results (its variations), one job each, of STEPS."""
        self.expected, self.received = max(1, int(n)), 0
        self.progress = RunProgress(steps, self.expected)
        self.status = self.progress.text

    def cancel_clicked(self) -> str | None:
        """The job id to cancel, if there is one running (between two variations' jobs
        there is none: the worker sees CANCELLING and queues no more). While starting (no
        job yet) the run is abandoned at once: its late events are dropped
        (``is_current``) and a job it still queues is cancelled then. While a result's
        layer is written its job is over: the run is marked cancelled, and the docker,
        between two strips of the write, drops the layer (``write_cancelled``); once the
        written layer is being added (``on_committing``) it is too late."""
        if self.phase == Phase.COLORIZING and self.progress.stage == Stage.WRITING:
            if self.committing:
                return None
            self.cancelled_run = self.run
            self.phase = Phase.CANCELLING
            self.status = "Cancelling…"
            return None
        if self.phase == Phase.COLORIZING:
            self.cancelled_run = self.run
            self.phase = Phase.CANCELLING
            self.status = "Cancelling…"
            return self.running_job
        if self.phase == Phase.STARTING:
            self.abandoned_run = self.run
            self.on_cancelled()
        return None

    def write_cancelled(self, run: int) -> bool:
        """Whether RUN was cancelled: a layer it is writing is dropped, a job it queued is
        cancelled, a result it gets is not written."""
        return self.cancelled_run == run

    def is_current(self, run: int) -> bool:
        """Whether a worker message of RUN still counts (not an older or abandoned run)."""
        return run == self.run and run != self.abandoned_run

    def slider_moved(self, ticks: int, released: bool) -> Adjust | None:
        """PREVIEW (small, fast) while dragging, APPLY (full resolution) on release."""
        if self.phase not in ADJUSTABLE or self.job is None:
            return None
        self.scale = slider_to_scale(ticks)
        self.phase = Phase.ADJUSTING
        return Adjust.APPLY if released else Adjust.PREVIEW

    # --- worker events -------------------------------------------------------
    def on_start_phase(self, phase: StartPhase) -> None:
        """The backend is being started (STARTING) or loads its model (LOADING)."""
        if self.phase == Phase.STARTING:
            self.progress.on_start_phase(phase)
            self.status = self.progress.text

    def on_started(self, job: str, ahead: int = 0) -> None:
        """The daemon queued the job (AHEAD: jobs before it; "Queued" only when > 0)."""
        self.running_job = job
        if self.phase in (Phase.STARTING, Phase.COLORIZING):
            self.phase = Phase.COLORIZING
            self.progress.on_reply(Reply.QUEUED, {"ahead": ahead})
            self.status = self.progress.text

    def on_running(self) -> None:
        """The job left the daemon's queue and runs."""
        if self.phase == Phase.COLORIZING:
            self.progress.on_reply(Reply.STARTED, {})
            self.status = self.progress.text

    def on_progress(self, step: int, total: int) -> None:
        self.step, self.total = step, total
        if self.phase == Phase.COLORIZING:
            self.progress.on_reply(Reply.PROGRESS, {"step": step, "total": total})
            self.status = self.progress.text

    def on_writing(self) -> None:
        """A result arrived and its layer is being written (the status says so first)."""
        self.progress.on_reply(Reply.RESULT, {})
        self.progress.writing()
        if self.phase == Phase.COLORIZING:
            self.status = self.progress.text

    def on_committing(self) -> None:
        """The written layer goes into the image now (one host call): Cancel is off."""
        self.committing = True

    def on_result(self, job: str, scale: float, auto_scale: float | None, note: str = "") -> None:
        """A job's result arrived: the slider adjusts it once the run's last is in (until
        then the run goes on, COLORIZING the next variation)."""
        self.job, self.scale, self.auto_scale = job, scale, auto_scale
        self.running_job = None
        self.committing = False
        self.received += 1
        self.step = self.total
        if self.progress.stage != Stage.WRITING:  # not announced by on_writing
            self.progress.on_reply(Reply.RESULT, {})
        self.progress.written()
        if self.received < self.expected and self.phase == Phase.COLORIZING:
            self.status = self.progress.text  # the next variation's
            return
        self.phase = Phase.READY
        auto = " (auto)" if auto_scale is not None else ""
        note = f" ({note[0].upper()}{note[1:]}.)" if note else ""
        made = f" {self.received} variations." if self.received > 1 else ""
        self.status = f"Done: {SCALE_WORD.lower()} {scale:.2f}{auto}.{made}{note}"

    def on_result_gone(self) -> None:
        """The result layer was undone or deleted: the slider has nothing left to adjust."""
        if self.job is None or self.phase not in ADJUSTABLE:
            return
        self.job = self.scale = self.auto_scale = None
        self.phase = Phase.IDLE
        self.status = "The result layer is gone (undone or deleted); Colorize makes a new one."

    def on_result_back(self, job: str, scale: float) -> None:
        """The result layer came back (redo, or an undone deletion): the slider adjusts it
        again, at the scale it had."""
        if self.phase in BUSY:
            return
        self.job, self.scale, self.auto_scale = job, scale, None
        self.phase = Phase.READY
        self.status = (
            f"The result layer is back; the slider adjusts it ({SCALE_WORD.lower()} {scale:.2f})."
        )

    def bind_result(self, job: str, scale: float, name: str, *, undone: bool = False) -> None:
        """The Tinct layer NAME, made by JOB at SCALE, is the one the slider adjusts from
        now on: the user selected it, or (UNDONE) the newer result that hid it was undone."""
        if self.phase in BUSY or self.phase == Phase.ADJUSTING:
            return
        self.job, self.scale, self.auto_scale = job, scale, None
        self.phase = Phase.READY
        if undone:
            self.status = f"The newer result was undone: the slider adjusts '{name}' again."
        else:
            self.status = f"Selected '{name}': the slider adjusts it."

    def not_adjustable(self, name: str, why: str) -> None:
        """The selected Tinct layer NAME has no job the daemon holds (WHY says which case):
        the slider is off and the status line says how to get an adjustable result."""
        if self.phase in BUSY or self.phase == Phase.ADJUSTING:
            return
        self.job = self.scale = self.auto_scale = None
        self.phase = Phase.IDLE
        self.status = (
            f"'{name}' can no longer be adjusted ({why}). To adjust it, select its photo "
            "layer and Colorize again: the new result is adjustable."
        )

    def on_adjusted(self, scale: float, final: bool) -> None:
        if final:
            self.phase = Phase.READY
            self.status = f"{SCALE_WORD} {scale:.2f}."

    def on_cancelled(self) -> None:
        self.running_job = None
        self.committing = False
        self.phase = Phase.READY if self.job is not None else Phase.IDLE
        self.status = "Cancelled."

    def on_error(self, message: str, details: str = "") -> None:
        """MESSAGE (one line: what failed, what to do) in the status line; DETAILS behind
        the docker's Details button."""
        self.error = message
        self.details = details
        self.status = f"Error: {' '.join(message.split())}"
        self.running_job = None
        self.phase = Phase.READY if self.job is not None else Phase.IDLE

    # --- what the widget shows --------------------------------------------------
    @property
    def fraction(self) -> float:
        """How far the run under way is (1.0 only once its layers are written)."""
        return self.progress.fraction

    def controls(self) -> Controls:
        busy = self.phase in BUSY
        waiting = (Stage.CONNECTING, Stage.STARTING, Stage.LOADING, Stage.QUEUED)
        return Controls(
            colorize=not busy,
            cancel=self.phase in (Phase.STARTING, Phase.COLORIZING) and not self.committing,
            slider=self.phase in ADJUSTABLE,
            progress_visible=busy,
            progress_busy=busy and self.progress.stage in waiting,
        )
