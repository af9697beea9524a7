"""Run inside a real Krita GUI by the test-only plugin (this package) when
$TINCT_KRITA_SELFTEST names this module.

The status line through a cold start, with a real daemon the plugin starts itself
($TINCT_BACKEND_CMD, the tiny model). Every text the docker's status line is given is
recorded (with the progress bar at that moment), and the docker is grabbed when it
says "Loading the model…" and "Writing the layer…".

1. A document opens and the docker is shown: the backend's early start begins, with
   nothing pressed (the status line still says "Ready.").
2. Colorize while the model loads joins that start ("Loading the model…"); Cancel
   stops it: the daemon being started is gone.
3. Colorize again: a new start, "Starting the backend…", "Loading the model…", each
   step, the full-size render, "Writing the layer…", done.
4. Another client's long job runs in the daemon; Colorize says "Queued: 1 job ahead…"
   until that job is cancelled, then colorizes.
Writes $TINCT_KRITA_RESULT (JSON), then quits.
"""

import os
import signal
import time

from tinct_krita.state import Phase
from tinct_krita.tinct_protocol import Launcher, Layer
from tinct_krita.tinct_protocol.connection import lock_holder, runtime_dir

from .driving import DONE, RESULT, Driver, open_photo, pid_alive, show_docker

W, H = 96, 64
log = {"ok": False, "steps": [], "status_seen": [], "texts": []}
drive = Driver(log)
fail, poll, later, quit_krita = drive.fail, drive.poll, drive.later, drive.quit_krita
grabbed = set()


def spy_on_status(docker):
    """Record every text the status line is given (the real setText still runs)."""
    label, bar = docker.status, docker.progress
    real = label.setText

    def set_text(text):
        real(text)
        if not log["texts"] or log["texts"][-1][0] != text:
            log["texts"].append([text, bar.value(), bar.maximum(), round(time.monotonic(), 3)])
        for key, words in (("loading", "Loading the model"), ("writing", "Writing the layer")):
            if text.startswith(words) and key not in grabbed:
                grabbed.add(key)
                log[f"shot_{key}"] = docker.grab().save(f"{RESULT}.{key}.png")

    label.setText = set_text


def mark(name):
    log[f"mark_{name}"] = len(log["texts"])  # texts from here on belong to NAME


def setup():
    global doc, photo, docker
    gray = bytes(v for y in range(H) for x in range(W) for v in [(x * 2 + y) % 256] * 3 + [255])
    docker = show_docker()
    if docker is None:
        return fail("no Tinct docker: the plugin did not register its DockWidget")
    spy_on_status(docker)
    doc, photo = open_photo("scan", W, H, gray)
    docker = show_docker()
    poll(lambda: docker.session.start.phase is not None and docker.session.start.phase.value
         == "loading", loading_early, 60, "the early start to load the model")  # fmt: skip


def loading_early():
    log["early_launches"] = docker.session.start.launches
    log["status_early"] = docker.status.text()  # nothing pressed yet
    log["holder_early"] = list(lock_holder(runtime_dir(create=False)) or [])
    mark("join")
    doc.setActiveNode(photo)
    docker.colorize_button.click()  # the model is loading: Colorize joins the start
    poll(lambda: docker.status.text() == "Loading the model…", cancel_loading, 10,
         "Colorize to join the early start")  # fmt: skip


def cancel_loading():
    log["launches_joined"] = docker.session.start.launches
    t0 = time.monotonic()
    docker.cancel_button.click()
    log["cancel_seconds"] = round(time.monotonic() - t0, 3)
    log["status_cancelled"] = docker.status.text()
    log["t_cancel"] = time.monotonic()
    pid = log["holder_early"][0]
    poll(lambda: daemon_gone(pid) or kept_serving(pid), after_cancel, 20,
         "the cancelled daemon to be gone (or kept, serving)")  # fmt: skip


def daemon_gone(pid):
    return lock_holder(runtime_dir(create=False)) is None and not pid_alive(pid)


def kept_serving(pid):
    """True once the daemon has been serving for 4 s on end: the start had finished when
    Cancel came (the tiny model loads in ~0.2 s), so Cancel stopped the run and the
    daemon is kept for the next Colorize (a stopping one is gone within the launcher's
    3 s to SIGKILL)."""
    if lock_holder(runtime_dir(create=False)) != (pid, True):
        log.pop("t_serving", None)
        return False
    log.setdefault("t_serving", time.monotonic())
    return time.monotonic() - log["t_serving"] >= 4.0


def after_cancel():
    pid = log["holder_early"][0]
    log["cancel_after_serving"] = not daemon_gone(pid)
    if not log["cancel_after_serving"]:
        return gone()
    os.kill(pid, signal.SIGTERM)
    poll(lambda: daemon_gone(pid), gone, 20, "the kept daemon to stop")


def gone():
    log["gone_seconds"] = round(time.monotonic() - log["t_cancel"], 3)
    mark("cold")
    docker.colorize_button.click()  # a new start, from the beginning
    poll(lambda: docker.state.phase in DONE and docker.state.job is not None, colorized, 120,
         "the cold colorize")  # fmt: skip


def colorized():
    log["status_done"] = docker.status.text()
    log["names"] = [n.name() for n in doc.topLevelNodes()]
    log["launches_cold"] = docker.session.start.launches
    log["shot_done"] = docker.grab().save(RESULT + ".done.png")
    # 4. another client's long job ahead of ours
    launcher = Launcher(backend_cmd=["false"])  # finds the running daemon, never starts one
    global other, other_events
    other = launcher.connect()
    big = Layer.from_buffer(bytes(640 * 480 * 4), 640, 480, 4, "u8")
    rid = other.enqueue_colorize(big, steps=200, preview_side=0)
    other_events = other.events(rid)
    first = next(other_events)
    log["other_queued"] = [first.kind, first.header.get("ahead")]
    log["other_job"] = first.job
    mark("queued")
    docker.colorize_button.click()
    poll(lambda: docker.status.text().startswith("Queued"), queued, 20, "Queued")


def queued():
    log["status_queued"] = docker.status.text()
    log["busy_bar_queued"] = docker.progress.maximum() == 0
    other.cancel(log["other_job"])  # the job ahead goes: ours runs
    poll(lambda: docker.state.phase == Phase.READY and docker.state.running_job is None
         and docker.status.text().startswith("Done"), finish, 60, "the queued colorize")  # fmt: skip


def finish():
    try:
        for _ in other_events:
            pass
    except Exception as exc:  # cancelled, as asked
        log["other_end"] = type(exc).__name__
    other.close()
    log["names_after_queued"] = [n.name() for n in doc.topLevelNodes()]
    log["ok"] = True
    quit_krita()


def run():
    drive.start(setup)
