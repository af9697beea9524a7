"""Run inside a real Krita GUI by the test-only plugin (this package) when
$TINCT_KRITA_SELFTEST names this module.

Settings belong to the document, the prompt's Enter, the number box, the names and the
backend's version, driven like a user: documents "doc-a" and "doc-b" hold a gray photo,
"beach.jpg" a blue colour photo on its "Background" layer. In doc-a: type a prompt,
pick the beach as the reference, press Enter in the Prompt field (Colorize runs), then
type 1.5 into the Colourfulness number box and press Enter (the slider follows, the
layer is re-rendered and renamed). Switch to doc-b: its own settings (no prompt, no
reference, the default colourfulness, variations and seed, its own status); Colorize there uses no reference. Back to
doc-a: its settings again. Screenshots of the docker and the window.
Writes $TINCT_KRITA_RESULT (JSON), then quits; every wait is a QTimer poll.
"""

import os

from PyQt5.QtCore import QEvent, Qt
from PyQt5.QtGui import QKeyEvent
from PyQt5.QtWidgets import QApplication

from .driving import DONE, RESULT, Driver, app, open_photo, show_docker

SRC_PATH, SRC_SIZE = os.environ["TINCT_KRITA_PHOTO"].rsplit(":", 1)  # 8-bit gray bytes
REF_PATH, REF_SIZE = os.environ["TINCT_KRITA_REFERENCE"].rsplit(":", 1)  # 8-bit RGB bytes
W, H = (int(v) for v in SRC_SIZE.split("x"))
RW, RH = (int(v) for v in REF_SIZE.split("x"))
REF_LABEL = "beach.jpg / Background"
log = {"ok": False, "steps": [], "status_seen": []}
drive = Driver(log)
fail, poll, later, quit_krita = drive.fail, drive.poll, drive.later, drive.quit_krita


def gray_bgra(path):
    with open(path, "rb") as f:
        return b"".join(bytes([v, v, v, 255]) for v in f.read())


def rgb_bgra(path):
    with open(path, "rb") as f:
        rgb = f.read()
    out = bytearray(len(rgb) // 3 * 4)
    out[0::4], out[1::4], out[2::4] = rgb[2::3], rgb[1::3], rgb[0::3]
    out[3::4] = b"\xff" * (len(rgb) // 3)
    return bytes(out)


def results(doc):
    return [n.name() for n in doc.rootNode().childNodes() if n.name().startswith("Tinct ")]


def press(widget, key, text=""):
    """A key press and release sent to WIDGET, as the keyboard would."""
    for kind in (QEvent.KeyPress, QEvent.KeyRelease):
        QApplication.sendEvent(widget, QKeyEvent(kind, key, Qt.NoModifier, text))


def type_text(widget, text):
    for ch in text:
        press(widget, ord(ch.upper()) if ch.isalpha() else ord(ch), ch)


def shown():
    """What the docker shows for the active document."""
    return {
        "document": docker._view.document.name() if docker._view.document else None,
        "prompt": docker.prompt.text(),
        "reference": docker.reference.currentText(),
        "variations": docker.variations.value(),
        "seed": docker.seed.value(),
        "slider": docker.slider.value(),
        "box": round(docker.scale_box.value(), 2),
        "status": docker.status.text(),
    }


def activate(doc):
    window = app.activeWindow()
    view = next(v for v in window.views() if v.document() == doc)
    window.showView(view)  # the view's tab, as a click on it
    view.setVisible()
    app.setActiveDocument(doc)
    log.setdefault("switched", []).append(
        [doc.name(), app.activeDocument().name() if app.activeDocument() else None]
    )


def setup():
    global doc_a, doc_b, beach, photo_a, photo_b, docker
    beach = app.createDocument(RW, RH, "beach.jpg", "RGBA", "U8", "", 72.0)
    background = beach.rootNode().childNodes()[0]  # Krita's "Background"
    background.setPixelData(rgb_bgra(REF_PATH), 0, 0, RW, RH)
    app.activeWindow().addView(beach)
    doc_b, photo_b = open_photo("doc-b", W, H, gray_bgra(SRC_PATH))
    doc_a, photo_a = open_photo("doc-a", W, H, gray_bgra(SRC_PATH))
    docker = show_docker()
    if docker is None:
        return fail("no Tinct docker: the plugin did not register its DockWidget")
    log["beach_layers"] = [n.name() for n in beach.rootNode().childNodes()]
    log["slider_width"] = docker.slider.width()
    log["slider_tooltip"] = docker.slider.toolTip()
    log["about_before"] = docker.about.text()
    later(500, start)


def start():
    doc_a.setActiveNode(photo_a)  # Krita 5.2 makes the last added layer active
    poll(lambda: app.activeDocument() == doc_a and doc_a.activeNode() is not None
         and doc_a.activeNode().name() == "photo" and docker._view.document == doc_a
         and REF_LABEL in [docker.reference.itemText(i) for i in range(docker.reference.count())],
         in_a, 15, "doc-a shown, the beach listed")  # fmt: skip


def in_a():
    log["reference_items"] = [docker.reference.itemText(i) for i in range(docker.reference.count())]
    docker.steps.setValue(2)
    docker.prompt.setFocus()
    type_text(docker.prompt, "red roof")
    docker.reference.setCurrentIndex(docker.reference.findText(REF_LABEL))
    press(docker.prompt, Qt.Key_Return, "\r")  # Enter in the Prompt field runs Colorize
    log["phase_after_enter"] = docker.state.phase.value
    poll(lambda: docker.state.phase in DONE and results(doc_a), colorized_a, 240, "colorize a")


def colorized_a():
    log["a_name"] = results(doc_a)
    log["a_status"] = docker.status.text()
    log["about"] = docker.about.text()
    box = docker.scale_box
    box.setFocus()
    box.lineEdit().selectAll()
    type_text(box, "1.5")
    press(box, Qt.Key_Return, "\r")  # the number box: the slider follows, the layer too
    log["after_box"] = shown()
    poll(lambda: "apply" in docker.timings and docker.state.phase in DONE
         and results(doc_a) and results(doc_a)[0].endswith("x1.50"),
         boxed, 60, "apply from the number box")  # fmt: skip


def boxed():
    log["a_name_boxed"] = results(doc_a)
    log["a_shown"] = shown()
    later(300, lambda: shoot("docker-a"))
    later(900, to_b)


def shoot(name):
    log[f"shot_{name}"] = docker.grab().save(f"{RESULT}.{name}.png")


def to_b():
    activate(doc_b)
    doc_b.setActiveNode(photo_b)
    poll(lambda: docker._view.document == doc_b, in_b, 15, "doc-b shown")  # the docker's watch


def in_b():
    log["b_shown"] = shown()
    docker.colorize_button.click()
    poll(lambda: docker.state.phase in DONE and results(doc_b), colorized_b, 240, "colorize b")


def colorized_b():
    log["b_name"] = results(doc_b)
    log["b_request_reference"] = docker.last_request.reference_layer
    log["b_status"] = docker.status.text()
    log["a_names_while_b"] = results(doc_a)
    activate(doc_a)
    poll(lambda: docker._view.document == doc_a, back_to_a, 15, "doc-a shown again")


def back_to_a():
    log["a_again"] = shown()
    window = app.activeWindow().qwindow()
    window.resize(1280, 1000)
    later(1200, lambda: take(window))


def take(window):
    log["screenshot"] = window.grab().save(RESULT + ".krita.png")
    shoot("docker")
    log["ok"] = True
    quit_krita()


def run():
    drive.start(setup)
