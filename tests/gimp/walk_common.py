# What every GIMP walk (tests/gimp/*_walk.py, gui_walkthrough.py; run_procedure also
# run_cases.py) does around a run of the test-only plug-in (tests/gimp/tinct-colorize-selftest: the shipped procedure, its
# dialogs answered as $TINCT_GIMP_SELFTEST says, which writes what it saw next to that
# file as SELFTEST + suffix). Copied beside walk.py by tests/test_gimp_gui.py's
# write_walk (and beside run_cases.py by tests/test_gimp_host.py); a walk imports it
# after putting its own folder on sys.path.
import json
import os

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp, Gio  # noqa: E402

SELFTEST = os.environ["TINCT_GIMP_SELFTEST"]
COLORIZE = "plug-in-tinct-colorize-selftest"  # plug-in-tinct-colorize, answered
LINES = (".renders", ".filters", ".progress", ".hints")  # one JSON value per line


def answer(answers, suffixes=()):
    """Write ANSWERS for the next run and remove what an earlier run recorded."""
    with open(SELFTEST, "w") as f:
        json.dump(answers, f)
    for suffix in suffixes:
        if os.path.exists(SELFTEST + suffix):
            os.remove(SELFTEST + suffix)


def recorded(suffix):
    """What the plug-in recorded as SELFTEST + SUFFIX (a list for the LINES suffixes),
    or None when it recorded nothing."""
    path = SELFTEST + suffix
    if not os.path.exists(path):
        return None
    with open(path) as f:
        if suffix in LINES:
            return [json.loads(line) for line in f]
        return json.load(f)


def run_procedure(image, drawables, mode="INTERACTIVE", name=COLORIZE, **args):
    """Run procedure NAME on DRAWABLES of IMAGE in run mode MODE (with ARGS set):
    (status name, GIMP's last error or None)."""
    proc = Gimp.get_pdb().lookup_procedure(name)
    config = proc.create_config()
    config.set_property("run-mode", getattr(Gimp.RunMode, mode))
    config.set_property("image", image)
    config.set_core_object_array("drawables", drawables)
    for key, value in args.items():
        config.set_property(key, value)
    status = proc.run(config).index(0).value_name
    if status == "GIMP_PDB_SUCCESS":
        return status, None
    try:
        return status, Gimp.get_pdb().get_last_error()
    except Exception as exc:  # noqa: BLE001 - the walk records it
        return status, f"(no message: {exc})"


def load(path):
    """Open PATH in a display: (image, its first layer)."""
    image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(path))
    Gimp.Display.new(image)
    return image, image.get_layers()[0]


def layer_pixels(layer, fmt="R'G'B'A u8"):
    """LAYER's pixels in babl format FMT, as bytes."""
    rect = Gegl.Rectangle.new(0, 0, layer.get_width(), layer.get_height())
    return bytes(layer.get_buffer().get(rect, 1.0, fmt, Gegl.AbyssPolicy.CLAMP))
