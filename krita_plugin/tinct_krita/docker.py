"""The Tinct docker: prompt, Colorize, Colourfulness slider, steps, variations and seed,
hints, reference, Before, Cancel.

A thin Qt layer: user actions and worker events go to ``DockerState``; the
network runs on worker threads (``threading`` + a queued Qt signal back to
the UI thread), pixels are read and written here on the UI thread through
``adapter.py``. Worker threads hand back typed ``WorkerMessage`` values.

The layer to colorize is the active one, unless that is a hint or a Tinct result
layer: then it is the source remembered from "Paint hints" or the last Colorize,
so painting hints never makes the hint layer the target. The Reference list offers
every paint layer of every open document (never the layer to colorize); the chosen one
is never the target either. A one-second watch keeps the hint and reference lists
current; a quicker one (``_follow_layers``) keeps the slider on the layers as they are:
a result undone or deleted frees it, redo (which brings back the same layer, found by
its id) binds it again, and selecting any Tinct layer this session made binds it to
that layer's job. A rerun hides the source's earlier results (one visible result per
source; never deleted), and undoing it shows them again.

Settings belong to the document: each open document has its own ``DocView`` (prompt,
Colourfulness, Variations and Seed, hint and reference choice, status line, the result
the slider adjusts); switching documents shows that document's. Steps is one preference
for all. Variations N run N jobs, seeds Seed .. Seed + N - 1, the last seed first, so the
first variation ends on top; each layer's name carries its seed, and the slider adjusts
the top one.
Errors are one line in the status line (what failed, what to do, the log's path); the
rest is behind the Details button (``tinct_protocol.readable``).

The backend starts early: when the docker is first shown with a document open, the
session finds or starts the daemon on a thread, and Colorize waits on that start. The
status line names each phase as it happens (``tinct_protocol.progress``): starting the
backend, loading the model, "Queued" only with jobs ahead, the step under way, the
full-size render, writing the layer; the bar reaches its end only once the layer is
written. Cancel is live in all of them: while starting, the backend being started is
stopped; while the layer is written (in strips, the event loop run between them), the
layer is dropped before it joins the image, so nothing of it remains.

While the Colourfulness knob moves over a result of more than 1 MP (no hints, no
reference), each value is shown by a filter mask on the result layer (``slider.py`` says
when; ``adapter.show_preview_mask``): no daemon call and no layer write per move. The
full-resolution render (release, a typed value) is written first, then the mask goes.
The mask never outlives the adjustment: Before, another Colorize, another document, an
error or the result gone take it off at once unless that render is on its way, which
takes it off when it is written.
"""

from __future__ import annotations

import random
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple

from krita import DockWidget, Krita
from PyQt5.QtCore import QObject, Qt, QTimer, pyqtSignal
from PyQt5.QtWidgets import (
    QApplication,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from . import adapter
from .adapter import Source
from .pixels import ITEMSIZE, mask_alpha
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
from .results import KeptResults
from .session import Adjusted, Latest, Session, WorkerEvent, WorkerMessage
from .slider import SliderPreview
from .state import ADJUSTABLE, BUSY, Adjust, Adjustment, DockerState, Phase
from .tinct_protocol import Cancelled, Layer, TinctError
from .tinct_protocol.about import backend_line
from .tinct_protocol.colorize_request import variations_refusal
from .tinct_protocol.constants import (
    DEFAULT_SCALE,
    DEFAULT_SEED,
    DEFAULT_STEPS,
    DEFAULT_VARIATIONS,
    E_UNKNOWN_JOB,
    MAX_SEED,
    MAX_STEPS,
    MAX_VARIATIONS,
    MIN_SEED,
    MIN_STEPS,
    MIN_VARIATIONS,
    SCALE_WORD,
)
from .tinct_protocol.layers import (
    HINT_LAYER_NAME,
    NO_HINTS,
    NO_REFERENCE,
    REFERENCE_TIP,
    REFERENCE_WORD,
    hint_choices,
    is_result_name,
    reference_choices,
)
from .tinct_protocol.naming import result_name
from .tinct_protocol.preview import copy_alpha, preview_size, upscale_nearest
from .tinct_protocol.readable import readable_error

DOCKER_ID = "tinct_docker"
WATCH_MS = 1000
SELECTION_MS = 250  # how soon selecting a Tinct layer binds the slider to it
PROGRESS_MAX = 1000  # the bar's range: RunProgress's fraction in thousandths


class _Bridge(QObject):
    """Carries worker-thread messages (``WorkerMessage``) to the UI thread (queued)."""

    event = pyqtSignal(object)


class Target(NamedTuple):
    """The result the slider adjusts: its layer and what it was made from."""

    document: object
    layer: object  # the Tinct result layer
    source: Source
    data: bytes | bytearray  # the full result as added (its alpha is the same at every scale)
    request: ColorizeRequest  # what it was made from (its name says so)
    hints: bool  # painted hints were sent
    seed: int = 0  # its seed (0: the model's own colouring)
    job: str = ""  # the daemon's job that made it (what the slider asks to re-render)
    scale: float = 1.0  # its colourfulness now
    source_node: object = None  # the layer it colorized
    hid: tuple = ()  # the earlier results its run hid (shown again when it is undone)


class Mask(NamedTuple):
    """The slider's filter mask on a result layer, at PERCENT (``adapter.show_preview_mask``)."""

    document: object
    layer: object
    node: object
    percent: int


class Pending(NamedTuple):
    """A colorize in the daemon: what its result goes into."""

    document: object
    node: object  # the layer colorized
    source: Source
    request: ColorizeRequest
    hints: bool


@dataclass
class DocView:
    """One document's settings and Tinct state, as the docker shows them while that
    document is the active one (``document`` None: before any document is open)."""

    document: object
    state: DockerState = field(default_factory=DockerState)
    prompt: str = ""
    slider: int = scale_to_slider(DEFAULT_SCALE)
    variations: int = DEFAULT_VARIATIONS
    seed: int = DEFAULT_SEED
    reference: str | None = None  # the chosen reference layer's id
    hint: str = ""  # the hint choice's text
    hint_chosen: bool = False  # the user picked it: refreshing the list keeps the pick
    target: Target | None = None
    converted_for: Target | None = None  # the target whose result converted a Grayscale image
    source: tuple | None = None  # (document, node): the layer Colorize colorizes
    pending: Pending | None = None  # the colorize in the daemon
    hidden: list = field(default_factory=list)  # layers "Before" hid
    # the results this document's runs made, by layer id (results.py): selecting one
    # binds the slider to it; one undone or deleted stays, found again by its id on redo
    results: KeptResults = field(default_factory=KeptResults)
    lost: Target | None = None  # the slider's result while its layer is gone (undone)
    lost_converted: bool = False  # the lost result had converted a Grayscale image
    unbound: str | None = None  # the selected Tinct layer no job is known for (said once)
    # the adjustment under way: what its moves show (slider.py), and the filter mask
    show: SliderPreview | None = None  # its ``layer``: the result layer's node_id
    mask: Mask | None = None


class TinctDocker(DockWidget):
    """The docker: widgets, the per-document views and the worker threads' results."""

    def __init__(self):
        super().__init__()
        self.setWindowTitle("Tinct")
        self.setObjectName(DOCKER_ID)
        self._views: list[DocView] = []
        self._view = DocView(None)
        self.session = Session()
        self._bridge = _Bridge()
        self._bridge.event.connect(self._on_worker, Qt.QueuedConnection)
        self._handling = False  # Krita work under way on the UI thread (see _exclusive)
        self._deferred: list = []  # what waits for it: worker messages, mask changes
        self._slider_worker = Latest(self._adjust_in_worker)
        self._started_early = False  # the backend's early start was begun (once)
        self.timings: dict[str, float] = {}
        # (scale, final, render began, write began, written: time.monotonic()) of the
        # latest slider renders written to the layer: a driver in Krita times a drag
        # from it (benchmarks/bench_hosts.py)
        self.adjusted_at: deque[tuple[float, bool, float, float, float]] = deque(maxlen=256)
        # (scale, called, returned) of the moves the filter mask showed: returned once the
        # mask changed and Krita re-made the projection (``refreshProjection``)
        self.masked_at: deque[tuple[float, float, float]] = deque(maxlen=256)
        self.last_request: ColorizeRequest | None = None
        self._build()
        self._refresh()
        self._watch = QTimer(self)
        self._watch.setInterval(WATCH_MS)
        self._watch.timeout.connect(self._watch_document)
        self._watch.start()
        self._selection_watch = QTimer(self)
        self._selection_watch.setInterval(SELECTION_MS)
        self._selection_watch.timeout.connect(self._follow_layers)
        self._selection_watch.start()
        self.visibilityChanged.connect(lambda _visible: self.start_backend_early())

    # The shown document's state (scripts and tests read these).
    @property
    def state(self) -> DockerState:
        """The shown document's state machine."""
        return self._view.state

    @property
    def _target(self) -> Target | None:
        return self._view.target

    @property
    def _source(self):
        return self._view.source

    # --- widgets --------------------------------------------------------------
    def _build(self) -> None:
        root = QWidget(self)
        box = QVBoxLayout(root)
        form = QFormLayout()
        self.prompt = QLineEdit()
        self.prompt.setPlaceholderText("optional: e.g. 'blue sky, red car'")
        self.prompt.setToolTip("Colours and what they name; Enter runs Colorize")
        form.addRow("Prompt", self.prompt)
        self.steps = QSpinBox()
        self.steps.setRange(MIN_STEPS, MAX_STEPS)
        self.steps.setValue(DEFAULT_STEPS)
        form.addRow("Steps", self.steps)
        self.variations = QSpinBox()
        self.variations.setRange(MIN_VARIATIONS, MAX_VARIATIONS)
        self.variations.setValue(DEFAULT_VARIATIONS)
        self.variations.setToolTip(
            "How many colourings: one layer each, seeds Seed, Seed + 1, ... (the first on top)"
        )
        form.addRow("Variations", self.variations)
        seed_row = QHBoxLayout()
        self.seed = QSpinBox()
        self.seed.setRange(MIN_SEED, MAX_SEED)
        self.seed.setValue(DEFAULT_SEED)
        self.seed.setToolTip(
            "0: the model's own colouring; another seed draws another plausible one, the "
            "same seed the same result (each result layer's name says its seed)"
        )
        self.new_seed_button = QPushButton("New seed")
        self.new_seed_button.setToolTip("Pick a random seed (it stays in the box for reuse)")
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.new_seed_button)
        form.addRow("Seed", seed_row)
        hints_row = QHBoxLayout()
        self.hints = QComboBox()
        self.hints.setToolTip(
            f"The layer whose painted colours Tinct follows ('{HINT_LAYER_NAME}')"
        )
        self.paint_hints_button = QPushButton("Paint hints")
        self.paint_hints_button.setToolTip(
            f"Make (or select) '{HINT_LAYER_NAME}' above the layer to colorize"
        )
        hints_row.addWidget(self.hints, 1)
        hints_row.addWidget(self.paint_hints_button)
        form.addRow("Hints", hints_row)
        self.hints.activated.connect(lambda _i: setattr(self._view, "hint_chosen", True))
        self.reference = QComboBox()
        self.reference.setToolTip(REFERENCE_TIP)
        self.reference.addItem(NO_REFERENCE, None)
        form.addRow(REFERENCE_WORD, self.reference)
        box.addLayout(form)

        # The Colourfulness row: its word and a number box kept in step with the slider;
        # the slider has a row of its own (the docker's whole width), and no tooltip of
        # its own: a tooltip under the cursor there would cover the buttons below it.
        row = QHBoxLayout()
        tip = (
            f"{SCALE_WORD}: {SCALE_MIN:g} gray, 1 as predicted, {SCALE_MAX:g} strongest; "
            "changing it updates the result"
        )
        self.scale_word = QLabel(SCALE_WORD)
        self.scale_word.setToolTip(tip)
        self.scale_box = QDoubleSpinBox()
        self.scale_box.setRange(SCALE_MIN, SCALE_MAX)
        self.scale_box.setDecimals(2)
        self.scale_box.setSingleStep(0.05)
        self.scale_box.setValue(DEFAULT_SCALE)
        self.scale_box.setKeyboardTracking(False)  # typed digits apply on Enter / focus out
        self.scale_box.setToolTip(tip)
        row.addWidget(self.scale_word)
        row.addStretch(1)
        row.addWidget(self.scale_box)
        box.addLayout(row)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(SLIDER_MIN, SLIDER_MAX)
        self.slider.setValue(scale_to_slider(DEFAULT_SCALE))
        self.slider.setMinimumWidth(200)
        box.addWidget(self.slider)

        buttons = QHBoxLayout()
        self.colorize_button = QPushButton("Colorize")
        self.cancel_button = QPushButton("Cancel")
        self.before_button = QPushButton("Before")
        self.before_button.setCheckable(True)
        buttons.addWidget(self.colorize_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.before_button)
        box.addLayout(buttons)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        box.addWidget(self.progress)
        status_row = QHBoxLayout()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)  # the log's path
        self.details_button = QPushButton("Details")
        self.details_button.setVisible(False)
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.details_button, 0, Qt.AlignTop)
        box.addLayout(status_row)
        self.about = QLabel("Backend: not connected yet")  # the backend's version, once known
        self.about.setWordWrap(True)
        self.about.setEnabled(False)  # drawn dimmed: a note, not a control
        self.about.setTextInteractionFlags(Qt.TextSelectableByMouse)
        box.addWidget(self.about)
        box.addStretch(1)
        self.setWidget(root)

        self.colorize_button.clicked.connect(lambda: self.colorize())
        self.prompt.returnPressed.connect(lambda: self.colorize())
        self.cancel_button.clicked.connect(self.cancel)
        self.details_button.clicked.connect(self.show_details)
        self.paint_hints_button.clicked.connect(lambda: self.paint_hints())
        self.new_seed_button.clicked.connect(self.new_seed)
        self.before_button.toggled.connect(self.show_before)
        self.slider.valueChanged.connect(self._slider_changed)
        self.slider.sliderPressed.connect(self._slider_pressed)
        self.slider.sliderReleased.connect(self._slider_released)
        self.scale_box.valueChanged.connect(self._scale_box_changed)
        self._key_timer = QTimer(self)
        self._key_timer.setSingleShot(True)
        self._key_timer.setInterval(200)
        self._key_timer.timeout.connect(self._slider_released)

    def canvasChanged(self, canvas) -> None:  # noqa: N802 (Krita's name)
        self.sync_document()
        self.refresh_hint_layers()
        self.refresh_reference_layers()
        self.start_backend_early()

    def start_backend_early(self) -> None:
        """Once, when the docker is shown with a document open: find or start the daemon
        on a thread, so the first Colorize does not wait for it. Nothing is shown; a start
        that failed is reported when Colorize is pressed."""
        if self._started_early or not self.isVisible():
            return
        if Krita.instance().activeDocument() is None:
            return
        self._started_early = True
        self.session.start_early()

    # --- one view per document ------------------------------------------------------
    def _store(self) -> None:
        """The widgets' per-document values into the shown view."""
        v = self._view
        v.prompt = self.prompt.text()
        v.slider = self.slider.value()
        v.variations, v.seed = self.variations.value(), self.seed.value()
        v.reference = self.reference.currentData()
        v.hint = self.hints.currentText()

    def _load(self) -> None:
        """The shown view's values into the widgets (no signal: nothing is adjusted)."""
        v = self._view
        widgets = (
            self.prompt,
            self.slider,
            self.scale_box,
            self.variations,
            self.seed,
            self.reference,
            self.hints,
        )
        for w in widgets:
            w.blockSignals(True)
        self.prompt.setText(v.prompt)
        self.slider.setValue(v.slider)
        self.scale_box.setValue(slider_to_scale(v.slider))
        self.variations.setValue(v.variations)
        self.seed.setValue(v.seed)
        index = self.reference.findData(v.reference) if v.reference is not None else 0
        self.reference.setCurrentIndex(max(0, index))
        if v.hint:
            self.hints.setCurrentText(v.hint)
        for w in widgets:
            w.blockSignals(False)

    def view_of(self, document) -> DocView:
        """DOCUMENT's view (made on first sight: the defaults, or the settings made before
        any document was open)."""
        if document is None or adapter.same_document(self._view.document, document):
            return self._view
        for v in self._views:
            if adapter.same_document(v.document, document):
                return v
        if self._view.document is None:  # the first document adopts what was set before
            self._store()
            v = self._view
            v.document = document
        else:
            v = DocView(document)
        self._views.append(v)
        return v

    def sync_document(self) -> None:
        """Show the active document's settings and state (store the shown one's first)."""
        document = Krita.instance().activeDocument()
        view = self.view_of(document)
        if view is self._view:
            return
        if self._key_timer.isActive():  # a typed value not yet applied: the view left's
            self._slider_released()
        self._settle_mask(self._view)
        self._store()
        if self._view.target is not None:
            self.before_button.setChecked(False)
        self._view = view
        self._load()
        self.refresh_hint_layers()
        self.refresh_reference_layers()
        self._refresh()

    def _forget_closed(self) -> None:
        """Drop the views of documents that were closed."""
        open_docs = Krita.instance().documents()
        self._views = [
            v for v in self._views
            if v is self._view or any(adapter.same_document(v.document, d) for d in open_docs)
        ]  # fmt: skip

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
        """NO_REFERENCE, then "document / layer" for every colour paint layer of every open
        document except the layer to colorize, hint layers and Tinct results (a Grayscale
        layer holds no colour to borrow). The pick (kept by layer id) survives refreshes
        while its layer exists."""
        if self.reference.view().isVisible():
            return  # never change the list under an open popup
        app = Krita.instance()
        source = self._current_source(app.activeDocument())
        entries = [
            (adapter.document_label(doc), node.name(), adapter.node_id(node))
            for doc in app.documents()
            for node in reversed(adapter.paint_layers(doc))  # top of the stack first
            if node.colorModel() != adapter.GRAY_MODEL
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
        """The shown document's hint choices; the pick stays while its layer does."""
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
        if self._view.hint_chosen and current in items:
            self.hints.setCurrentText(current)
        elif HINT_LAYER_NAME in items:
            self.hints.setCurrentText(HINT_LAYER_NAME)
        else:
            self.hints.setCurrentText(NO_HINTS)
        self.hints.blockSignals(False)

    def _watch_document(self) -> None:
        """Once a second: the shown document follows the active one, the lists stay
        current, and an undone result frees the slider."""
        try:
            self.start_backend_early()
            self.sync_document()
            self._forget_closed()
            self.refresh_hint_layers()
            self.refresh_reference_layers()
            self._follow_layers()
        except Exception:  # a closed document: nothing to watch
            self._view.target = None

    def _follow_layers(self) -> None:
        """Keep the slider on the layers as they are (every SELECTION_MS): a result undone
        or deleted frees it, the same layer brought back by redo takes it again, and a
        Tinct layer the user selects becomes the one it adjusts."""
        v = self._view
        if v.document is None or v.state.phase in BUSY or v.state.phase == Phase.ADJUSTING:
            return
        try:
            if self._follow_undo(v) or self._follow_selection(v):
                self._refresh()
        except Exception:  # a closed document: nothing to follow
            traceback.print_exc()  # Krita's terminal: a bug here must not pass unseen
            v.target = None

    def _follow_undo(self, v: DocView) -> bool:
        """The slider's result layer went (undo, delete) or came back (redo): True if so.
        Any result that goes shows again the earlier results its run hid, and hides them
        again when it comes back."""
        nodes = adapter.nodes_by_id(v.document)  # the view's results are all in its document
        went, back, present = v.results.changes(nodes.keys())
        for uid in went:
            _set_visible(v.document, v.results.get(uid).hid, True)
        for uid in back:
            _set_visible(v.document, v.results.get(uid).hid, False)
        target = v.target
        if target is not None and adapter.node_id(target.layer) not in nodes:
            # (by its layer: the slider's renders replace the Target value, not the layer)
            converted = v.converted_for is not None and adapter.same(
                v.converted_for.layer, target.layer
            )
            if converted:
                self._undo_conversion(target.document)
            self._settle_mask(v)
            v.lost = target
            v.lost_converted = converted
            v.target = None
            v.hidden = []
            self.before_button.setChecked(False)
            v.state.on_result_gone()
            # the result its run hid shows again: the slider adjusts that one again
            earlier = [u for u in map(adapter.node_id, target.hid) if u in present]
            if earlier:
                layer = nodes[earlier[-1]]
                v.target = v.results.get(earlier[-1])._replace(layer=layer)
                v.state.bind_result(v.target.job, v.target.scale, layer.name(), undone=True)
                self._show_scale(v, v.target.scale)
            return True
        lost = v.lost
        if lost is not None:
            layer = nodes.get(adapter.node_id(lost.layer))  # by its id: the same layer
            if layer is None:
                return False
            back = lost._replace(layer=layer)
            v.lost, v.target = None, back
            if v.lost_converted:  # undoing it again undoes the conversion again
                v.converted_for = back
            v.state.on_result_back(back.job, back.scale)
            self._show_scale(v, back.scale)
            return True
        return False

    def _follow_selection(self, v: DocView) -> bool:
        """The user selected a Tinct layer other than the slider's: bind the slider to it
        if its job is known (this session made it), else say it cannot be adjusted."""
        document = v.document
        node = document.activeNode()
        if node is None or node.type() != "paintlayer" or not is_result_name(node.name()):
            return False
        if v.target is not None and adapter.same(v.target.layer, node):
            return False
        uid = adapter.node_id(node)
        known = v.results.get(uid)
        if known is None:
            if v.unbound == uid:
                return False  # said already
            v.unbound = uid
            v.target = None
            v.state.not_adjustable(
                node.name(), "it was made in an earlier Krita session, or long ago"
            )
            return True
        v.unbound = None
        v.target = known._replace(layer=node)  # a lost (undone) one still comes back on redo
        if not node.visible():  # shown, so the slider is seen; still one visible per source
            others = adapter.previous_results(document, known.source_node)
            _set_visible(document, [n for n in others if not adapter.same(n, node)], False)
            _set_visible(document, [node], True)
        v.source = (document, known.source_node)
        v.state.bind_result(known.job, known.scale, node.name())
        self._show_scale(v, known.scale)
        return True

    def _show_scale(self, v: DocView, scale: float) -> None:
        """The slider and number box at SCALE (no signal: nothing is re-rendered)."""
        v.slider = scale_to_slider(scale)
        if v is self._view:
            for w in (self.slider, self.scale_box):
                w.blockSignals(True)
            self.slider.setValue(v.slider)
            self.scale_box.setValue(scale)
            for w in (self.slider, self.scale_box):
                w.blockSignals(False)

    def _forget_job(self, view: DocView, job: str) -> None:
        """The daemon no longer holds JOB (restarted, or many results since): its layers
        stay as they are, and the slider says it cannot adjust them."""
        view.results.forget_job(job)
        target = view.target
        if target is not None and target.job == job:
            view.unbound = adapter.node_id(target.layer)
            view.target = None
            view.state.phase = Phase.READY  # not_adjustable ends an adjustment under way
            view.state.not_adjustable(
                target.layer.name(), "the backend no longer holds how it was made"
            )

    def _undo_conversion(self, document) -> None:
        """The result of a Grayscale image was undone: undo its RGB conversion too, so
        one Ctrl+Z restores the image as it was. Krita's scripting API cannot group the
        two undo steps, so the plugin takes the second one itself, and only when the
        layer went by undo (redo is possible: a deletion would have cleared it), the
        image is still RGB and it is the active image."""
        self._view.converted_for = None
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
        state = self.state
        c = state.controls()
        self.colorize_button.setEnabled(c.colorize)
        self.cancel_button.setEnabled(c.cancel)
        self.slider.setEnabled(c.slider)
        self.scale_box.setEnabled(c.slider)
        self.before_button.setEnabled(self._target is not None)
        self.progress.setVisible(c.progress_visible)
        if c.progress_busy:  # starting, loading, queued: no fraction yet
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, PROGRESS_MAX)
            self.progress.setValue(round(state.fraction * PROGRESS_MAX))
        self.status.setText(state.status)
        self.details_button.setVisible(bool(state.details))
        # A dock's layout does not grow a wrapped label by itself: room for every line
        width = self.status.width() if self.status.isVisible() else 200
        self.status.setMinimumHeight(self.status.heightForWidth(max(width, 100)))

    def show_details(self) -> None:
        """The last error's details (the backend log's last lines, or a traceback)."""
        state = self.state
        box = QMessageBox(QMessageBox.Warning, "Tinct", state.error or state.status,
                          QMessageBox.Close, self)  # fmt: skip
        box.setDetailedText(state.details)
        box.open()  # not modal to the event loop: scripts and tests can close it
        self.details_box = box

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
        """What the shown controls ask for (REFERENCE: the chosen (document, layer))."""
        hint = self.hints.currentText()
        ref_doc, ref_node = reference
        return ColorizeRequest(
            prompt=self.prompt.text().strip(),
            steps=self.steps.value(),
            scale=slider_to_scale(self.slider.value()),
            variations=self.variations.value(),
            seed=self.seed.value(),
            hint_layer=None if hint in ("", NO_HINTS) else hint,
            reference_document=adapter.document_label(ref_doc) if ref_doc is not None else None,
            reference_layer=ref_node.name() if ref_node is not None else None,
        )

    def new_seed(self) -> int:
        """A random seed other than 0 into the Seed box (shown there, so it can be reused)."""
        seed = random.randint(1, MAX_SEED)
        self.seed.setValue(seed)
        return seed

    def paint_hints(self, document=None, node=None) -> None:
        """Create (or select) the hint layer above the layer to colorize and make it active;
        that layer stays the one Colorize colorizes."""
        self.sync_document()
        v = self._view
        try:
            document = document or Krita.instance().activeDocument()
            if document is None:
                raise UserError("open an image first")
            source = self._source_for(document, node or document.activeNode())
            v.source = (document, source)
            hint, note = adapter.hint_layer_for(document, source)
            document.setActiveNode(hint)
            v.hint_chosen = False
            self.refresh_hint_layers()
            self.hints.setCurrentText(hint.name())
            v.state.status = (
                f"Paint colors on '{hint.name()}' where you know them, then Colorize; "
                f"'{source.name()}' is the layer colorized.{note}"
            )
        except (UserError, ValueError) as exc:
            v.state.on_error(str(exc))
        self._refresh()

    def show_before(self, on: bool) -> None:
        """Hide (on) or show again the source's Tinct layers and the hint layer."""
        v = self._view
        target = v.target
        self._settle_mask(v)
        if on and target is not None and adapter.contains(target.document, target.layer):
            document, layer = target.document, target.layer
            source = v.source[1] if v.source else None
            layers = adapter.previous_results(document, source) if source is not None else [layer]
            hint = adapter.find_layer(document, HINT_LAYER_NAME)
            v.hidden = [n for n in [*layers, hint] if n is not None and n.visible()]
            for n in v.hidden:
                n.setVisible(False)
            document.refreshProjection()
        elif not on:
            for n in v.hidden:
                n.setVisible(True)
            if v.hidden and target is not None:
                target.document.refreshProjection()
            v.hidden = []

    def colorize(self, document=None, node=None) -> None:
        """Colorize ``node`` of ``document`` (default: the active ones) with the shown
        document's settings."""
        self.sync_document()
        v = self._view
        if not v.state.colorize_clicked():
            return
        self._settle_mask(v)
        run = v.state.run
        self.before_button.setChecked(False)
        self._refresh()
        t0 = time.monotonic()
        try:
            app = Krita.instance()
            document = document or app.activeDocument()
            if document is None:
                raise UserError("open an image first")
            node = self._source_for(document, node or document.activeNode())
            v.source = (document, node)
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
            v.state.on_error(str(exc))
            self._refresh()
            return
        self.timings["read"] = time.monotonic() - t0
        image = _layer(source.pixels)
        hint_layer = _layer(hints) if hints is not None else None
        reference = _layer(ref) if ref is not None else None
        v.pending = Pending(document, node, source, req, hints is not None)
        v.state.expect_results(req.variations, req.steps)
        self._refresh()
        threading.Thread(
            target=self._colorize_in_worker,
            args=(image, hint_layer, reference, req, v, run, self.session),
            daemon=True,
            name="tinct-colorize",
        ).start()

    def _emit(self, event: WorkerEvent, **payload) -> None:
        """From a worker thread: a message for ``_on_worker`` on the UI thread."""
        self._bridge.event.emit(WorkerMessage(event, **payload))

    def _emit_error(self, exc: BaseException, session: Session, **tags) -> None:
        """From a worker thread: EXC as one readable line, its details for the button."""
        trace = "" if isinstance(exc, TinctError) else traceback.format_exc()
        readable = readable_error(exc, session.log_path(), trace)
        self._emit(WorkerEvent.ERROR, error=readable.line, details=readable.details, **tags)

    def _colorize_in_worker(self, image, hints, reference, req, view, run, session) -> None:
        tags = {"view": view, "run": run}

        def on_event(ev) -> None:
            if ev.kind != "result":
                self._emit(WorkerEvent.DAEMON, daemon=ev, **tags)

        def on_phase(phase) -> None:
            self._emit(WorkerEvent.PHASE, phase=phase, **tags)

        def abandoned() -> bool:  # Cancel pressed while starting
            return not view.state.is_current(run)

        try:
            # found, or started (the longest wait of a cold start; begun early, as a rule)
            session.client(on_phase, abandoned)
            if abandoned():
                raise Cancelled("cancelled", "cancelled by the user")
            self._emit(WorkerEvent.CONNECTED, text=backend_line(session.hello or {}), **tags)
            refusal = variations_refusal(session.hello, req.variations, req.seed)
            if refusal:
                raise UserError(refusal)
            for seed in reversed(req.seeds()):  # the first variation last: on top
                if view.state.cancelled_run == run:  # Cancel pressed: no further job
                    raise Cancelled("cancelled", "cancelled by the user")
                result = session.colorize(
                    image,
                    hints,
                    reference=reference,
                    prompt=req.prompt,
                    steps=req.steps,
                    scale=req.wire_scale(),
                    seed=seed,
                    on_event=on_event,
                )
                self._emit(WorkerEvent.RESULT, daemon=result, **tags)
        except Cancelled:
            self._emit(WorkerEvent.CANCELLED, **tags)
        except Exception as exc:  # never a traceback in the UI
            self._emit_error(exc, session, **tags)

    def cancel(self) -> None:
        """Cancel the running colorize; while starting, abandon it at once and stop the
        backend's start if one is under way (nothing is left running)."""
        state = self.state
        starting = state.phase == Phase.STARTING
        job = state.cancel_clicked()
        if starting:
            self.session.cancel_start()
        self._refresh()
        if job is not None:
            self._cancel_job(job)

    def _cancel_job(self, job: str) -> None:
        threading.Thread(target=self._cancel_in_worker, args=(job, self.session),
                         daemon=True).start()  # fmt: skip

    def _cancel_in_worker(self, job: str, session: Session) -> None:
        try:
            session.cancel(job)
        except Exception as exc:
            self._emit_error(exc, session)

    def _scale_box_changed(self, value: float) -> None:
        """The number box moves the slider (which applies the value)."""
        self.slider.setValue(scale_to_slider(value))

    def _slider_changed(self, ticks: int) -> None:
        self.scale_box.blockSignals(True)
        self.scale_box.setValue(slider_to_scale(ticks))
        self.scale_box.blockSignals(False)
        if self.slider.isSliderDown():
            self._slider_action(ticks, released=False)
        else:  # keyboard / wheel / programmatic: apply once it settles
            self._key_timer.start()

    def _slider_pressed(self) -> None:
        """The knob is taken: where the filter mask will show the moves, it goes on now at
        the held value (changing nothing on the canvas), so the first move only changes
        it: putting it on costs ~0.15 s more than a change at 4 MP (measured)."""
        v = self._view
        if v.target is None or v.state.job is None or v.state.phase not in ADJUSTABLE:
            return
        if self._preview_of(v).press():
            self._exclusive(lambda: self._show_mask(v, refresh=False))

    def _slider_released(self) -> None:
        self._key_timer.stop()
        self._slider_action(self.slider.value(), released=True)

    def _slider_action(self, ticks: int, released: bool) -> None:
        v = self._view
        if v.target is None:
            return
        action = v.state.slider_moved(ticks, released)
        if action is None:
            return
        scale = slider_to_scale(ticks)
        show = self._preview_of(v)
        if action == Adjust.APPLY:
            seq = show.release()
        else:
            seq, percent = show.move(scale)
            if percent is not None:  # the filter mask shows it: no render
                self._exclusive(lambda: self._show_mask(v))
                self._refresh()
                return
        self._slider_worker.submit((v, v.target, Adjustment(action, v.state.job, scale, seq)))
        self._refresh()

    # --- the slider's filter mask (on the UI thread, inside _exclusive) ------------------
    def _preview_of(self, v: DocView) -> SliderPreview:
        """The adjustment's ``SliderPreview`` (a new one at its first move, or when the
        slider's result changed since: a mask left on the other layer goes)."""
        t = v.target
        uid = adapter.node_id(t.layer)
        if v.show is None or v.show.layer != uid:
            if v.mask is not None:
                self._exclusive(lambda: self._drop_mask(v))
            r = t.source.pixels.rect
            v.show = SliderPreview(
                r.width, r.height, t.scale, hints=t.hints,
                reference=t.request.reference_layer is not None,
                encoded=t.source.pixels.dtype in ("u8", "u16"), layer=uid,
            )  # fmt: skip
        return v.show

    def _show_mask(self, v: DocView, refresh: bool = True) -> None:
        """Put the mask at the newest move it shows (moves that came meanwhile are skipped:
        this runs once the Krita work before it returned); not REFRESH: it is put on at
        the held value, which changes nothing to redraw."""
        show, t = v.show, v.target
        want = show.masked if show is not None else None
        if want is None or t is None or (v.mask is not None and v.mask.percent == want.percent):
            return
        if v.mask is not None and not adapter.same(v.mask.layer, t.layer):
            self._drop_mask(v)
        called = time.monotonic()
        node = adapter.show_preview_mask(
            t.document,
            t.layer,
            v.mask.node if v.mask is not None else None,
            want.percent,
            refresh=refresh and (v.mask is not None or want.percent != 0),
        )
        if node is None:  # the layer has children of its own: the daemon previews instead
            show.blocked, show.masked = True, None
            item = Adjustment(Adjust.PREVIEW, v.state.job, want.scale, want.seq)
            self._slider_worker.submit((v, t, item))
            return
        v.mask = Mask(t.document, t.layer, node, want.percent)
        if want.seq > 0:  # a move's (not the press's)
            self.masked_at.append((want.scale, called, time.monotonic()))

    def _drop_mask(self, v: DocView, refresh: bool = True) -> None:
        """Take the slider's filter mask off its layer (none: nothing to do)."""
        mask, v.mask = v.mask, None
        if mask is not None and adapter.is_open(mask.document):
            adapter.drop_preview_mask(mask.document, mask.layer, mask.node, refresh=refresh)

    def _settle_mask(self, v: DocView) -> None:
        """The adjustment is left (Before, another Colorize or document, the result gone,
        an error): the mask goes now, unless a full-resolution render is on its way, which
        takes it off once written (the canvas never shows the held value between)."""
        show = v.show
        if show is not None and show.final_due and v.mask is not None:
            return
        v.show = None
        if v.mask is not None:
            self._exclusive(lambda: self._drop_mask(v))

    def _adjust_in_worker(self, work) -> None:
        view, target, item = work
        job, scale = item.job, item.scale
        session = self.session
        try:
            t0 = time.monotonic()
            r = target.source.pixels.rect
            small_size = preview_size(r.width, r.height)  # None: small enough for full each time
            if item.action == Adjust.APPLY or small_size is None:
                ev = session.apply(job, scale)
                final = item.action == Adjust.APPLY
                data, premasked = ev.layer.tobytes(), False
            else:
                w, h = small_size
                dtype = target.source.pixels.dtype
                ev = session.rescale(job, scale, (w, h), dtype)
                small = ev.layer.tobytes()
                data = upscale_nearest(small, w, h, r.width, r.height, 4 * ITEMSIZE[dtype])
                copy_alpha(data, target.data, dtype)  # exact alpha (and selection) from the result
                final, premasked = False, True
            adjusted = Adjusted(target, job, scale, data, premasked, final, t0, item.seq)
            self._emit(WorkerEvent.ADJUSTED, adjusted=adjusted, view=view)
        except TinctError as exc:
            if exc.code == E_UNKNOWN_JOB:  # evicted, or a daemon started since
                self._emit(WorkerEvent.FORGOTTEN, text=job, view=view)
            else:
                self._emit_error(exc, session, view=view)
        except Exception as exc:
            self._emit_error(exc, session, view=view)

    # --- worker events, on the UI thread -------------------------------------------
    def _on_worker(self, message: WorkerMessage) -> None:
        """A worker's message, on the UI thread (``_exclusive``)."""
        self._exclusive(lambda: self._handle_worker(message))

    def _exclusive(self, work) -> None:
        """Run WORK on the UI thread, one piece at a time: Krita calls such as
        ``refreshProjection`` run the event loop, which would deliver the next queued
        message (a run's next variation) or slider move in the middle of this one; those
        wait instead, in order, and run when it returns."""
        if self._handling:
            self._deferred.append(work)
            return
        self._handling = True
        try:
            work()
            while self._deferred:
                self._deferred.pop(0)()
        except Exception as exc:  # a Krita call failed: show it, keep the docker alive
            self._krita_call_failed(self._view.state, exc)
            self._deferred.clear()
            self._refresh()
        finally:
            self._handling = False

    def _handle_worker(self, message: WorkerMessage) -> None:
        event = message.event
        view = message.view or self._view
        state = view.state
        if message.run is not None and not state.is_current(message.run):
            # an abandoned (cancelled while starting) or superseded run: only a job it
            # still queued needs stopping
            if event == WorkerEvent.DAEMON and message.daemon.kind == "queued":
                self._cancel_job(message.daemon.job)
            return
        if message.run is not None and state.write_cancelled(message.run):
            # a cancelled run: a variation's job sent before Cancel is stopped, and a
            # result that beat the cancel is not written (the image stays as it was)
            if event == WorkerEvent.DAEMON and message.daemon.kind == "queued":
                self._cancel_job(message.daemon.job)
                return
            if event == WorkerEvent.RESULT:
                state.on_cancelled()
                self._refresh()
                return
        try:
            if event == WorkerEvent.DAEMON:
                ev = message.daemon
                if ev.kind == "queued":
                    ahead = ev.header.get("ahead")
                    state.on_started(ev.job, ahead if isinstance(ahead, int) else 0)
                elif ev.kind == "started":
                    state.on_running()
                elif ev.kind == "progress":
                    state.on_progress(ev.step or 0, ev.total or 0)
            elif event == WorkerEvent.PHASE:
                state.on_start_phase(message.phase)
            elif event == WorkerEvent.CONNECTED:
                self.about.setText(message.text)
                state.progress.connected()
            elif event == WorkerEvent.RESULT:
                self._show_result(view, message.daemon, message.run)
            elif event == WorkerEvent.ADJUSTED:
                self._show_adjusted(view, message.adjusted)
            elif event == WorkerEvent.FORGOTTEN:
                self._render_failed(view)
                self._forget_job(view, message.text)
            elif event == WorkerEvent.CANCELLED:
                state.on_cancelled()
            elif event == WorkerEvent.ERROR:
                if message.run is None:  # a slider render's (or a cancel's)
                    self._render_failed(view)
                state.on_error(message.error, message.details)
        except Exception as exc:  # a Krita call failed: show it, keep the docker alive
            self._krita_call_failed(state, exc)
        self._refresh()

    def _krita_call_failed(self, state: DockerState, exc: Exception) -> None:
        """STATE shows EXC (a failed Krita call) as one line, the traceback in its details."""
        readable = readable_error(exc, self.session.log_path(), traceback.format_exc())
        state.on_error(readable.line, readable.details)

    def _render_failed(self, view: DocView) -> None:
        """A slider render failed: none is on its way, and the mask goes."""
        if view.show is not None:
            view.show.failed()
        self._settle_mask(view)

    def _show_adjusted(self, view: DocView, adj: Adjusted) -> None:
        target, now, show = adj.target, view.target, view.show
        if (
            now is not None
            and adj.job == view.state.job == now.job
            and adapter.same(target.layer, now.layer)
            and adapter.is_open(now.document)
        ):
            if not adj.final and show is not None and not show.preview_in(adj.seq):
                return  # the mask shows a newer move than this preview
            began = time.monotonic()
            # 1. the pixels, 2. the mask off (or re-based on them): one refresh for both
            masked = view.mask is not None
            adapter.write_color(now.document, now.layer, adj.data, now.source,
                                masked=adj.premasked, refresh=not masked)  # fmt: skip
            again = show.final_in(adj.seq, adj.scale) if adj.final and show is not None else None
            mask = view.mask
            if again is not None and mask is not None:  # a newer move: it stays, re-based
                node = adapter.show_preview_mask(now.document, now.layer, mask.node, again.percent)
                view.mask = mask._replace(node=node, percent=again.percent)
            elif again is None and masked:
                self._drop_mask(view)
            # (again and no mask yet: the _show_mask waiting in _exclusive puts it on)
            if adj.final and again is None:
                view.show = None  # the adjustment is over
            written = time.monotonic()
            self.timings["apply" if adj.final else "preview"] = written - adj.started
            self.adjusted_at.append((adj.scale, adj.final, adj.started, began, written))
            if adj.final:
                now.layer.setName(
                    result_name(now.request, adj.scale, hints=now.hints, seed=now.seed)
                )
                view.target = now._replace(scale=adj.scale)
                view.results.keep(adapter.node_id(now.layer), view.target)
        elif adj.final and view.mask is not None and adapter.same(view.mask.layer, target.layer):
            self._drop_mask(view)  # a render for a layer the slider left: its mask goes
            view.show = None
        view.state.on_adjusted(adj.scale, adj.final)

    def _show_result(self, view: DocView, ev, run: int) -> None:
        document, node, source, req, hints = view.pending
        view.state.on_writing()
        if view is self._view:  # painted now: the write below holds the UI thread
            self._refresh()
            self.status.repaint()
            self.progress.repaint()
        t0 = time.monotonic()
        data = ev.layer.tobytes()
        if source.mask is not None:
            data = mask_alpha(data, source.pixels.dtype, source.mask)
        # 1. Write the layer, outside the image, in strips; between two, Qt handles what
        #    came (a Cancel click): a cancelled run's layer is dropped, nothing was added.
        layer = adapter.new_result_layer(node, source)

        def between() -> bool:
            QApplication.processEvents()
            return view.state.write_cancelled(run)

        written = adapter.fill_layer(layer, data, source, masked=True, between=between)
        if not written or between():  # the last look before the point of no return
            self.timings["write"] = time.monotonic() - t0
            view.state.on_cancelled()
            return
        if not adapter.contains(document, node):  # closed or deleted meanwhile
            raise UserError(f"'{node.name()}' left the image while its result was written")
        # 2. Into the image: one Krita call each, too quick and too final to cancel.
        view.state.on_committing()
        if view is self._view:
            self._refresh()
        note = adapter.convert_to_rgb(document, source)  # Grayscale: RGB at the same depth
        scale = float(DEFAULT_SCALE if ev.scale is None else ev.scale)  # 0 is a value: gray
        seed = int(ev.header.get("seed") or 0)  # 0 from a model that draws no variations
        name = result_name(req, scale, hints=hints, seed=seed)
        # a run's next variation goes right above its previous one (the first ends on top)
        previous = view.target if view.target is not None and view.target.request is req else None
        # one visible result per source: earlier runs' results are hidden, never deleted
        # (their eye in the Layers docker shows one again); this run's variations stay
        hid = tuple(
            n for n in adapter.previous_results(document, node)
            if n.visible()
            and getattr(view.results.get(adapter.node_id(n)), "request", None) is not req
        )  # fmt: skip
        _set_visible(document, hid, False)
        layer = adapter.insert_result_layer(
            document, node, layer, name=name, above=previous.layer if previous is not None else None
        )
        # alpha is the same at every scale: the slider preview reuses this (masked) alpha
        view.target = Target(document, layer, source, data, req, hints, seed, ev.job, scale,
                             node, hid)  # fmt: skip
        view.lost, view.unbound = None, None
        view.results.keep(adapter.node_id(layer), view.target)
        if note:  # this result converted a Grayscale image (a run's first variation)
            view.converted_for = view.target
        elif view.converted_for is not None and view.converted_for.request is not req:
            view.converted_for = None  # an earlier run's
        self.timings["write"] = time.monotonic() - t0
        view.state.on_result(ev.job, scale, None, note)
        self._show_scale(view, scale)


def _set_visible(document, layers, visible: bool) -> None:
    """Show or hide LAYERS of DOCUMENT (those still in it); Krita records no undo step."""
    changed = False
    for n in layers:
        n = adapter.in_document(document, n)
        if n is not None and n.visible() != visible:
            n.setVisible(visible)
            changed = True
    if changed:
        document.refreshProjection()


def _layer(p) -> Layer:
    return Layer.from_buffer(p.data, p.rect.width, p.rect.height, 4, p.dtype, order=p.order)
