# Batch code run inside GIMP 3 *with its window* (gimp-3.0 under Xvfb) by
# tests/test_gimp_gui.py: the Colourfulness slider previews while it moves and keeps the
# full resolution. A 1600x1000 RGB photo (over the 1 MP up to which every render is
# full resolution) is open. Runs of the test-only plug-in (tests/gimp/tinct-colorize-
# selftest: the shipped procedure and dialogs, answered as $TINCT_GIMP_SELFTEST says):
# 1. the slider moved through $TINCT_SLIDER_VALUES, one every 60 ms; once the full-
#    resolution render of the last value is on the layer, its pixels are saved, then OK;
# 2. the same, with OK pressed right after the last move (the dialog's OK renders it);
# 3. the same as 1 with the dialog's rest timer (REST_MS) made huge and the knob let go
#    (a GDK button release on the slider) as the last value is set: the release alone
#    asks for the full resolution.
# 4. the same as 1 from a result at 0 (the saturation filter has no ratio to scale by);
# 5. a drag, then Cancel.
# While the knob moves, the layer's saturation filter shows each value (+ ".filters":
# the value, whether the filter showed it, the layer's filters then).
# Per run: the renders the dialog wrote (+ ".renders" lines), the job ids, and the kept
# result layer's name and pixels. Writes $TINCT_GIMP_WALK_RESULT (JSON) for the test.
import json
import os
import sys
import traceback

OUT = os.environ["TINCT_GIMP_WALK_RESULT"]
sys.path.insert(0, os.path.dirname(OUT))
from walk_common import answer, layer_pixels, load, recorded, run_procedure  # noqa: E402

VALUES = json.loads(os.environ["TINCT_SLIDER_VALUES"])
WORK = os.path.dirname(OUT)
RECORDS = (".renders", ".jobs", ".trace", ".released", ".filters", ".filters_before_ok")
log = {"ok": False, "runs": {}}


def run(name, **answers):
    """Tinct Colorize on the photo, the slider moved through VALUES, then OK."""
    answers = {"set": {"prompt": "", "steps": 2, "scale": 1.0, "variations": 1, "seed": 0},
               "hint": "(no hints)", "reference": "(no reference)", "scales": VALUES,
               "scale_ms": 60, "accept": True, **answers}  # fmt: skip
    answer(answers, RECORDS)
    status, error = run_procedure(image, [photo])
    out = {"status": status, "layers": [x.get_name() for x in image.get_layers()]}
    if error is not None:
        out["error"] = error
    out["renders"] = recorded(".renders") or []
    out["jobs"] = recorded(".jobs")
    if recorded(".released") is not None:
        out["released"] = recorded(".released")
    out["filters"] = recorded(".filters") or []
    if recorded(".filters_before_ok") is not None:
        out["filters_before_ok"] = recorded(".filters_before_ok")
    # every layer's filters after the run (OK or Cancel): none may stay
    out["filters_after"] = {x.get_name(): [f.get_name() for f in x.get_filters()]
                            for x in image.get_layers()}  # fmt: skip
    kept = [x for x in image.get_layers() if x.get_name().startswith("Tinct")]
    if kept:
        with open(os.path.join(WORK, f"{name}-kept.raw"), "wb") as f:
            f.write(layer_pixels(kept[0]))
    log["runs"][name] = out


try:
    image, photo = load(os.environ["TINCT_GIMP_PHOTO"])
    log["size"] = [photo.get_width(), photo.get_height()]
    # 1. the knob rests after the drag: the full resolution comes by itself, then OK
    run("rest", layer_before_ok=os.path.join(WORK, "rest-before-ok.raw"))
    # 2. OK right after the last move
    run("ok_at_once")
    # 3. no rest timer to speak of (an hour): the knob's release asks for the full one
    run("release", rest_ms=3_600_000, release=True,
        layer_before_ok=os.path.join(WORK, "release-before-ok.raw"))  # fmt: skip
    # 4. a result at 0 (no ratio to scale by): the daemon's previews, as without filters
    run("at_zero", set={"prompt": "", "steps": 2, "scale": 0.0, "variations": 1, "seed": 0},
        layer_before_ok=os.path.join(WORK, "at_zero-before-ok.raw"))  # fmt: skip
    # 5. Cancel after a drag: no layer, no filter anywhere
    run("cancel", accept=False)
    log["ok"] = True
except Exception:  # noqa: BLE001 - the test shows it
    log["error"] = traceback.format_exc()
with open(OUT, "w") as f:
    json.dump(log, f, indent=1)
