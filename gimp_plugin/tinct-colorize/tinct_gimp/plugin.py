"""Tinct for GIMP 3: Filters > Colors > Tinct Colorize… and Tinct Paint Hints.

The procedures: their declaration (``colorize_procedure``, ``paint_hints_procedure``),
what a run does (``run_colorize``, ``run_paint_hints``) and the ``Gimp.PlugIn`` that
offers them. A run reads the source layer at its own precision, sends it to the local
Tinct daemon (through the vendored standard-library client, `tinct_protocol`), and
puts the returned color layer above the source in LCh Color mode, masked by the
selection, named for how it was made (``Tinct — "blue sky" x1.10``). With Variations
above 1, one layer per variation, each named with its seed (``... x1.10 seed 8``), the
first on top. The source layer is never written to. An optional reference layer (any
open image's, any size) goes along as a colour photo whose colours the result borrows.

Undo: the image is touched only once the daemon's result is there, inside one undo
group: a Grayscale image converted to RGB (its precision kept), the new layer, and
the source's earlier Tinct results removed (a rerun replaces them; one Ctrl+Z brings
them back). While the job runs nothing is open, so a Cancel (or GIMP stopping the
plug-in) leaves the image and its undo history as they were. The interactive
Colourfulness dialog previews on a layer added with undo frozen (while the knob moves,
a ``gegl:saturation`` filter on the layer, or where none can serve a small render
upscaled; the full resolution once it rests); the image is put back before thawing (the
layer and its filter removed), and OK then records the full-resolution result as above.

Last-used values: GIMP keeps an interactive run's config when it returns SUCCESS, and
Repeat (Ctrl+F, run mode WITH_LAST_VALS) and Re-show (Shift+Ctrl+F, INTERACTIVE) start
from it. The dialog's hint and reference picks go into it by name
(``request.AUX_ARGUMENTS``), so Repeat uses them too. Cancel in the Colourfulness dialog
declines the result, not the settings: the run returns SUCCESS with nothing added, so
GIMP keeps them (a CANCEL status would make it forget the whole run).
"""

from __future__ import annotations

import sys
import time
import traceback
from typing import NamedTuple

from gi.repository import Gimp, GLib, GObject
from tinct_protocol import Cancelled, Layer, TinctError
from tinct_protocol.colorize_request import ColorizeRequest
from tinct_protocol.layers import HINT_LAYER_NAME, reference_label
from tinct_protocol.naming import result_name
from tinct_protocol.preview import (
    copy_alpha,
    filter_preview_applies,
    preview_size,
    upscale_nearest,
)
from tinct_protocol.readable import backend_log_path, readable_error

from . import adapter, dialog, request
from .pixels import packed
from .request import UserError
from .session import Progress, Session


class Render(NamedTuple):
    """A Colourfulness slider render of a run's layers (one per variation), made off
    GIMP's thread (``Variations.render``) and written by ``Variations.show``."""

    scale: float  # the colourfulness asked for
    final: bool  # the full-resolution render (what OK keeps); False: an upscaled preview
    layers: tuple[Layer, ...]  # per variation, at the layer's size either way
    size: tuple[int, int]  # what the daemon rendered: the preview's size, or the layer's
    started: float  # time.monotonic() when the render was asked for
    received: float  # ... when the daemon's layers were in (and upscaled)


class Colorizer:
    """One run: source pixels in, the daemon's result, then the color layer out."""

    def __init__(
        self,
        image,
        source,
        req: ColorizeRequest,
        hint_layer,
        reference=None,
        seed: int | None = None,
        session: Session | None = None,
    ):
        self.image = image
        self.source = source
        self.req = req
        self.hint_layer = hint_layer
        self.reference = reference
        self.fmt = adapter.image_format(image)
        self.session = session or Session()
        self.seed = req.seeds()[0] if seed is None else seed  # the one asked for
        self.result_seed = 0  # the daemon's: 0 when its model draws no variations
        self.job: str | None = None
        self.layer = None
        self.result: Layer | None = None  # the last full-resolution render
        self.scale: float | None = None  # ... its colourfulness
        self.preview: float | None = None  # the layer holds a preview at this value instead
        self._alpha: bytes | None = None  # the result's alpha source (the same at any scale)
        self.hints_sent = False  # painted hints went with the job (the name says so)
        self.converted = False
        self.filter = None  # the slider's saturation filter on the layer (``preview_filter``)

    def run_job(self, progress: Progress) -> None:
        """Read the pixels and run the daemon job; the image is not touched. ``progress``
        shows each event and may cancel (raises Cancelled)."""
        # 1. Read the source (a Grayscale one as R'G'B'A, R = G = B), hints and reference.
        src = adapter.read_source(self.source, self.fmt)
        hints = adapter.read_hints(self.source, self.hint_layer)
        reference = adapter.read_reference(self.reference)
        # 2. Colorize through the daemon on a worker thread; the UI thread shows progress.
        self.hints_sent = hints is not None
        result = self.session.colorize(src, hints, reference, self.req, progress, self.seed)
        if result is None or result.layer is None:
            raise UserError("the daemon finished without returning a layer")
        self.job, self.scale, self.result = result.job, result.scale, result.layer
        self.result_seed = int(result.header.get("seed") or 0)

    def add_layer(self, replace: bool, earlier: list | None = None, stopped=None) -> None:
        """The new layer above the source and its earlier results (same size and place,
        LCh Color mode, the selection as its mask); REPLACE removes those results.
        EARLIER: the results to stack above and replace (default: the source's now).
        STOPPED (the progress window's Cancel) stops the write: Cancelled, no layer."""
        if adapter.convert_to_rgb(self.image):  # the precision (8/16-bit, float) stays
            self.converted = True
        if earlier is None:
            earlier = adapter.previous_results(self.image, self.source)
        self.layer = adapter.add_color_layer(
            self.image, self.source, self.name(), self.fmt, self.result, earlier, stopped
        )
        if replace:
            for layer in earlier:
                self.image.remove_layer(layer)

    def remove_layer(self) -> None:
        """Take the (preview) layer away again, and the RGB conversion with it."""
        self.drop_filter()
        if self.layer is not None:
            self.image.remove_layer(self.layer)
            self.layer = None
        if self.converted:
            self.image.convert_grayscale()
            self.converted = False

    def render(self, scale: float, preview: bool) -> tuple[Layer, tuple[int, int]]:
        """The layer's pixels at another colourfulness, from the daemon's cached latents,
        and the size the daemon rendered. PREVIEW: a small render (``preview_size``)
        upscaled to the layer, with the result's alpha; a layer small enough gets the full
        resolution anyway. No GIMP call: this runs on the slider's render thread."""
        width, height = self.result.width, self.result.height
        size = preview_size(width, height) if preview else None
        if size is None:
            return self.session.apply(self.job, scale).layer, (width, height)
        fmt = self.fmt
        small = self.session.rescale(self.job, scale, size, fmt.dtype).layer
        size = small.width, small.height  # what the daemon rendered
        rows = packed(small.data, *size, small.format.stride, fmt)
        data = upscale_nearest(rows, *size, width, height, 4 * fmt.itemsize)
        if self._alpha is None:
            r = self.result
            self._alpha = packed(r.data, width, height, r.format.stride, fmt)
        copy_alpha(data, self._alpha, fmt.dtype)  # exact alpha (transparent parts) from the result
        return Layer.from_buffer(data, width, height, 4, fmt.dtype, order=small.format.order), size

    def can_filter(self) -> bool:
        """Whether the slider may preview by a saturation filter on the layer: it holds the
        full-resolution render (not a preview), and the rule both plugins share says yes
        (``filter_preview_applies``: over 1 MP, a colourfulness other than 0, no hints,
        no reference)."""
        return (
            self.layer is not None
            and self.preview is None
            and filter_preview_applies(
                self.result.width,
                self.result.height,
                self.scale or 0.0,
                hints=self.hints_sent,
                reference=self.reference is not None,
            )
        )

    def preview_filter(self, scale: float) -> bool:
        """Show SCALE on the canvas by a ``gegl:saturation`` filter on the layer (CIE Lab,
        a*b* times SCALE / the held scale): no daemon render, no layer write. False (and
        no filter) where it cannot (``can_filter``, or GIMP has no such filter): the
        caller renders a preview instead."""
        if not self.can_filter():
            self.drop_filter()
            return False
        ratio = scale / self.scale
        if ratio == 1.0:
            self.drop_filter()  # back at the held value: the layer's own pixels, exactly
            return True
        if self.filter is not None and self.filter.is_valid():
            if adapter.set_saturation(self.filter, ratio):
                return True
            self.drop_filter()
            return False
        self.filter = adapter.saturation_filter(self.layer, ratio)
        return self.filter is not None

    def warm_filter(self) -> None:
        """Put the slider's filter on the layer at 1 (the held value) before any move, so
        GIMP's one-time set-up of the filter's first render (0.4-1.8 s per GIMP session
        at 4 MP, measured) is paid as the dialog opens, not at the first move."""
        if self.filter is None and self.can_filter():
            self.filter = adapter.saturation_filter(self.layer, 1.0)

    def drop_filter(self) -> None:
        """Take the slider's filter off the layer (none: nothing to do)."""
        adapter.remove_filter(self.filter)
        self.filter = None

    def show(self, layer: Layer, scale: float, final: bool) -> None:
        """Write a render (``render``) to the layer; a full-resolution one also names it.
        The slider's filter goes once the pixels are in (the canvas never shows the held
        value between the two)."""
        adapter.write_pixels(self.layer, self.fmt, layer)
        self.drop_filter()
        if final:
            self.scale, self.result, self.preview = scale, layer, None
            self.layer.set_name(self.name())
        else:
            self.preview = scale

    def holds(self, scale: float) -> bool:
        """Whether the layer holds the full-resolution render at SCALE."""
        return self.preview is None and self.scale == scale

    def name(self) -> str:
        """The result layer's name: prompt, hints, reference, colourfulness and seed (the
        same words as Krita's: ``naming.result_name``)."""
        return result_name(self.req, self.scale, hints=self.hints_sent, seed=self.result_seed)

    def close(self) -> None:
        self.session.close()


class Variations:
    """The run's colorizers, one per seed of the request (one for Variations 1), sharing
    one connection; the slider dialog and the undo step treat them as one result."""

    def __init__(
        self, image, source, req: ColorizeRequest, hint_layer, reference=None, session=None
    ):
        self.image = image
        self.source = source
        self.session = session or Session()
        self.colorizers = [
            Colorizer(image, source, req, hint_layer, reference, seed, self.session)
            for seed in req.seeds()
        ]

    @property
    def scale(self) -> float | None:
        """The colourfulness all the layers show."""
        return self.colorizers[0].scale

    def run_job(self, progress: Progress) -> None:
        """Each variation's daemon job in turn (see ``Colorizer.run_job``)."""
        for c in self.colorizers:
            c.run_job(progress)

    def add_layer(self, replace: bool, stopped=None) -> None:
        """One layer per variation above the source's earlier results, the first on top;
        REPLACE removes those earlier results (not this run's). STOPPED: as for one."""
        earlier = adapter.previous_results(self.image, self.source)
        added: list = []
        for c in reversed(self.colorizers):  # each goes on top: the first ends topmost
            c.add_layer(replace=False, earlier=earlier + added, stopped=stopped)
            added.append(c.layer)
        if replace:
            for layer in earlier:
                self.image.remove_layer(layer)
            for c in self.colorizers:  # GIMP added " #1" where an earlier one had the name
                c.layer.set_name(c.name())

    def remove_layer(self) -> None:
        """Take the (preview) layers away again, and the RGB conversion with them (the
        last variation's add made it, so its removal comes last)."""
        for c in self.colorizers:
            c.remove_layer()

    def render(self, scale: float, preview: bool) -> Render:
        """Every variation's layer at another colourfulness (no U-Net), small and upscaled
        while PREVIEW (see ``Colorizer.render``). No GIMP call: the render thread's work."""
        started = time.monotonic()
        done = [c.render(scale, preview) for c in self.colorizers]
        layers = tuple(layer for layer, _size in done)
        final = not preview or preview_size(layers[0].width, layers[0].height) is None
        return Render(scale, final, layers, done[0][1], started, time.monotonic())

    def preview_filter(self, scale: float) -> bool:
        """SCALE on the canvas by each layer's saturation filter, flushed to the displays
        (``Colorizer.preview_filter``; GIMP's thread); False, every filter taken off, where
        one layer cannot: the caller renders a preview instead."""
        shown = all(c.preview_filter(scale) for c in self.colorizers)
        if not shown:
            self.drop_filters()
        Gimp.displays_flush()
        return shown

    def warm_filters(self) -> None:
        """Each layer's filter at 1 (``Colorizer.warm_filter``), drawn: the dialog opens."""
        for c in self.colorizers:
            c.warm_filter()
        Gimp.displays_flush()

    def filtering(self) -> bool:
        """Whether a saturation filter shows the slider's value on a layer now."""
        return any(c.filter is not None for c in self.colorizers)

    def drop_filters(self) -> None:
        for c in self.colorizers:
            c.drop_filter()

    def show(self, render: Render) -> None:
        """Write RENDER to the layers and show it (GIMP's thread)."""
        for c, layer in zip(self.colorizers, render.layers, strict=True):
            c.show(layer, render.scale, render.final)
        Gimp.displays_flush()

    def holds(self, scale: float) -> bool:
        """Whether every layer holds its full-resolution render at SCALE."""
        return all(c.holds(scale) for c in self.colorizers)

    def before_layers(self) -> list:
        """What the slider dialog's "Before" hides, as Krita's docker does: this run's
        layers, the source's earlier results and the hint layer, so the image shows as
        it was without Tinct's colour (each layer once, top first)."""
        found = [c.layer for c in self.colorizers if c.layer is not None]
        found += adapter.previous_results(self.image, self.source)
        hint = self.image.get_layer_by_name(HINT_LAYER_NAME)
        if hint is not None:
            found.append(hint)
        layers, ids = [], set()
        for layer in found:
            if layer.get_id() not in ids:
                ids.add(layer.get_id())
                layers.append(layer)
        return layers

    def close(self) -> None:
        """Close the run's one connection (all its colorizers share it)."""
        self.session.close()


def _error(procedure, message: str):
    return procedure.new_return_values(
        Gimp.PDBStatusType.EXECUTION_ERROR,
        GLib.Error.new_literal(Gimp.PlugIn.error_quark(), f"Tinct: {message}", 0),
    )


def readable(exc: BaseException, trace: str = "") -> str:
    """EXC as one line for the user (what failed, what to do, the backend's log); the
    details go to stderr (GIMP's terminal and error console), never into the message."""
    message = readable_error(exc, backend_log_path(), trace)
    if message.details:
        print(f"Tinct: {message.line}\n{message.details}", file=sys.stderr)
    return message.line


def _status(procedure, status):
    return procedure.new_return_values(status, GLib.Error())


def _stopped(progress) -> bool:
    """Whether the progress window's Cancel was pressed (its loop runs meanwhile)."""
    progress.poll()
    return progress.cancel_sent


def _record(image, colorizer: Colorizer) -> None:
    """Put the result into the image as one undo step (see the module docstring)."""
    image.undo_group_start()
    try:
        colorizer.add_layer(replace=True)
    finally:
        image.undo_group_end()


def run_colorize(procedure, run_mode, image, drawables, config, data, ui=dialog):
    """The Tinct Colorize procedure. UI: the module whose dialogs an interactive run
    opens (``MainDialog``, ``ProgressDialog``, ``ScaleDialog``, ``StatusProgress``)."""
    try:
        source = adapter.check_source(image, drawables)
    except UserError as exc:
        return _error(procedure, str(exc))

    interactive = run_mode == Gimp.RunMode.INTERACTIVE
    hint_choice = reference_choice = None
    session = Session()
    if interactive:
        # The backend starts while the dialog is up, so OK does not wait for it (a start
        # that fails is reported when the job needs it, as a start of its own would be).
        session.start_early()
        picked = ui.MainDialog(procedure, config, image, source).run()
        if picked is None:
            return _status(procedure, Gimp.PDBStatusType.CANCEL)
        hint_choice, reference_choice = picked
    elif run_mode == Gimp.RunMode.WITH_LAST_VALS:  # Repeat: the last dialog's picks
        try:
            references = {
                reference_label(img, name): layer
                for img, name, _key, layer in adapter.reference_layers()
            }
            hint_choice, reference_choice = request.last_choices(
                config.get_property("hint-choice"),
                config.get_property("reference-choice"),
                adapter.layer_names(image),
                references,
            )
        except UserError as exc:
            return _error(procedure, str(exc))

    try:
        req, hint_layer, reference = adapter.check_inputs(
            image, source, config, hint_choice, reference_choice
        )
    except (UserError, ValueError) as exc:
        return _error(procedure, str(exc))

    colorizer = Variations(image, source, req, hint_layer, reference, session)
    progress = None
    Gimp.context_push()
    try:
        # 1. The job, with nothing in the image or its undo history open; the progress
        #    names each phase, and says 100 % only once the layer is in the image.
        progress = ui.ProgressDialog() if interactive else ui.StatusProgress()
        progress.expect(req.steps, req.variations)
        colorizer.run_job(progress)
        # 2. The result: with the slider dialog, previewed with undo frozen first.
        if interactive:
            image.undo_freeze()
            try:
                progress.writing()
                # Cancel stays live: between strips, and right after the one merge call
                colorizer.add_layer(replace=False, stopped=lambda: _stopped(progress))
                Gimp.displays_flush()
                progress.done()
                progress.close()
                progress = None
                accepted = ui.ScaleDialog(procedure, config, colorizer).run()
            finally:
                colorizer.remove_layer()  # the image as it was frozen
                image.undo_thaw()
            if not accepted:  # the result declined, its settings kept (module docstring)
                Gimp.displays_flush()
                return _status(procedure, Gimp.PDBStatusType.SUCCESS)
            _record(image, colorizer)
        else:
            progress.writing()
            _record(image, colorizer)
            progress.done()
    except Cancelled:
        if progress is not None:
            progress.cancelled_done()  # "Cancelled.", seen before the window goes
        return _status(procedure, Gimp.PDBStatusType.CANCEL)
    except (UserError, ValueError) as exc:
        return _error(procedure, str(exc))
    except TinctError as exc:  # the backend's: one line, with the log's path
        return _error(procedure, readable(exc))
    except Exception as exc:  # a bug: still one readable line, the traceback on stderr
        return _error(procedure, readable(exc, traceback.format_exc()))
    finally:
        if progress is not None:
            progress.close()
        colorizer.close()
        Gimp.context_pop()
    Gimp.displays_flush()
    return _status(procedure, Gimp.PDBStatusType.SUCCESS)


def run_paint_hints(procedure, run_mode, image, drawables, config, data):
    """Create (or select) "Tinct hints" above the layer to colorize, Normal at 80 %
    opacity (strokes show on white and black alike), and select it for painting; Tinct
    Colorize run on it colorizes the layer below, not the hints."""
    try:
        if len(drawables) != 1:
            raise UserError("select the one layer to colorize, then paint hints for it")
        source = adapter.source_of(image, drawables[0])
        image.undo_group_start()
        try:
            hint = adapter.hint_layer_for(image, source)
        finally:
            image.undo_group_end()
        image.set_selected_layers([hint])
    except UserError as exc:
        return _error(procedure, str(exc))
    Gimp.displays_flush()
    return _status(procedure, Gimp.PDBStatusType.SUCCESS)


def paint_hints_procedure(plug_in, name: str, run=run_paint_hints):
    procedure = Gimp.ImageProcedure.new(plug_in, name, Gimp.PDBProcType.PLUGIN, run, None)
    procedure.set_image_types("RGB*, GRAY*")
    procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
    procedure.set_menu_label("Tinct _Paint Hints")
    procedure.add_menu_path("<Image>/Filters/Colors")
    procedure.set_documentation(
        "Make (or select) the layer to paint Tinct's color hints on",
        f"Adds '{HINT_LAYER_NAME}' (Normal, 80 % opacity) above the selected "
        "layer and selects it: paint colors where you know them, then run Tinct "
        "Colorize (it colorizes the layer below the hints).",
        name,
    )
    procedure.set_attribution("Tinct", "Tinct", "2026")
    return procedure


def colorize_procedure(plug_in, name: str, run=run_colorize):
    """The Tinct Colorize procedure NAME, its arguments declared once (request.ARGUMENTS)."""
    procedure = Gimp.ImageProcedure.new(plug_in, name, Gimp.PDBProcType.PLUGIN, run, None)
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
    for arg in request.AUX_ARGUMENTS:  # saved with the last-used values, not passed
        procedure.add_string_aux_argument(arg.name, arg.nick, arg.blurb, arg.default, flags)
    return procedure


class TinctColorize(Gimp.PlugIn):
    def do_query_procedures(self):
        return [request.PROCEDURE, request.PAINT_HINTS_PROCEDURE]

    def do_set_i18n(self, name):
        return False

    def do_create_procedure(self, name):
        if name == request.PAINT_HINTS_PROCEDURE:
            return paint_hints_procedure(self, name)
        return colorize_procedure(self, name)
