# Batch code run inside GIMP 3 *with its window* (gimp-3.0 under Xvfb) by
# tests/test_gimp_gui.py: Repeat and Re-show use the last-used settings, hints and
# reference included, and Cancel in the Colourfulness dialog keeps the run's settings.
# A colour photo (the reference) and a Grayscale scan with a "Tinct hints" layer (a blue
# stroke) are open. Runs of the test-only plug-in (tests/gimp/tinct-colorize-selftest:
# the shipped procedure and run, its dialogs answered as $TINCT_GIMP_SELFTEST says):
# 1. the dialog: prompt, "(no hints)" although the hint layer is there, the colour photo
#    as the reference, the slider to 1.4, OK; 2. Repeat: the run mode GIMP's Filters >
#    Repeat Last (Ctrl+F) gives, WITH_LAST_VALS; 3. Re-show (Shift+Ctrl+F: INTERACTIVE):
#    what the dialog opens with, a screenshot, Cancel; 4. other settings (hints, no
#    reference), Cancel in the Colourfulness dialog; 5. Repeat: those settings; 6. Re-show
#    again; 7. the hint layer deleted, Repeat: an error naming it.
# Writes $TINCT_GIMP_WALK_RESULT (JSON) for the test to check.
import json
import os
import sys
import traceback

OUT = os.environ["TINCT_GIMP_WALK_RESULT"]
sys.path.insert(0, os.path.dirname(OUT))
from walk_common import Gegl, Gimp, Gio, answer, layer_pixels, recorded, run_procedure  # noqa: E402

log = {"ok": False, "errors": []}


def run(mode, **answers):
    """Tinct Colorize on the scan's photo layer in run mode MODE, its dialogs answered."""
    answer(answers, (".shown",))
    status, error = run_procedure(image, [photo], mode)
    if status == "GIMP_PDB_EXECUTION_ERROR":
        log["errors"].append(error)
    out = {"status": status, "layers": [layer.get_name() for layer in image.get_layers()]}
    if recorded(".shown") is not None:
        out["shown"] = recorded(".shown")
    results = [x for x in image.get_layers()
               if x.get_name().startswith("Tinct") and x.get_name() != "Tinct hints"]  # fmt: skip
    if results:
        out["pixels"] = layer_pixels(results[0]).hex()
    return out


def load(path):
    img = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(path))
    return img, Gimp.Display.new(img)


try:
    beach, _beach_display = load(os.environ["TINCT_GIMP_REFERENCE"])
    colour = beach.get_layers()[0]
    colour.set_name("colour photo")
    file = beach.get_imported_file() or beach.get_file()
    beach_label = file.get_basename() if file else f"{beach.get_name()}-{beach.get_id()}"
    label = f"{beach_label} / colour photo"
    log["reference_label"] = label
    image, display = load(os.environ["TINCT_GIMP_PHOTO"])
    photo = image.get_layers()[0]
    run_procedure(image, [photo], "NONINTERACTIVE", "plug-in-tinct-paint-hints")
    hints = image.get_selected_layers()[0]
    w, h = image.get_width(), image.get_height()
    stroke = bytes([40, 110, 230, 255]) * (w * (h // 3))  # blue over the top third
    buf = hints.get_buffer()
    buf.set(Gegl.Rectangle.new(0, 0, w, h // 3), "R'G'B'A u8", stroke)
    buf.flush()
    hints.update(0, 0, w, h)
    Gimp.displays_flush()

    # 1. the dialog's choices, the slider to 1.4, OK
    first = {"prompt": "red roof", "steps": 2, "scale": 1.0}
    log["first"] = run("INTERACTIVE", set=first, hint="(no hints)", reference=label,
                       scales=[1.4], accept=True)  # fmt: skip
    # 2. Repeat (Ctrl+F)
    log["repeat"] = run("WITH_LAST_VALS")
    # 3. Re-show (Shift+Ctrl+F): what the dialog opens with; Cancel there
    log["reshow"] = run("INTERACTIVE", main_accept=False,
                        screenshot_main=os.environ["TINCT_GIMP_RESHOW_SHOT"])  # fmt: skip
    # 4. other settings; Cancel in the Colourfulness dialog
    second = {"prompt": "green field", "steps": 2, "scale": 0.8}
    log["slider_cancel"] = run("INTERACTIVE", set=second, hint="Tinct hints",
                               reference="(no reference)", scales=[1.7], accept=False)  # fmt: skip
    # 5. Repeat: the cancelled run's settings
    log["repeat2"] = run("WITH_LAST_VALS")
    # 6. Re-show again
    log["reshow2"] = run("INTERACTIVE", main_accept=False)
    # 7. the hint layer the last dialog picked is deleted: Repeat says so
    image.remove_layer(hints)
    log["repeat_gone"] = run("WITH_LAST_VALS")
    log["ok"] = True
except Exception:  # noqa: BLE001 - the test shows it
    log["error"] = traceback.format_exc()
with open(OUT, "w") as f:
    json.dump(log, f, indent=1)
