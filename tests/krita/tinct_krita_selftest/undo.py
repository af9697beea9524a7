"""Run inside a real Krita GUI by the test-only plugin (this package) when
$TINCT_KRITA_SELFTEST names this module.

Undo and redo in step with the docker, one visible result per source, re-adjusting an
older result, driven like a user: a Grayscale scan "scan" (its layer "photo").
1. Colorize; the number box to 1.5. 2. Ctrl+Z (the edit_undo action its shortcut
triggers): the result and the RGB conversion go. 3. Ctrl+Shift+Z until the layer is
back (each redo's state logged): the docker finds the same layer again and the slider
adjusts it (0.5). 4. A rerun with a prompt: the first result is hidden, not deleted.
5. Ctrl+Z: the rerun goes, the first result shows and the slider adjusts it again;
Ctrl+Shift+Z: the rerun is back, the first hidden again. 6. Select the first result:
shown, the rerun hidden, the slider bound to it (1.2 renames and re-renders it, not the
rerun). 7. A "Tinct x1.00" layer the docker never made (an earlier session's): selected,
the docker says it cannot be adjusted. 8. A third run (the daemon keeps two jobs in this
test, so the least recently used, the rerun's, is evicted); the rerun's layer selected
and the number box moved: the daemon no longer holds its job, and the docker says so.
Screenshots after 3, 6 and 7.
Writes $TINCT_KRITA_RESULT (JSON), then quits; every wait is a QTimer poll.
"""

import hashlib
import os

from tinct_krita.tinct_protocol.layers import is_result_name

from .driving import DONE, RESULT, Driver, app, show_docker

SRC_PATH, SRC_SIZE = os.environ["TINCT_KRITA_PHOTO"].rsplit(":", 1)  # 8-bit gray bytes
W, H = (int(v) for v in SRC_SIZE.split("x"))
log = {"ok": False, "steps": [], "status_seen": [], "redos": []}
drive = Driver(log)
fail, poll, later, quit_krita = drive.fail, drive.poll, drive.later, drive.quit_krita


def layers():
    """[name, visible] of the document's top-level layers, bottom to top."""
    return [[n.name(), n.visible()] for n in doc.rootNode().childNodes()]


def results():
    return [n for n in doc.rootNode().childNodes() if is_result_name(n.name())]


def digest(node):
    return hashlib.sha1(bytes(node.pixelData(0, 0, W, H))).hexdigest()


def shown():
    """What the docker shows."""
    return {
        "status": docker.status.text(),
        "slider_enabled": docker.slider.isEnabled(),
        "slider": docker.slider.value(),
        "box": round(docker.scale_box.value(), 2),
        "before_enabled": docker.before_button.isEnabled(),
        "job": docker.state.job,
        "target": docker._view.target.layer.name() if docker._view.target else None,
    }


def box_to(value, then, what):
    """Type VALUE into the number box (as Enter there does); THEN once it is applied."""
    docker.timings.pop("apply", None)
    docker.scale_box.setValue(value)
    poll(lambda: "apply" in docker.timings and docker.state.phase in DONE, then, 60, what)


def shoot(name):
    window = app.activeWindow().qwindow()
    window.resize(1280, 1000)
    log[f"shot_{name}"] = window.grab().save(f"{RESULT}.{name}.png")


def setup():
    global doc, photo, docker
    doc = app.createDocument(W, H, "scan", "GRAYA", "U8", "", 72.0)
    photo = doc.createNode("photo", "paintlayer")
    doc.rootNode().addChildNode(photo, None)
    with open(SRC_PATH, "rb") as f:
        photo.setPixelData(b"".join(bytes([v, 255]) for v in f.read()), 0, 0, W, H)
    app.activeWindow().addView(doc)
    doc.setActiveNode(photo)
    docker = show_docker()
    if docker is None:
        return fail("no Tinct docker: the plugin did not register its DockWidget")
    log["before"] = [doc.colorModel(), layers()]
    poll(lambda: docker._view.document == doc, start, 15, "the scan shown")


def start():
    doc.setActiveNode(photo)
    docker.steps.setValue(2)
    docker.colorize_button.click()
    poll(lambda: docker.state.phase in DONE and results(), colorized, 240, "colorize")


def colorized():
    log["colorized"] = [doc.colorModel(), layers()]
    box_to(1.5, boxed, "apply 1.5")


def boxed():
    log["boxed"] = [layers(), shown()]
    log["first_digest"] = digest(results()[0])
    app.action("edit_undo").trigger()  # Ctrl+Z, once
    poll(lambda: "gone" in docker.status.text(), lambda: later(1500, undone), 10, "undo seen")


def undone():
    # 1.5 s after the docker saw it: its own second step (the conversion) is taken too
    log["undone"] = [doc.colorModel(), layers(), shown()]
    redo()


def redo():
    app.action("edit_redo").trigger()  # Ctrl+Shift+Z

    def logged():
        log["redos"].append([doc.colorModel(), layers()])
        if results() or len(log["redos"]) >= 3:
            poll(lambda: docker.status.text().startswith("The result layer is back"),
                 back, 10, "redo seen")  # fmt: skip
        else:
            redo()

    later(700, logged)


def back():
    log["back"] = [doc.colorModel(), layers(), shown()]
    log["back_digest"] = digest(results()[0])
    later(400, lambda: shoot("redo"))
    later(900, lambda: box_to(0.5, adjusted_after_redo, "apply 0.5 after redo"))


def adjusted_after_redo():
    log["adjusted_after_redo"] = [layers(), shown(), digest(results()[0])]
    doc.setActiveNode(photo)
    docker.prompt.setText("red roof")
    docker.colorize_button.click()
    poll(lambda: docker.state.phase in DONE and len(results()) == 2, rerun, 240, "rerun")


def rerun():
    log["rerun"] = [layers(), shown()]
    app.action("edit_undo").trigger()
    poll(lambda: "newer result was undone" in docker.status.text(), rerun_undone, 10,
         "rerun undone")  # fmt: skip


def rerun_undone():
    log["rerun_undone"] = [layers(), shown()]
    app.action("edit_redo").trigger()
    poll(lambda: docker.status.text().startswith("The result layer is back"), rerun_redone, 10,
         "rerun redone")  # fmt: skip


def rerun_redone():
    log["rerun_redone"] = [layers(), shown()]
    first, second = results()
    log["second_digest"] = digest(second)
    log["first_digest_before_select"] = digest(first)
    doc.setActiveNode(first)  # a click on it in the Layers docker
    poll(lambda: docker.status.text().startswith("Selected"), selected, 5, "first selected")


def selected():
    log["selected"] = [layers(), shown()]
    box_to(1.2, adjusted_older, "apply 1.2 to the first result")


def adjusted_older():
    first, second = results()
    log["adjusted_older"] = [layers(), shown(), digest(first), digest(second)]
    later(400, lambda: shoot("older"))
    later(900, stranger)


def stranger():
    global old
    old = doc.createNode("Tinct x1.00", "paintlayer")  # as an earlier session left it
    doc.rootNode().addChildNode(old, None)
    doc.setActiveNode(old)
    poll(lambda: "can no longer be adjusted" in docker.status.text(), strange, 5,
         "the unknown result selected")  # fmt: skip


def strange():
    log["strange"] = [layers(), shown()]
    later(400, lambda: shoot("unknown"))
    later(900, third)


def third():
    doc.setActiveNode(photo)
    docker.prompt.setText("blue sea")
    docker.colorize_button.click()
    poll(lambda: docker.state.phase in DONE and len(results()) == 4, third_done, 60, "third run")


def third_done():
    log["third"] = [layers(), shown()]
    rerun = next(n for n in results() if "red roof" in n.name())
    doc.setActiveNode(rerun)
    poll(lambda: docker.status.text().startswith("Selected"), evicted_selected, 5,
         "the evicted rerun selected")  # fmt: skip


def evicted_selected():
    log["evicted_selected"] = shown()
    docker.scale_box.setValue(1.1)
    poll(lambda: "can no longer be adjusted" in docker.status.text(), forgotten, 30,
         "the daemon's answer")  # fmt: skip


def forgotten():
    log["forgotten"] = [layers(), shown()]
    later(300, finish)


def finish():
    log["ok"] = True
    quit_krita()


def run():
    drive.start(setup)
