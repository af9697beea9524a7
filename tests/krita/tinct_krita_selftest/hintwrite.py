"""Run inside a real Krita GUI by the test-only plugin (this package) when
$TINCT_KRITA_SELFTEST names this module. Against a daemon the test started (tiny model):

A. Hints that show. A photo half white, half near-black: Paint hints, a red stroke
   across both halves; the composite there (what the canvas shows) is recorded with and
   without the stroke, the window is saved as a PNG, and Colorize records the hint
   layer the session sends (a spy around ``Session.colorize``: the real call runs).
   Then a second document whose "Tinct hints" layer an earlier version made in Color
   mode: a blue stroke, Colorize, the same records (and that layer's mode, untouched).
B. Cancel while the layer is written. A 3000x2000 photo: Colorize (result 1); Colorize
   again, and Cancel is clicked from a zero-delay timer armed when the status line says
   "Writing the layer…", so the click is handled inside the write, between two strips
   (a spy around ``adapter.fill_layer`` counts them); the layers, the photo's pixels
   and the status are recorded; one Ctrl+Z must take result 1 away (the cancelled write
   left no undo step), redo brings it back; a third Colorize must give its layer.
Writes $TINCT_KRITA_RESULT (JSON), the screenshot next to it, then quits.
"""

import hashlib
import time

from PyQt5.QtCore import QTimer
from tinct_krita import adapter
from tinct_krita.tinct_protocol.layers import HINT_LAYER_NAME

from .driving import DONE, RESULT, Driver, app, open_photo, show_docker

W, H = 480, 320
BIG_W, BIG_H = 3000, 2000
RED = (210, 40, 40)  # R, G, B of the painted stroke
BLUE = (40, 90, 220)
ROWS = (140, 180)  # the stroke's rows; it spans x 40..440, over white and near-black
WHITE_AT, DARK_AT = (120, 160), (360, 160)  # one pixel of the stroke on each half
log = {"ok": False, "steps": [], "status_seen": [], "texts": []}
drive = Driver(log)
fail, poll, later, quit_krita = drive.fail, drive.poll, drive.later, drive.quit_krita
sent = []  # the hint layers the session was given, in order
writes = []  # [strips written, whole layer written] of each result write


def names(d):
    return [n.name() for n in d.rootNode().childNodes()]


def half_white_photo():
    row = bytes([255, 255, 255, 255]) * (W // 2) + bytes([20, 20, 20, 255]) * (W - W // 2)
    return row * H


def stroke(rgb):
    """A W x H BGRA layer, transparent but for a band of RGB."""
    r, g, b = rgb
    px = bytearray(W * H * 4)
    for y in range(*ROWS):
        for x in range(40, W - 40):
            px[(y * W + x) * 4 : (y * W + x) * 4 + 4] = bytes([b, g, r, 255])
    return bytes(px)


def composite_at(d, at):
    d.refreshProjection()
    b, g, r, a = bytes(d.pixelData(at[0], at[1], 1, 1))
    return [r, g, b, a]


def spy(docker):
    """Record the hint layer each colorize sends (the real call still runs), the status
    line's texts, and how each result's write went."""
    real = docker.session.colorize

    def colorize(image, hints, *args, **kwargs):
        if hints is not None:
            data = hints.tobytes()
            pix = {}
            for key, (x, y) in (("white", WHITE_AT), ("dark", DARK_AT)):
                i = (y * hints.width + x) * 4
                px = list(data[i : i + 4])
                pix[key] = px if hints.format.order == "rgb" else [px[2], px[1], px[0], px[3]]
            sent.append(pix)
        else:
            sent.append(None)
        return real(image, hints, *args, **kwargs)

    docker.session.colorize = colorize
    fill = adapter.fill_layer

    def fill_layer(layer, data, source, *, masked=False, between=None):
        calls = [0]

        def counted():
            calls[0] += 1
            return between()

        whole = fill(layer, data, source, masked=masked, between=counted)
        writes.append([calls[0], whole])
        return whole

    adapter.fill_layer = fill_layer
    label = docker.status
    set_text = label.setText

    def logged(text):
        set_text(text)
        if not log["texts"] or log["texts"][-1] != text:
            log["texts"].append(text)
        if text.startswith("Writing the layer") and log.get("cancel_armed"):
            log["cancel_armed"] = False
            log["cancel_enabled_writing"] = docker.cancel_button.isEnabled()
            QTimer.singleShot(0, docker.cancel_button.click)  # handled inside the write

    label.setText = logged


# --- A. hints that show ---------------------------------------------------------------
def setup():
    global doc, photo, docker
    doc, photo = open_photo("hints", W, H, half_white_photo())
    docker = show_docker()
    if docker is None:
        return fail("no Tinct docker: the plugin did not register its DockWidget")
    spy(docker)
    later(500, start)


def start():
    doc.setActiveNode(photo)
    poll(lambda: doc.activeNode() is not None and doc.activeNode().name() == "photo",
         paint_hints, 10, "active node")  # fmt: skip


def paint_hints():
    log["plain_white"] = composite_at(doc, WHITE_AT)
    log["plain_dark"] = composite_at(doc, DARK_AT)
    docker.paint_hints_button.click()
    poll(lambda: doc.activeNode() is not None and doc.activeNode().name() == HINT_LAYER_NAME,
         painted, 10, "hint layer active")  # fmt: skip


def painted():
    hint = doc.activeNode()
    log["hint_mode"] = [hint.blendingMode(), hint.opacity()]
    hint.setPixelData(stroke(RED), 0, 0, W, H)
    log["stroke_white"] = composite_at(doc, WHITE_AT)
    log["stroke_dark"] = composite_at(doc, DARK_AT)
    window = app.activeWindow().qwindow()
    window.resize(1280, 1000)
    later(1000, lambda: shot(window))


def shot(window):
    log["screenshot"] = window.grab().save(RESULT + ".hints.png")
    doc.setActiveNode(photo)
    docker.colorize_button.click()
    poll(lambda: docker.state.phase in DONE and docker.state.job is not None, colorized, 120,
         "the colorize with hints")  # fmt: skip


def colorized():
    log["sent_new"] = sent[-1]
    log["names_hints"] = names(doc)
    # a document whose hint layer an earlier version made, in Color mode
    global old, old_photo
    old, old_photo = open_photo("old-hints", W, H, half_white_photo())
    legacy = old.createNode(HINT_LAYER_NAME, "paintlayer")
    old.rootNode().addChildNode(legacy, old_photo)
    legacy.setBlendingMode("color")
    legacy.setPixelData(stroke(BLUE), 0, 0, W, H)
    log["legacy_white"] = composite_at(old, WHITE_AT)
    later(1500, colorize_legacy)  # the docker's watch lists the new document's layers


def colorize_legacy():
    old.setActiveNode(old_photo)
    log["legacy_choice"] = docker.hints.currentText()
    docker.colorize_button.click()
    poll(lambda: docker.state.phase in DONE and docker.state.job is not None,
         legacy_colorized, 120, "the colorize with the Color-mode hints")  # fmt: skip


def legacy_colorized():
    log["sent_legacy"] = sent[-1]
    log["legacy_mode"] = adapter.find_layer(old, HINT_LAYER_NAME).blendingMode()
    log["names_legacy"] = names(old)
    big_start()


# --- B. Cancel while the layer is written -----------------------------------------------
def big_pixels():
    row = bytearray()
    for x in range(BIG_W):
        v = 30 + (190 * x) // BIG_W
        row += bytes([v, v, v, 255])
    return bytes(row) * BIG_H


def digest(node):
    return hashlib.sha256(bytes(node.pixelData(0, 0, BIG_W, BIG_H))).hexdigest()


def big_start():
    global big, big_photo
    big, big_photo = open_photo("big", BIG_W, BIG_H, big_pixels())
    log["big_photo"] = digest(big_photo)
    later(1500, big_first)


def big_first():
    big.setActiveNode(big_photo)
    log["big_names_before"] = names(big)
    docker.colorize_button.click()
    poll(lambda: docker.state.phase in DONE and docker.state.job is not None, big_second, 120,
         "the first 3000x2000 colorize")  # fmt: skip


def big_second():
    log["big_names_first"] = names(big)
    log["job_first"] = docker.state.job
    log["writes_before_cancel"] = len(writes)
    log["texts_mark"] = len(log["texts"])
    log["cancel_armed"] = True
    big.setActiveNode(big_photo)
    docker.colorize_button.click()
    poll(lambda: docker.state.phase in DONE and not log["cancel_armed"], big_cancelled, 120,
         "the colorize cancelled while writing")  # fmt: skip


def big_cancelled():
    log["cancel_write"] = writes[log["writes_before_cancel"] :]
    log["texts_cancel"] = log["texts"][log["texts_mark"] :]
    log["status_cancelled"] = docker.status.text()
    log["colorize_enabled_cancelled"] = docker.colorize_button.isEnabled()
    log["job_after_cancel"] = docker.state.job
    later(1500, after_cancel)  # any late event of the cancelled run has come by now


def after_cancel():
    log["big_names_cancelled"] = names(big)
    log["big_photo_cancelled"] = digest(big_photo)
    log["status_later"] = docker.status.text()
    app.action("edit_undo").trigger()  # takes result 1 away: the cancel left no step
    later(1500, undone)


def undone():
    log["big_names_undone"] = names(big)
    app.action("edit_redo").trigger()
    later(1500, redone)


def redone():
    log["big_names_redone"] = names(big)
    big.setActiveNode(big_photo)
    log["t_third"] = time.monotonic()
    docker.colorize_button.click()
    poll(lambda: docker.state.phase in DONE and docker.state.job not in (None, log["job_first"]),
         third, 120, "the Colorize after the cancel")  # fmt: skip


def third():
    log["big_names_third"] = names(big)
    log["status_third"] = docker.status.text()
    log["big_photo_third"] = digest(big_photo)
    log["writes_third"] = writes[-1]
    log["ok"] = True
    quit_krita()


def run():
    drive.start(setup)
