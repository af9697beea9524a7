"""The Tinct docker: prompt, Colorize, scale slider, Auto, steps, hint layer, progress, Cancel.

A thin Qt layer: user actions and worker events go to ``DockerState``; the
network runs on worker threads (``threading`` + a queued Qt signal back to
the UI thread), pixels are read and written here on the UI thread through
``document.py``.
"""

from __future__ import annotations

import threading
import time

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

from . import document as kdoc
from .pixels import (
    ITEMSIZE,
    UnsupportedLayer,
    copy_alpha,
    mask_alpha,
    preview_size,
    upscale_nearest,
)
from .session import Latest, Session
from .state import (
    SCALE_MAX,
    SCALE_MIN,
    SLIDER_MAX,
    SLIDER_MIN,
    ColorizeRequest,
    DockerState,
    scale_to_slider,
    slider_to_scale,
)
from .tinct_protocol import Cancelled, Layer, TinctError
from .tinct_protocol.constants import (
    DEFAULT_SCALE,
    DEFAULT_STEPS,
    MAX_STEPS,
    MIN_STEPS,
    SCALE_WORD,
)

DOCKER_ID = "tinct_docker"
NO_HINTS = "(no hints)"
PREVIEW_SIDE = 384


class _Bridge(QObject):
    """Carries worker-thread results to the UI thread (queued connection)."""

    event = pyqtSignal(object)


class TinctDocker(DockWidget):
    def __init__(self):
        super().__init__()
        self.setWindowTitle("Tinct")
        self.setObjectName(DOCKER_ID)
        self.state = DockerState()
        self.session = Session()
        self._bridge = _Bridge()
        self._bridge.event.connect(self._on_worker, Qt.QueuedConnection)
        self._target = None  # (document, color layer, Source, full-result bytes)
        self._slider_worker = Latest(self._adjust_in_worker)
        self.timings: dict[str, float] = {}
        self.last_request: ColorizeRequest | None = None
        self._build()
        self._refresh()

    # --- widgets --------------------------------------------------------------
    def _build(self) -> None:
        root = QWidget(self)
        box = QVBoxLayout(root)
        form = QFormLayout()
        self.prompt = QLineEdit()
        self.prompt.setPlaceholderText("optional: what the colors should be, e.g. 'a red car'")
        form.addRow("Prompt", self.prompt)
        self.steps = QSpinBox()
        self.steps.setRange(MIN_STEPS, MAX_STEPS)
        self.steps.setValue(DEFAULT_STEPS)
        form.addRow("Steps", self.steps)
        self.hints = QComboBox()
        self.hints.setToolTip(
            f"Paint colors on this layer where you want them; default: a layer named "
            f"'{kdoc.HINT_LAYER_NAME}'"
        )
        form.addRow("Hints", self.hints)
        self._hint_chosen = False  # once the user picks, refreshing the list keeps the pick
        self.hints.activated.connect(lambda _i: setattr(self, "_hint_chosen", True))
        box.addLayout(form)

        row = QHBoxLayout()
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(SLIDER_MIN, SLIDER_MAX)
        self.slider.setValue(scale_to_slider(DEFAULT_SCALE))
        self.slider.setToolTip(
            f"{SCALE_WORD} ({SCALE_MIN:g}: gray, 1: as predicted, {SCALE_MAX:g}); "
            "updates the color layer while it moves"
        )
        self.scale_label = QLabel("1.00")
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
        buttons.addWidget(self.colorize_button)
        buttons.addWidget(self.cancel_button)
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
        self.slider.valueChanged.connect(self._slider_changed)
        self.slider.sliderReleased.connect(self._slider_released)
        self._key_timer = QTimer(self)
        self._key_timer.setSingleShot(True)
        self._key_timer.setInterval(200)
        self._key_timer.timeout.connect(self._slider_released)

    def canvasChanged(self, canvas) -> None:  # noqa: N802 (Krita's name)
        self.refresh_hint_layers()

    def refresh_hint_layers(self) -> None:
        doc = Krita.instance().activeDocument()
        current = self.hints.currentText()
        names = kdoc.layer_names(doc) if doc is not None else []
        self.hints.blockSignals(True)
        self.hints.clear()
        self.hints.addItem(NO_HINTS)
        self.hints.addItems(names)
        if self._hint_chosen and (current == NO_HINTS or current in names):
            self.hints.setCurrentText(current)
        elif kdoc.HINT_LAYER_NAME in names:
            self.hints.setCurrentText(kdoc.HINT_LAYER_NAME)
        self.hints.blockSignals(False)

    def _refresh(self) -> None:
        c = self.state.controls()
        self.colorize_button.setEnabled(c.colorize)
        self.cancel_button.setEnabled(c.cancel)
        self.slider.setEnabled(c.slider)
        self.progress.setVisible(c.progress_visible)
        self.progress.setRange(0, max(1, self.state.total))
        self.progress.setValue(self.state.step)
        self.status.setText(self.state.status)

    # --- actions ----------------------------------------------------------------
    def request(self) -> ColorizeRequest:
        hint = self.hints.currentText()
        return ColorizeRequest(
            prompt=self.prompt.text().strip(),
            steps=self.steps.value(),
            auto=self.auto.isChecked(),
            scale=slider_to_scale(self.slider.value()),
            hint_layer=None if hint in ("", NO_HINTS) else hint,
        )

    def colorize(self, document=None, node=None) -> None:
        """Colorize ``node`` of ``document`` (default: the active ones)."""
        if not self.state.colorize_clicked():
            return
        self._refresh()
        t0 = time.monotonic()
        try:
            app = Krita.instance()
            document = document or app.activeDocument()
            if document is None:
                raise UnsupportedLayer("open an image first")
            node = node or document.activeNode()
            self.refresh_hint_layers()  # layers may have been added since
            req = self.request()
            self.last_request = req
            source = kdoc.read_source(document, node)
            hint_node = kdoc.find_layer(document, req.hint_layer) if req.hint_layer else None
            if hint_node is not None and hint_node == node:
                hint_node = None
            hints = kdoc.read_hints(document, hint_node, source)
        except (UnsupportedLayer, ValueError) as exc:
            self.state.on_error(str(exc))
            self._refresh()
            return
        self.timings["read"] = time.monotonic() - t0
        image = _layer(source.pixels)
        hint_layer = _layer(hints) if hints is not None else None
        self._pending = (document, node, source)
        threading.Thread(
            target=self._colorize_in_worker,
            args=(image, hint_layer, req),
            daemon=True,
            name="tinct-colorize",
        ).start()

    def _colorize_in_worker(self, image, hints, req: ColorizeRequest) -> None:
        emit = self._bridge.event.emit
        try:
            result = self.session.colorize(
                image,
                hints,
                prompt=req.prompt,
                steps=req.steps,
                scale=req.wire_scale(),
                on_event=lambda ev: emit(("event", ev)) if ev.kind != "result" else None,
            )
            emit(("result", result))
        except Cancelled:
            emit(("cancelled", None))
        except TinctError as exc:
            emit(("error", exc.message))
        except Exception as exc:  # never a traceback in the UI
            emit(("error", f"{type(exc).__name__}: {exc}"))

    def cancel(self) -> None:
        job = self.state.cancel_clicked()
        self._refresh()
        if job is not None:
            threading.Thread(target=self._cancel_in_worker, args=(job,), daemon=True).start()

    def _cancel_in_worker(self, job: str) -> None:
        try:
            self.session.cancel(job)
        except TinctError as exc:
            self._bridge.event.emit(("error", exc.message))

    def _slider_changed(self, ticks: int) -> None:
        self.scale_label.setText(f"{slider_to_scale(ticks):.2f}")
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
            self._slider_worker.submit((action, self.state.job, slider_to_scale(ticks)))
            self._refresh()

    def _adjust_in_worker(self, item) -> None:
        action, job, scale = item
        emit = self._bridge.event.emit
        target = self._target
        try:
            t0 = time.monotonic()
            if action == "apply":
                ev = self.session.apply(job, scale)
                emit(("adjusted", (target, job, scale, ev.layer.tobytes(), True, t0)))
            else:
                r = target[2].pixels.rect
                w, h = preview_size(r.width, r.height, PREVIEW_SIDE)
                dtype = target[2].pixels.dtype
                ev = self.session.rescale(job, scale, (w, h), dtype)
                small = ev.layer.tobytes()
                full = upscale_nearest(small, w, h, r.width, r.height, 4 * ITEMSIZE[dtype])
                copy_alpha(full, target[3], dtype)  # exact alpha (and selection) from the result
                emit(("adjusted", (target, job, scale, full, False, t0)))
        except TinctError as exc:
            emit(("error", exc.message))
        except Exception as exc:
            emit(("error", f"{type(exc).__name__}: {exc}"))

    # --- worker events, on the UI thread -------------------------------------------
    def _on_worker(self, item) -> None:
        kind, value = item
        try:
            if kind == "event":
                if value.kind == "queued":
                    self.state.on_started(value.job)
                elif value.kind == "progress":
                    self.state.on_progress(value.step or 0, value.total or 0)
            elif kind == "result":
                self._show_result(value)
            elif kind == "adjusted":
                target, job, scale, data, final, t0 = value
                if target is self._target and job == self.state.job:
                    doc, layer, source, _ = target
                    # previews carry the masked alpha already (copy_alpha); apply is masked here
                    kdoc.write_color(doc, layer, data, source, masked=not final)
                    self.timings["apply" if final else "preview"] = time.monotonic() - t0
                self.state.on_adjusted(scale, final)
            elif kind == "cancelled":
                self.state.on_cancelled()
            elif kind == "error":
                self.state.on_error(value)
        except Exception as exc:  # a Krita call failed: show it, keep the docker alive
            self.state.on_error(f"{type(exc).__name__}: {exc}")
        self._refresh()

    def _show_result(self, ev) -> None:
        document, node, source = self._pending
        t0 = time.monotonic()
        data = ev.layer.tobytes()
        if source.mask is not None:
            data = mask_alpha(data, source.pixels.dtype, source.mask)
        layer = kdoc.add_color_layer(document, node, data, source, masked=True)
        # alpha is the same at every scale: the slider preview reuses this (masked) alpha
        self._target = (document, layer, source, data)
        self.timings["write"] = time.monotonic() - t0
        scale = float(ev.header.get("scale") or 1.0)
        self.state.on_result(ev.job, scale, ev.header.get("auto_scale"))
        self.slider.blockSignals(True)
        self.slider.setValue(scale_to_slider(scale))
        self.slider.blockSignals(False)
        self.scale_label.setText(f"{scale:.2f}")


def _layer(p) -> Layer:
    return Layer.from_buffer(p.data, p.rect.width, p.rect.height, 4, p.dtype, order=p.order)
