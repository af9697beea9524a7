"""Run inside a real Krita GUI by the test-only plugin (this package) when
$TINCT_KRITA_SELFTEST names this module.

Drives the docker like a user, against the real daemon: Paint hints (the hint
layer is created above the photo and made active), paint a stroke, Colorize
(the photo, not the active hint layer, is colorized), drag the Colourfulness
slider (what the drag shows is what stays on release), Before
on and off, Colorize again (the new result goes on top), a screenshot of the
window, Ctrl+Z, a Colorize cancelled mid-job, Ctrl+Z again, a group layer
(an error message) and a Grayscale document (converted to RGB with the result).
Writes $TINCT_KRITA_RESULT (JSON), the first result layer's bytes next to it and
the screenshot, then quits. ``run()`` starts it; the event loop must keep
running, so every wait is a QTimer poll.
"""

import os

from PyQt5.QtWidgets import QLabel
from tinct_krita.state import Phase

from .driving import DONE, RESULT, Driver, app, open_photo, show_docker

PHOTO = os.environ.get("TINCT_KRITA_PHOTO")  # "PATH:WxH" of 8-bit gray bytes, or synthetic
W, H = 480, 320  # larger than the docker's 384-pixel preview
if PHOTO:
    W, H = (int(v) for v in PHOTO.rsplit(":", 1)[1].split("x"))
log = {"ok": False, "steps": [], "progress_seen": [], "status_seen": []}
log["pythonpath"] = os.environ.get("PYTHONPATH", "")  # what Krita gives its plugins
drive = Driver(log)
fail, poll, later, quit_krita = drive.fail, drive.poll, drive.later, drive.quit_krita


def chroma(data):
    """Mean (max - min) of B, G, R over the visible pixels of a U8 BGRA buffer."""
    b, g, r, a = data[0::4], data[1::4], data[2::4], data[3::4]
    total = n = 0
    for i in range(0, len(a), 7):  # every 7th pixel is plenty
        if a[i]:
            total += max(b[i], g[i], r[i]) - min(b[i], g[i], r[i])
            n += 1
    return total / max(n, 1)


def names(d=None):
    return [n.name() for n in (d or doc).rootNode().childNodes()]


def composite():
    doc.refreshProjection()
    return bytes(doc.pixelData(0, 0, W, H))


def photo_pixels():
    if PHOTO:
        with open(PHOTO.rsplit(":", 1)[0], "rb") as f:
            gray = f.read()
        return b"".join(bytes([v, v, v, 255]) for v in gray)
    px = bytearray()
    for y in range(H):
        for x in range(W):
            v = 40 + (180 * x) // W
            v = v if (x - 150) ** 2 + (y - 160) ** 2 > 3600 else 200
            px += bytes([v, v, v, 255])
    return bytes(px)


def setup():
    global doc, photo, docker
    doc, photo = open_photo("tinct-gui", W, H, photo_pixels())
    docker = show_docker()
    if docker is None:
        return fail("no Tinct docker: the plugin did not register its DockWidget")
    log["photo_before"] = bytes(photo.pixelData(0, 0, W, H)).hex()
    # Record every status the docker shows (polling alone misses a job faster than a tick).
    refresh = docker._refresh

    def logged_refresh():
        refresh()
        if docker.status.text() not in log["status_seen"]:
            log["status_seen"].append(docker.status.text())

    docker._refresh = logged_refresh
    later(500, start)


def start():
    # Krita 5.2 makes the last added layer active once the view exists: pick the photo again
    doc.setActiveNode(photo)
    poll(lambda: doc.activeNode() is not None and doc.activeNode().name() == "photo", go, 10,
         "active node")  # fmt: skip


def go():
    log["active_node"] = doc.activeNode().name()
    log["ui_defaults"] = {  # what the docker shows before anything is touched
        "steps": docker.steps.value(),
        "steps_range": [docker.steps.minimum(), docker.steps.maximum()],
        "slider_range": [docker.slider.minimum(), docker.slider.maximum()],
        "slider": docker.slider.value(),
        "variations": docker.variations.value(),
        "variations_range": [docker.variations.minimum(), docker.variations.maximum()],
        "seed": docker.seed.value(),
        "seed_range": [docker.seed.minimum(), docker.seed.maximum()],
        "labels": [w.text() for w in docker.findChildren(QLabel)],
    }
    # Paint hints: a hint layer above the photo, made active; the photo stays the target
    docker.paint_hints_button.click()
    poll(lambda: doc.activeNode() is not None and doc.activeNode().name() == "Tinct hints",
         painted, 10, "hint layer active")  # fmt: skip


def painted():
    hints = doc.activeNode()
    log["hint_blend"] = hints.blendingMode()
    log["names_with_hints"] = names()
    log["hint_status"] = docker.status.text()
    log["hint_choice"] = docker.hints.currentText()
    log["hint_items"] = [docker.hints.itemText(i) for i in range(docker.hints.count())]
    stroke = bytearray(W * H * 4)
    for y in range(30, 50):  # a blue stroke across the sky (BGRA)
        for x in range(W // 2, W - 20):
            stroke[(y * W + x) * 4 : (y * W + x) * 4 + 4] = bytes([230, 120, 30, 255])
    hints.setPixelData(bytes(stroke), 0, 0, W, H)
    docker.prompt.setText(os.environ.get("TINCT_KRITA_PROMPT", "a red ball"))
    docker.steps.setValue(3)
    docker.colorize_button.click()  # the hint layer is the active one
    poll(lambda: docker.state.phase in DONE, colorized, 240, "colorize")


def results():
    return [n for n in doc.rootNode().childNodes() if n.name().startswith("Tinct ") and
            n.name() != "Tinct hints"]  # fmt: skip


def colorized():
    global first, first_layer
    found = results()
    if not found or docker.state.job is None:
        return fail(f"no result: {docker.status.text()}")
    first_layer = found[0]
    log["names"] = names()
    log["first_name"] = first_layer.name()
    log["blend"] = first_layer.blendingMode()
    log["job"] = docker.state.job
    log["auto_scale"] = docker.state.auto_scale
    log["scale0"] = docker.state.scale
    log["slider0"] = docker.slider.value()
    log["photo_unchanged"] = bytes(photo.pixelData(0, 0, W, H)).hex() == log["photo_before"]
    first = bytes(first_layer.pixelData(0, 0, W, H))
    log["chroma0"] = chroma(first)
    # drag: press, move (the layer follows), release (the result that stays)
    docker.slider.setSliderDown(True)
    docker.slider.setValue(190)
    poll(lambda: "preview" in docker.timings, previewed, 30, "preview")


def previewed():
    global preview
    preview = bytes(first_layer.pixelData(0, 0, W, H))
    log["preview_changed"] = preview != first
    log["preview_seconds"] = docker.timings["preview"]
    docker.slider.setSliderDown(False)  # emits sliderReleased
    poll(lambda: "apply" in docker.timings and docker.state.phase == Phase.READY, applied, 30,
         "apply")  # fmt: skip


def applied():
    final = bytes(first_layer.pixelData(0, 0, W, H))
    log["chroma_final"] = chroma(final)
    log["final_changed"] = final != first
    log["preview_is_final"] = final == preview
    log["apply_seconds"] = docker.timings["apply"]
    log["scale_final"] = docker.state.scale
    log["name_after_drag"] = first_layer.name()
    with open(RESULT + ".layer", "wb") as f:
        f.write(final)
    # Before: the image without Tinct's colour, then back
    log["chroma_composite"] = chroma(composite())
    docker.before_button.setChecked(True)
    log["chroma_before_on"] = chroma(composite())
    docker.before_button.setChecked(False)
    log["chroma_before_off"] = chroma(composite())
    # a rerun (the slider's 1.90 is used) goes on top of the first result
    docker.colorize_button.click()
    poll(lambda: docker.state.phase in DONE and len(results()) == 2, rerun, 240,
         "rerun")  # fmt: skip


def rerun():
    log["names_rerun"] = names()
    log["rerun_scale"] = docker.state.scale
    docker.before_button.setChecked(False)
    later(300, screenshot)


def screenshot():
    window = app.activeWindow().qwindow()
    window.resize(1280, 1000)
    later(800, lambda: take(window))


def take(window):
    log["screenshot"] = window.grab().save(RESULT + ".krita.png")
    # one Ctrl+Z takes the rerun's layer away; the first result shows again
    app.action("edit_undo").trigger()
    later(1800, undone)  # > the docker's one-second watch


def undone():
    log["names_after_undo"] = names()
    log["photo_unchanged_after_undo"] = (
        bytes(photo.pixelData(0, 0, W, H)).hex() == log["photo_before"]
    )
    log["status_after_undo"] = docker.status.text()
    log["slider_enabled_after_undo"] = docker.slider.isEnabled()
    # Cancel mid-job: no layer, and the undo history still works
    docker.steps.setValue(docker.steps.maximum())
    docker.colorize_button.click()
    poll(lambda: docker.state.phase == Phase.COLORIZING and docker.state.step >= 1, cancel, 120,
         "job running")  # fmt: skip


def cancel():
    docker.cancel_button.click()
    poll(lambda: docker.state.phase in DONE, cancelled, 60, "cancel")


def cancelled():
    log["status_after_cancel"] = docker.status.text()
    log["names_after_cancel"] = names()
    app.action("edit_undo").trigger()
    later(700, undone_after_cancel)


def undone_after_cancel():
    log["names_after_cancel_undo"] = names()
    # an unsupported layer gives a message in the status line, not a traceback
    group = doc.createNode("group", "grouplayer")
    doc.rootNode().addChildNode(group, None)
    docker.colorize(doc, group)
    log["error_status"] = docker.status.text()
    log["colorize_enabled_after_error"] = docker.colorize_button.isEnabled()
    gray_document()


def gray_document():
    global gdoc, scan
    gdoc = app.createDocument(160, 120, "tinct-gray", "GRAYA", "U16", "", 72.0)
    scan = gdoc.createNode("scan", "paintlayer")
    gdoc.rootNode().addChildNode(scan, None)
    scan.setPixelData(bytes(v for x in range(160 * 120) for v in (0, (x % 160) + 40, 255, 255)),
                      0, 0, 160, 120)  # fmt: skip
    app.activeWindow().addView(gdoc)
    gdoc.setActiveNode(scan)
    log["gray_before"] = [gdoc.colorModel(), gdoc.colorDepth(), names(gdoc)]
    # the docker shows the new document's own settings (the watch follows the active one)
    poll(lambda: docker._view.document == gdoc, gray_shown, 15, "the gray document shown")


def gray_shown():
    log["gray_prompt"] = docker.prompt.text()
    log["gray_slider"] = docker.slider.value()
    docker.steps.setValue(2)  # one preference for every document
    docker.colorize(gdoc, scan)
    poll(lambda: docker.state.phase in DONE, gray_done, 240, "gray colorize")


def gray_done():
    log["gray_after"] = [gdoc.colorModel(), gdoc.colorDepth(), names(gdoc)]
    log["gray_status"] = docker.status.text()
    app.action("edit_undo").trigger()  # once: the result and the conversion go
    later(2500, gray_undo1)  # > the docker's one-second watch, which takes the second step


def gray_undo1():
    log["gray_undo1"] = [gdoc.colorModel(), gdoc.colorDepth(), names(gdoc)]
    log["ok"] = True
    quit_krita()


def run():
    drive.start(setup)
