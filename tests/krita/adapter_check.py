"""Run inside kritarunner: the plugin's adapter (tinct_krita.adapter) on real Krita documents.

    kritarunner -s adapter_check -f main RESULT.json CASES.json

with the staged plugin folder (pykrita) on PYTHONPATH and TINCT_RUNTIME_DIR
pointing at a running daemon. kritarunner exits 0 even after a traceback, so
everything (including errors) goes into RESULT.json, which the test reads.
"""

from __future__ import annotations

import json
import math
import time
import traceback
from array import array

from krita import Krita, Selection

CODE = {"U8": "B", "U16": "H", "F32": "f"}
PEAK = {"U8": 255, "U16": 65535, "F32": 1.0}


def encode(pixels, depth):
    """pixels: list of (r, g, b, a) floats 0..1 -> Krita's bytes for RGBA/depth."""
    vals = []
    for r, g, b, a in pixels:
        if depth == "F32":
            vals += [r, g, b, a]
        else:
            p = PEAK[depth]
            vals += [round(b * p), round(g * p), round(r * p), round(a * p)]
    return array(CODE[depth], vals).tobytes()


def decode(data, depth):
    a = array(CODE[depth])
    a.frombytes(bytes(data))
    out = []
    if depth == "F32":
        for i in range(0, len(a), 4):
            out.append((a[i], a[i + 1], a[i + 2], a[i + 3]))
    else:
        p = float(PEAK[depth])
        for i in range(0, len(a), 4):
            out.append((a[i + 2] / p, a[i + 1] / p, a[i] / p, a[i + 3] / p))
    return out


def encode_gray(pixels, depth):
    """pixels: (r, g, b, a) floats -> Krita's GRAYA bytes (gray = r)."""
    vals = []
    for r, _g, _b, a in pixels:
        vals += [r, a] if depth == "F32" else [round(r * PEAK[depth]), round(a * PEAK[depth])]
    return array(CODE[depth], vals).tobytes()


def decode_gray(data, depth):
    a = array(CODE[depth])
    a.frombytes(bytes(data))
    p = 1.0 if depth == "F32" else float(PEAK[depth])
    return [(a[i] / p, a[i] / p, a[i] / p, a[i + 1] / p) for i in range(0, len(a), 2)]


def photo(w, h):
    px = []
    for y in range(h):
        for x in range(w):
            v = 0.15 + 0.7 * (x / (w - 1)) * (0.5 + 0.5 * math.sin(y / 9.0))
            d = (x - w * 0.35) ** 2 + (y - h * 0.5) ** 2 < (h * 0.2) ** 2
            px.append((v, v * 0.95, v * 0.9, 1.0) if not d else (0.6, 0.6, 0.6, 1.0))
    return px


def luma(p):
    """HSY luma as Krita's "color" mode uses it: Rec.601 weights on the stored values."""
    return 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]


def run_case(case, plugin):
    from tinct_krita import adapter
    from tinct_krita.request import UserError
    from tinct_krita.session import Session
    from tinct_krita.tinct_protocol import Layer
    from tinct_krita.tinct_protocol.layers import HINT_LAYER_NAME, result_layer_name

    app = Krita.instance()
    w, h, depth = case["width"], case["height"], case["depth"]
    if case.get("model"):  # another color model or depth: a clear message, nothing else
        doc = app.createDocument(w, h, "tinct-" + case["name"], case["model"], depth, "", 72.0)
        node = doc.rootNode().childNodes()[0]
        try:
            adapter.read_source(doc, node)
            out = {"message": None}
        except UserError as exc:
            out = {"message": str(exc)}
        out["names"] = [n.name() for n in doc.rootNode().childNodes()]
        doc.close()
        return out
    gray = case.get("gray", False)  # a Grayscale document, converted with the result
    model = "GRAYA" if gray else "RGBA"
    doc = app.createDocument(w, h, "tinct-" + case["name"], model, depth, "", 72.0)
    doc.setBatchmode(True)
    root = doc.rootNode()
    src = doc.createNode("photo", "paintlayer")
    root.addChildNode(src, None)
    t0 = time.monotonic()
    if case.get("big"):
        # a cheap but non-uniform picture: gray ramps row by row
        row = b"".join(bytes([v, v, v, 255]) for v in (i * 255 // (w - 1) for i in range(w)))
        src.setPixelData(row * h, 0, 0, w, h)
    elif gray:
        src.setPixelData(encode_gray(photo(w, h), depth), 0, 0, w, h)
    else:
        src.setPixelData(encode(photo(w, h), depth), 0, 0, w, h)
    hint_node = None
    if case.get("hints"):
        hint_node = doc.createNode(HINT_LAYER_NAME, "paintlayer")
        root.addChildNode(hint_node, src)
        stroke = [(0.0, 0.0, 0.0, 0.0)] * (w * h)
        for y in range(h // 2 - 3, h // 2 + 3):
            for x in range(4, w // 2):
                stroke[y * w + x] = (0.9, 0.1, 0.1, 1.0)
        hint_node.setPixelData(encode(stroke, depth), 0, 0, w, h)
        hint_node.setVisible(False)  # the hints are guidance, not part of the picture
    sel = case.get("selection")
    if sel:
        s = Selection()
        s.select(sel[0], sel[1], sel[2], sel[3], case.get("selection_value", 255))
        doc.setSelection(s)
    doc.refreshProjection()
    src_before = bytes(src.pixelData(0, 0, w, h))
    comp_before = bytes(doc.pixelData(0, 0, w, h))
    setup_s = time.monotonic() - t0

    # 1. read -> 2. daemon -> 3. color layer, as the docker does
    t0 = time.monotonic()
    source = adapter.read_source(doc, src)
    hints = adapter.read_hints(doc, hint_node, source)
    read_s = time.monotonic() - t0
    p = source.pixels
    image = Layer.from_buffer(p.data, p.rect.width, p.rect.height, 4, p.dtype, order=p.order)
    hint_layer = None
    if hints is not None:
        hint_layer = Layer.from_buffer(
            hints.data, p.rect.width, p.rect.height, 4, p.dtype, order=p.order
        )
    t0 = time.monotonic()
    session = Session()
    result = session.colorize(
        image, hint_layer, prompt="", steps=2, scale=1.0, seed=1, on_event=lambda ev: None
    )
    colorize_s = time.monotonic() - t0
    t0 = time.monotonic()
    note = adapter.convert_to_rgb(doc, source)
    name = result_layer_name("", 1.0)
    layer = adapter.add_color_layer(doc, src, result.layer.tobytes(), source, name=name)
    write_s = time.monotonic() - t0
    apply_s = None
    if not case.get("big"):  # the slider's full-resolution step, at a saturated scale
        t0 = time.monotonic()
        applied = session.apply(result.job, 1.8)
        adapter.write_color(doc, layer, applied.layer.tobytes(), source)
        apply_s = time.monotonic() - t0
    session.close()

    doc.refreshProjection()
    names = [n.name() for n in root.childNodes()]
    out = {
        "names": names,
        "converted": [doc.colorModel(), doc.colorDepth()],
        "note": note,
        "blend": layer.blendingMode(),
        "color_layer_depth": [layer.colorModel(), layer.colorDepth()],
        "rect": [p.rect.x, p.rect.y, p.rect.width, p.rect.height],
        "hints_sent": hints is not None,
        "source_unchanged": gray or bytes(src.pixelData(0, 0, w, h)) == src_before,
        "seconds": {
            "setup": setup_s,
            "read": read_s,
            "colorize": colorize_s,
            "write": write_s,
            "apply_and_write": apply_s,
        },
        "daemon_timings": result.header.get("timings"),
    }
    if case.get("big"):
        comp_after = bytes(doc.pixelData(0, 0, w, h))
        out["composite_changed"] = comp_after != comp_before
        out["layer_bytes"] = len(bytes(layer.pixelData(0, 0, w, h)))
        doc.close()
        return out

    comp_after = decode(doc.pixelData(0, 0, w, h), depth)
    before = decode_gray(comp_before, depth) if gray else decode(comp_before, depth)
    color = decode(layer.pixelData(0, 0, w, h), depth)
    dl, outside_diff, chroma_moved, inside_alpha = [], 0.0, 0.0, []
    sx, sy, sw, sh = sel if sel else (0, 0, w, h)
    for i, (b, a) in enumerate(zip(before, comp_after, strict=True)):
        x, y = i % w, i // w
        inside = sx <= x < sx + sw and sy <= y < sy + sh
        if inside:
            dl.append(abs(luma(a) - luma(b)))
            chroma_moved = max(chroma_moved, max(abs(a[k] - b[k]) for k in range(3)))
            inside_alpha.append(color[i][3])
        else:
            outside_diff = max(outside_diff, max(abs(a[k] - b[k]) for k in range(4)))
            if color[i][3] != 0:
                outside_diff = max(outside_diff, 1.0)  # the layer must be empty there
    dl.sort()
    out.update(
        luma_max=dl[-1],
        luma_mean=sum(dl) / len(dl),
        luma_p99=dl[int(0.99 * (len(dl) - 1))],
        outside_max_diff=outside_diff,
        chroma_moved=chroma_moved,
        inside_alpha_min=min(inside_alpha),
        inside_alpha_max=max(inside_alpha),
    )
    if True:  # the composite's color where the hint stroke is (painted or not)
        r = g = b = 0.0
        n = 0
        for y in range(h // 2 - 2, h // 2 + 2):
            for x in range(6, w // 2 - 2):
                if sx <= x < sx + sw and sy <= y < sy + sh:
                    c = comp_after[y * w + x]
                    r, g, b, n = r + c[0], g + c[1], b + c[2], n + 1
        out["hint_region_rgb"] = [r / n, g / n, b / n] if n else None
    doc.close()
    return out


def main(args):
    result_path, cases_path = args[0], args[1]
    cases = json.load(open(cases_path))
    results = {"ok": True, "version": Krita.instance().version(), "cases": {}}
    for case in cases:
        try:
            results["cases"][case["name"]] = run_case(case, None)
        except Exception:
            results["cases"][case["name"]] = {"error": traceback.format_exc()}
        with open(result_path, "w") as f:
            json.dump(results, f, indent=1)
