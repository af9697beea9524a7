"""What the drivers share: the result log, quitting Krita, and waits that keep Qt's
event loop running (every wait is a QTimer poll)."""

import json
import os
import time
import traceback

from krita import Krita
from PyQt5.QtCore import QTimer
from tinct_krita.plugin import find_docker
from tinct_krita.state import Phase

RESULT = os.environ["TINCT_KRITA_RESULT"]
DONE = (Phase.READY, Phase.IDLE)  # the docker is no longer busy
app = Krita.instance()


def open_photo(title, width, height, bgra):
    """A new RGBA/U8 document TITLE in a view; its layer "photo" holds BGRA and is active."""
    doc = app.createDocument(width, height, title, "RGBA", "U8", "", 72.0)
    photo = doc.createNode("photo", "paintlayer")
    doc.rootNode().addChildNode(photo, None)
    photo.setPixelData(bgra, 0, 0, width, height)
    app.activeWindow().addView(doc)
    doc.setActiveNode(photo)
    return doc, photo


def pid_alive(pid):
    """Whether process PID runs (a zombie, ended but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def show_docker():
    """The Tinct docker, shown (None: the plugin registered no docker)."""
    docker = find_docker()
    if docker is not None:
        docker.setVisible(True)
        docker.raise_()
    return docker


class Driver:
    """LOG goes to $TINCT_KRITA_RESULT (JSON) when the driver quits Krita."""

    def __init__(self, log: dict):
        self.log = log

    def start(self, fn):
        """Run FN (the driver's first step); a failure quits Krita with the error logged."""
        try:
            fn()
        except Exception:
            self.fail(traceback.format_exc())

    def save(self):
        with open(RESULT, "w") as f:
            json.dump(self.log, f, indent=1)

    def quit_krita(self):
        self.save()
        for d in app.documents():
            d.setModified(False)
        app.action("file_quit").trigger()

    def fail(self, msg):
        self.log["error"] = msg
        self.quit_krita()

    def poll(self, cond, then, timeout, what):
        """THEN once COND holds (FAIL after TIMEOUT seconds); records what the docker shows
        meanwhile (its status lines, and its progress when the log has "progress_seen")."""
        t0 = time.monotonic()
        log = self.log

        def tick():
            try:
                d = find_docker()
                if d is not None:
                    p = (d.progress.value(), d.progress.maximum())
                    if "progress_seen" in log and p not in log["progress_seen"] and p[0] > 0:
                        log["progress_seen"].append(p)
                    if d.status.text() not in log["status_seen"]:
                        log["status_seen"].append(d.status.text())
                if cond():
                    log["steps"].append([what, round(time.monotonic() - t0, 3)])
                    then()
                elif time.monotonic() - t0 > timeout:
                    status = d.status.text() if d else None
                    self.fail(f"timed out waiting for {what}; status: {status}")
                else:
                    QTimer.singleShot(50, tick)
            except Exception:
                self.fail(traceback.format_exc())

        QTimer.singleShot(50, tick)

    def later(self, ms, fn):
        def run():
            try:
                fn()
            except Exception:
                self.fail(traceback.format_exc())

        QTimer.singleShot(ms, run)
