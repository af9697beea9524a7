# Batch code run inside GIMP 3 *with its window* (gimp-3.0 under Xvfb) by
# tests/test_gimp_gui.py: the progress dialog through a cold start, with a real daemon
# the plug-in starts itself ($TINCT_BACKEND_CMD). Tinct Colorize's dialogs are
# answered by the test-only plug-in (tests/gimp/tinct-colorize-selftest), which writes
# every line the progress dialog shows next to its answers file (+ ".progress").
# 1. Colorize; the first dialog opening starts the backend; Cancel while the progress
#    says "Starting the backend…": no layer, and the backend is gone.
# 2. Colorize again: a new start, every phase, the layer written, then 100 %.
# Writes $TINCT_GIMP_WALK_RESULT (JSON) for the test to check.
import json
import os
import sys
import time
import traceback

OUT = os.environ["TINCT_GIMP_WALK_RESULT"]
sys.path.insert(0, os.path.dirname(OUT))
from walk_common import answer, load, recorded, run_procedure  # noqa: E402

SHOTS = os.environ["TINCT_GIMP_SHOTS"]
log = {"ok": False}


def run(image, drawables):
    status, error = run_procedure(image, drawables)
    if status == "GIMP_PDB_EXECUTION_ERROR":
        log.setdefault("errors", []).append(error)
    return status


def selftest(**answers):
    answer(answers, (".progress", ".early"))


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


try:
    plug_in = os.path.join(os.environ["HOME"], ".config/GIMP/3.0/plug-ins/tinct-colorize")
    sys.path.insert(0, plug_in)
    from tinct_protocol.connection import lock_holder, runtime_dir

    rt = runtime_dir(create=False)
    image, photo = load(os.environ["TINCT_GIMP_PHOTO"])
    answers = {"set": {"prompt": "", "steps": 4, "scale": 1.0, "variations": 1, "seed": 0},
               "hint": "(no hints)", "reference": "(no reference)", "accept": True}  # fmt: skip

    # 1. Cancel while the backend starts
    selftest(**answers, cancel_at_text="Starting the backend",
             progress_screenshots={"Starting the backend": f"{SHOTS}/starting.png"})  # fmt: skip
    log["run_cancel"] = run(image, [photo])
    log["lines_cancel"], log["early_cancel"] = recorded(".progress"), recorded(".early")
    log["layers_after_cancel"] = [layer.get_name() for layer in image.get_layers()]
    with open(os.path.join(rt, "daemon.log")) as f:
        log["log_after_cancel"] = f.read()
    log["holder_after_cancel"] = lock_holder(rt)
    with open(os.path.join(rt, "started.pids")) as f:
        pids = [int(p) for p in f.read().split()]
    time.sleep(0.5)
    log["alive_after_cancel"] = [p for p in pids if pid_alive(p)]

    # 2. A cold run through every phase
    selftest(**answers, progress_screenshots={
        "Loading the model": f"{SHOTS}/loading.png",
        "Colorizing: step 2": f"{SHOTS}/step.png",
        "Writing the layer": f"{SHOTS}/writing.png",
    })  # fmt: skip
    t0 = time.monotonic()
    log["run_cold"] = run(image, [photo])
    log["cold_seconds"] = round(time.monotonic() - t0, 2)
    log["lines_cold"], log["early_cold"] = recorded(".progress"), recorded(".early")
    log["layers_cold"] = [layer.get_name() for layer in image.get_layers()]
    with open(os.path.join(rt, "daemon.log")) as f:
        log["log_cold"] = f.read()
    log["ok"] = True
except Exception:  # noqa: BLE001 - the test shows it
    log["error"] = traceback.format_exc()
with open(OUT, "w") as f:
    json.dump(log, f, indent=1)
