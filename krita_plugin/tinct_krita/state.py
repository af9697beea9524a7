"""The docker's state machine and request value (host-free: no krita, no Qt).

The docker widget only forwards user actions and worker events here and
redraws from ``controls()``; all decisions (what may run now, what the slider
does, what the status line says) are made here and unit tested without Krita.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .tinct_protocol.constants import (
    DEFAULT_SCALE,
    DEFAULT_STEPS,
    MAX_SCALE,
    MIN_SCALE,
    SCALE_WORD,
)

SCALE_MIN, SCALE_MAX = MIN_SCALE, MAX_SCALE  # the protocol's user-facing bounds
SLIDER_MIN, SLIDER_MAX = round(SCALE_MIN * 100), round(SCALE_MAX * 100)  # hundredths

IDLE = "idle"  # nothing to adjust yet
STARTING = "starting"  # reading pixels / connecting to (or launching) the daemon
COLORIZING = "colorizing"  # job running in the daemon
CANCELLING = "cancelling"
READY = "ready"  # a result exists; the slider adjusts it
ADJUSTING = "adjusting"  # rescale/apply in flight (the slider stays live)


@dataclass(frozen=True)
class ColorizeRequest:
    """Everything that affects one result; saved with it, it reproduces the result."""

    prompt: str = ""
    steps: int = DEFAULT_STEPS
    auto: bool = True
    scale: float = DEFAULT_SCALE
    hint_layer: str | None = None
    reference_document: str | None = None  # the reference layer's document and name
    reference_layer: str | None = None

    def wire_scale(self) -> float | str:
        return "auto" if self.auto else clamp_scale(self.scale)

    def to_json(self) -> dict:
        return asdict(self)


def clamp_scale(value: float) -> float:
    return max(SCALE_MIN, min(SCALE_MAX, float(value)))


def slider_to_scale(ticks: int) -> float:
    return clamp_scale(ticks / 100.0)


def scale_to_slider(scale: float) -> int:
    return int(round(clamp_scale(scale) * 100))


@dataclass
class Controls:
    colorize: bool
    cancel: bool
    slider: bool
    progress_visible: bool


class DockerState:
    def __init__(self):
        self.phase = IDLE
        self.job: str | None = None  # the finished job the slider adjusts
        self.running_job: str | None = None  # the colorize job in the daemon
        self.scale: float | None = None
        self.auto_scale: float | None = None
        self.step = 0
        self.total = 0
        self.status = "Ready."
        self.error: str | None = None

    # --- user actions --------------------------------------------------------
    def colorize_clicked(self) -> bool:
        """True if a colorize may start now."""
        if self.phase in (STARTING, COLORIZING, CANCELLING):
            return False
        self.phase, self.step, self.total, self.error = STARTING, 0, 0, None
        self.status = "Starting…"
        return True

    def cancel_clicked(self) -> str | None:
        """The job id to cancel, if there is one running."""
        if self.phase == COLORIZING and self.running_job is not None:
            self.phase = CANCELLING
            self.status = "Cancelling…"
            return self.running_job
        return None

    def slider_moved(self, ticks: int, released: bool) -> str | None:
        """'preview' (small, fast) while dragging, 'apply' (full resolution) on release."""
        if self.phase not in (READY, ADJUSTING) or self.job is None:
            return None
        self.scale = slider_to_scale(ticks)
        self.phase = ADJUSTING
        return "apply" if released else "preview"

    # --- worker events -------------------------------------------------------
    def on_started(self, job: str) -> None:
        self.running_job = job
        if self.phase == STARTING:
            self.phase = COLORIZING
            self.status = "Queued…"

    def on_progress(self, step: int, total: int) -> None:
        self.step, self.total = step, total
        if self.phase == COLORIZING:
            self.status = f"Colorizing: step {step} of {total}"

    def on_result(self, job: str, scale: float, auto_scale: float | None, note: str = "") -> None:
        self.job, self.scale, self.auto_scale = job, scale, auto_scale
        self.running_job = None
        self.phase = READY
        self.step = self.total
        auto = " (auto)" if auto_scale is not None else ""
        note = f" ({note[0].upper()}{note[1:]}.)" if note else ""
        self.status = f"Done: {SCALE_WORD.lower()} {scale:.2f}{auto}.{note}"

    def on_result_gone(self) -> None:
        """The result layer was undone or deleted: the slider has nothing left to adjust."""
        if self.job is None or self.phase not in (READY, ADJUSTING):
            return
        self.job = self.scale = self.auto_scale = None
        self.phase = IDLE
        self.status = "The result layer is gone (undone or deleted); Colorize makes a new one."

    def on_adjusted(self, scale: float, final: bool) -> None:
        if final:
            self.phase = READY
            self.status = f"{SCALE_WORD} {scale:.2f}."

    def on_cancelled(self) -> None:
        self.running_job = None
        self.phase = READY if self.job is not None else IDLE
        self.status = "Cancelled."

    def on_error(self, message: str) -> None:
        self.error = message
        self.status = f"Error: {message}"
        self.running_job = None
        self.phase = READY if self.job is not None else IDLE

    # --- what the widget shows --------------------------------------------------
    def controls(self) -> Controls:
        busy = self.phase in (STARTING, COLORIZING, CANCELLING)
        return Controls(
            colorize=not busy,
            cancel=self.phase == COLORIZING,
            slider=self.phase in (READY, ADJUSTING),
            progress_visible=busy,
        )
