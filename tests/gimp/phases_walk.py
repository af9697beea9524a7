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

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp, Gio  # noqa: E402

OUT = os.environ["TINCT_GIMP_WALK_RESULT"]
SELFTEST = os.environ["TINCT_GIMP_SELFTEST"]
SHOTS = os.environ["TINCT_GIMP_SHOTS"]
COLORIZE = "plug-in-tinct-colorize-selftest"  # plug-in-tinct-colorize, answered
log = {"ok": False}


def run(name, image, drawables, mode):
    proc = Gimp.get_pdb().lookup_procedure(name)
    config = proc.create_config()
    config.set_property("run-mode", getattr(Gimp.RunMode, mode))
    config.set_property("image", image)
    config.set_core_object_array("drawables", drawables)
    result = proc.run(config)
    status = result.index(0).value_name
    if status == "GIMP_PDB_EXECUTION_ERROR":
        log.setdefault("errors", []).append(Gimp.get_pdb().get_last_error())
    return status


def selftest(**answers):
    with open(SELFTEST, "w") as f:
        json.dump(answers, f)
    for suffix in (".progress", ".early"):
        if os.path.exists(SELFTEST + suffix):
            os.remove(SELFTEST + suffix)


def recorded():
    with open(SELFTEST + ".progress") as f:
        lines = [json.loads(line) for line in f]
    with open(SELFTEST + ".early") as f:
        return lines, json.load(f)


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
    image = Gimp.file_load(
        Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(os.environ["TINCT_GIMP_PHOTO"])
    )
    Gimp.Display.new(image)
    photo = image.get_layers()[0]
    answers = {"set": {"prompt": "", "steps": 4, "scale": 1.0, "variations": 1, "seed": 0},
               "hint": "(no hints)", "reference": "(no reference)", "accept": True}  # fmt: skip

    # 1. Cancel while the backend starts
    selftest(**answers, cancel_at_text="Starting the backend",
             progress_screenshots={"Starting the backend": f"{SHOTS}/starting.png"})  # fmt: skip
    log["run_cancel"] = run(COLORIZE, image, [photo], "INTERACTIVE")
    log["lines_cancel"], log["early_cancel"] = recorded()
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
    log["run_cold"] = run(COLORIZE, image, [photo], "INTERACTIVE")
    log["cold_seconds"] = round(time.monotonic() - t0, 2)
    log["lines_cold"], log["early_cold"] = recorded()
    log["layers_cold"] = [layer.get_name() for layer in image.get_layers()]
    with open(os.path.join(rt, "daemon.log")) as f:
        log["log_cold"] = f.read()
    log["ok"] = True
except Exception:  # noqa: BLE001 - the test shows it
    log["error"] = traceback.format_exc()
with open(OUT, "w") as f:
    json.dump(log, f, indent=1)
