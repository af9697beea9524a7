"""The Tinct docker: prompt, Colorize, Colourfulness slider, Auto, steps, hints, reference,
Before, Cancel.

A thin Qt layer: user actions and worker events go to ``DockerState``; the
network runs on worker threads (``threading`` + a queued Qt signal back to
the UI thread), pixels are read and written here on the UI thread through
``adapter.py``. Worker threads hand back typed ``WorkerMessage`` values.

The layer to colorize is the active one, unless that is a hint or a Tinct result
layer: then it is the source remembered from "Paint hints" or the last Colorize,
so painting hints never makes the hint layer the target. The Reference list offers
every paint layer of every open document (never the layer to colorize); the chosen one
is never the target either. A one-second watch keeps the hint and reference lists
current and notices a result layer that was undone or deleted.
"""

from __future__ import annotations

import threading
import time
from typing import NamedTuple

from krita import DockWidget, Krita
from PyQt5.QtCore import QObject, Qt, QTimer, pyqtSignal
from PyQt5.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from . import adapter
from .adapter import Source
from .pixels import ITEMSIZE, copy_alpha, mask_alpha, upscale_nearest
from .request import (
    SCALE_MAX,
    SCALE_MIN,
    SLIDER_MAX,
    SLIDER_MIN,
    ColorizeRequest,
    UserError,
    scale_to_slider,
    slider_to_scale,
)
from .session import Adjusted, Latest, Session, WorkerEvent, WorkerMessage
from .state import Adjust, Adjustment, DockerState
from .tinct_protocol import Cancelled, Layer, TinctError
from .tinct_protocol.constants import (
    DEFAULT_SCALE,
    DEFAULT_STEPS,
    MAX_STEPS,
    MIN_STEPS,
    SCALE_WORD,
)
from .tinct_protocol.geometry import fit_size
from .tinct_protocol.layers import (
    HINT_LAYER_NAME,
    NO_HINTS,
    NO_REFERENCE,
    REFERENCE_TIP,
    REFERENCE_WORD,
    hint_choices,
    is_result_name,
    reference_choices,
    result_layer_name,
)

DOCKER_ID = "tinct_docker"
PREVIEW_SIDE = 384
# Up to this many pixels a drag renders the layer at full resolution (apply), so what
# is seen while dragging is exactly what stays on release; above, a small preview.
FULL_PREVIEW_PIXELS = 1_000_000
WATCH_MS = 1000


class _Bridge(QObject):
    """Carries worker-thread messages (``WorkerMessage``) to the UI thread (queued)."""

    event = pyqtSignal(object)


class Target(NamedTuple):
    """The result the slider adjusts: its layer and what it was made from."""

    document: object
    layer: object  # the Tinct result layer
    source: Source
    data: bytes | bytearray  # the full result as added (its alpha is the same at every scale)


class Pending(NamedTuple):
    """A colorize in the daemon: what its result goes into."""

    document: object
    node: object  # the layer colorized
    source: Source
    request: ColorizeRequest


class TinctDocker(DockWidget):
    def __init__(self):
        super().__init__()
        self.setWindowTitle("Tinct")
        self.setObjectName(DOCKER_ID)
        self.state = DockerState()
        self.session = Session()
        self._bridge = _Bridge()
        self._bridge.event.connect(self._on_worker, Qt.QueuedConnection)
        self._target: Target | None = None
        self._converted_for = None  # the target whose result converted a Grayscale image
        self._source = None  # (document, node): the layer Colorize colorizes
        self._pending: Pending | None = None  # the colorize in the daemon
        self._hidden: list = []  # layers "Before" hid
        self._slider_worker = Latest(self._adjust_in_worker)
        self.timings: dict[str, float] = {}
        self.last_request: ColorizeRequest | None = None
        self._build()
        self._refresh()
        self._watch = QTimer(self)
        self._watch.setInterval(WATCH_MS)
        self._watch.timeout.connect(self._watch_document)
        self._watch.start()

    # --- widgets --------------------------------------------------------------
    def _build(self) -> None:
        root = QWidget(self)
        box = QVBoxLayout(root)
        form = QFormLayout()
        self.prompt = QLineEdit()
        self.prompt.setPlaceholderText(
            "optional: colours and what they name, e.g. 'blue sky, red car'"
        )
        form.addRow("Prompt", self.prompt)
        self.steps = QSpinBox()
        self.steps.setRange(MIN_STEPS, MAX_STEPS)
        self.steps.setValue(DEFAULT_STEPS)
        form.addRow("Steps", self.steps)
        hints_row = QHBoxLayout()
        self.hints = QComboBox()
        self.hints.setToolTip(
            f"The layer whose painted colors Tinct follows; 'Paint hints' makes one "
            f"('{HINT_LAYER_NAME}') above the layer to colorize"
        )
        self.paint_hints_button = QPushButton("Paint hints")
        self.paint_hints_button.setToolTip(
            f"Create (or select) the '{HINT_LAYER_NAME}' layer above the layer to colorize "
            "and make it active: paint colors where you know them, then Colorize"
        )
        hints_row.addWidget(self.hints, 1)
        hints_row.addWidget(self.paint_hints_button)
        form.addRow("Hints", hints_row)
        self._hint_chosen = False  # once the user picks, refreshing the list keeps the pick
        self.hints.activated.connect(lambda _i: setattr(self, "_hint_chosen", True))
        self.reference = QComboBox()
        self.reference.setToolTip(REFERENCE_TIP)
        self.reference.addItem(NO_REFERENCE, None)
        form.addRow(REFERENCE_WORD, self.reference)
        box.addLayout(form)

        row = QHBoxLayout()
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(SLIDER_MIN, SLIDER_MAX)
        self.slider.setValue(scale_to_slider(DEFAULT_SCALE))
        self.slider.setToolTip(
            f"{SCALE_WORD} ({SCALE_MIN:g}: gray, 1: as predicted, {SCALE_MAX:g}); "
            "updates the color layer while it moves (and turns Auto off)"
        )
        self.scale_label = QLabel(f"{DEFAULT_SCALE:.2f}")
        self.auto = QCheckBox("Auto")
        self.auto.setChecked(True)
        self.auto.setToolTip(f"Let Tinct pick the {SCALE_WORD.lower()} when colorizing")
        row.addWidget(QLabel(SCALE_WORD))
        row.addWidget(self.slider, 1)
        row.addWidget(self.scale_label)
        row.addWidget(self.auto)
        box.addLayout(row)

        buttons = QHBoxLayout()
        self.colorize_button = QPushButton("Colorize")
        self.cancel_button = QPushButton("Cancel")
        self.before_button = QPushButton("Before")
        self.before_button.setCheckable(True)
        self.before_button.setToolTip("Show the image without Tinct's color while pressed in")
        buttons.addWidget(self.colorize_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.before_button)
        box.addLayout(buttons)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        box.addWidget(self.progress)
        self.status = QLabel()
        self.status.setWordWrap(True)
        box.addWidget(self.status)
        box.addStretch(1)
        self.setWidget(root)

        self.colorize_button.clicked.connect(lambda: self.colorize())
        self.cancel_button.clicked.connect(self.cancel)
        self.paint_hints_button.clicked.connect(lambda: self.paint_hints())
        self.before_button.toggled.connect(self.show_before)
        self.slider.valueChanged.connect(self._slider_changed)
        self.slider.sliderReleased.connect(self._slider_released)
        self._key_timer = QTimer(self)
        self._key_timer.setSingleShot(True)
        self._key_timer.setInterval(200)
        self._key_timer.timeout.connect(self._slider_released)

    def canvasChanged(self, canvas) -> None:  # noqa: N802 (Krita's name)
        self.refresh_hint_layers()
        self.refresh_reference_layers()

    # --- which layer is which -------------------------------------------------------
    def _is_helper(self, node) -> bool:
        """A hint or result layer: never the layer to colorize."""
        name = node.name()
        chosen = self.hints.currentText()
        return (
            name == HINT_LAYER_NAME
            or is_result_name(name)
            or (chosen not in ("", NO_HINTS) and name == chosen)
            or adapter.node_id(node) == self.reference.currentData()
        )

    def _source_for(self, document, node):
        """The layer to colorize, given the active NODE (see the module docstring)."""
        if node is not None and not self._is_helper(node):
            return node
        if self._source is not None and self._source[0] == document:
            remembered = self._source[1]
            if adapter.contains(document, remembered):
                return remembered
        if node is None:
            raise UserError("select the layer to colorize")
        raise UserError(
            f"'{node.name()}' is a hint, reference or Tinct result layer; select the layer "
            "to colorize"
        )

    def _current_source(self, doc):
        """The layer Colorize would colorize now, or None."""
        if doc is None:
            return None
        try:
            return self._source_for(doc, doc.activeNode())
        except UserError:
            return None

    def refresh_reference_layers(self) -> None:
        """NO_REFERENCE, then "document / layer" for every paint layer of every open
        document except the layer to colorize, hint layers and Tinct results. The pick
        (kept by layer id) survives refreshes while its layer exists."""
        if self.reference.view().isVisible():
            return  # never change the list under an open popup
        app = Krita.instance()
        source = self._current_source(app.activeDocument())
        entries = [
            (adapter.document_label(doc), node.name(), adapter.node_id(node))
            for doc in app.documents()
            for node in reversed(adapter.paint_layers(doc))  # top of the stack first
        ]
        items = reference_choices(entries, adapter.node_id(source) if source is not None else None)
        shown = [(self.reference.itemText(i), self.reference.itemData(i))
                 for i in range(self.reference.count())]  # fmt: skip
        if items == shown:
            return
        current = self.reference.currentData()
        self.reference.blockSignals(True)
        self.reference.clear()
        for text, uid in items:
            self.reference.addItem(text, uid)
        index = self.reference.findData(current) if current is not None else 0
        self.reference.setCurrentIndex(max(0, index))
        self.reference.blockSignals(False)

    def choose_reference(self, document, node) -> bool:
        """Pick NODE of DOCUMENT in the Reference list (for scripts and tests)."""
        self.refresh_reference_layers()
        index = self.reference.findData(adapter.node_id(node)) if node is not None else 0
        if index >= 0:
            self.reference.setCurrentIndex(index)
        return index >= 0

    def refresh_hint_layers(self) -> None:
        if self.hints.view().isVisible():
            return  # never change the list under an open popup
        doc = Krita.instance().activeDocument()
        current = self.hints.currentText()
        source = self._current_source(doc)
        names = adapter.layer_names(doc) if doc is not None else []
        items = hint_choices(names, source.name() if source is not None else None)
        if items != [self.hints.itemText(i) for i in range(self.hints.count())]:
            self.hints.blockSignals(True)
            self.hints.clear()
            self.hints.addItems(items)
            self.hints.blockSignals(False)
        self.hints.blockSignals(True)
        if self._hint_chosen and current in items:
            self.hints.setCurrentText(current)
        elif HINT_LAYER_NAME in items:
            self.hints.setCurrentText(HINT_LAYER_NAME)
        else:
            self.hints.setCurrentText(NO_HINTS)
        self.hints.blockSignals(False)

    def _watch_document(self) -> None:
        """Once a second: the hint list stays current; an undone result frees the slider."""
        try:
            self.refresh_hint_layers()
            self.refresh_reference_layers()
            target = self._target
            if target is not None and not adapter.contains(target.document, target.layer):
                if target is self._converted_for:
                    self._undo_conversion(target.document)
                self._target = None
                self._hidden = []
                self.before_button.setChecked(False)
                self.state.on_result_gone()
                self._refresh()
        except Exception:  # a closed document: nothing to watch
            self._target = None

    def _undo_conversion(self, document) -> None:
        """The result of a Grayscale image was undone: undo its RGB conversion too, so
        one Ctrl+Z restores the image as it was. Krita's scripting API cannot group the
        two undo steps, so the plugin takes the second one itself, and only when the
        layer went by undo (redo is possible: a deletion would have cleared it), the
        image is still RGB and it is the active image."""
        self._converted_for = None
        app = Krita.instance()
        undo, redo = app.action("edit_undo"), app.action("edit_redo")
        if (
            document.colorModel() != adapter.GRAY_MODEL
            and redo is not None
            and redo.isEnabled()
            and undo is not None
            and adapter.same_document(app.activeDocument(), document)
        ):
            undo.trigger()

    def _refresh(self) -> None:
        c = self.state.controls()
        self.colorize_button.setEnabled(c.colorize)
        self.cancel_button.setEnabled(c.cancel)
        self.slider.setEnabled(c.slider)
        self.before_button.setEnabled(self._target is not None)
        self.progress.setVisible(c.progress_visible)
        self.progress.setRange(0, max(1, self.state.total))
        self.progress.setValue(self.state.step)
        self.status.setText(self.state.status)

    # --- actions ----------------------------------------------------------------
    def _reference_node(self):
        """(document, node) of the chosen reference layer, or (None, None)."""
        uid = self.reference.currentData()
        if uid is None:
            return None, None
        document, node = adapter.find_by_id(Krita.instance().documents(), uid)
        if node is None:
            raise UserError(
                f"the reference '{self.reference.currentText()}' is gone (closed or deleted); "
                "pick another one"
            )
        return document, node

    def request(self, reference=(None, None)) -> ColorizeRequest:
        hint = self.hints.currentText()
        ref_doc, ref_node = reference
        return ColorizeRequest(
            prompt=self.prompt.text().strip(),
            steps=self.steps.value(),
            auto=self.auto.isChecked(),
            scale=slider_to_scale(self.slider.value()),
            hint_layer=None if hint in ("", NO_HINTS) else hint,
            reference_document=adapter.document_label(ref_doc) if ref_doc is not None else None,
            reference_layer=ref_node.name() if ref_node is not None else None,
        )

    def paint_hints(self, document=None, node=None) -> None:
        """Create (or select) the hint layer above the layer to colorize and make it active;
        that layer stays the one Colorize colorizes."""
        try:
            document = document or Krita.instance().activeDocument()
            if document is None:
                raise UserError("open an image first")
            source = self._source_for(document, node or document.activeNode())
            self._source = (document, source)
            hint, note = adapter.hint_layer_for(document, source)
            document.setActiveNode(hint)
            self._hint_chosen = False
            self.refresh_hint_layers()
            self.hints.setCurrentText(hint.name())
            self.state.status = (
                f"Paint colors on '{hint.name()}' where you know them, then Colorize; "
                f"'{source.name()}' is the layer colorized.{note}"
            )
        except (UserError, ValueError) as exc:
            self.state.status = f"Error: {exc}"
        self._refresh()

    def show_before(self, on: bool) -> None:
        """Hide (on) or show again the source's Tinct layers and the hint layer."""
        target = self._target
        if on and target is not None and adapter.contains(target.document, target.layer):
            document, layer = target.document, target.layer
            source = self._source[1] if self._source else None
            layers = adapter.previous_results(document, source) if source is not None else [layer]
            hint = adapter.find_layer(document, HINT_LAYER_NAME)
            self._hidden = [n for n in [*layers, hint] if n is not None and n.visible()]
            for n in self._hidden:
                n.setVisible(False)
            document.refreshProjection()
        elif not on:
            for n in self._hidden:
                n.setVisible(True)
            if self._hidden and target is not None:
                target.document.refreshProjection()
            self._hidden = []

    def colorize(self, document=None, node=None) -> None:
        """Colorize ``node`` of ``document`` (default: the active ones)."""
        if not self.state.colorize_clicked():
            return
        self.before_button.setChecked(False)
        self._refresh()
        t0 = time.monotonic()
        try:
            app = Krita.instance()
            document = document or app.activeDocument()
            if document is None:
                raise UserError("open an image first")
            node = self._source_for(document, node or document.activeNode())
            self._source = (document, node)
            self.refresh_hint_layers()  # layers may have been added since
            self.refresh_reference_layers()
            ref_doc, ref_node = self._reference_node()
            if adapter.same(ref_node, node):
                raise UserError(
                    f"the reference '{node.name()}' is the layer being colorized; pick a "
                    "colour photo from another layer or document as the reference"
                )
            req = self.request((ref_doc, ref_node))
            self.last_request = req
            source = adapter.read_source(document, node)
            hint_node = adapter.find_layer(document, req.hint_layer) if req.hint_layer else None
            if adapter.same(hint_node, node):
                hint_node = None
            hints = adapter.read_hints(document, hint_node, source)
            ref = adapter.read_reference(ref_doc, ref_node) if ref_node is not None else None
        except (UserError, ValueError) as exc:
            self.state.on_error(str(exc))
            self._refresh()
            return
        self.timings["read"] = time.monotonic() - t0
        image = _layer(source.pixels)
        hint_layer = _layer(hints) if hints is not None else None
        reference = _layer(ref) if ref is not None else None
        self._pending = Pending(document, node, source, req)
        threading.Thread(
            target=self._colorize_in_worker,
            args=(image, hint_layer, reference, req),
            daemon=True,
            name="tinct-colorize",
        ).start()

    def _emit(self, event: WorkerEvent, **payload) -> None:
        """From a worker thread: a message for ``_on_worker`` on the UI thread."""
        self._bridge.event.emit(WorkerMessage(event, **payload))

    def _colorize_in_worker(self, image, hints, reference, req: ColorizeRequest) -> None:
        def on_event(ev) -> None:
            if ev.kind != "result":
                self._emit(WorkerEvent.DAEMON, daemon=ev)

        try:
            result = self.session.colorize(
                image,
                hints,
                reference=reference,
                prompt=req.prompt,
                steps=req.steps,
                scale=req.wire_scale(),
                on_event=on_event,
            )
            self._emit(WorkerEvent.RESULT, daemon=result)
        except Cancelled:
            self._emit(WorkerEvent.CANCELLED)
        except TinctError as exc:
            self._emit(WorkerEvent.ERROR, error=exc.message)
        except Exception as exc:  # never a traceback in the UI
            self._emit(WorkerEvent.ERROR, error=f"{type(exc).__name__}: {exc}")

    def cancel(self) -> None:
        job = self.state.cancel_clicked()
        self._refresh()
        if job is not None:
            threading.Thread(target=self._cancel_in_worker, args=(job,), daemon=True).start()

    def _cancel_in_worker(self, job: str) -> None:
        try:
            self.session.cancel(job)
        except TinctError as exc:
            self._emit(WorkerEvent.ERROR, error=exc.message)

    def _slider_changed(self, ticks: int) -> None:
        self.scale_label.setText(f"{slider_to_scale(ticks):.2f}")
        self.auto.setChecked(False)  # a value picked by hand is the one to use
        if self.slider.isSliderDown():
            self._slider_action(ticks, released=False)
        else:  # keyboard / wheel / programmatic: apply once it settles
            self._key_timer.start()

    def _slider_released(self) -> None:
        self._key_timer.stop()
        self._slider_action(self.slider.value(), released=True)

    def _slider_action(self, ticks: int, released: bool) -> None:
        if self._target is None:
            return
        action = self.state.slider_moved(ticks, released)
        if action is not None:
            self._slider_worker.submit(Adjustment(action, self.state.job, slider_to_scale(ticks)))
            self._refresh()

    def _adjust_in_worker(self, item: Adjustment) -> None:
        job, scale = item.job, item.scale
        target = self._target
        try:
            t0 = time.monotonic()
            r = target.source.pixels.rect
            if item.action == Adjust.APPLY or r.width * r.height <= FULL_PREVIEW_PIXELS:
                ev = self.session.apply(job, scale)
                final = item.action == Adjust.APPLY
                data, premasked = ev.layer.tobytes(), False
            else:
                w, h = fit_size(r.width, r.height, PREVIEW_SIDE)
                dtype = target.source.pixels.dtype
                ev = self.session.rescale(job, scale, (w, h), dtype)
                small = ev.layer.tobytes()
                data = upscale_nearest(small, w, h, r.width, r.height, 4 * ITEMSIZE[dtype])
                copy_alpha(data, target.data, dtype)  # exact alpha (and selection) from the result
                final, premasked = False, True
            adjusted = Adjusted(target, job, scale, data, premasked, final, t0)
            self._emit(WorkerEvent.ADJUSTED, adjusted=adjusted)
        except TinctError as exc:
            self._emit(WorkerEvent.ERROR, error=exc.message)
        except Exception as exc:
            self._emit(WorkerEvent.ERROR, error=f"{type(exc).__name__}: {exc}")

    # --- worker events, on the UI thread -------------------------------------------
    def _on_worker(self, message: WorkerMessage) -> None:
        event = message.event
        try:
            if event == WorkerEvent.DAEMON:
                ev = message.daemon
                if ev.kind == "queued":
                    self.state.on_started(ev.job)
                elif ev.kind == "progress":
                    self.state.on_progress(ev.step or 0, ev.total or 0)
            elif event == WorkerEvent.RESULT:
                self._show_result(message.daemon)
            elif event == WorkerEvent.ADJUSTED:
                self._show_adjusted(message.adjusted)
            elif event == WorkerEvent.CANCELLED:
                self.state.on_cancelled()
            elif event == WorkerEvent.ERROR:
                self.state.on_error(message.error)
        except Exception as exc:  # a Krita call failed: show it, keep the docker alive
            self.state.on_error(f"{type(exc).__name__}: {exc}")
        self._refresh()

    def _show_adjusted(self, adj: Adjusted) -> None:
        target = adj.target
        if target is self._target and adj.job == self.state.job:
            adapter.write_color(
                target.document, target.layer, adj.data, target.source, masked=adj.premasked
            )
            self.timings["apply" if adj.final else "preview"] = time.monotonic() - adj.started
            if adj.final:
                req = self.last_request or ColorizeRequest()
                target.layer.setName(
                    result_layer_name(req.prompt, adj.scale, reference=req.reference_layer)
                )
        self.state.on_adjusted(adj.scale, adj.final)

    def _show_result(self, ev) -> None:
        document, node, source, req = self._pending
        t0 = time.monotonic()
        data = ev.layer.tobytes()
        if source.mask is not None:
            data = mask_alpha(data, source.pixels.dtype, source.mask)
        note = adapter.convert_to_rgb(document, source)  # Grayscale: RGB at the same depth
        scale = float(ev.header.get("scale") or 1.0)
        auto_scale = ev.header.get("auto_scale") if req.auto else None
        name = result_layer_name(req.prompt, scale, auto=req.auto, reference=req.reference_layer)
        layer = adapter.add_color_layer(document, node, data, source, name=name, masked=True)
        # alpha is the same at every scale: the slider preview reuses this (masked) alpha
        self._target = Target(document, layer, source, data)
        self._converted_for = self._target if note else None
        self.timings["write"] = time.monotonic() - t0
        self.state.on_result(ev.job, scale, auto_scale, note)
        self.slider.blockSignals(True)
        self.slider.setValue(scale_to_slider(scale))
        self.slider.blockSignals(False)
        self.scale_label.setText(f"{scale:.2f}")


def _layer(p) -> Layer:
    return Layer.from_buffer(p.data, p.rect.width, p.rect.height, 4, p.dtype, order=p.order)
