"""Run inside kritarunner by benchmarks/bench_krita_mask.py: what the Krita slider's
filter mask (tinct_krita.adapter.show_preview_mask) does to pixels, and how long it takes.

    kritarunner -s mask_checks -f main RESULT.json

with the staged plugin folder (pykrita) and this folder on PYTHONPATH. Everything,
errors included, goes into RESULT.json (kritarunner exits 0 even after a traceback).
- pixels: 343 colours (7 levels a channel) in one row of an RGBA document at U8, U16
  and F32, the plugin's mask at each of PERCENTS; the layer's projection (the mask
  applied) as floats 0..1; then, U8 only, Krita's "HSV Adjustment" at other settings:
  type 4 (YCbCr) and type 3 (HSY) without the compatibility mode;
- timings: a 2450x1630 RGBA U8 Color layer over a gray one: the mask put on, changed,
  taken off (each with ``refreshProjection``), and a whole-layer write + refresh.
"""

from __future__ import annotations

import itertools
import json
import time
import traceback
from array import array

from krita import Krita

PERCENTS = [-100, -50, -1, 0, 1, 37, 50, 100]
LEVELS = [0, 37, 90, 128, 170, 213, 255]
CODE = {"U8": "B", "U16": "H", "F32": "f"}
PEAK = {"U8": 255, "U16": 65535, "F32": 1.0}


def colours():
    return list(itertools.product(LEVELS, LEVELS, LEVELS))


def document(depth, width, height):
    doc = Krita.instance().createDocument(width, height, "mask-check", "RGBA", depth, "", 72.0)
    layer = doc.createNode("c", "paintlayer")
    doc.rootNode().addChildNode(layer, None)
    return doc, layer


def encode(rgb, depth):
    vals = []
    for r, g, b in rgb:
        px = [b / 255, g / 255, r / 255, 1.0]
        vals += px if depth == "F32" else [round(v * PEAK[depth]) for v in px]
    return array(CODE[depth], vals).tobytes()


def decode(data, depth):
    a = array(CODE[depth])
    a.frombytes(bytes(data))
    p = float(PEAK[depth])
    return [[a[i + 2] / p, a[i + 1] / p, a[i] / p] for i in range(0, len(a), 4)]


def pixels(adapter, depth):
    rgb = colours()
    out = {}
    for percent in PERCENTS:
        doc, layer = document(depth, len(rgb), 1)
        layer.setPixelData(encode(rgb, depth), 0, 0, len(rgb), 1)
        mask = adapter.show_preview_mask(doc, layer, None, percent)
        doc.waitForDone()
        out[str(percent)] = decode(layer.projectionPixelData(0, 0, len(rgb), 1), depth)
        adapter.drop_preview_mask(doc, layer, mask)
        doc.setModified(False)
        doc.close()
    return out


def other_settings():
    """U8: "HSV Adjustment" at type 4 (YCbCr) and at type 3 without compatibility mode."""
    rgb = colours()
    out = {}
    cases = [("ycbcr", {"type": 4, "h": p, "s": p, "v": 0}, p) for p in (-100, -50, 50, 100)]
    cases += [("hsy_plain", {"type": 3, "h": 0, "s": p, "v": 0, "compatibilityMode": False}, p)
              for p in (-50, 50, 100)]  # fmt: skip
    for name, settings, p in cases:
        app = Krita.instance()
        doc, layer = document("U8", len(rgb), 1)
        layer.setPixelData(encode(rgb, "U8"), 0, 0, len(rgb), 1)
        found = app.filter("hsvadjustment")
        config = found.configuration()
        for key, value in settings.items():
            config.setProperty(key, value)
        found.setConfiguration(config)
        mask = doc.createFilterMask("check", found, layer)
        layer.addChildNode(mask, None)
        doc.refreshProjection()
        doc.waitForDone()
        out[f"{name} {p}"] = decode(layer.projectionPixelData(0, 0, len(rgb), 1), "U8")
        doc.setModified(False)
        doc.close()
    return out


def timings(adapter):
    w, h = 2450, 1630
    doc, gray = document("U8", w, h)
    gray.setPixelData(bytes([128, 128, 128, 255]) * (w * h), 0, 0, w, h)
    layer = doc.createNode("color", "paintlayer")
    layer.setBlendingMode("color")
    colour = bytes([60, 120, 200, 255]) * (w * h)
    layer.setPixelData(colour, 0, 0, w, h)
    doc.rootNode().addChildNode(layer, gray)
    doc.refreshProjection()
    doc.waitForDone()
    out = {"add": [], "change": [], "drop": [], "write": []}
    for _ in range(3):
        t0 = time.monotonic()
        mask = adapter.show_preview_mask(doc, layer, None, 20)
        out["add"].append(time.monotonic() - t0)
        for p in (-50, 10, 60, 100, 0):
            t0 = time.monotonic()
            mask = adapter.show_preview_mask(doc, layer, mask, p)
            out["change"].append(time.monotonic() - t0)
        t0 = time.monotonic()
        adapter.drop_preview_mask(doc, layer, mask)
        out["drop"].append(time.monotonic() - t0)
        t0 = time.monotonic()
        layer.setPixelData(colour, 0, 0, w, h)
        doc.refreshProjection()
        out["write"].append(time.monotonic() - t0)
    out["children_after"] = len(layer.childNodes())
    doc.setModified(False)
    doc.close()
    return out


def main(args):
    result = {"version": Krita.instance().version(), "percents": PERCENTS, "colours": colours()}
    try:
        from tinct_krita import adapter

        result["pixels"] = {depth: pixels(adapter, depth) for depth in ("U8", "U16", "F32")}
        result["other"] = other_settings()
        result["timings"] = timings(adapter)
    except Exception:
        result["error"] = traceback.format_exc()
    with open(args[0], "w") as f:
        json.dump(result, f)
