# Batch code run inside GIMP 3 *with its window* (gimp-3.0 under Xvfb) by
# tests/test_gimp_gui.py, against the test's daemon (tiny model). Runs of the test-only
# plug-in (tests/gimp/tinct-colorize-selftest: the shipped procedure and run, its
# dialogs answered as $TINCT_GIMP_SELFTEST says).
# A. Hints that show: a photo half white, half near-black; Tinct Paint Hints; a red
#    stroke over both halves; the composite there with and without it (a merged
#    duplicate); Colorize records the hint layer it sends and saves the screen. Then an
#    image whose "Tinct hints" an earlier version made in LCh Color mode: a blue stroke,
#    Colorize, the same records.
# B. Cancel while the layer is written: a 3000x2000 Grayscale photo; Colorize with
#    Cancel pressed at the progress window's third look while "Writing the layer…";
#    then Colorize again, accepted.
# Writes $TINCT_GIMP_WALK_RESULT (JSON) for the test to check.
import hashlib
import json
import os
import sys
import traceback

OUT = os.environ["TINCT_GIMP_WALK_RESULT"]
sys.path.insert(0, os.path.dirname(OUT))
from walk_common import Gegl, Gimp, answer, recorded, run_procedure  # noqa: E402
from walk_common import layer_pixels as pixels  # noqa: E402

SHOTS = os.environ["TINCT_GIMP_SHOTS"]
RECORDS = (".progress", ".hints", ".closed")
W, H = 480, 320
BIG_W, BIG_H = 3000, 2000
ROWS = (140, 180)  # the stroke's rows; it spans x 40..440, over white and near-black
POINTS = [[120, 160], [360, 160]]  # one pixel of the stroke on each half
log = {"ok": False, "errors": []}


def run(image, layer, **answers):
    answer(answers, RECORDS)
    status, error = run_procedure(image, [layer])
    if status == "GIMP_PDB_EXECUTION_ERROR":
        log["errors"].append(error)
    return status


def names(image):
    return [layer.get_name() for layer in image.get_layers()]


def set_pixels(layer, data, fmt="R'G'B'A u8"):
    w, h = layer.get_width(), layer.get_height()
    buffer = layer.get_buffer()
    buffer.set(Gegl.Rectangle.new(0, 0, w, h), fmt, data)
    buffer.flush()
    layer.update(0, 0, w, h)


def composite_at(image, points):
    """What the image shows at POINTS (R, G, B, A): its visible layers, merged on a copy."""
    dup = image.duplicate()
    merged = dup.merge_visible_layers(Gimp.MergeType.CLIP_TO_IMAGE)
    data = pixels(merged)
    out = [list(data[(y * W + x) * 4 :][:4]) for x, y in points]
    dup.delete()
    return out


def half_white_image():
    image = Gimp.Image.new(W, H, Gimp.ImageBaseType.RGB)
    photo = Gimp.Layer.new(image, "photo", W, H, Gimp.ImageType.RGBA_IMAGE, 100.0,
                           Gimp.LayerMode.NORMAL)  # fmt: skip
    image.insert_layer(photo, None, 0)
    row = bytes([255, 255, 255, 255]) * (W // 2) + bytes([20, 20, 20, 255]) * (W - W // 2)
    set_pixels(photo, row * H)
    Gimp.Display.new(image)
    return image, photo


def stroke(rgb):
    px = bytearray(W * H * 4)
    for y in range(*ROWS):
        for x in range(40, W - 40):
            px[(y * W + x) * 4 : (y * W + x) * 4 + 4] = bytes([*rgb, 255])
    return bytes(px)


def paint_hints(image, layer):
    return run_procedure(image, [layer], "NONINTERACTIVE", "plug-in-tinct-paint-hints")[0]


HINTED = {"set": {"prompt": "", "steps": 2, "scale": 1.0, "variations": 1, "seed": 0},
          "hint": "Tinct hints", "reference": "(no reference)", "accept": True,
          "hint_points": POINTS}  # fmt: skip

try:
    # A. hints that show
    image, photo = half_white_image()
    log["plain"] = composite_at(image, POINTS)
    log["paint_hints"] = paint_hints(image, photo)
    hint = image.get_layer_by_name("Tinct hints")
    log["hint_mode"] = [hint.get_mode().value_nick, hint.get_opacity()]
    set_pixels(hint, stroke((210, 40, 40)))
    Gimp.displays_flush()
    log["stroke"] = composite_at(image, POINTS)
    shots = {"screenshot_main": f"{SHOTS}/hints-main.png", "screenshot": f"{SHOTS}/hints.png"}
    log["run_hints"] = run(image, photo, **HINTED, **shots)
    log["sent_hints"] = recorded(".hints")
    log["names_hints"] = names(image)
    # a hint layer made in LCh Color mode (an earlier version's)
    old, old_photo = half_white_image()
    legacy = Gimp.Layer.new(old, "Tinct hints", W, H, Gimp.ImageType.RGBA_IMAGE, 100.0,
                            Gimp.LayerMode.LCH_COLOR)  # fmt: skip
    old.insert_layer(legacy, None, 0)
    legacy.fill(Gimp.FillType.TRANSPARENT)
    set_pixels(legacy, stroke((40, 90, 220)))
    log["legacy_stroke"] = composite_at(old, POINTS)
    log["run_legacy"] = run(old, old_photo, **HINTED)
    log["sent_legacy"] = recorded(".hints")
    log["legacy_mode"] = old.get_layer_by_name("Tinct hints").get_mode().value_nick
    log["names_legacy"] = names(old)

    # B. Cancel while the layer is written
    big = Gimp.Image.new(BIG_W, BIG_H, Gimp.ImageBaseType.GRAY)
    scan = Gimp.Layer.new(big, "scan", BIG_W, BIG_H, Gimp.ImageType.GRAY_IMAGE, 100.0,
                          Gimp.LayerMode.NORMAL)  # fmt: skip
    big.insert_layer(scan, None, 0)
    set_pixels(scan, bytes(30 + (190 * x) // BIG_W for x in range(BIG_W)) * BIG_H, "Y' u8")
    Gimp.Display.new(big)
    before = hashlib.sha256(pixels(scan, "Y' u8")).hexdigest()
    plain = {**HINTED, "hint": "(no hints)", "hint_points": None}
    log["run_cancel"] = run(big, scan, **plain, cancel_in_write=3,
                            progress_screenshots={"Writing the layer": f"{SHOTS}/writing.png"})  # fmt: skip
    log["lines_cancel"] = [t for t, _f in recorded(".progress")]
    log["closed_cancel"] = recorded(".closed")
    log["names_cancel"] = names(big)
    log["type_cancel"] = big.get_base_type().value_name
    log["scan_unchanged_cancel"] = hashlib.sha256(pixels(scan, "Y' u8")).hexdigest() == before
    log["run_after"] = run(big, scan, **plain)
    log["lines_after"] = [t for t, _f in recorded(".progress")]
    log["closed_after"] = recorded(".closed")
    log["names_after"] = names(big)
    log["type_after"] = big.get_base_type().value_name
    log["scan_unchanged_after"] = hashlib.sha256(pixels(scan, "Y' u8")).hexdigest() == before
    log["ok"] = True
except Exception:  # noqa: BLE001 - the test shows it
    log["error"] = traceback.format_exc()
with open(OUT, "w") as f:
    json.dump(log, f, indent=1)
