"""Run inside a real Krita GUI by the test-only plugin (this package) when
$TINCT_KRITA_SELFTEST names this module: benchmarks/bench_hosts.py's Krita side.

Every time is Krita's own ``time.monotonic()``: when this driver pressed or dragged,
and what the docker noted itself (``RunProgress.marks``, the phases of a run,
``adjusted_at``, each slider render written to the layer, and ``masked_at``, each move
its filter mask showed). The benchmark turns them into phases; this driver only drives
and records.

$TINCT_BENCH_MODE:
- ``cold``: Colorize with no backend running (the docker's early start is held back),
  then a warm Colorize, then the slider photo: Colorize, and a drag of the
  Colourfulness slider through $TINCT_BENCH_DRAG's ticks, one every "interval_ms"
  (what a hand does: a value that falls due while Krita is busy is skipped for the
  newest), then release.
- ``early``: the docker is shown with the photo open (the early start begins); once
  the backend serves, Colorize.
$TINCT_BENCH_PHOTO and $TINCT_BENCH_SLIDER_PHOTO: "PATH:WxH" of BGRA bytes.
$TINCT_BENCH_SHOT (optional): a PNG of Krita's window taken after the drag's last value,
the knob still held down (before the release is timed).
Writes $TINCT_KRITA_RESULT (JSON), then quits.
"""

import json
import os
import time

from PyQt5.QtCore import QTimer
from tinct_krita.tinct_protocol.connection import lock_holder, runtime_dir

from .driving import DONE, Driver, app, open_photo, show_docker

MODE = os.environ.get("TINCT_BENCH_MODE", "cold")
DRAG = json.loads(os.environ.get("TINCT_BENCH_DRAG", '{"ticks": [], "interval_ms": 50}'))
log = {"ok": False, "steps": [], "status_seen": [], "runs": {}}
drive = Driver(log)
fail, poll, later, quit_krita = drive.fail, drive.poll, drive.later, drive.quit_krita


def photo_env(name):
    path, size = os.environ[name].rsplit(":", 1)
    w, h = (int(v) for v in size.split("x"))
    with open(path, "rb") as f:
        return f.read(), w, h


def results(d):
    return [n for n in d.topLevelNodes() if n.name().startswith("Tinct ")]


def colorize(name, d, node, then):
    """Press Colorize on NODE of D; THEN once its result layer is there (run NAME logged)."""
    before = len(results(d))

    def press():
        d.setActiveNode(node)
        log["runs"][name] = {"press": time.monotonic()}
        docker.colorize_button.click()
        poll(lambda: docker.state.phase in DONE and len(results(d)) > before, done, 300,
             f"the {name} colorize")  # fmt: skip

    def done():
        run = log["runs"][name]
        run["marks"] = list(docker.state.progress.marks)
        run["timings"] = dict(docker.timings)
        run["status"] = docker.status.text()
        then()

    # the active node is set once the view exists (Krita 5.2 makes the newest layer active)
    d.setActiveNode(node)
    poll(lambda: d.activeNode() is not None and d.activeNode().name() == node.name()
         and docker._view.document == d, press, 20, "the photo active")  # fmt: skip


def setup():
    global docker, doc, photo
    docker = show_docker()
    if docker is None:
        return fail("no Tinct docker: the plugin did not register its DockWidget")
    log["launches_before"] = docker.session.start.launches
    if MODE == "cold":
        docker._started_early = True  # hold back the early start: no backend at Colorize
    data, w, h = photo_env("TINCT_BENCH_PHOTO")
    doc, photo = open_photo("bench", w, h, data)
    log["shown"] = time.monotonic()  # the docker is shown and the document open
    if MODE == "cold":
        later(1000, lambda: colorize("cold", doc, photo, warm))
    else:
        poll(serving, early_serving, 120, "the early start to serve")


def serving():
    holder = lock_holder(runtime_dir(create=False))
    return holder is not None and holder[1]


def early_serving():
    log["serving"] = time.monotonic()
    log["launches_early"] = docker.session.start.launches
    colorize("early", doc, photo, finish)


def warm():
    colorize("warm", doc, photo, slider_photo)


def slider_photo():
    global doc4, photo4
    data, w, h = photo_env("TINCT_BENCH_SLIDER_PHOTO")
    doc4, photo4 = open_photo("bench-slider", w, h, data)
    later(500, lambda: colorize("slider", doc4, photo4, drag))


def drag():
    """Press the knob, move it through the ticks on a schedule, release."""
    ticks, step = DRAG["ticks"], DRAG["interval_ms"] / 1000.0
    docker.slider.setSliderDown(True)
    t0 = time.monotonic() + step
    moves = log["drag"] = {"due": [t0 + i * step for i in range(len(ticks))], "set": []}
    state = {"i": -1}

    def tick():
        try:
            now = time.monotonic()
            due = max((i for i, t in enumerate(moves["due"]) if t <= now), default=-1)
            if due > state["i"]:  # the newest value due; older ones not yet set are skipped
                state["i"] = due
                docker.slider.setValue(ticks[due])
                moves["set"].append([due, time.monotonic()])
            if state["i"] < len(ticks) - 1 or now < moves["due"][-1] + step:
                QTimer.singleShot(5, tick)
            elif os.environ.get("TINCT_BENCH_SHOT"):
                shot()
            else:
                release()
        except Exception as exc:  # noqa: BLE001 - the benchmark shows it
            fail(repr(exc))

    QTimer.singleShot(5, tick)


def shot():
    """Krita's window, the knob still down, once its canvas had time to draw."""
    window = app.activeWindow().qwindow()
    window.resize(1280, 1000)
    later(1500, lambda: (window.grab().save(os.environ["TINCT_BENCH_SHOT"]), release()))


def release():
    log["release"] = time.monotonic()
    docker.slider.setSliderDown(False)  # sliderReleased: the full-resolution render
    poll(lambda: any(a[1] and a[-1] >= log["release"] for a in docker.adjusted_at),
         finish, 60, "the full-resolution render")  # fmt: skip


def finish():
    log["adjusted"] = [list(a) for a in docker.adjusted_at]
    log["masked"] = [list(m) for m in docker.masked_at]
    log["timings"] = dict(docker.timings)
    log["version"] = app.version()
    log["ok"] = True
    quit_krita()


def run():
    drive.start(setup)
