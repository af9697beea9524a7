"""Run inside a real Krita GUI by the Tinct plugin when $TINCT_KRITA_SELFTEST names this file.

Drives the docker like a user: Colorize against the real daemon, then drags
the scale slider (preview while down, full resolution on release). Writes
$TINCT_KRITA_RESULT (JSON) and the color layer's bytes next to it, then quits.
Executed with ``find_docker`` in scope; the event loop must keep running, so
every wait is a QTimer poll.
"""

import json
import os
import time
import traceback

from krita import Krita
from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import QLabel

RESULT = os.environ["TINCT_KRITA_RESULT"]
W, H = 480, 320  # larger than the docker's 384-pixel preview, so the drag really upscales
app = Krita.instance()
log = {"ok": False, "steps": [], "progress_seen": [], "status_seen": []}
log["pythonpath"] = os.environ.get("PYTHONPATH", "")  # what Krita gives its plugins


def save():
    with open(RESULT, "w") as f:
        json.dump(log, f, indent=1)


def quit_krita():
    save()
    for d in app.documents():
        d.setModified(False)
    app.action("file_quit").trigger()


def fail(msg):
    log["error"] = msg
    quit_krita()


def chroma(data):
    """Mean (max - min) of B, G, R over the visible pixels of a U8 BGRA buffer."""
    b, g, r, a = data[0::4], data[1::4], data[2::4], data[3::4]
    total = n = 0
    for i in range(len(a)):
        if a[i]:
            total += max(b[i], g[i], r[i]) - min(b[i], g[i], r[i])
            n += 1
    return total / max(n, 1)


def poll(cond, then, timeout, what):
    t0 = time.monotonic()

    def tick():
        try:
            d = find_docker()  # noqa: F821 (given by the plugin)
            if d is not None:
                p = (d.progress.value(), d.progress.maximum())
                if p not in log["progress_seen"] and p[0] > 0:
                    log["progress_seen"].append(p)
                if d.status.text() not in log["status_seen"]:
                    log["status_seen"].append(d.status.text())
            if cond():
                log["steps"].append([what, round(time.monotonic() - t0, 3)])
                then()
            elif time.monotonic() - t0 > timeout:
                fail(f"timed out waiting for {what}; status: {d.status.text() if d else None}")
            else:
                QTimer.singleShot(50, tick)
        except Exception:
            fail(traceback.format_exc())

    QTimer.singleShot(50, tick)


def setup():
    global doc, photo, docker
    doc = app.createDocument(W, H, "tinct-gui", "RGBA", "U8", "", 72.0)
    root = doc.rootNode()
    photo = doc.createNode("photo", "paintlayer")
    root.addChildNode(photo, None)
    px = bytearray()
    for y in range(H):
        for x in range(W):
            v = 40 + (180 * x) // W
            v = v if (x - 150) ** 2 + (y - 160) ** 2 > 3600 else 200
            px += bytes([v, v, v, 255])
    photo.setPixelData(bytes(px), 0, 0, W, H)
    hints = doc.createNode("Tinct hints", "paintlayer")
    root.addChildNode(hints, photo)
    stroke = bytearray(W * H * 4)
    for y in range(150, 170):
        for x in range(120, 180):
            stroke[(y * W + x) * 4 : (y * W + x) * 4 + 4] = bytes([20, 20, 230, 255])  # BGRA red
    hints.setPixelData(bytes(stroke), 0, 0, W, H)
    hints.setVisible(False)
    app.activeWindow().addView(doc)
    doc.setActiveNode(photo)
    docker = find_docker()  # noqa: F821
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
    QTimer.singleShot(500, start)


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
        "auto": docker.auto.isChecked(),
        "labels": [w.text() for w in docker.findChildren(QLabel)],
    }
    docker.refresh_hint_layers()
    log["hint_default"] = docker.hints.currentText()
    docker.prompt.setText("a red ball")
    docker.steps.setValue(3)
    docker.auto.setChecked(True)
    docker.colorize_button.click()
    poll(lambda: docker.state.phase in ("ready", "idle"), colorized, 90, "colorize")


def color_layer():
    return next((n for n in doc.rootNode().childNodes() if n.name() == "Tinct color"), None)


def colorized():
    layer = color_layer()
    if layer is None or docker.state.job is None:
        return fail(f"no result: {docker.status.text()}")
    log["names"] = [n.name() for n in doc.rootNode().childNodes()]
    log["blend"] = layer.blendingMode()
    log["job"] = docker.state.job
    log["auto_scale"] = docker.state.auto_scale
    log["scale0"] = docker.state.scale
    log["slider0"] = docker.slider.value()
    log["photo_unchanged"] = bytes(photo.pixelData(0, 0, W, H)).hex() == log["photo_before"]
    global first
    first = bytes(layer.pixelData(0, 0, W, H))
    log["chroma0"] = chroma(first)
    # drag: press, move (live preview from a small rescale), release (full-resolution apply)
    docker.slider.setSliderDown(True)
    docker.slider.setValue(190)
    poll(lambda: "preview" in docker.timings, previewed, 30, "preview")


def previewed():
    global preview
    preview = bytes(color_layer().pixelData(0, 0, W, H))
    log["chroma_preview"] = chroma(preview)
    log["preview_changed"] = preview != first
    log["preview_seconds"] = docker.timings["preview"]
    docker.slider.setSliderDown(False)  # emits sliderReleased
    poll(
        lambda: "apply" in docker.timings and docker.state.phase == "ready",
        applied,
        30,
        "apply",
    )


def applied():
    final = bytes(color_layer().pixelData(0, 0, W, H))
    log["chroma_final"] = chroma(final)
    log["final_changed"] = final != first and final != preview
    log["apply_seconds"] = docker.timings["apply"]
    log["scale_final"] = docker.state.scale
    with open(RESULT + ".layer", "wb") as f:
        f.write(final)
    # one Ctrl+Z takes the whole result away (colorize + slider moves = one step)
    app.action("edit_undo").trigger()
    QTimer.singleShot(500, undone)


def undone():
    log["names_after_undo"] = [n.name() for n in doc.rootNode().childNodes()]
    log["photo_unchanged_after_undo"] = (
        bytes(photo.pixelData(0, 0, W, H)).hex() == log["photo_before"]
    )
    # an unsupported layer gives a message in the status line, not a traceback
    group = doc.createNode("group", "grouplayer")
    doc.rootNode().addChildNode(group, None)
    docker.colorize(doc, group)
    log["error_status"] = docker.status.text()
    log["colorize_enabled_after_error"] = docker.colorize_button.isEnabled()
    log["ok"] = True
    quit_krita()


try:
    setup()
except Exception:
    fail(traceback.format_exc())
