"""What a colorize run says while it goes: the same words in both plugins (standard
library only, no host).

A run passes through stages in order, each named only while it is really under way:
connecting to the daemon, starting the backend and loading its model (the launcher's
``StartPhase``, only when it has to start one), queued (only when the daemon reports
jobs ahead), colorizing step k of n (k is the step under way), rendering the result
at full size (after the last step, while the daemon renders and sends it), writing the
layer (the host's own work) and done. The fraction reaches 1 only once the host says
the layer is written, so "100 %" means the layer is there.
"""

from __future__ import annotations

import time
from enum import Enum

from .constants import Reply, StartPhase


class Stage(Enum):
    """Where a colorize run is."""

    CONNECTING = "connecting"
    STARTING = "starting"
    LOADING = "loading"
    QUEUED = "queued"
    COLORIZING = "colorizing"
    RENDERING = "rendering"
    WRITING = "writing"
    DONE = "done"


class RunProgress:
    """One run's stage, status text and fraction, fed what happens: the start's phases,
    the daemon's replies (queued, started, progress, result) and the host's write.
    STEPS: denoising steps asked for (the daemon's progress replies correct it);
    VARIATIONS: jobs in the run, one after the other."""

    def __init__(self, steps: int, variations: int = 1):
        self.steps = max(1, int(steps))
        self.variations = max(1, int(variations))
        self.variation = 1  # the one under way, from 1
        self.finished = 0  # variations whose result arrived
        self.stage = Stage.CONNECTING
        self.step = 0  # steps finished of the variation under way
        self.ahead = 0  # jobs ahead in the daemon's queue (QUEUED)
        # (what happened, time.monotonic()) in order, from this object's making on:
        # "begin", a StartPhase's value, "connected", a reply's kind ("progress" as
        # "step K"), "writing", "written"
        self.marks: list[tuple[str, float]] = [("begin", time.monotonic())]

    def mark(self, what: str) -> None:
        """Note that WHAT happened now (see ``marks``)."""
        self.marks.append((what, time.monotonic()))

    # --- what happens -------------------------------------------------------------
    def on_start_phase(self, phase: StartPhase) -> None:
        """The launcher is starting the backend (STARTING) or it loads the model (LOADING)."""
        if self.stage in (Stage.CONNECTING, Stage.STARTING, Stage.LOADING):
            self.stage = Stage.LOADING if phase == StartPhase.LOADING else Stage.STARTING
        self.mark(StartPhase(phase).value)

    def connected(self) -> None:
        """The daemon answered (found running, or started and serving): only marked."""
        self.mark("connected")

    def on_reply(self, kind: str, header: dict) -> None:
        """A reply of the daemon to the run's colorize (KIND: its wire name)."""
        self.mark(f"step {header.get('step')}" if kind == Reply.PROGRESS else str(kind))
        if kind == Reply.QUEUED:
            self.step = 0
            ahead = header.get("ahead")
            valid = isinstance(ahead, int) and not isinstance(ahead, bool) and ahead > 0
            self.ahead = ahead if valid else 0
            self.stage = Stage.QUEUED if self.ahead else Stage.COLORIZING
        elif kind == Reply.STARTED:
            self.stage, self.ahead = Stage.COLORIZING, 0
        elif kind == Reply.PROGRESS:
            step, total = header.get("step"), header.get("total")
            if isinstance(total, int) and total > 0:
                self.steps = total
            if isinstance(step, int):
                self.step = max(0, min(step, self.steps))
            # an older daemon sends no "started": the first step is the same news
            self.ahead = 0
            self.stage = Stage.RENDERING if self.step >= self.steps else Stage.COLORIZING
        elif kind == Reply.RESULT:
            self.finished = min(self.variations, self.finished + 1)
            self.step = self.steps
            if self.finished < self.variations:  # the next variation's job comes next
                self.variation, self.step = self.finished + 1, 0
                self.stage = Stage.COLORIZING

    def writing(self) -> None:
        """The host writes the layer(s) now."""
        self.stage = Stage.WRITING
        self.mark("writing")

    def written(self) -> None:
        """The host wrote a result's layer: DONE once every variation's is written."""
        self.mark("written")
        if self.finished >= self.variations:
            self.stage = Stage.DONE
        else:
            self.stage = Stage.COLORIZING

    # --- what is shown --------------------------------------------------------------
    @property
    def text(self) -> str:
        """The status line for the stage (one line)."""
        which = f"variation {self.variation} of {self.variations}, " if self.variations > 1 else ""
        if self.stage == Stage.CONNECTING:
            return "Connecting to the backend…"
        if self.stage == Stage.STARTING:
            return "Starting the backend…"
        if self.stage == Stage.LOADING:
            return "Loading the model…"
        if self.stage == Stage.QUEUED:
            jobs = "job" if self.ahead == 1 else "jobs"
            return f"Queued: {self.ahead} {jobs} ahead…"
        if self.stage == Stage.COLORIZING:
            return f"Colorizing: {which}step {min(self.step + 1, self.steps)} of {self.steps}"
        if self.stage == Stage.RENDERING:
            return f"Colorizing: {which}rendering the result…"
        if self.stage == Stage.WRITING:
            return "Writing the layer…"
        return "Done."

    @property
    def fraction(self) -> float:
        """How far the run is, 0..1: steps and the full-size render of each variation,
        then the write; exactly 1 only when DONE."""
        if self.stage == Stage.DONE:
            return 1.0
        per = self.steps + 1  # the steps, then the render and transfer
        done = (self.variation - 1) * per + self.step
        if self.stage == Stage.WRITING:
            done = self.finished * per
        return min(done, self.variations * per) / (self.variations * per + 1)
