"""Run inside a real Krita GUI by the test-only plugin (this package) when
$TINCT_KRITA_SELFTEST names this module.

The Colourfulness slider over a result of more than 1 MP (1600x1000): its moves are shown
by a filter mask on the result layer, and the release writes the exact render, then the
mask goes. Every daemon ``rescale`` the docker asks for is counted (a spy on its session).
1. Colorize; the History docker's steps and the layers are noted.
2. The knob taken: the mask goes on at 0 % (the layer's own pixels). A drag 1.0 -> 1.2
   -> 1.4 -> 1.6 (the knob held down): after each move, whether the
   layer carries the mask, its percent, the rescales asked for and the previews written,
   and a 64x64 block of the layer's own pixels and of its projection (what the canvas
   composites: the mask applied); a screenshot mid-drag; the History's steps.
3. Release: once the full-resolution render is written, the mask is gone; the layer's
   bytes (the test compares them with the daemon's ``apply`` at 1.6), its name, the
   History's steps; the document saved as .kra (the test reads it for a filter mask).
4. A drag to 0.7 and release, Before pressed right after the release (the render still
   on its way): the mask stays until the render is written, then goes; Before let out.
5. Ctrl+Z once: the result layer goes (as on main: the adjustments are no undo steps);
   Ctrl+Shift+Z: it is back, with no mask.
6. A Colorize at 0 and a drag: at 0 there is no ratio, so the daemon previews.
Writes $TINCT_KRITA_RESULT (JSON), layer bytes next to it, then quits.
"""

import time

from PyQt5.QtWidgets import QAbstractItemView
from tinct_krita import adapter
from tinct_krita.tinct_protocol.layers import is_result_name

from .driving import DONE, RESULT, Driver, app, open_photo, show_docker

W, H = 1600, 1000
BLOCK = (700, 400, 64, 64)  # x, y, w, h: where the projection is compared with the layer
log = {"ok": False, "steps": [], "status_seen": [], "moves": [], "rescales": []}
drive = Driver(log)
fail, poll, later, quit_krita = drive.fail, drive.poll, drive.later, drive.quit_krita


def history():
    """The History docker's steps (Krita's undo stack as the user sees it)."""
    for d in app.dockers():
        if d.objectName() == "History":
            for view in d.findChildren(QAbstractItemView):
                m = view.model()
                if m is not None:
                    return [str(m.data(m.index(i, 0))) for i in range(m.rowCount())]
    return None


def names():
    return [n.name() for n in doc.rootNode().childNodes()]


def result():
    found = [n for n in doc.rootNode().childNodes() if is_result_name(n.name())]
    return found[-1] if found else None


def photo_pixels():
    px = bytearray()
    for y in range(H):
        row = bytearray()
        for x in range(W):
            v = 30 + (190 * x) // W if (x // 200 + y // 200) % 2 else 220 - (150 * y) // H
            row += bytes((v, v, v, 255))
        px += row
    return bytes(px)


def spy_rescale(session):
    """Count the daemon previews the docker asks for (the worker thread calls it)."""
    real = session.rescale

    def rescale(job, scale, size, dtype):
        log["rescales"].append([scale, list(size)])
        return real(job, scale, size, dtype)

    session.rescale = rescale


def setup():
    global doc, photo, docker
    doc, photo = open_photo("tinct-mask", W, H, photo_pixels())
    docker = show_docker()
    if docker is None:
        return fail("no Tinct docker: the plugin did not register its DockWidget")
    for d in app.dockers():
        if d.objectName() == "History":
            d.setVisible(True)
    spy_rescale(docker.session)
    poll(lambda: docker._view.document == doc, start, 15, "the photo shown")


def start():
    log["names_before"] = names()
    doc.setActiveNode(photo)
    docker.steps.setValue(2)
    docker.colorize_button.click()
    poll(lambda: docker.state.phase in DONE and result() is not None, colorized, 240,
         "colorize")  # fmt: skip


def colorized():
    global layer
    layer = result()
    log["job"] = docker.state.job
    log["names_result"] = names()
    log["history_result"] = history()
    log["active_result"] = adapter.node_id(doc.activeNode())
    log["adjusted_before"] = len(docker.adjusted_at)
    docker.slider.setSliderDown(True)  # the knob taken: the mask goes on at 0 %
    later(300, pressed)


def pressed():
    x, y, w, h = BLOCK
    mask = docker._view.mask
    log["pressed"] = {
        "mask": adapter.has_preview_mask(layer),
        "percent": mask.percent if mask is not None else None,
        "same": bytes(layer.pixelData(x, y, w, h)) == bytes(layer.projectionPixelData(x, y, w, h)),
        "active": adapter.node_id(doc.activeNode()),
    }
    move([120, 140, 160], dragged)


def move(ticks, then):
    """Set each of TICKS with the knob held down, 400 ms apart, noting what shows; THEN."""
    if not ticks:
        return then()
    docker.slider.setValue(ticks[0])
    x, y, w, h = BLOCK
    mask = docker._view.mask
    log["moves"].append({
        "ticks": ticks[0],
        "mask": adapter.has_preview_mask(layer),
        "percent": mask.percent if mask is not None else None,
        "rescales": len(log["rescales"]),
        "previews": sum(1 for a in docker.adjusted_at if not a[1]),
        "children": [[c.name(), c.type()] for c in layer.childNodes()],
        "active": adapter.node_id(doc.activeNode()),
        "pixels": bytes(layer.pixelData(x, y, w, h)).hex(),
        "projection": bytes(layer.projectionPixelData(x, y, w, h)).hex(),
    })  # fmt: skip
    later(400, lambda: move(ticks[1:], then))


def dragged():
    log["history_drag"] = history()
    window = app.activeWindow().qwindow()
    window.resize(1280, 1000)
    log["shot"] = window.grab().save(f"{RESULT}.drag.png")  # mid-drag: the mask on
    log["released_at"] = time.monotonic()
    docker.slider.setSliderDown(False)  # sliderReleased: the full-resolution render
    poll(lambda: final_after(log["released_at"]), released, 60, "the render at 1.6")


def final_after(t):
    return docker.state.phase in DONE and any(a[1] and a[-1] >= t for a in docker.adjusted_at)


def released():
    log["after_release"] = {
        "mask": adapter.has_preview_mask(layer),
        "children": len(layer.childNodes()),
        "name": layer.name(),
        "rescales": len(log["rescales"]),
        "history": history(),
        "masked_moves": len(docker.masked_at),
        "active": adapter.node_id(doc.activeNode()),
    }
    with open(RESULT + ".layer16", "wb") as f:
        f.write(bytes(layer.pixelData(0, 0, W, H)))
    doc.setBatchmode(True)
    log["saved"] = doc.saveAs(RESULT + ".kra")
    doc.setBatchmode(False)
    # 4. a drag to 0.7, released, and Before pressed while its render is on its way
    docker.slider.setSliderDown(True)
    docker.slider.setValue(70)
    log["mask_at_07"] = adapter.has_preview_mask(layer)
    log["released_07"] = time.monotonic()
    docker.slider.setSliderDown(False)
    docker.before_button.setChecked(True)
    log["before_in_flight"] = {"mask": adapter.has_preview_mask(layer), "visible": layer.visible()}
    poll(lambda: final_after(log["released_07"]), before_done, 60, "the render at 0.7")


def before_done():
    log["before_done"] = {
        "mask": adapter.has_preview_mask(layer),
        "visible": layer.visible(),
        "name": layer.name(),
    }
    with open(RESULT + ".layer07", "wb") as f:
        f.write(bytes(layer.pixelData(0, 0, W, H)))
    docker.before_button.setChecked(False)
    log["history_07"] = history()
    app.action("edit_undo").trigger()  # Ctrl+Z, once
    later(1500, undone)


def undone():
    log["names_undone"] = names()
    app.action("edit_redo").trigger()
    later(1500, redone)


def redone():
    back = result()
    log["names_redone"] = names()
    log["redone_children"] = len(back.childNodes()) if back is not None else None
    # 6. a result at 0: no ratio, the daemon previews
    doc.setActiveNode(photo)
    docker.slider.setValue(0)
    later(600, colorize_zero)  # past the docker's key timer (an apply at 0)


def colorize_zero():
    before = len([n for n in doc.rootNode().childNodes() if is_result_name(n.name())])
    docker.colorize_button.click()
    poll(lambda: docker.state.phase in DONE
         and len([n for n in doc.rootNode().childNodes() if is_result_name(n.name())]) > before,
         zero, 240, "colorize at 0")  # fmt: skip


def zero():
    global layer
    layer = result()
    log["zero_name"] = layer.name()
    log["zero_rescales_before"] = len(log["rescales"])
    docker.slider.setSliderDown(True)
    docker.slider.setValue(50)
    poll(lambda: len(log["rescales"]) > log["zero_rescales_before"]
         and any(not a[1] and a[0] == 0.5 for a in docker.adjusted_at),
         zero_previewed, 30, "a daemon preview at 0.5")  # fmt: skip


def zero_previewed():
    log["zero_mask"] = adapter.has_preview_mask(layer)
    log["released_zero"] = time.monotonic()
    docker.slider.setSliderDown(False)
    poll(lambda: final_after(log["released_zero"]), finish, 60, "the render at 0.5")


def finish():
    log["zero_after"] = {"mask": adapter.has_preview_mask(layer), "name": layer.name()}
    log["ok"] = True
    quit_krita()


def run():
    drive.start(setup)
