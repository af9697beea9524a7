# Batch code run inside GIMP 3 *with its window* (gimp-3.0 under Xvfb) by
# tests/test_gimp_gui.py: the Colourfulness dialog's "Before" toggle. A small RGB photo
# is open, with an (empty) "Tinct hints" layer above it. Runs of the test-only plug-in
# (tests/gimp/tinct-colorize-selftest: the shipped procedure and dialogs, answered as
# $TINCT_GIMP_SELFTEST says), each pressing "Before" in once the dialog is up:
# 1. "toggled": a slider value set while it is in (its render written), the screen
#    saved, "Before" let out again, then OK;
# 2. "ok_in": OK pressed with "Before" still in (run 1's result is the earlier one);
# 3. "cancel_in": Cancel pressed with "Before" still in.
# Per run: what the toggle saw (+ ".before"), the status, and the image's layers as
# [name, visible] after the run. Writes $TINCT_GIMP_WALK_RESULT (JSON) for the test.
import json
import os
import sys
import traceback

OUT = os.environ["TINCT_GIMP_WALK_RESULT"]
sys.path.insert(0, os.path.dirname(OUT))
from walk_common import Gimp, answer, load, recorded, run_procedure  # noqa: E402

log = {"ok": False, "runs": {}}


def layers():
    return [[x.get_name(), x.get_visible()] for x in image.get_layers()]


def run(name, before, accept=True):
    """Tinct Colorize on the photo, "Before" pressed in as BEFORE says, then OK/Cancel."""
    answers = {"set": {"prompt": "", "steps": 2, "scale": 1.0, "variations": 1, "seed": 0},
               "hint": "(no hints)", "reference": "(no reference)", "scale_ms": 20,
               "before": before, "accept": accept}  # fmt: skip
    answer(answers, (".before", ".mnemonics.scale"))
    status, error = run_procedure(image, [photo])
    out = {"status": status, "layers": layers()}
    if error is not None:
        out["error"] = error
    for suffix, key in ((".before", "before"), (".mnemonics.scale", "mnemonics")):
        if recorded(suffix) is not None:
            out[key] = recorded(suffix)
    log["runs"][name] = out


try:
    image, photo = load(os.environ["TINCT_GIMP_PHOTO"])
    w, h = photo.get_width(), photo.get_height()
    hints = Gimp.Layer.new(image, "Tinct hints", w, h, Gimp.ImageType.RGBA_IMAGE, 80.0,
                           Gimp.LayerMode.NORMAL)  # fmt: skip
    image.insert_layer(hints, None, 0)
    hints.fill(Gimp.FillType.TRANSPARENT)
    log["layers"] = layers()
    # 1. in, a value rendered while in, out again, then OK
    run("toggled", {"scale": 1.4, "off": True, "screenshot": os.environ["TINCT_BEFORE_SHOT"]})
    # 2. OK with "Before" in (run 1's result is the earlier one it hides)
    run("ok_in", {})
    # 3. Cancel with "Before" in
    run("cancel_in", {}, accept=False)
    log["ok"] = True
except Exception:  # noqa: BLE001 - the test shows it
    log["error"] = traceback.format_exc()
with open(OUT, "w") as f:
    json.dump(log, f, indent=1)
