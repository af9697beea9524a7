"""Run inside a real Krita GUI by the test-only plugin (this package) when
$TINCT_KRITA_SELFTEST names this module.

The Reference choice, driven like a user: a gray scan in one document ("old-scan"), a
colour photo and a gray layer in a second one ("beach"). The docker's Reference list
picks the photo up by itself (its one-second watch) as "beach / colour photo", and
never offers the scan's own layer. Colorize with that reference (a screenshot with the
list showing it), one Ctrl+Z, Colorize without a reference, then the gray layer as the
reference (the backend refuses it: its message in the status line, no layer left); the
chosen reference, made the layer to colorize, is refused.
Writes $TINCT_KRITA_RESULT (JSON) and the result layers' bytes next to it, then quits.
``run()`` starts it; every wait is a QTimer poll.
"""

import os

from PyQt5.QtWidgets import QLabel

from .driving import DONE, RESULT, Driver, app, open_photo, show_docker

SRC_PATH, SRC_SIZE = os.environ["TINCT_KRITA_PHOTO"].rsplit(":", 1)  # 8-bit gray bytes
REF_PATH, REF_SIZE = os.environ["TINCT_KRITA_REFERENCE"].rsplit(":", 1)  # 8-bit RGB bytes
W, H = (int(v) for v in SRC_SIZE.split("x"))
RW, RH = (int(v) for v in REF_SIZE.split("x"))
REF_LABEL = "beach / colour photo"
GRAY_LABEL = "beach / gray copy"
log = {"ok": False, "steps": [], "status_seen": []}
drive = Driver(log)
fail, poll, later, quit_krita = drive.fail, drive.poll, drive.later, drive.quit_krita


def names(d=None):
    return [n.name() for n in (d or doc).rootNode().childNodes()]


def items():
    return [docker.reference.itemText(i) for i in range(docker.reference.count())]


def bgra_from_gray(path):
    with open(path, "rb") as f:
        return b"".join(bytes([v, v, v, 255]) for v in f.read())


def bgra_from_rgb(path):
    with open(path, "rb") as f:
        rgb = f.read()
    out = bytearray(len(rgb) // 3 * 4)
    out[0::4], out[1::4], out[2::4] = rgb[2::3], rgb[1::3], rgb[0::3]
    out[3::4] = b"\xff" * (len(rgb) // 3)
    return bytes(out)


def results():
    return [n for n in doc.rootNode().childNodes() if n.name().startswith("Tinct ")]


def setup():
    global doc, ref_doc, photo, docker
    # the reference document first, so the scan's view is the active one
    ref_doc = app.createDocument(RW, RH, "beach", "RGBA", "U8", "", 72.0)
    for name, data in (("gray copy", bgra_from_gray(REF_PATH + ".gray")),
                       ("colour photo", bgra_from_rgb(REF_PATH))):  # fmt: skip
        node = ref_doc.createNode(name, "paintlayer")
        ref_doc.rootNode().addChildNode(node, None)
        node.setPixelData(data, 0, 0, RW, RH)
    app.activeWindow().addView(ref_doc)
    doc, photo = open_photo("old-scan", W, H, bgra_from_gray(SRC_PATH))
    docker = show_docker()
    if docker is None:
        return fail("no Tinct docker: the plugin did not register its DockWidget")
    log["photo_before"] = bytes(photo.pixelData(0, 0, W, H)).hex()
    log["names_before"] = names()
    later(500, start)


def start():
    doc.setActiveNode(photo)  # Krita 5.2 makes the last added layer active
    poll(lambda: doc.activeNode() is not None and doc.activeNode().name() == "photo"
         and REF_LABEL in items(), listed, 15, "the reference listed")  # fmt: skip


def listed():
    log["reference_items"] = items()
    log["reference_default"] = docker.reference.currentText()
    log["labels"] = [lb.text() for lb in docker.findChildren(QLabel)]
    docker.reference.setCurrentIndex(items().index(REF_LABEL))
    docker.slider.setValue(100)  # the same colourfulness for both runs
    docker.steps.setValue(2)
    docker.colorize_button.click()
    poll(lambda: docker.state.phase in DONE, with_reference, 240, "colorize (ref)")


def with_reference():
    found = results()
    if not found:
        return fail(f"no result with the reference: {docker.status.text()}")
    log["names_ref"] = names()
    log["ref_name"] = found[0].name()
    log["ref_status"] = docker.status.text()
    log["photo_unchanged_ref"] = bytes(photo.pixelData(0, 0, W, H)).hex() == log["photo_before"]
    log["ref_doc_names"] = names(ref_doc)
    with open(RESULT + ".ref", "wb") as f:
        f.write(bytes(found[0].pixelData(0, 0, W, H)))
    log["reference_after"] = docker.reference.currentText()
    window = app.activeWindow().qwindow()
    window.resize(1280, 1000)
    later(1200, lambda: shoot(window))  # > one watch tick: the list as it stays


def shoot(window):
    log["screenshot"] = window.grab().save(RESULT + ".krita.png")
    app.action("edit_undo").trigger()  # one Ctrl+Z takes the result away
    later(1500, undone)


def undone():
    log["names_after_undo"] = names()
    log["photo_unchanged_after_undo"] = (
        bytes(photo.pixelData(0, 0, W, H)).hex() == log["photo_before"]
    )
    docker.reference.setCurrentIndex(0)  # "(no reference)"
    log["no_reference_text"] = docker.reference.currentText()
    docker.colorize_button.click()
    poll(lambda: docker.state.phase in DONE and len(results()) == 1, plain, 240,
         "colorize (no ref)")  # fmt: skip


def plain():
    found = results()
    log["plain_name"] = found[0].name()
    with open(RESULT + ".plain", "wb") as f:
        f.write(bytes(found[0].pixelData(0, 0, W, H)))
    app.action("edit_undo").trigger()
    later(1500, gray_reference)


def gray_reference():
    # the chosen reference is never the layer colorized, even when it is the active one
    docker.reference.setCurrentIndex(items().index(REF_LABEL))
    ref_node = [n for n in ref_doc.rootNode().childNodes() if n.name() == "colour photo"][0]
    docker.colorize(ref_doc, ref_node)
    log["reference_as_target_status"] = docker.status.text()
    log["ref_doc_names_after"] = names(ref_doc)
    log["names_before_gray"] = names()
    docker.reference.setCurrentIndex(items().index(GRAY_LABEL))
    docker.colorize_button.click()
    poll(lambda: docker.state.phase in DONE and docker.state.error is not None,
         gray_refused, 240, "gray reference refused")  # fmt: skip


def gray_refused():
    log["gray_status"] = docker.status.text()
    log["names_after_gray"] = names()
    log["colorize_enabled_after_gray"] = docker.colorize_button.isEnabled()
    log["photo_unchanged_after_gray"] = (
        bytes(photo.pixelData(0, 0, W, H)).hex() == log["photo_before"]
    )
    log["ok"] = True
    quit_krita()


def run():
    drive.start(setup)
