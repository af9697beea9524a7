"""The plug-in's UI: the first dialog, the Colourfulness slider and the job's progress.

GimpUi and Gtk are imported only when a dialog opens (interactive runs); batch runs
see GIMP's own progress (``StatusProgress``). Each dialog builds its widgets in
``__init__`` and shows them in ``run()``.
"""

from __future__ import annotations

import queue
import random
import time

from gi.repository import Gimp, GLib
from tinct_protocol import TinctError
from tinct_protocol.constants import DEFAULT_STEPS, MAX_SEED, SCALE_WORD
from tinct_protocol.layers import (
    HINT_LAYER_NAME,
    NO_REFERENCE,
    REFERENCE_TIP,
    REFERENCE_WORD,
    hint_choices,
    reference_choices,
)
from tinct_protocol.progress import RunProgress, Stage
from tinct_protocol.readable import backend_log_path, readable_error

from . import adapter, request
from .session import Newest

WAITING = (Stage.CONNECTING, Stage.STARTING, Stage.LOADING, Stage.QUEUED)  # no fraction yet
PULSE_SECONDS = 0.1  # the busy bar's pace while there is no fraction
PAINT_SECONDS = 0.1  # a few frames: the dialog is drawn before the layer is written


class StatusProgress:
    """GIMP's own progress (status bar, or the batch console): the run's phase in the
    text (``tinct_protocol.progress``, the same words as Krita's docker), its fraction
    in the bar, 100 % only once the layer is written."""

    cancel_sent = False  # no cancel here: GIMP's status-bar Cancel stops the plug-in itself

    def __init__(self):
        self.run = RunProgress(DEFAULT_STEPS)
        Gimp.progress_init(f"Tinct: {self.run.text}")

    def expect(self, steps: int, variations: int) -> None:
        """The run brings VARIATIONS results of STEPS steps each."""
        self.run = RunProgress(steps, variations)
        self._update()

    def _update(self) -> None:
        Gimp.progress_set_text(f"Tinct: {self.run.text}")
        Gimp.progress_update(self.run.fraction)

    def show(self, ev) -> None:
        """A reply of the daemon (queued, started, progress, result)."""
        self.run.on_reply(ev.kind, ev.header)
        self._update()

    def phase(self, phase) -> None:
        """The backend is being started (StartPhase STARTING) or loads its model (LOADING)."""
        self.run.on_start_phase(phase)
        self._update()

    def connected(self, backend: str) -> None:
        """The daemon answered (BACKEND, its version line, is for the dialog)."""
        self.run.connected()

    def writing(self) -> None:
        """The layer(s) are being written into the image now."""
        self.run.writing()
        self._update()

    def done(self) -> None:
        """The layer(s) are in the image: 100 %."""
        self.run.written()
        self._update()

    def poll(self):
        return None

    def cancelled_done(self) -> None:
        """The run was cancelled and nothing it made remains."""

    def close(self) -> None:
        Gimp.progress_end()


class ProgressDialog(StatusProgress):
    """A small window with the phase, a bar and a Cancel button that stops the job in the
    daemon, or the backend's start while it starts."""

    def __init__(self):
        from gi.repository import Gtk

        self.Gtk = Gtk
        self.cancelled = False
        self.cancel_sent = False
        self.dialog = Gtk.Dialog(title="Tinct")
        self.dialog.add_button("_Cancel", Gtk.ResponseType.CANCEL)
        self.dialog.connect("response", lambda _d, _r: setattr(self, "cancelled", True))
        self.label = Gtk.Label(label="")
        self.label.set_xalign(0.0)
        self.bar = Gtk.ProgressBar()
        self.bar.set_show_text(True)
        self.backend = _note("")  # the backend's version, once connected
        self._pulsed = 0.0
        box = self.dialog.get_content_area()
        box.set_spacing(8)
        box.set_border_width(12)
        box.pack_start(self.label, False, False, 0)
        box.pack_start(self.bar, False, False, 0)
        box.pack_start(self.backend, False, False, 0)
        self.dialog.set_default_size(320, -1)
        self.dialog.show_all()
        super().__init__()
        self._update()

    def pump(self) -> None:
        while self.Gtk.events_pending():
            self.Gtk.main_iteration_do(False)

    def _update(self) -> None:
        super()._update()
        if self.cancel_sent:
            return  # "Cancelling…" stays
        self.label.set_text(self.run.text)
        if self.run.stage in WAITING:
            self.bar.set_text("")
            self.bar.pulse()
        else:
            self.bar.set_fraction(self.run.fraction)
            self.bar.set_text(f"{self.run.fraction:.0%}")
        self.pump()
        if self.run.stage == Stage.WRITING:
            self.paint_now()  # writing the layer holds this loop: be seen before it

    def paint_now(self, seconds: float = PAINT_SECONDS) -> None:
        """Run the loop long enough for GTK's frame clock to draw the dialog (a pump
        alone handles events; the drawing waits for the next frame)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.pump()
            time.sleep(0.01)

    def connected(self, backend: str) -> None:
        """Show the backend's version line under the bar."""
        super().connected(backend)
        self.backend.set_text(backend)
        self.pump()

    def poll(self):
        """True once when Cancel was pressed (the caller sends the cancel)."""
        if self.run.stage in WAITING and time.monotonic() - self._pulsed > PULSE_SECONDS:
            self._pulsed = time.monotonic()
            self.bar.pulse()
        self.pump()
        if self.cancelled and not self.cancel_sent:
            self.cancel_sent = True
            self.label.set_text("Cancelling…")
            return True
        return None

    def cancelled_done(self) -> None:
        """Say "Cancelled." (the image is as it was), drawn before the window closes."""
        self.label.set_text("Cancelled.")
        self.paint_now()

    def close(self) -> None:
        super().close()
        self.dialog.destroy()
        self.pump()


def _note(text: str):
    """A dimmed, selectable line of small print (the backend's version)."""
    from gi.repository import Gtk

    label = Gtk.Label(label=text)
    label.set_selectable(True)
    label.set_sensitive(False)
    label.set_xalign(0.0)
    return label


def _row(label: str, widget):
    """LABEL (with its mnemonic, e.g. "_Hints") and WIDGET, which the mnemonic focuses."""
    from gi.repository import Gtk

    row = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=8)
    title = Gtk.Label.new_with_mnemonic(label)
    title.set_mnemonic_widget(widget)
    row.pack_start(title, False, False, 0)
    row.pack_start(widget, True, True, 0)
    row.show_all()
    return row


def _combo(labels: list[str], active: int):
    from gi.repository import Gtk

    combo = Gtk.ComboBoxText()
    for label in labels:
        combo.append_text(label)
    combo.set_active(active)
    return combo


class MainDialog:
    """The first dialog: the procedure's arguments (prompt, Colourfulness, steps,
    Variations, Seed with a "New seed" button), then the hint chooser (names, with an explicit "(no hints)") and the reference
    chooser (every open image's layers, after an explicit "(no reference)")."""

    def __init__(self, procedure, config, image, source):
        from gi.repository import GimpUi

        GimpUi.init(request.PROCEDURE)
        self.config = config
        self.dialog = GimpUi.ProcedureDialog(procedure=procedure, config=config)
        self.dialog.fill(["prompt", "scale", "steps", "variations", "seed"])
        content = self.dialog.get_content_area()
        content.pack_start(self._new_seed_row(), False, False, 6)
        content.pack_start(self._hint_row(image, source), False, False, 6)
        content.pack_start(self._reference_row(source), False, False, 6)

    def _new_seed_row(self):
        """A "New seed" button: a random seed in the Seed box (shown, so it can be reused)."""
        from gi.repository import Gtk

        button = Gtk.Button.new_with_mnemonic("_New seed")  # Alt+N
        button.set_tooltip_text(
            "Pick a random seed: another plausible colouring (the same seed gives it again)"
        )
        button.connect("clicked", lambda _b: self.config.set_property("seed", new_seed()))
        self.new_seed = button
        row = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=8)
        row.pack_end(button, False, False, 0)
        row.show_all()
        return row

    def _hint_row(self, image, source):
        names = adapter.layer_names(image)
        choices = hint_choices(names, source.get_name())
        chosen = self.config.get_property("hint-layer")
        default = request.pick_hint_layer(
            chosen.get_name() if chosen is not None else None, names, source.get_name()
        )
        last = self.config.get_property("hint-choice")  # the last run's pick (Re-show)
        if last in choices:
            default = last
        self.hints = _combo(choices, choices.index(default) if default in choices else 0)
        self.hints.set_tooltip_text(
            f"Colors painted on this layer win where they are (Filters > Colors > Tinct Paint "
            f"Hints makes '{HINT_LAYER_NAME}' above '{source.get_name()}')"
        )
        return _row("H_ints", self.hints)  # Alt+I: Alt+H is Help

    def _reference_row(self, source):
        found = adapter.reference_layers()  # gray images are never offered
        layers = {key: layer for _image, _name, key, layer in found}
        entries = [(image, name, key) for image, name, key, _layer in found]
        choices = reference_choices(entries, source.get_id())
        chosen = self.config.get_property("reference-layer")
        keys = [key for _label, key in choices]
        texts = [label for label, _key in choices]
        current = chosen.get_id() if chosen is not None else None
        active = keys.index(current) if current in keys else 0
        last = self.config.get_property("reference-choice")  # the last run's pick (Re-show)
        if last in texts:
            active = texts.index(last)
        self.references = _combo(texts, active)
        self.references.set_tooltip_text(REFERENCE_TIP)
        self.reference_layers = [layers.get(key) for key in keys]  # in the list's order
        return _row(f"R_{REFERENCE_WORD[1:]}", self.references)  # Alt+E: Alt+R is Reset

    def run(self) -> tuple | None:
        """(hint choice, reference layer or NO_REFERENCE), or None when cancelled. The two
        picks also go into the config's "hint-choice" and "reference-choice" (by name),
        which GIMP saves with the last-used values for Repeat and Re-show."""
        ok = bool(self.dialog.run())
        choice = self.hints.get_active_text()
        reference = self.reference_layers[max(0, self.references.get_active())] or NO_REFERENCE
        if ok:
            self.config.set_property("hint-choice", choice or "")
            self.config.set_property("reference-choice", self.references.get_active_text() or "")
        self.dialog.destroy()
        return (choice, reference) if ok else None


class LiveScale:
    """Slider moves to layer renders: a preview while the knob moves, the full
    resolution once it rests.

    While the layer holds a full-resolution render at a colourfulness s0 other than 0
    (and the run has no hints or reference), a move to s sets the scale of one
    ``gegl:saturation`` filter (CIE Lab) on the layer to s / s0 (``preview_filter``):
    GIMP scales the layer's a*b* at constant L* on the canvas, with no daemon call and
    no layer write; the full-resolution render then replaces the pixels and the filter
    goes. Otherwise (no such filter in this GIMP, s0 = 0, hints), each move asks for the
    value at the preview's size (``tinct_protocol.preview``: the daemon's small render,
    upscaled to the layer as Krita's docker does), made on a render thread
    (``session.Newest`` running ``Variations.render``, which calls no GIMP) and written
    here, on GIMP's thread, while the thread already renders the next one. A move while
    a render runs is served by the newest value once it ends, never a queue; of the
    renders that are in when GIMP's thread gets to them, only the newest is written. When the knob is let go (``release``: the slider's button release), and
    REST_MS after a move that has no release (keys, the wheel, the number box), and on OK
    (``flush``), the layer gets the full-resolution render of the last value: what OK
    keeps is never a preview.
    """

    REST_MS = 250  # no release (keys, wheel, typing): rested this long, render it in full
    FINISH_SECONDS = 300.0  # flush/cancel wait at most this for the render under way

    def __init__(self, colorizer):
        self.colorizer = colorizer
        self.wanted: float | None = None  # the newest value the slider asked for
        self.full_asked: float | None = None  # the full render asked for since that move
        self.rest_id: int | None = None
        self.results: queue.Queue = queue.Queue()  # Renders, or the exceptions raised
        self.worker = Newest(lambda job: colorizer.render(*job), self._handed)

    def request(self, value: float) -> None:
        """The slider moved to VALUE: a preview now, the full resolution once it rests.
        The preview is the layer's saturation filter set to VALUE (here, on GIMP's thread:
        no daemon render, no layer write) where the colorizer can (``preview_filter``),
        else the daemon's small render."""
        if value == (self.wanted if self.wanted is not None else self.colorizer.scale):
            return  # GObject notifies a set to the same value too
        self.wanted, self.full_asked = value, None
        self._stop_rest()
        self.rest_id = GLib.timeout_add(self.REST_MS, self._rested)
        if self.colorizer.preview_filter(value):
            self.worker.drop_pending()  # a preview not yet started is older: not needed
            return
        self.worker.submit((value, True))

    def release(self) -> None:
        """The knob was let go: the full-resolution render of the last value now (next,
        after the render under way), not REST_MS later."""
        self._stop_rest()
        self._settle()

    def _handed(self, out) -> None:
        """The render thread: a render is in; GIMP's thread writes it."""
        self.results.put(out)
        GLib.idle_add(self._deliver, priority=GLib.PRIORITY_DEFAULT)  # before redraws

    def _take(self) -> list:
        """The renders (or exceptions) that are in, oldest first."""
        taken = []
        while True:
            try:
                taken.append(self.results.get_nowait())
            except queue.Empty:
                return taken

    def _deliver(self) -> bool:
        """Renders are in (GIMP's thread): write the newest; once rested, the full one."""
        taken = self._take()
        if not taken:
            return False  # an earlier call took it
        newest = taken[-1]  # older ones are stale: not written
        try:
            if isinstance(newest, BaseException):
                raise newest
            if newest.final or not self.colorizer.filtering():
                self.colorizer.show(newest)  # (a preview is older than the filter's value)
            wanted = self.wanted
            if newest.final and wanted is not None and not self.colorizer.holds(wanted):
                self.colorizer.preview_filter(wanted)  # moved on meanwhile: show that again
        except TinctError as exc:  # keep the dialog usable; one line says why
            Gimp.message(f"Tinct: {readable_error(exc, backend_log_path()).line}")
        if self.rest_id is None:  # rested while it ran
            self._settle()
        return False  # one-shot

    def _rested(self) -> bool:
        self.rest_id = None
        self._settle()
        return False  # one-shot

    def _settle(self) -> None:
        """Ask for the full-resolution render of the last value (next, replacing a preview
        not yet started), unless the layer holds it or it was asked for already."""
        value = self.wanted
        if value is None or value == self.full_asked or self.colorizer.holds(value):
            return
        self.full_asked = value  # a failed one is not asked again until the next move
        self.worker.submit((value, False))

    def _stop_rest(self) -> None:
        if self.rest_id is not None:
            GLib.source_remove(self.rest_id)
            self.rest_id = None

    def _finish(self) -> list:
        """Stop asking, let the render under way end, stop the thread; returns the renders
        (or exceptions) not yet written, oldest first."""
        self._stop_rest()
        self.worker.drop_pending()
        finished = self.worker.wait_idle(self.FINISH_SECONDS)
        self.worker.close()
        if not finished:
            raise TimeoutError(f"the slider's render took over {self.FINISH_SECONDS:.0f} s")
        return self._take()

    def cancel(self) -> None:
        """The dialog was cancelled: no more renders (the layer goes anyway)."""
        self._finish()
        self.wanted = None

    def flush(self) -> None:
        """OK: the layer holds the full-resolution render of the last value (rendered now,
        unless the render that was under way is exactly that)."""
        taken = self._finish()
        value = self.wanted
        if value is None:
            return  # never moved: the layer holds the run's result
        last = taken[-1] if taken else None
        if last is not None and not isinstance(last, BaseException):
            if last.final and last.scale == value:
                self.colorizer.show(last)
        if not self.colorizer.holds(value):
            self.colorizer.show(self.colorizer.render(value, preview=False))


def new_seed() -> int:
    """A random seed other than 0 (0 is the model's own colouring)."""
    return random.randint(1, MAX_SEED)


class ScaleDialog:
    """The Colourfulness slider, re-rendering the new layer live (see ``LiveScale``), and
    a "Before" toggle: pressed in, the image without Tinct's colour (``show_before``)."""

    def __init__(self, procedure, config, colorizer):
        from gi.repository import GimpUi

        self.config = config
        self.colorizer = colorizer
        self.asked = config.get_property("scale")  # what the first dialog asked for
        config.set_property("scale", colorizer.scale)
        self.dialog = GimpUi.ProcedureDialog(
            procedure=procedure, config=config, title=f"Tinct: {SCALE_WORD.lower()}"
        )
        entry = self.dialog.get_scale_entry("scale", 1.0)  # a slider with its value
        entry.set_digits(2)  # as the layer's name says it (x1.90)
        self.dialog.fill(["scale"])
        # the knob let go: the full resolution at once (GLib.idle_add: once GTK has handled
        # the release, and any last value it set, but before the redraws)
        self.scale = entry.get_range()  # the GtkScale
        self.scale.connect("button-release-event", self._released)
        self.hidden: list = []  # the layers "Before" hid, shown again when it is let go
        self.dialog.get_content_area().pack_start(self._before_row(), False, False, 6)
        self.about = _note(colorizer.session.backend())  # what ran, for a bug report
        self.dialog.get_content_area().pack_end(self.about, False, False, 6)
        self.about.show()
        self.live = LiveScale(colorizer)

    def _before_row(self):
        """A row under the slider with the "Before" toggle (as Krita's docker has one)."""
        from gi.repository import Gtk

        toggle = Gtk.ToggleButton.new_with_mnemonic("_Before")  # Alt+B
        toggle.set_tooltip_text("Hide Tinct's colour while pressed in")
        toggle.connect("toggled", lambda t: self.show_before(t.get_active()))
        row = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=8)
        row.pack_start(toggle, False, False, 0)
        row.show_all()
        self.before = toggle
        return row

    def show_before(self, on: bool) -> None:
        """Hide (ON) the run's layers, the source's earlier results and the hint layer
        (``Variations.before_layers``), or show again those it hid (GIMP's thread: the
        toggle's signal). A render written meanwhile changes only pixels: the layer stays
        hidden until the toggle is let go or the dialog closes."""
        if on:
            if not self.hidden:
                self.hidden = [x for x in self.colorizer.before_layers() if x.get_visible()]
                for layer in self.hidden:
                    layer.set_visible(False)
        else:
            for layer in self.hidden:
                if layer.is_valid():  # (the user may have deleted it meanwhile)
                    layer.set_visible(True)
            self.hidden = []
        Gimp.displays_flush()

    def _released(self, _widget, _event) -> bool:
        GLib.idle_add(self._settle_released, priority=GLib.PRIORITY_DEFAULT)
        return False  # GTK's own handling goes on

    def _settle_released(self) -> bool:
        self.live.release()
        return False  # one-shot

    def run(self) -> bool:
        """False = cancelled: the config's colourfulness goes back to what the first dialog
        asked for (the run's other settings stay, and are kept as the last-used values)."""
        self.colorizer.warm_filters()  # GIMP's first filter render, before the first move
        handler = self.config.connect(
            "notify::scale", lambda cfg, _p: self.live.request(cfg.get_property("scale"))
        )
        try:
            accepted = bool(self.dialog.run())
        finally:
            self.config.disconnect(handler)
            self.show_before(False)  # OK or Cancel, "Before" in or not: nothing stays hidden
            self.dialog.destroy()
        if accepted:
            self.live.flush()  # the full resolution of the last value (never a preview)
        else:
            self.live.cancel()
            self.config.set_property("scale", self.asked)
        return accepted
