# Batch code run inside GIMP 3 *with its window* (gimp-3.0 under Xvfb) by
# benchmarks/bench_hosts.py: Tinct Colorize timed from GIMP's side, with a real daemon
# (the bundled model) that the plug-in starts itself ($TINCT_BACKEND_CMD). The dialogs
# are answered by the test-only plug-in (tests/gimp/tinct-colorize-selftest), which
# writes the times (its own time.monotonic()) next to its answers file.
# 1. cold: no backend running; the dialog opens (the backend's early start begins) and
#    OK is pressed 0.2 s later, as a user who knows the settings does.
# 2. early: the daemon is shut down; the dialog opens and OK is pressed once the early
#    start serves.
# 3. warm: the same again with the backend serving.
# 4. the slider photo: Colorize, then the Colourfulness slider dragged through
#    $TINCT_BENCH_DRAG's values.
# Writes $TINCT_GIMP_WALK_RESULT (JSON) for the benchmark.
import json
import os
import sys
import time
import traceback

OUT = os.environ["TINCT_GIMP_WALK_RESULT"]
sys.path.insert(0, os.path.dirname(OUT))
from walk_common import Gimp, answer, load, recorded, run_procedure  # noqa: E402

DRAG = json.loads(os.environ["TINCT_BENCH_DRAG"])
RECORDS = (".timing", ".marks", ".drag")
log = {"ok": False, "runs": {}}


def colorize(name, image, layer, **answers):
    answer({"set": {"prompt": "", "steps": 4, "scale": 1.0, "variations": 1, "seed": 0},
            "hint": "(no hints)", "reference": "(no reference)", "accept": True,
            **answers}, RECORDS)  # fmt: skip
    t0 = time.monotonic()
    status, error = run_procedure(image, [layer])
    run = {"status": status, "called": t0, "returned": time.monotonic()}
    if error is not None:
        run["error"] = error
    for suffix in RECORDS:
        if recorded(suffix) is not None:
            run[suffix[1:]] = recorded(suffix)
    log["runs"][name] = run
    if status != "GIMP_PDB_SUCCESS":
        raise RuntimeError(f"{name}: {status} {run.get('error')}")


try:
    plug_in = os.path.join(os.environ["HOME"], ".config/GIMP/3.0/plug-ins/tinct-colorize")
    sys.path.insert(0, plug_in)
    from tinct_protocol import connect
    from tinct_protocol.connection import lock_holder, runtime_dir

    log["version"] = Gimp.version()
    image, photo = load(os.environ["TINCT_BENCH_PHOTO"])
    colorize("cold", image, photo)
    # 2. no backend again: shut it down, then the dialog's early start begins it anew
    client = connect()
    client.shutdown()
    client.close()
    for _ in range(200):
        if lock_holder(runtime_dir(create=False)) is None:
            break
        time.sleep(0.05)
    colorize("early", image, photo, ok_when_serving=True)
    colorize("warm", image, photo)
    image4, photo4 = load(os.environ["TINCT_BENCH_SLIDER_PHOTO"])
    colorize("slider", image4, photo4, drag=DRAG)
    log["ok"] = True
except Exception:  # noqa: BLE001 - the benchmark shows it
    log["error"] = traceback.format_exc()
with open(OUT, "w") as f:
    json.dump(log, f, indent=1)
