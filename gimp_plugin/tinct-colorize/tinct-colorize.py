#!/usr/bin/env python3
"""Tinct colorize for GIMP 3: Filters > Colors > Tinct Colorize…

The only module of the plug-in that imports GIMP. It reads the source layer at its
own precision through a Gegl buffer, sends it to the local Tinct daemon (through the
vendored standard-library client, `tinct_protocol`), and puts the returned color
layer above the source as "Tinct color" in LCh Color mode, masked by the selection.
The source layer is never written to. Validation, format mapping and the mask
decision live in the host-free `tinct_gimp` package next to this file.
"""

from __future__ import annotations

import json
import os
import sys
import traceback

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
gi.require_version("GimpUi", "3.0")  # imported only for interactive runs
gi.require_version("Gtk", "3.0")
from gi.repository import Gegl, Gimp, GLib, GObject  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tinct_gimp import formats, request, selection  # noqa: E402
from tinct_protocol import Launcher, Layer, TinctError  # noqa: E402

PREVIEW_SIDE = 0  # the dialog previews on the real layer, not a thumbnail
# Test hook (tests/test_gimp_host.py): the path of a JSON file {"set": {...},
# "scales": [...], "accept": bool}, read at each interactive run. When the file exists,
# the dialogs answer themselves: "set" is typed into the first (GIMP fills an
# interactive run's config from the last-used values, not from the caller), OK; then
# the strength slider is moved
# through "scales" (each move re-renders the layer, as a user's drag does) and the
# second dialog is accepted or cancelled. The same code runs as for a user.
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


def read_pixels(drawable, fmt: formats.PixelFormat, rect=None, abyss=None) -> bytes:
    """Bulk read through the drawable's Gegl buffer (``rect`` in drawable coordinates)."""
    w, h = drawable.get_width(), drawable.get_height()
    rect = rect or Gegl.Rectangle.new(0, 0, w, h)
    buffer = drawable.get_buffer()
    data = buffer.get(rect, 1.0, fmt.babl, abyss or Gegl.AbyssPolicy.CLAMP)
    formats.check_pixels(len(data), rect.width, rect.height, fmt, f"layer {drawable.get_name()!r}")
    return data


def write_pixels(drawable, fmt: formats.PixelFormat, result: Layer) -> None:
    """Write a daemon layer into ``drawable`` via its shadow buffer, then merge (one undo step)."""
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
    """One run: source pixels in, the "Tinct color" layer out."""

    def __init__(self, image, source, req: request.ColorizeRequest, hint_layer):
        self.image = image
        self.source = source
        self.req = req
        self.hint_layer = hint_layer
        self.fmt = formats.format_for_precision(image.get_precision().value_name)
        self.client = None
        self.job: str | None = None
        self.layer = None
        self.scale: float | None = None

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

    def colorize(self) -> None:
        w, h = self.source.get_width(), self.source.get_height()
        # 1. Read the source (and the hints) at the image's precision.
        src = Layer.from_buffer(read_pixels(self.source, self.fmt), w, h, 4, self.fmt.dtype)
        hints = self._hints()
        # 2. Colorize through the daemon, with progress.
        Gimp.progress_init("Tinct: colorizing")
        self.client = Launcher().connect()
        result = None
        for ev in self.client.colorize(
            src, hints=hints, preview_side=PREVIEW_SIDE, **self.req.colorize_kwargs()
        ):
            if ev.kind == "queued":
                Gimp.progress_set_text("Tinct: waiting for the daemon")
            elif ev.kind == "progress" and ev.total:
                Gimp.progress_update(0.9 * ev.step / ev.total)
            elif ev.kind == "result":
                result = ev
        if result is None or result.layer is None:
            raise UserError("the daemon finished without returning a layer")
        self.job, self.scale = result.job, result.scale
        # 3. The new layer, above the source, same size and place, LCh Color mode.
        self.layer = Gimp.Layer.new(
            self.image,
            request.NEW_LAYER_NAME,
            w,
            h,
            Gimp.ImageType.RGBA_IMAGE,
            100.0,
            Gimp.LayerMode.LCH_COLOR,
        )
        parent = self.source.get_parent()
        self.image.insert_layer(self.layer, parent, self.image.get_item_position(self.source))
        self.layer.set_offsets(*_offsets(self.source))
        write_pixels(self.layer, self.fmt, result.layer)
        Gimp.progress_update(0.95)
        # 4. The selection becomes the layer's mask (GIMP builds it at the image's precision).
        plan = selection.mask_plan(
            _selection_bounds(self.image), _rect(self.source), self.source.get_name()
        )
        if plan == "selection":
            self.layer.add_mask(self.layer.create_mask(Gimp.AddMaskType.SELECTION))
        Gimp.progress_update(1.0)

    def apply_scale(self, scale: float) -> None:
        """Re-render the new layer at another strength (from the daemon's cached latents)."""
        ev = self.client.apply(self.job, scale)
        write_pixels(self.layer, self.fmt, ev.layer)
        self.scale = ev.scale
        Gimp.displays_flush()
        if _selftest() is not None:  # the test checks which strengths were rendered
            with open(os.environ[ENV_SELFTEST] + ".trace", "a") as f:
                f.write(f"{ev.scale}\n")

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


def _check_source(image, drawables):
    """The layer to colorize; refused before any dialog opens."""
    if len(drawables) != 1:
        raise UserError(f"select exactly one layer to colorize ({len(drawables)} are selected)")
    source = drawables[0]
    if not isinstance(source, Gimp.Layer) or source.is_group():
        raise UserError(f"{source.get_name()!r} is not a pixel layer; select the layer to colorize")
    if image.get_base_type() != Gimp.ImageBaseType.RGB:
        raise UserError(
            "the image is grayscale or indexed, which cannot hold color; "
            "convert it with Image > Mode > RGB and run Tinct Colorize again"
        )
    return source


def _check_inputs(image, source, config) -> tuple:
    chosen = config.get_property("hint-layer")
    names = [layer.get_name() for layer in _all_layers(image.get_layers())]
    hint_name = request.pick_hint_layer(
        chosen.get_name() if chosen is not None else None, names, source.get_name()
    )
    hint_layer = chosen
    if hint_layer is None and hint_name is not None:
        hint_layer = image.get_layer_by_name(hint_name)
    req = request.check_arguments(
        config.get_property("prompt"),
        config.get_property("auto"),
        config.get_property("scale"),
        config.get_property("steps"),
        hint_name,
    )
    return source, req, hint_layer


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
            actions(dialog)
            return False  # run once

        GLib.timeout_add(200, later)
    return bool(dialog.run())


class LiveStrength:
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


def _strength_dialog(procedure, config, colorizer: Colorizer) -> bool:
    """Second dialog: the strength slider re-renders the new layer live. False = cancelled."""
    from gi.repository import GimpUi

    auto = config.get_property("auto")
    config.set_property("auto", False)  # a strength is being picked by hand
    config.set_property("scale", colorizer.scale)
    dialog = GimpUi.ProcedureDialog(
        procedure=procedure, config=config, title=f"Tinct: {request.SCALE_WORD.lower()}"
    )
    dialog.fill(["scale"])
    live = LiveStrength(colorizer)

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
        # The next run (last-used values) starts from automatic strength again if this
        # one did; the picked strength is remembered for when it is turned off.
        config.set_property("auto", auto)
        dialog.destroy()
    if accepted:
        live.flush()  # a move in the last DELAY_MS before OK
    else:
        live.cancel()
    return accepted


def run(procedure, run_mode, image, drawables, config, data):
    try:
        source = _check_source(image, drawables)
    except UserError as exc:
        return _error(procedure, str(exc))

    if run_mode == Gimp.RunMode.INTERACTIVE:
        from gi.repository import GimpUi

        GimpUi.init(request.PROCEDURE)
        dialog = GimpUi.ProcedureDialog(procedure=procedure, config=config)
        dialog.fill(None)
        actions = None
        if _selftest() is not None:
            from gi.repository import Gtk

            def actions(d):
                for key, value in _selftest().get("set", {}).items():
                    config.set_property(key, value)
                d.response(Gtk.ResponseType.OK)

        ok = _run_dialog(dialog, actions)
        dialog.destroy()
        if not ok:
            return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())

    try:
        source, req, hint_layer = _check_inputs(image, source, config)
    except (UserError, ValueError) as exc:
        return _error(procedure, str(exc))

    colorizer = Colorizer(image, source, req, hint_layer)
    Gimp.context_push()
    image.undo_group_start()
    try:
        colorizer.colorize()
        if run_mode == Gimp.RunMode.INTERACTIVE:
            first = colorizer.scale
            Gimp.displays_flush()
            if not _strength_dialog(procedure, config, colorizer) and colorizer.scale != first:
                colorizer.apply_scale(first)
    except (UserError, ValueError, TinctError) as exc:
        _discard(image, colorizer)
        return _error(procedure, str(exc))
    except Exception as exc:  # a bug: still a readable error, with the traceback on stderr
        traceback.print_exc()
        _discard(image, colorizer)
        return _error(procedure, f"internal error ({type(exc).__name__}: {exc})")
    finally:
        Gimp.progress_end()
        colorizer.close()
        image.undo_group_end()
        Gimp.context_pop()
    Gimp.displays_flush()
    return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, GLib.Error())


def _discard(image, colorizer: Colorizer) -> None:
    """A failed run leaves no half-made layer behind."""
    if colorizer.layer is not None:
        try:
            image.remove_layer(colorizer.layer)
        except Exception:
            pass
        colorizer.layer = None


class TinctColorize(Gimp.PlugIn):
    def do_query_procedures(self):
        return [request.PROCEDURE]

    def do_set_i18n(self, name):
        return False

    def do_create_procedure(self, name):
        procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, run, None)
        procedure.set_image_types("RGB*, GRAY*")  # gray is refused with a message, not hidden
        procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
        procedure.set_menu_label("_Tinct Colorize…")
        procedure.add_menu_path("<Image>/Filters/Colors")
        procedure.set_documentation(
            "Colorize a black-and-white layer with the local Tinct model",
            "Adds a 'Tinct color' layer in LCh Color mode above the selected layer "
            "(masked by the selection); the layer itself is not changed. Needs the Tinct "
            "daemon, which is started on demand.",
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
