"""Run inside a real Krita GUI by the test-only plugin (this package) when
$TINCT_KRITA_SELFTEST names this module.

A backend that fails, driven like a user: $TINCT_BACKEND_CMD names a script that hangs
on its first start (the docker's early start, begun when it is shown with a document
open; the script writes its pid to $TINCT_KRITA_HUNG) and prints a traceback and exits
1 on the next. Colorize, then Cancel while "Starting the backend…" (the docker is free
again at once, and the hung backend is ended); Colorize again: the status line is one
line saying what failed, what to do and where the log is; the traceback is behind the
Details button. With $TINCT_KRITA_FAIL_EARLY the backend fails at once: the early start
fails with nothing shown, and Colorize shows its error. Writes $TINCT_KRITA_RESULT
(JSON), then quits.
"""

import os
import time

from tinct_krita.state import Phase

from .driving import DONE, RESULT, Driver, open_photo, pid_alive, show_docker

W, H = 64, 48
HUNG = os.environ.get("TINCT_KRITA_HUNG", "")
log = {"ok": False, "steps": [], "status_seen": []}
drive = Driver(log)
fail, poll, later, quit_krita = drive.fail, drive.poll, drive.later, drive.quit_krita


def setup():
    global doc, photo, docker
    doc, photo = open_photo("scan", W, H, bytes([90, 90, 90, 255]) * (W * H))
    docker = show_docker()
    if docker is None:
        return fail("no Tinct docker: the plugin did not register its DockWidget")
    later(500, start)


def start():
    doc.setActiveNode(photo)
    poll(lambda: doc.activeNode() is not None and doc.activeNode().name() == "photo", go, 10,
         "active node")  # fmt: skip


def go():
    if os.environ.get("TINCT_KRITA_FAIL_EARLY"):
        # the early start fails by itself; nothing is shown until Colorize
        return poll(lambda: docker.session.start.launches == 1
                    and not docker.session.start.running, failed_early, 30,
                    "the early start to fail")  # fmt: skip
    poll(lambda: os.path.exists(HUNG) and open(HUNG).read().strip(), hung, 30,
         "the early start to begin")  # fmt: skip


def failed_early():
    log["status_before_colorize"] = docker.status.text()
    log["launches_early"] = docker.session.start.launches
    docker.colorize_button.click()
    poll(lambda: docker.state.phase in DONE and docker.state.error is not None, failed, 60,
         "the failure")  # fmt: skip


def hung():
    log["hung_pid"] = int(open(HUNG).read())
    log["launches_early"] = docker.session.start.launches
    log["status_before_colorize"] = docker.status.text()
    docker.colorize_button.click()
    later(1500, starting)  # the backend hangs: still starting


def starting():
    log["phase_starting"] = docker.state.phase.value
    log["status_starting"] = docker.status.text()
    log["cancel_enabled_starting"] = docker.cancel_button.isEnabled()
    t0 = time.monotonic()
    docker.cancel_button.click()
    log["cancel_seconds"] = round(time.monotonic() - t0, 3)
    log["phase_cancelled"] = docker.state.phase.value
    log["status_cancelled"] = docker.status.text()
    log["colorize_enabled_cancelled"] = docker.colorize_button.isEnabled()
    log["t_cancel"] = time.monotonic()
    poll(lambda: not pid_alive(log["hung_pid"]), hung_gone, 10, "the hung backend to end")


def hung_gone():
    log["hung_gone_seconds"] = round(time.monotonic() - log.pop("t_cancel"), 3)
    log["launches_before_retry"] = docker.session.start.launches
    docker.colorize_button.click()  # the second start fails
    poll(lambda: docker.state.phase in DONE and docker.state.error is not None, failed, 60,
         "the failure")  # fmt: skip


def failed():
    log["launches_failed"] = docker.session.start.launches
    log["status_failed"] = docker.status.text()
    log["error"] = docker.state.error
    log["details"] = docker.state.details
    log["details_visible"] = docker.details_button.isVisible()
    log["colorize_enabled_failed"] = docker.colorize_button.isEnabled()
    log["shot_docker"] = docker.grab().save(RESULT + ".docker.png")
    docker.details_button.click()
    later(300, details_shown)


def details_shown():
    box = docker.details_box
    log["details_box_text"] = box.text()
    log["details_box_detailed"] = box.detailedText()
    box.close()
    log["phase_end"] = docker.state.phase.value
    log["idle"] = docker.state.phase == Phase.IDLE
    log["ok"] = True
    quit_krita()


def run():
    drive.start(setup)
