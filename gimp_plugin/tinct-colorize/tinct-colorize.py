#!/usr/bin/env python3
"""Tinct for GIMP 3: Filters > Colors > Tinct Colorize… and Tinct Paint Hints.

The only module of the plug-in that imports GIMP. It reads the source layer at its
own precision through a Gegl buffer, sends it to the local Tinct daemon (through the
vendored standard-library client, `tinct_protocol`), and puts the returned color
layer above the source in LCh Color mode, masked by the selection, named for how it
was made (``Tinct — "blue sky" x1.10``). The source layer is never written to. An
optional reference layer (any open image's, any size) goes along as a colour photo whose
colours the result borrows.
Validation, format mapping and the mask decision live in the host-free `tinct_gimp`
package next to this file.

Undo: the image is touched only once the daemon's result is there, inside one undo
group: a Grayscale image converted to RGB (its precision kept), the new layer, and
the source's earlier Tinct results removed (a rerun replaces them; one Ctrl+Z brings
them back). While the job runs nothing is open, so a Cancel (or GIMP stopping the
plug-in) leaves the image and its undo history as they were. The interactive
Colourfulness dialog previews on a layer added with undo frozen; the image is put
back before thawing, and OK then records the result as above.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import traceback

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
gi.require_version("GimpUi", "3.0")  # imported only for interactive runs
gi.require_version("Gtk", "3.0")
from gi.repository import Gegl, Gimp, GLib, GObject  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tinct_gimp import formats, request, selection  # noqa: E402
from tinct_protocol import Cancelled, Launcher, Layer, TinctError  # noqa: E402
from tinct_protocol.layers import is_result_name, result_layer_name  # noqa: E402

PREVIEW_SIDE = 0  # the dialog previews on the real layer, not a thumbnail
# Test hook (tests/test_gimp_host.py): the path of a JSON file {"set": {...},
# "hint": NAME, "reference": LABEL, "cancel_at_step": N, "scales": [...], "accept": bool, "screenshot": PATH,
# "screenshot_main": PATH},
# read at each interactive run. When the file exists, the dialogs answer themselves:
# "set" is typed into the first (GIMP fills an interactive run's config from the
# last-used values, not from the caller), "hint" picked in its hint list and "reference"
# ("image / layer") in its reference list (the list's labels are written next to the
# file, + ".references"), OK; the
# progress dialog's Cancel is pressed at step "cancel_at_step"; the Colourfulness
# slider is moved through "scales" (each move re-renders the layer, as a user's drag
# does), the screen is saved to "screenshot", and the dialog is accepted or cancelled.
# The same code runs as for a user.
ENV_SELFTEST = "TINCT_GIMP_SELFTEST"


class UserError(Exception):
    """Bad input or a refused image: returned as a procedure error, never a traceback."""


# --- GIMP adapters: everything below turns GIMP objects into plain values ------------


def _offsets(drawable) -> tuple[int, int]:
    res = drawable.get_offsets()
    return (res[1], res[2]) if len(res) == 3 else (res[0], res[1])


def _rect(drawable) -> selection.Rect:
    x, y = _offsets(drawable)
    return selection.Rect(x, y, drawable.get_width(), drawable.get_height())


def _selection_bounds(image) -> selection.Rect | None:
    if Gimp.Selection.is_empty(image):
        return None
    res = Gimp.Selection.bounds(image)
    _, non_empty, x1, y1, x2, y2 = res
    if not non_empty:
        return None
    return selection.Rect(x1, y1, x2 - x1, y2 - y1)


def _all_layers(layers) -> list:
    out = []
    for layer in layers:
        out.append(layer)
        if layer.is_group():
            out.extend(_all_layers(layer.get_children()))
    return out


def _siblings(image, layer) -> list:
    parent = layer.get_parent()
    return list(parent.get_children() if parent is not None else image.get_layers())


def previous_results(image, source) -> list:
    """Tinct results directly above the source (top of the stack is index 0 in GIMP)."""
    layers = _siblings(image, source)
    out = []
    for layer in reversed(layers[: layers.index(source)]):
        if layer.is_group() or not is_result_name(layer.get_name()):
            break
        out.append(layer)
    return out


def source_of(image, drawable, hint_name: str | None = None):
    """The layer to colorize: the selected one, unless it is a hint or Tinct result layer;
    then the nearest layer below it that is neither (so painting hints never makes the
    hint layer the target)."""
    if not request.is_helper(drawable.get_name(), hint_name):
        return drawable
    layers = _siblings(image, drawable)
    for layer in layers[layers.index(drawable) + 1 :]:
        if not layer.is_group() and not request.is_helper(layer.get_name(), hint_name):
            return layer
    raise UserError(
        f"{drawable.get_name()!r} is a hint or Tinct result layer and no layer to colorize "
        "lies below it; select the layer to colorize"
    )


def read_pixels(drawable, fmt: formats.PixelFormat, rect=None, abyss=None) -> bytes:
    """Bulk read through the drawable's Gegl buffer (``rect`` in drawable coordinates)."""
    w, h = drawable.get_width(), drawable.get_height()
    rect = rect or Gegl.Rectangle.new(0, 0, w, h)
    buffer = drawable.get_buffer()
    data = buffer.get(rect, 1.0, fmt.babl, abyss or Gegl.AbyssPolicy.CLAMP)
    formats.check_pixels(len(data), rect.width, rect.height, fmt, f"layer {drawable.get_name()!r}")
    return data


def write_pixels(drawable, fmt: formats.PixelFormat, result: Layer) -> None:
    """Write a daemon layer into ``drawable`` via its shadow buffer, then merge (one undo step;
    none while undo is frozen or inside the group that added the layer)."""
    w, h = drawable.get_width(), drawable.get_height()
    if (result.width, result.height) != (w, h) or result.format.channels != 4:
        raise UserError(
            f"the daemon returned a {result.width}x{result.height}x{result.format.channels} "
            f"layer for a {w}x{h} RGBA layer"
        )
    if result.format.dtype != fmt.dtype or result.format.order != "rgb":
        raise UserError(
            f"the daemon returned {result.format.dtype}/{result.format.order} pixels; "
            f"{fmt.dtype}/rgb were sent"
        )
    data = formats.packed(result.data, w, h, result.format.stride, fmt)
    shadow = drawable.get_shadow_buffer()
    shadow.set(Gegl.Rectangle.new(0, 0, w, h), fmt.babl, data)
    shadow.flush()
    drawable.merge_shadow(True)
    drawable.update(0, 0, w, h)


def _error(procedure, message: str):
    return procedure.new_return_values(
        Gimp.PDBStatusType.EXECUTION_ERROR,
        GLib.Error.new_literal(Gimp.PlugIn.error_quark(), f"Tinct: {message}", 0),
    )


# --- the procedure -----------------------------------------------------------------


class Colorizer:
    """One run: source pixels in, the daemon's result, then the color layer out."""

    def __init__(self, image, source, req: request.ColorizeRequest, hint_layer, reference=None):
        self.image = image
        self.source = source
        self.req = req
        self.hint_layer = hint_layer
        self.reference = reference
        self.fmt = formats.format_for_precision(image.get_precision().value_name)
        self.client = None
        self.job: str | None = None
        self.layer = None
        self.result: Layer | None = None  # the pixels now on the layer
        self.scale: float | None = None
        self.auto = req.scale == "auto"  # the name says "auto" until the slider moves
        self.converted = False

    def _hints(self) -> Layer | None:
        if self.hint_layer is None:
            return None
        # The hint layer may be any size and anywhere: read it over the source's
        # rectangle in its own coordinates; outside it, the abyss is transparent (= no hint).
        sx, sy = _offsets(self.source)
        hx, hy = _offsets(self.hint_layer)
        w, h = self.source.get_width(), self.source.get_height()
        rect = Gegl.Rectangle.new(sx - hx, sy - hy, w, h)
        data = read_pixels(self.hint_layer, formats.HINT_FORMAT, rect, Gegl.AbyssPolicy.NONE)
        return Layer.from_buffer(data, w, h, 4, formats.HINT_FORMAT.dtype)

    def _reference(self) -> Layer | None:
        """The whole reference layer (any size, any open image) at its image's precision,
        read like the source (a Grayscale one as R = G = B: the daemon refuses it)."""
        if self.reference is None:
            return None
        fmt = formats.format_for_precision(self.reference.get_image().get_precision().value_name)
        w, h = self.reference.get_width(), self.reference.get_height()
        return Layer.from_buffer(read_pixels(self.reference, fmt), w, h, 4, fmt.dtype)

    def run_job(self, progress) -> None:
        """Read the pixels and run the daemon job; the image is not touched. ``progress``
        shows each event and may cancel (raises Cancelled)."""
        w, h = self.source.get_width(), self.source.get_height()
        # 1. Read the source (a Grayscale one as R'G'B'A, R = G = B), hints and reference.
        src = Layer.from_buffer(read_pixels(self.source, self.fmt), w, h, 4, self.fmt.dtype)
        hints = self._hints()
        reference = self._reference()
        # 2. Colorize through the daemon on a worker thread; the UI thread shows progress.
        self.client = Launcher().connect()
        events: queue.Queue = queue.Queue()

        def work():
            try:
                for ev in self.client.colorize(
                    src,
                    hints=hints,
                    reference=reference,
                    preview_side=PREVIEW_SIDE,
                    **self.req.colorize_kwargs(),
                ):
                    events.put(("event", ev))
                events.put(("done", None))
            except Exception as exc:  # handed to the UI thread
                events.put(("error", exc))

        threading.Thread(target=work, daemon=True, name="tinct-colorize").start()
        result = None
        while True:
            try:
                kind, value = events.get(timeout=0.03)
            except queue.Empty:
                kind, value = "idle", None
            if kind == "error":
                raise value
            if kind == "done":
                break
            if kind == "event":
                if value.kind == "queued":
                    self.job = value.job
                elif value.kind == "result":
                    result = value
                progress.show(value)
            # Checked after every event too: a fast job's events never leave the queue
            # empty for long, and a Cancel pressed then must still reach the daemon.
            if self.job is not None and progress.poll() is not None:
                self.client.cancel(self.job)
        if getattr(progress, "cancel_sent", False):  # the result beat the cancel: drop it
            raise Cancelled("cancelled", "cancelled by the user")
        if result is None or result.layer is None:
            raise UserError("the daemon finished without returning a layer")
        self.job, self.scale, self.result = result.job, result.scale, result.layer

    def add_layer(self, replace: bool) -> None:
        """The new layer above the source and its earlier results (same size and place,
        LCh Color mode, the selection as its mask); REPLACE removes those results."""
        w, h = self.source.get_width(), self.source.get_height()
        if self.image.get_base_type() != Gimp.ImageBaseType.RGB:
            self.image.convert_rgb()  # the precision (8/16-bit, float) stays
            self.converted = True
        earlier = previous_results(self.image, self.source)
        self.layer = Gimp.Layer.new(
            self.image,
            self.name(),
            w,
            h,
            Gimp.ImageType.RGBA_IMAGE,
            100.0,
            Gimp.LayerMode.LCH_COLOR,
        )
        top = earlier[-1] if earlier else self.source
        self.image.insert_layer(
            self.layer, self.source.get_parent(), self.image.get_item_position(top)
        )
        self.layer.set_offsets(*_offsets(self.source))
        write_pixels(self.layer, self.fmt, self.result)
        plan = selection.mask_plan(
            _selection_bounds(self.image), _rect(self.source), self.source.get_name()
        )
        if plan == "selection":
            self.layer.add_mask(self.layer.create_mask(Gimp.AddMaskType.SELECTION))
        if replace:
            for layer in earlier:
                self.image.remove_layer(layer)

    def remove_layer(self) -> None:
        """Take the (preview) layer away again, and the RGB conversion with it."""
        if self.layer is not None:
            self.image.remove_layer(self.layer)
            self.layer = None
        if self.converted:
            self.image.convert_grayscale()
            self.converted = False

    def apply_scale(self, scale: float) -> None:
        """Re-render the new layer at another colourfulness (from the daemon's cached latents)."""
        ev = self.client.apply(self.job, scale)
        write_pixels(self.layer, self.fmt, ev.layer)
        self.scale, self.result, self.auto = ev.scale, ev.layer, False
        self.layer.set_name(self.name())
        Gimp.displays_flush()
        if _selftest() is not None:  # the test checks which values were rendered
            with open(os.environ[ENV_SELFTEST] + ".trace", "a") as f:
                f.write(f"{ev.scale}\n")

    def name(self) -> str:
        """The result layer's name: prompt, reference and colourfulness."""
        return result_layer_name(
            self.req.prompt, self.scale, auto=self.auto, reference=self.req.reference_layer
        )

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


class StatusProgress:
    """GIMP's own progress (status bar, or the batch console): the step in the text."""

    def __init__(self):
        Gimp.progress_init("Tinct: starting the backend")

    def show(self, ev) -> None:
        if ev.kind == "queued":
            Gimp.progress_set_text("Tinct: waiting for the backend")
        elif ev.kind == "progress" and ev.total:
            Gimp.progress_set_text(f"Tinct: colorizing, step {ev.step} of {ev.total}")
            Gimp.progress_update(0.9 * ev.step / ev.total)
        elif ev.kind == "result":
            Gimp.progress_set_text("Tinct: adding the color layer")
            Gimp.progress_update(0.95)

    def poll(self):
        return None  # no cancel here: GIMP's status-bar Cancel stops the plug-in itself

    def close(self) -> None:
        Gimp.progress_end()


class DialogProgress(StatusProgress):
    """A small window with the step and a Cancel button that stops the job in the daemon."""

    def __init__(self, cancel_at_step: int | None = None):
        super().__init__()
        from gi.repository import Gtk

        self.Gtk = Gtk
        self.cancelled = False
        self.cancel_sent = False
        self.cancel_at_step = cancel_at_step
        self.dialog = Gtk.Dialog(title="Tinct")
        self.dialog.add_button("_Cancel", Gtk.ResponseType.CANCEL)
        self.dialog.connect("response", lambda _d, _r: setattr(self, "cancelled", True))
        self.label = Gtk.Label(label="Starting the Tinct backend…")
        self.bar = Gtk.ProgressBar()
        box = self.dialog.get_content_area()
        box.set_spacing(8)
        box.set_border_width(12)
        box.pack_start(self.label, False, False, 0)
        box.pack_start(self.bar, False, False, 0)
        self.dialog.set_default_size(320, -1)
        self.dialog.show_all()
        self._pump()

    def _pump(self) -> None:
        while self.Gtk.events_pending():
            self.Gtk.main_iteration_do(False)

    def show(self, ev) -> None:
        super().show(ev)
        if ev.kind == "queued":
            self.label.set_text("Waiting for the backend…")
        elif ev.kind == "progress" and ev.total:
            self.label.set_text(f"Colorizing: step {ev.step} of {ev.total}")
            self.bar.set_fraction(ev.step / ev.total)
            if self.cancel_at_step is not None and ev.step >= self.cancel_at_step:
                self.dialog.response(self.Gtk.ResponseType.CANCEL)  # the self-test's click
        self._pump()

    def poll(self):
        """True once when Cancel was pressed (the caller sends the cancel)."""
        self._pump()
        if self.cancelled and not self.cancel_sent:
            self.cancel_sent = True
            self.label.set_text("Cancelling…")
            return True
        return None

    def close(self) -> None:
        super().close()
        self.dialog.destroy()
        self._pump()


def _check_source(image, drawables):
    """The layer to colorize; refused before any dialog opens."""
    if len(drawables) != 1:
        raise UserError(f"select exactly one layer to colorize ({len(drawables)} are selected)")
    source = drawables[0]
    if not isinstance(source, Gimp.Layer) or source.is_group():
        raise UserError(f"{source.get_name()!r} is not a pixel layer; select the layer to colorize")
    if image.get_base_type() == Gimp.ImageBaseType.INDEXED:
        raise UserError(
            "the image is indexed, which cannot hold new colors; "
            "convert it with Image > Mode > RGB and run Tinct Colorize again"
        )
    return source_of(image, source)  # a Grayscale image is converted with the result


def _check_inputs(
    image, source, config, hint_choice: str | None = None, reference_choice=None
) -> tuple:
    """The request, the hint layer and the reference layer. HINT_CHOICE is the dialog's
    pick (a layer name or request.NO_HINTS); without one, the "hint-layer" argument, else
    "Tinct hints". REFERENCE_CHOICE is the dialog's pick (a layer, or request.NO_REFERENCE);
    without one, the "reference-layer" argument (none: no reference)."""
    names = [layer.get_name() for layer in _all_layers(image.get_layers())]
    if hint_choice == request.NO_HINTS:
        hint_name, hint_layer = None, None
    else:
        chosen = config.get_property("hint-layer")
        picked = hint_choice or (chosen.get_name() if chosen is not None else None)
        hint_name = request.pick_hint_layer(picked, names, source.get_name())
        hint_layer = chosen if chosen is not None and hint_choice is None else None
        if hint_layer is None and hint_name is not None:
            hint_layer = image.get_layer_by_name(hint_name)
    reference = reference_choice
    if reference is None:
        reference = config.get_property("reference-layer")
    elif reference == request.NO_REFERENCE:
        reference = None
    reference_name = None
    if reference is not None:
        reference_name = request.check_reference(
            reference.get_name(),
            is_source=reference.get_id() == source.get_id(),
            is_group=reference.is_group(),
        )
    req = request.check_arguments(
        config.get_property("prompt"),
        config.get_property("auto"),
        config.get_property("scale"),
        config.get_property("steps"),
        hint_name,
        reference_name,
    )
    return req, hint_layer, reference


def _selftest() -> dict | None:
    path = os.environ.get(ENV_SELFTEST)
    if not path or not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def _run_dialog(dialog, actions=None) -> bool:
    """``dialog.run()``; with ``actions`` (the self-test), they run once the dialog is up."""
    if actions is not None:

        def later():
            try:
                actions(dialog)
            except Exception:  # a broken self-test must not leave the dialog up
                traceback.print_exc()
                dialog.response(-6)  # Gtk.ResponseType.CANCEL
            return False  # run once

        GLib.timeout_add(200, later)
    return bool(dialog.run())


def _screenshot(path: str) -> None:
    """The whole screen (Xvfb in the tests) as a PNG: what a user would see."""
    from gi.repository import Gdk

    root = Gdk.get_default_root_window()
    shot = Gdk.pixbuf_get_from_window(root, 0, 0, root.get_width(), root.get_height())
    if shot is not None:
        shot.savev(path, "png", [], [])


class LiveScale:
    """Slider moves to layer renders: the latest value is rendered DELAY_MS after a move.

    A drag sends many values; rendering each would queue full-resolution renders
    behind one another, so moves are coalesced and at most one render runs per
    DELAY_MS while the slider moves (and ``flush`` renders what is still pending).
    """

    DELAY_MS = 120

    def __init__(self, colorizer: Colorizer):
        self.colorizer = colorizer
        self.pending: float | None = None
        self.source_id: int | None = None

    def request(self, value: float) -> None:
        self.pending = value
        if self.source_id is None:
            self.source_id = GLib.timeout_add(self.DELAY_MS, self._fire)

    def _fire(self) -> bool:
        self.source_id = None
        try:
            self.flush()
        except TinctError as exc:  # keep the dialog usable; the message says why
            Gimp.message(f"Tinct: {exc}")
        return False  # one-shot

    def cancel(self) -> None:
        if self.source_id is not None:
            GLib.source_remove(self.source_id)
            self.source_id = None
        self.pending = None

    def flush(self) -> None:
        value = self.pending
        self.cancel()
        if value is not None and value != self.colorizer.scale:
            self.colorizer.apply_scale(value)


def _hint_combo(image, source, config):
    """The first dialog's hint chooser: names, with an explicit "(no hints)"."""
    from gi.repository import Gtk

    names = [layer.get_name() for layer in _all_layers(image.get_layers())]
    choices = request.hint_choices(names, source.get_name())
    chosen = config.get_property("hint-layer")
    default = request.pick_hint_layer(
        chosen.get_name() if chosen is not None else None, names, source.get_name()
    )
    combo = Gtk.ComboBoxText()
    for name in choices:
        combo.append_text(name)
    combo.set_active(choices.index(default) if default in choices else 0)
    combo.set_tooltip_text(
        f"Colors painted on this layer win where they are (Filters > Colors > Tinct Paint "
        f"Hints makes '{request.DEFAULT_HINT_LAYER}' above '{source.get_name()}')"
    )
    row = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=8)
    row.pack_start(Gtk.Label(label="Hints"), False, False, 0)
    row.pack_start(combo, True, True, 0)
    row.show_all()
    return row, combo


def _image_label(image) -> str:
    """An image as the user knows it: its file's name (opened, imported or exported), else
    GIMP's name with the image's number, as its title bar shows it ("[Untitled]-2")."""
    for file in (image.get_file(), image.get_imported_file(), image.get_exported_file()):
        if file is not None:
            return file.get_basename()
    return f"{image.get_name()}-{image.get_id()}"


def _reference_combo(source, config):
    """The first dialog's reference chooser: every open image's layers, after an explicit
    "(no reference)"; returns the row, the combo and the layers in its order."""
    from gi.repository import Gtk

    layers = {}
    entries = []
    for img in Gimp.get_images():
        for layer in _all_layers(img.get_layers()):
            if not layer.is_group():
                layers[layer.get_id()] = layer
                entries.append((_image_label(img), layer.get_name(), layer.get_id()))
    choices = request.reference_choices(entries, source.get_id())
    chosen = config.get_property("reference-layer")
    keys = [key for _label, key in choices]
    combo = Gtk.ComboBoxText()
    for label, _key in choices:
        combo.append_text(label)
    current = chosen.get_id() if chosen is not None else None
    combo.set_active(keys.index(current) if current in keys else 0)
    combo.set_tooltip_text(request.REFERENCE_TIP)
    row = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=8)
    row.pack_start(Gtk.Label(label=request.REFERENCE_WORD), False, False, 0)
    row.pack_start(combo, True, True, 0)
    row.show_all()
    return row, combo, [layers.get(key) for key in keys]


def _main_dialog(procedure, config, image, source) -> tuple | None:
    """The first dialog; returns (hint choice, reference layer or request.NO_REFERENCE),
    or None when cancelled."""
    from gi.repository import GimpUi

    GimpUi.init(request.PROCEDURE)
    dialog = GimpUi.ProcedureDialog(procedure=procedure, config=config)
    dialog.fill(["prompt", "auto", "scale", "steps"])
    row, combo = _hint_combo(image, source, config)
    dialog.get_content_area().pack_start(row, False, False, 6)
    ref_row, ref_combo, ref_layers = _reference_combo(source, config)
    dialog.get_content_area().pack_start(ref_row, False, False, 6)
    actions = None
    test = _selftest()
    if test is not None:
        from gi.repository import Gtk

        def actions(d):
            for key, value in test.get("set", {}).items():
                config.set_property(key, value)
            if "hint" in test:
                names = [combo.get_model()[i][0] for i in range(len(combo.get_model()))]
                combo.set_active(names.index(test["hint"]))
            if "reference" in test:
                model = ref_combo.get_model()
                labels = [model[i][0] for i in range(len(model))]
                with open(os.environ[ENV_SELFTEST] + ".references", "w") as f:
                    json.dump(labels, f)  # what the list offered, for the test
                ref_combo.set_active(labels.index(test["reference"]))
            if test.get("screenshot_main"):
                while Gtk.events_pending():
                    Gtk.main_iteration_do(False)
                _screenshot(test["screenshot_main"])
            d.response(Gtk.ResponseType.OK)

    ok = _run_dialog(dialog, actions)
    choice = combo.get_active_text()
    reference = ref_layers[max(0, ref_combo.get_active())] or request.NO_REFERENCE
    dialog.destroy()
    return (choice, reference) if ok else None


def _scale_dialog(procedure, config, colorizer: Colorizer) -> bool:
    """The Colourfulness slider, re-rendering the new layer live. False = cancelled."""
    from gi.repository import GimpUi

    auto = config.get_property("auto")
    config.set_property("auto", False)  # a value is being picked by hand
    config.set_property("scale", colorizer.scale)
    dialog = GimpUi.ProcedureDialog(
        procedure=procedure, config=config, title=f"Tinct: {request.SCALE_WORD.lower()}"
    )
    dialog.get_scale_entry("scale", 1.0)  # a slider with its value, not a spin button
    dialog.fill(["scale"])
    live = LiveScale(colorizer)

    actions = None
    test = _selftest()
    if test is not None:
        from gi.repository import Gtk

        def actions(d):
            values = list(test.get("scales", []))

            def step():  # one slider position every 400 ms, then the answer
                if values:
                    config.set_property("scale", values.pop(0))
                    return True
                if test.get("screenshot"):
                    _screenshot(test["screenshot"])
                ok = test.get("accept", True)
                d.response(Gtk.ResponseType.OK if ok else Gtk.ResponseType.CANCEL)
                return False

            GLib.timeout_add(400, step)

    handler = config.connect(
        "notify::scale", lambda cfg, _p: live.request(cfg.get_property("scale"))
    )
    try:
        accepted = _run_dialog(dialog, actions)
    finally:
        config.disconnect(handler)
        # The next run (last-used values) starts from automatic colourfulness again if
        # this one did; the picked value is remembered for when it is turned off.
        config.set_property("auto", auto)
        dialog.destroy()
    if accepted:
        live.flush()  # a move in the last DELAY_MS before OK
    else:
        live.cancel()
    return accepted


def _record(image, colorizer: Colorizer) -> None:
    """Put the result into the image as one undo step (see the module docstring)."""
    image.undo_group_start()
    try:
        colorizer.add_layer(replace=True)
    finally:
        image.undo_group_end()


def run(procedure, run_mode, image, drawables, config, data):
    try:
        source = _check_source(image, drawables)
    except UserError as exc:
        return _error(procedure, str(exc))

    interactive = run_mode == Gimp.RunMode.INTERACTIVE
    hint_choice = reference_choice = None
    if interactive:
        picked = _main_dialog(procedure, config, image, source)
        if picked is None:
            return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
        hint_choice, reference_choice = picked

    try:
        req, hint_layer, reference = _check_inputs(
            image, source, config, hint_choice, reference_choice
        )
    except (UserError, ValueError) as exc:
        return _error(procedure, str(exc))

    colorizer = Colorizer(image, source, req, hint_layer, reference)
    test = _selftest() or {}
    progress = None
    Gimp.context_push()
    try:
        # 1. The job, with nothing in the image or its undo history open.
        progress = DialogProgress(test.get("cancel_at_step")) if interactive else StatusProgress()
        try:
            colorizer.run_job(progress)
        finally:
            progress.close()
        # 2. The result: with the slider dialog, previewed with undo frozen first.
        if interactive:
            image.undo_freeze()
            try:
                colorizer.add_layer(replace=False)
                Gimp.displays_flush()
                accepted = _scale_dialog(procedure, config, colorizer)
            finally:
                colorizer.remove_layer()  # the image as it was frozen
                image.undo_thaw()
            if not accepted:
                Gimp.displays_flush()
                return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
        _record(image, colorizer)
    except Cancelled:
        return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
    except (UserError, ValueError, TinctError) as exc:
        return _error(procedure, str(exc))
    except Exception as exc:  # a bug: still a readable error, with the traceback on stderr
        traceback.print_exc()
        return _error(procedure, f"internal error ({type(exc).__name__}: {exc})")
    finally:
        colorizer.close()
        Gimp.context_pop()
    Gimp.displays_flush()
    return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, GLib.Error())


def run_paint_hints(procedure, run_mode, image, drawables, config, data):
    """Create (or select) "Tinct hints" above the layer to colorize, in LCh Color mode
    (strokes show as a color wash), and select it for painting; Tinct Colorize run on it
    colorizes the layer below, not the hints."""
    try:
        if len(drawables) != 1:
            raise UserError("select the one layer to colorize, then paint hints for it")
        source = source_of(image, drawables[0])
        hint = image.get_layer_by_name(request.DEFAULT_HINT_LAYER)
        image.undo_group_start()
        try:
            if image.get_base_type() != Gimp.ImageBaseType.RGB:
                image.convert_rgb()  # hints are colors
            if hint is None:
                hint = Gimp.Layer.new(
                    image,
                    request.DEFAULT_HINT_LAYER,
                    image.get_width(),
                    image.get_height(),
                    Gimp.ImageType.RGBA_IMAGE,
                    100.0,
                    Gimp.LayerMode.LCH_COLOR,
                )
                earlier = previous_results(image, source)
                top = earlier[-1] if earlier else source
                image.insert_layer(hint, source.get_parent(), image.get_item_position(top))
                hint.fill(Gimp.FillType.TRANSPARENT)
        finally:
            image.undo_group_end()
        image.set_selected_layers([hint])
    except UserError as exc:
        return _error(procedure, str(exc))
    Gimp.displays_flush()
    return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, GLib.Error())


class TinctColorize(Gimp.PlugIn):
    def do_query_procedures(self):
        return [request.PROCEDURE, request.PAINT_HINTS_PROCEDURE]

    def do_set_i18n(self, name):
        return False

    def do_create_procedure(self, name):
        if name == request.PAINT_HINTS_PROCEDURE:
            procedure = Gimp.ImageProcedure.new(
                self, name, Gimp.PDBProcType.PLUGIN, run_paint_hints, None
            )
            procedure.set_image_types("RGB*, GRAY*")
            procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
            procedure.set_menu_label("Tinct _Paint Hints")
            procedure.add_menu_path("<Image>/Filters/Colors")
            procedure.set_documentation(
                "Make (or select) the layer to paint Tinct's color hints on",
                f"Adds '{request.DEFAULT_HINT_LAYER}' in LCh Color mode above the selected "
                "layer and selects it: paint colors where you know them, then run Tinct "
                "Colorize (it colorizes the layer below the hints).",
                name,
            )
            procedure.set_attribution("Tinct", "Tinct", "2026")
            return procedure
        procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, run, None)
        procedure.set_image_types("RGB*, GRAY*")  # gray is converted with the result
        procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
        procedure.set_menu_label("_Tinct Colorize…")
        procedure.add_menu_path("<Image>/Filters/Colors")
        procedure.set_documentation(
            "Colorize a black-and-white layer with the local Tinct model",
            "Adds a color layer in LCh Color mode above the selected layer (masked by the "
            "selection, named for the prompt and colourfulness; a rerun replaces the "
            "earlier one); the layer itself is not changed. A Grayscale image becomes RGB "
            "in the same undo step. An optional reference layer (any open image's colour "
            "photo) lends its colours. Needs the Tinct daemon, which is started on demand.",
            name,
        )
        procedure.set_attribution("Tinct", "Tinct", "2026")
        flags = GObject.ParamFlags.READWRITE
        for arg in request.ARGUMENTS:
            if arg.kind == "string":
                procedure.add_string_argument(arg.name, arg.nick, arg.blurb, arg.default, flags)
            elif arg.kind == "boolean":
                procedure.add_boolean_argument(arg.name, arg.nick, arg.blurb, arg.default, flags)
            elif arg.kind == "double":
                procedure.add_double_argument(
                    arg.name, arg.nick, arg.blurb, arg.minimum, arg.maximum, arg.default, flags
                )
            elif arg.kind == "int":
                procedure.add_int_argument(
                    arg.name, arg.nick, arg.blurb, arg.minimum, arg.maximum, arg.default, flags
                )
            elif arg.kind == "layer":
                procedure.add_layer_argument(arg.name, arg.nick, arg.blurb, True, flags)
            else:
                raise ValueError(f"argument {arg.name!r} has unknown kind {arg.kind!r}")
        return procedure


if __name__ == "__main__":
    Gimp.main(TinctColorize.__gtype__, sys.argv)
