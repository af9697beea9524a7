# Batch code run inside GIMP 3 by benchmarks/bench_gimp_filter.py: what the slider's
# gegl:saturation layer filter (tinct_gimp.adapter.saturation_filter) does.
# $TINCT_FILTER_CHECK says which check; the result (JSON) goes to $TINCT_FILTER_OUT.
# - "pixels" (gimp-console): 4096 sRGB colours (16 levels a channel) on a 64x64 layer,
#   the filter (CIE-Lab) at each ratio of $TINCT_FILTER_RATIOS, the image merged: the
#   8-bit composite, for the benchmark to compare with its model of the filter. Then the
#   same colours in LCh Color mode over a gray ramp, once with the filter and once with
#   the filter's 8-bit output written as the layer's pixels: both composites.
# - "repaint" (gimp-3.0 under Xvfb, with a display): a 2450x1630 LCh Color layer over a
#   gray layer, the filter on it; per scale change, the time to filter.update() +
#   Gimp.displays_flush() returning and to the first change of the screen's pixels in
#   a 400x300 region of the canvas (Gdk grabs every 3 ms); then the same for a whole
#   layer written through the shadow buffer (today's preview write).
import json
import os
import time
import traceback

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp  # noqa: E402

OUT = os.environ["TINCT_FILTER_OUT"]
CHECK = os.environ["TINCT_FILTER_CHECK"]
U8 = "R'G'B'A u8"
out = {"version": Gimp.version()}


def layer_image(w, h, layers):
    """A new image with LAYERS [(mode, RGBA u8 bytes)], bottom first."""
    img = Gimp.Image.new(w, h, Gimp.ImageBaseType.RGB)
    made = []
    for mode, data in layers:
        layer = Gimp.Layer.new(img, "l", w, h, Gimp.ImageType.RGBA_IMAGE, 100, mode)
        img.insert_layer(layer, None, 0)
        buf = layer.get_buffer()
        buf.set(Gegl.Rectangle.new(0, 0, w, h), U8, data)
        buf.flush()
        layer.update(0, 0, w, h)
        made.append(layer)
    return img, made


def saturation(layer, ratio):
    f = Gimp.DrawableFilter.new(layer, "gegl:saturation", "check")
    config = f.get_config()
    config.set_property("colorspace", "CIE-Lab")
    config.set_property("scale", ratio)
    f.update()
    layer.append_filter(f)
    return f


def composite(img):
    dup = img.duplicate()
    merged = dup.merge_visible_layers(Gimp.MergeType.CLIP_TO_IMAGE)
    w, h = img.get_width(), img.get_height()
    data = merged.get_buffer().get(Gegl.Rectangle.new(0, 0, w, h), 1.0, U8, Gegl.AbyssPolicy.CLAMP)
    dup.delete()
    return bytes(data)


def pixels():
    levels = [i * 17 for i in range(16)]
    colours = bytes(v for r in levels for g in levels for b in levels for v in (r, g, b, 255))
    ramp = bytes(v for i in range(64 * 64) for v in ((i * 7) % 256,) * 3 + (255,))
    out["colours"] = list(colours)
    for ratio in json.loads(os.environ.get("TINCT_FILTER_RATIOS", "[0, 0.5, 1.5, 2]")):
        img, (layer,) = layer_image(64, 64, [(Gimp.LayerMode.NORMAL, colours)])
        saturation(layer, ratio)
        filtered = composite(img)
        img.delete()
        img, (_, top) = layer_image(64, 64, [(Gimp.LayerMode.NORMAL, ramp),
                                             (Gimp.LayerMode.LCH_COLOR, colours)])  # fmt: skip
        saturation(top, ratio)
        lch_filter = composite(img)
        img.delete()
        img, _ = layer_image(64, 64, [(Gimp.LayerMode.NORMAL, ramp),
                                      (Gimp.LayerMode.LCH_COLOR, filtered)])  # fmt: skip
        lch_pixels = composite(img)
        img.delete()
        out[str(ratio)] = {"filtered": list(filtered), "lch_filter": list(lch_filter),
                           "lch_pixels": list(lch_pixels)}  # fmt: skip


def repaint():
    from gi.repository import Gdk, GimpUi

    GimpUi.init("tinct-filter-check")
    w, h = 2450, 1630
    gray = bytearray(w * h * 4)
    row = bytes(v for x in range(w) for v in ((x // 8) % 256,) * 3 + (255,))
    for y in range(h):
        gray[y * w * 4 : (y + 1) * w * 4] = row
    colour = bytearray(gray)
    colour[1::4] = bytes(255 - v for v in gray[1::4])
    img, (_, top) = layer_image(w, h, [(Gimp.LayerMode.NORMAL, bytes(gray)),
                                       (Gimp.LayerMode.LCH_COLOR, bytes(colour))])  # fmt: skip
    Gimp.Display.new(img)
    Gimp.displays_flush()
    root = Gdk.get_default_root_window()

    def grab():
        shot = Gdk.pixbuf_get_from_window(root, 440, 300, 400, 300)
        return bytes(shot.get_pixels()) if shot is not None else b""

    def until_changed(before, t0):
        while time.monotonic() - t0 < 3.0:
            if grab() != before:
                return time.monotonic() - t0
            time.sleep(0.003)
        return None

    time.sleep(3.0)
    img.undo_freeze()
    f = saturation(top, 1.0)
    config = f.get_config()
    Gimp.displays_flush()
    time.sleep(2.0)  # GIMP's first render with the filter (set-up) is done by then
    rows = []
    for i in range(12):
        before = grab()
        t0 = time.monotonic()
        config.set_property("scale", 0.3 + 0.15 * i)
        f.update()
        Gimp.displays_flush()
        returned = time.monotonic() - t0
        rows.append([round(0.3 + 0.15 * i, 2), returned, until_changed(before, t0)])
        time.sleep(0.3)
    out["filter"] = rows
    f.delete()
    Gimp.displays_flush()
    time.sleep(1.0)
    rows = []
    for i in range(4):
        before = grab()
        data = bytes(colour) if i % 2 else bytes(gray)
        t0 = time.monotonic()
        shadow = top.get_shadow_buffer()
        shadow.set(Gegl.Rectangle.new(0, 0, w, h), U8, data)
        shadow.flush()
        top.merge_shadow(True)
        top.update(0, 0, w, h)
        Gimp.displays_flush()
        returned = time.monotonic() - t0
        rows.append([i, returned, until_changed(before, t0)])
        time.sleep(0.3)
    out["write"] = rows
    img.undo_thaw()


try:
    {"pixels": pixels, "repaint": repaint}[CHECK]()
except Exception:  # noqa: BLE001 - the benchmark shows it
    out["error"] = traceback.format_exc()
with open(OUT, "w") as f:
    json.dump(out, f)
