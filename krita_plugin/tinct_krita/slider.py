"""What the canvas shows of the slider's result while it is adjusted (host-free: no krita,
no Qt): the filter mask's value, or the daemon's preview, and which render may be written.

A move is shown by the result layer's filter mask where it can be
(``tinct_protocol.preview.filter_preview_applies``: over 1 MP, no hints, no reference,
a held value other than 0; the ratio within the mask's 0..2, ``hsy_percent``; an 8- or
16-bit layer, whose values are gamma-encoded: in a float document Krita's filter works
on linear values, which the mask's model was not measured for) and the layer holds its
full-resolution render, not a daemon preview: the mask scales what the layer holds.
Elsewhere a move asks the daemon for a preview, as before. Each move has a number
(``seq``), so a daemon preview that comes in after the mask showed a newer move is not
written. A full-resolution render is written whenever it comes (the layer holds it
from then on, at its own value); the mask then goes, unless it showed a newer move: then
it stays, at that move's value over the new held one (or goes where that ratio is out of
its reach). The docker writes first and takes the mask off after, so the canvas never
shows the held value between the two.
"""

from __future__ import annotations

from typing import NamedTuple

from .tinct_protocol.preview import filter_preview_applies, hsy_percent


class Masked(NamedTuple):
    """What the mask shows: move SEQ's SCALE, as PERCENT (``hsy_percent``) over the held value."""

    seq: int
    scale: float
    percent: int


class SliderPreview:
    """One result layer's slider previews, from the first move of an adjustment until its
    full-resolution render is written (the docker keeps one per document view)."""

    def __init__(
        self,
        width: int,
        height: int,
        held: float,
        *,
        hints: bool,
        reference: bool,
        encoded: bool = True,
        layer: str | None = None,
    ):
        self.layer = layer  # the result layer's id, as the caller names it
        self.size = (width, height)
        self.hints, self.reference = hints, reference
        self.encoded = encoded  # the layer's values are gamma-encoded (U8, U16)
        self.held = held  # the value whose full-resolution render the layer holds
        self.previewed = False  # the layer holds a daemon preview instead (the mask is off)
        self.blocked = False  # the layer cannot carry the mask (children of its own)
        self.seq = 0  # moves so far
        self.masked: Masked | None = None  # what the mask shows (None: no mask)
        self.final_due = False  # a full-resolution render was asked for and is not in yet

    def percent(self, scale: float) -> int | None:
        """The mask's percent that shows SCALE over what the layer holds, or None where the
        mask cannot show it (the daemon previews it)."""
        if self.previewed or self.blocked or not self.encoded:
            return None
        w, h = self.size
        if not filter_preview_applies(w, h, self.held, hints=self.hints, reference=self.reference):
            return None
        return hsy_percent(scale, self.held)

    def press(self) -> bool:
        """The knob is taken: whether to put the mask on now, at the held value (0 %, the
        layer's own pixels), so that the first move only changes it."""
        percent = self.percent(self.held)
        if percent is None or self.masked is not None:
            return False
        self.masked = Masked(self.seq, self.held, percent)
        return True

    def move(self, scale: float) -> tuple[int, int | None]:
        """A move to SCALE: its number, and the mask's percent for it (None: the daemon
        previews it). The caller puts the mask at that percent."""
        self.seq += 1
        percent = self.percent(scale)
        if percent is not None:
            self.masked = Masked(self.seq, scale, percent)
        return self.seq, percent

    def release(self) -> int:
        """The knob let go (or a typed value): the full-resolution render is asked for;
        returns the move's number."""
        self.seq += 1
        self.final_due = True
        return self.seq

    def preview_in(self, seq: int) -> bool:
        """A daemon preview of move SEQ came in: whether to write it (not when the mask
        shows a newer move). Once written, the layer holds a preview: no mask until the
        next full-resolution render (the caller takes the mask off after the write)."""
        if self.masked is not None and self.masked.seq > seq:
            return False
        self.previewed, self.masked = True, None
        return True

    def final_in(self, seq: int, scale: float) -> Masked | None:
        """The full-resolution render of SCALE (move SEQ) is written: the layer holds it.
        Returns what the mask shows over it now (a newer move, re-based on SCALE), or None:
        the caller takes the mask off."""
        self.held, self.previewed, self.final_due = scale, False, False
        newer = self.masked
        self.masked = None
        if newer is not None and newer.seq > seq:
            percent = self.percent(newer.scale)
            if percent is not None:
                self.masked = Masked(newer.seq, newer.scale, percent)
        return self.masked

    def failed(self) -> None:
        """The render asked for failed: none is on its way, and the mask goes."""
        self.final_due = False
        self.masked = None
