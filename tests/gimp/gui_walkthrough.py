# Batch code run inside GIMP 3 *with its window* (gimp-3.0 under Xvfb) by
# tests/test_gimp_gui.py: what a user does with a black-and-white scan. The PNG opens
# as a Grayscale image in a display; Tinct Paint Hints; a stroke on the hint layer;
# Tinct Colorize run on the hint layer, answered by the plug-in's self-test
# ($TINCT_GIMP_SELFTEST: OK, the Colourfulness slider moved, a screenshot of the screen,
# OK). Writes $TINCT_GIMP_WALK_RESULT (JSON) for the test to check.
import json
import os
import traceback

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp, Gio  # noqa: E402

OUT = os.environ["TINCT_GIMP_WALK_RESULT"]
log = {"ok": False}


def run(name, image, drawables, mode, **args):
    proc = Gimp.get_pdb().lookup_procedure(name)
    config = proc.create_config()
    config.set_property("run-mode", getattr(Gimp.RunMode, mode))
    config.set_property("image", image)
    config.set_core_object_array("drawables", drawables)
    for key, value in args.items():
        config.set_property(key, value)
    return proc.run(config).index(0).value_name


try:
    image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE,
                           Gio.File.new_for_path(os.environ["TINCT_GIMP_PHOTO"]))  # fmt: skip
    log["base_type_before"] = image.get_base_type().value_name
    Gimp.Display.new(image)
    photo = image.get_layers()[0]
    log["paint_hints"] = run("plug-in-tinct-paint-hints", image, [photo], "NONINTERACTIVE")
    hints = image.get_selected_layers()[0]
    log["selected_after_paint_hints"] = hints.get_name()
    w = image.get_width()
    stroke = bytes([40, 110, 230, 255]) * (w // 2 * 24)  # blue, across the sky
    buf = hints.get_buffer()
    buf.set(Gegl.Rectangle.new(w // 2 - 20, 30, w // 2, 24), "R'G'B'A u8", stroke)
    buf.flush()
    hints.update(0, 0, w, image.get_height())
    Gimp.displays_flush()
    log["colorize"] = run("plug-in-tinct-colorize", image, [hints], "INTERACTIVE")
    log["layers"] = [layer.get_name() for layer in image.get_layers()]
    log["base_type_after"] = image.get_base_type().value_name
    log["ok"] = True
except Exception:  # noqa: BLE001 - the test shows it
    log["error"] = traceback.format_exc()
with open(OUT, "w") as f:
    json.dump(log, f, indent=1)
