"""Run inside a real Krita GUI by the test-only plugin (this package) when
$TINCT_KRITA_SELFTEST names this module.

Variations and the seed, driven like a user: Variations 3 with Seed 0 (the defaults'
seed) and Colorize: three result layers, the first variation on top. Then New seed
(a random seed shows in the box), Variations 1, Seed 2 typed in, Colorize: one more
layer, which should be the earlier seed-2 layer again. Writes $TINCT_KRITA_RESULT
(JSON) and every result layer's bytes next to it, then quits; every wait is a QTimer
poll.
"""

import os

from .driving import DONE, RESULT, Driver, open_photo, show_docker

SRC_PATH, SRC_SIZE = os.environ["TINCT_KRITA_PHOTO"].rsplit(":", 1)  # 8-bit gray bytes
W, H = (int(v) for v in SRC_SIZE.split("x"))
log = {"ok": False, "steps": [], "status_seen": []}
drive = Driver(log)
fail, poll, later, quit_krita = drive.fail, drive.poll, drive.later, drive.quit_krita


def names():
    return [n.name() for n in doc.rootNode().childNodes()]


def results():
    return [n for n in doc.rootNode().childNodes() if n.name().startswith("Tinct ")]


def save_results(tag):
    """[name, uniqueId] of every result layer, bottom to top; the pixels of the i-th in
    RESULT.TAGi."""
    found = []
    for i, node in enumerate(results()):
        with open(f"{RESULT}.{tag}{i}", "wb") as f:
            f.write(bytes(node.pixelData(0, 0, W, H)))
        found.append([node.name(), node.uniqueId().toString()])
    return found


def setup():
    global doc, photo, docker
    with open(SRC_PATH, "rb") as f:
        gray = f.read()
    doc, photo = open_photo("scan", W, H, b"".join(bytes([v, v, v, 255]) for v in gray))
    docker = show_docker()
    if docker is None:
        return fail("no Tinct docker: the plugin did not register its DockWidget")
    later(500, start)


def start():
    doc.setActiveNode(photo)  # Krita 5.2 makes the last added layer active
    poll(lambda: doc.activeNode() is not None and doc.activeNode().name() == "photo",
         three, 15, "the photo active")  # fmt: skip


def three():
    docker.steps.setValue(2)
    docker.variations.setValue(3)
    log["seed_shown"] = docker.seed.value()
    docker.colorize_button.click()
    poll(lambda: docker.state.phase in DONE and len(results()) == 3, colorized, 240,
         "three variations")  # fmt: skip


def colorized():
    log["names_three"] = names()
    log["status_three"] = docker.status.text()
    log["three"] = save_results("three")
    docker.new_seed_button.click()
    log["new_seed"] = docker.seed.value()
    docker.variations.setValue(1)
    docker.seed.setValue(2)  # the third layer's seed, read off its name
    docker.colorize_button.click()
    poll(lambda: docker.state.phase in DONE and len(results()) == 4, again, 240,
         "seed 2 again")  # fmt: skip


def again():
    log["names_again"] = names()
    log["again"] = save_results("again")
    log["ok"] = True
    quit_krita()


def run():
    drive.start(setup)
