# Batch code run inside GIMP 3 *with its window* (gimp-3.0 under Xvfb) by
# tests/test_gimp_gui.py: what a user does with a black-and-white scan. A colour photo
# (the reference) is open too. The PNG opens as a Grayscale image in a display; Tinct
# Paint Hints; a stroke on the hint layer; Tinct Colorize run on the hint layer, its
# dialogs answered by the test-only plug-in (tests/gimp/tinct-colorize-selftest: the
# same procedure and run; $TINCT_GIMP_SELFTEST: OK, the Colourfulness slider moved, a
# screenshot of the screen, OK). Then Colorize again with the colour photo
# picked in the dialog's Reference list (a screenshot with it showing), Ctrl+Z (a key
# press sent to the image window), and a gray layer as the reference (refused); a
# Grayscale image is open meanwhile and never offered as a reference. Last, the
# daemon is shut down and Colorize starts $TINCT_BACKEND_CMD, a backend that fails:
# its error is one line with the log's path.
# Writes $TINCT_GIMP_WALK_RESULT (JSON) for the test to check.
import ctypes
import json
import os
import sys
import time
import traceback

OUT = os.environ["TINCT_GIMP_WALK_RESULT"]
sys.path.insert(0, os.path.dirname(OUT))
from walk_common import (  # noqa: E402
    COLORIZE,
    Gegl,
    Gimp,
    Gio,
    answer,
    layer_pixels,
    recorded,
    run_procedure,
)

log = {"ok": False}


def run(name, image, drawables, mode, **args):
    status, error = run_procedure(image, drawables, mode, name, **args)
    if status == "GIMP_PDB_EXECUTION_ERROR":
        log.setdefault("errors", []).append(error)
    return status


def load(path):
    image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(path))
    return image, Gimp.Display.new(image)


def selftest(**answers):
    answer(answers)


class _XKeyEvent(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong),
                ("send_event", ctypes.c_int), ("display", ctypes.c_void_p),
                ("window", ctypes.c_ulong), ("root", ctypes.c_ulong),
                ("subwindow", ctypes.c_ulong), ("time", ctypes.c_ulong),
                ("x", ctypes.c_int), ("y", ctypes.c_int), ("x_root", ctypes.c_int),
                ("y_root", ctypes.c_int), ("state", ctypes.c_uint),
                ("keycode", ctypes.c_uint), ("same_screen", ctypes.c_int)]  # fmt: skip


class _XEvent(ctypes.Union):
    _fields_ = [("xkey", _XKeyEvent), ("pad", ctypes.c_long * 24)]


def ctrl_z(display):
    """Press and release Ctrl+Z in DISPLAY's window, as the keyboard would (X11 core
    events: GIMP runs with GDK_CORE_DEVICE_EVENTS=1 in this test)."""
    handle = bytes(display.get_window_handle().get_data())
    xid = int.from_bytes(handle, "little")
    x11 = ctypes.CDLL("libX11.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x11.XDefaultRootWindow.restype = ctypes.c_ulong
    x11.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long,
                               ctypes.POINTER(_XEvent)]  # fmt: skip
    x11.XFlush.argtypes = x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    dpy = x11.XOpenDisplay(None)
    try:
        for kind, mask in ((2, 1), (3, 2)):  # KeyPress / KeyPressMask, KeyRelease / ...Mask
            ev = _XEvent()
            k = ev.xkey
            k.type, k.display, k.window, k.root = kind, dpy, xid, x11.XDefaultRootWindow(dpy)
            k.subwindow, k.time, k.x = 0, 0, 10
            k.y, k.x_root, k.y_root = 10, 10, 10
            k.state, k.same_screen = 4, 1  # ControlMask
            k.keycode = x11.XKeysymToKeycode(dpy, 0x7A)  # XK_z
            x11.XSendEvent(dpy, xid, 1, mask, ctypes.byref(ev))
        x11.XFlush(dpy)
    finally:
        x11.XCloseDisplay(dpy)
    return xid


try:
    # the reference photo is open first, so the scan's display is the active one
    beach, beach_display = load(os.environ["TINCT_GIMP_REFERENCE"])
    colour = beach.get_layers()[0]
    colour.set_name("colour photo")
    file = beach.get_imported_file() or beach.get_file()  # (batch loads leave them unset)
    beach_label = file.get_basename() if file else f"{beach.get_name()}-{beach.get_id()}"
    gray_copy = Gimp.Layer.new_from_drawable(colour, beach)
    gray_copy.set_name("gray copy")
    beach.insert_layer(gray_copy, None, 1)
    gray_copy.desaturate(Gimp.DesaturateMode.LUMINANCE)
    # a Grayscale image, open too (before the scan: the scan's display is the active one,
    # where Ctrl+Z goes): never offered as a reference
    old, old_display = load(os.environ["TINCT_GIMP_GRAY_IMAGE"])
    log["gray_image_type"] = old.get_base_type().value_name
    image, display = load(os.environ["TINCT_GIMP_PHOTO"])
    log["base_type_before"] = image.get_base_type().value_name
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
    log["colorize"] = run(COLORIZE, image, [hints], "INTERACTIVE")
    log["layers"] = [layer.get_name() for layer in image.get_layers()]
    log["base_type_after"] = image.get_base_type().value_name
    photo_before = layer_pixels(photo)

    log["mnemonics_main"] = recorded(".mnemonics.main")
    log["mnemonics_scale"] = recorded(".mnemonics.scale")
    log["about"] = recorded(".about")

    # Colorize again without hints or reference ("plain"), then the same with the colour
    # photo picked as the reference; each rerun replaces the result before it
    test = json.loads(os.environ["TINCT_GIMP_REF_SELFTEST"])
    selftest(**test, reference="(no reference)")
    log["colorize_plain"] = run(COLORIZE, image, [photo], "INTERACTIVE")
    log["layers_plain"] = [layer.get_name() for layer in image.get_layers()]
    log["plain_pixels"] = layer_pixels(image.get_layers()[1]).hex()
    label = f"{beach_label} / {colour.get_name()}"
    log["reference_label"] = label
    selftest(**test, reference=label, screenshot_main=os.environ["TINCT_GIMP_REF_SHOT"])
    log["colorize_ref"] = run(COLORIZE, image, [photo], "INTERACTIVE")
    log["reference_items"] = recorded(".references")
    log["layers_ref"] = [layer.get_name() for layer in image.get_layers()]
    log["ref_pixels"] = layer_pixels(image.get_layers()[1]).hex()
    log["photo_unchanged_ref"] = layer_pixels(photo) == photo_before
    log["beach_layers"] = [layer.get_name() for layer in beach.get_layers()]

    # one Ctrl+Z: the plain result is back in place of the reference run's
    log["window"] = ctrl_z(display)
    for _ in range(50):
        time.sleep(0.1)
        if [layer.get_name() for layer in image.get_layers()] == log["layers_plain"]:
            break
    log["layers_after_undo"] = [layer.get_name() for layer in image.get_layers()]
    log["photo_unchanged_after_undo"] = layer_pixels(photo) == photo_before

    # a gray layer as the reference: the backend's message, nothing added
    selftest(**test, reference=f"{beach_label} / gray copy")
    log["colorize_gray"] = run(COLORIZE, image, [photo], "INTERACTIVE")
    log["layers_after_gray"] = [layer.get_name() for layer in image.get_layers()]

    # the daemon stops; the next Colorize starts $TINCT_BACKEND_CMD, which fails
    plug_in = os.path.join(os.environ["HOME"], ".config/GIMP/3.0/plug-ins/tinct-colorize")
    sys.path.insert(0, plug_in)
    from tinct_protocol import connect
    from tinct_protocol.connection import live_connection, runtime_dir

    client = connect()
    client.shutdown()
    client.close()
    for _ in range(100):
        if live_connection(runtime_dir(create=False)) is None:
            break
        time.sleep(0.1)
    selftest(**test, reference="(no reference)")
    log["colorize_failing"] = run(COLORIZE, image, [photo], "INTERACTIVE")
    log["layers_after_failing"] = [layer.get_name() for layer in image.get_layers()]
    log["ok"] = True
except Exception:  # noqa: BLE001 - the test shows it
    log["error"] = traceback.format_exc()
with open(OUT, "w") as f:
    json.dump(log, f, indent=1)
