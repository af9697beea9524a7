# Batch code run inside GIMP 3 by tests/test_gimp_host.py:
#   gimp-console-3.0 -i -n --batch-interpreter python-fu-eval \
#       -b 'exec(open("/…/run_cases.py").read())' --quit
# with TINCT_GIMP_CASES = a JSON file listing cases. For each case it builds an image
# from raw source bytes, runs plug-in-tinct-colorize non-interactively (interactive
# cases: the test-only plug-in-tinct-colorize-selftest, the same procedure and run with
# dialogs that answer themselves, see tests/gimp/tinct-colorize-selftest/) and dumps
# what the host test checks (layers, modes, positions, raw pixels) into the case's folder.
# GIMP's Python has no numpy: all checks happen in pytest; this only records.
import json
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.environ["TINCT_GIMP_CASES"]))
from walk_common import Gegl, Gimp, run_procedure  # noqa: E402

PROC = "plug-in-tinct-colorize"
ANSWERED_PROC = "plug-in-tinct-colorize-selftest"  # INTERACTIVE: the dialogs answer themselves
PAINT_HINTS = "plug-in-tinct-paint-hints"
FORMATS = {"u8": "R'G'B'A u8", "u16": "R'G'B'A u16", "f32": "R'G'B'A float"}
PRECISIONS = {
    "u8": Gimp.Precision.U8_NON_LINEAR,
    "u16": Gimp.Precision.U16_NON_LINEAR,
    "f32": Gimp.Precision.FLOAT_NON_LINEAR,
}


def _offsets(drawable):
    res = drawable.get_offsets()
    return [res[1], res[2]] if len(res) == 3 else [res[0], res[1]]


def _read(drawable, fmt):
    rect = Gegl.Rectangle.new(0, 0, drawable.get_width(), drawable.get_height())
    return drawable.get_buffer().get(rect, 1.0, fmt, Gegl.AbyssPolicy.CLAMP)


def _write(drawable, fmt, data):
    rect = Gegl.Rectangle.new(0, 0, drawable.get_width(), drawable.get_height())
    buf = drawable.get_buffer()
    buf.set(rect, fmt, data)
    buf.flush()
    drawable.update(0, 0, drawable.get_width(), drawable.get_height())


def _save(path, data):
    with open(path, "wb") as f:
        f.write(bytes(data))


def _layer_info(image, layer):
    return {
        "name": layer.get_name(),
        "mode": layer.get_mode().value_name,
        "offsets": _offsets(layer),
        "size": [layer.get_width(), layer.get_height()],
        "position": image.get_item_position(layer),
        "visible": layer.get_visible(),
        "has_mask": layer.get_mask() is not None,
    }


def is_result(layer):
    name = layer.get_name()
    return name.startswith("Tinct ") and name != "Tinct hints"


def save_results(image, out, tag, fmt):
    """Every Tinct result layer's name (top to bottom) and pixels (TAG0.raw, TAG1.raw, ...)."""
    names = []
    for i, layer in enumerate(x for x in image.get_layers() if is_result(x)):
        _save(os.path.join(out, f"{tag}{i}.raw"), _read(layer, fmt))
        names.append(layer.get_name())
    return names


def run_proc(name, image, drawables, mode, args):
    status, error = run_procedure(image, drawables, mode, name, **args)
    return status, "" if status == "GIMP_PDB_CANCEL" else error or ""


def run_case(case):
    out = case["out"]
    w, h, dtype = case["width"], case["height"], case["dtype"]
    fmt = FORMATS[dtype]
    gray = case.get("gray", False)
    base = Gimp.ImageBaseType.GRAY if gray else Gimp.ImageBaseType.RGB
    image = Gimp.Image.new_with_precision(w, h, base, PRECISIONS[dtype])
    kind = Gimp.ImageType.GRAYA_IMAGE if gray else Gimp.ImageType.RGBA_IMAGE
    if case.get("no_alpha"):  # a flattened scan: RGB without an alpha channel
        kind = Gimp.ImageType.GRAY_IMAGE if gray else Gimp.ImageType.RGB_IMAGE
    lx, ly, lw, lh = case.get("layer") or [0, 0, w, h]
    source = Gimp.Layer.new(image, "Source", lw, lh, kind, 100.0, Gimp.LayerMode.NORMAL)
    image.insert_layer(source, None, 0)
    source.set_offsets(lx, ly)
    with open(case["src"], "rb") as f:
        _write(source, fmt, f.read())
    above = Gimp.Layer.new(image, "Above", w, h, kind, 100.0, Gimp.LayerMode.NORMAL)
    image.insert_layer(above, None, 0)
    above.set_visible(False)  # marks the position: the new layer goes between
    hint_layer = None
    if case.get("hints") and not case.get("paint_hints"):
        hx, hy, hw, hh = case["hints"]["rect"]
        hint_name = case["hints"].get("name", "Tinct hints")
        hint_layer = Gimp.Layer.new(
            image, hint_name, hw, hh, Gimp.ImageType.RGBA_IMAGE, 100.0, Gimp.LayerMode.NORMAL
        )
        image.insert_layer(hint_layer, None, 0)
        hint_layer.set_offsets(hx, hy)
        with open(case["hints"]["path"], "rb") as f:
            _write(hint_layer, "R'G'B'A u8", f.read())
    reference = None
    if case.get("reference"):  # a second image holding the reference photo
        ref = case["reference"]
        rw, rh = ref["width"], ref["height"]
        ref_image = Gimp.Image.new(rw, rh, Gimp.ImageBaseType.RGB)
        reference = Gimp.Layer.new(
            ref_image, ref["name"], rw, rh, Gimp.ImageType.RGB_IMAGE, 100.0,
            Gimp.LayerMode.NORMAL,
        )  # fmt: skip
        ref_image.insert_layer(reference, None, 0)
        with open(ref["path"], "rb") as f:
            _write(reference, "R'G'B' u8", f.read())
    if case.get("selection"):
        x, y, sw, sh = case["selection"]
        image.select_rectangle(Gimp.ChannelOps.REPLACE, x, y, sw, sh)
    src_before = _read(source, fmt)
    layers_before = [layer.get_name() for layer in image.get_layers()]
    drawables = [source]
    if case.get("paint_hints"):  # Tinct Paint Hints, strokes on its layer, then Colorize on it
        status, error = run_proc(PAINT_HINTS, image, [source], "NONINTERACTIVE", {})
        hint_layer = image.get_selected_layers()[0]
        with open(case["hints"]["path"], "rb") as f:
            strokes = f.read()
        hx, hy, hw, hh = case["hints"]["rect"]
        rect = Gegl.Rectangle.new(hx, hy, hw, hh)
        buf = hint_layer.get_buffer()
        buf.set(rect, "R'G'B'A u8", strokes)
        buf.flush()
        drawables = [hint_layer]
    image.clean_all()  # is_dirty() afterwards: did the run record anything?

    selftest = os.environ.get("TINCT_GIMP_SELFTEST")
    for path in (selftest, f"{selftest}.trace"):
        if selftest and os.path.exists(path):
            os.remove(path)
    if case.get("selftest") is not None:
        with open(selftest, "w") as f:
            json.dump(case["selftest"], f)
    mode = case.get("run_mode", "NONINTERACTIVE")
    proc = ANSWERED_PROC if mode == "INTERACTIVE" else PROC
    args = dict(case.get("args", {}))
    if case.get("hints", {}).get("pass_as_argument"):
        args["hint-layer"] = hint_layer
    if reference is not None:
        args["reference-layer"] = reference
        ref_before = _read(reference, "R'G'B'A u8")
    status, error = run_proc(proc, image, drawables, mode, args)
    first_names = first_results = None
    if case.get("rerun_args"):  # the same source again: the new result replaces the first
        first_names = [layer.get_name() for layer in image.get_layers()]
        first_results = save_results(image, out, "first", fmt)
        status, error = run_proc(proc, image, [source], mode, case["rerun_args"])

    record = {
        "status": status,
        "error": error,
        "dirty": image.is_dirty(),
        "base_type": image.get_base_type().value_name,
        "precision": image.get_precision().value_name,
        "first_names": first_names,
        "first_results": first_results,
        "results": save_results(image, out, "result", fmt),
        "selected": [layer.get_name() for layer in image.get_selected_layers()],
        "layers_before": layers_before,
        "layers": [_layer_info(image, layer) for layer in image.get_layers()],
        "source_unchanged": bytes(_read(source, fmt)) == bytes(src_before),
    }
    if reference is not None:
        record["reference_unchanged"] = bytes(_read(reference, "R'G'B'A u8")) == bytes(ref_before)
        record["reference_image_layers"] = [x.get_name() for x in ref_image.get_layers()]
        ref_image.delete()
    if selftest and os.path.exists(f"{selftest}.trace"):  # strengths the dialog rendered
        with open(f"{selftest}.trace") as f:
            record["renders"] = [float(line) for line in f.read().split()]
    _save(os.path.join(out, "source_after.raw"), _read(source, fmt))
    new = next((layer for layer in image.get_layers() if is_result(layer)), None)
    if new is not None:
        _save(os.path.join(out, "color.raw"), _read(new, fmt))
        mask = new.get_mask()
        if mask is not None:
            _save(os.path.join(out, "mask.raw"), _read(mask, "Y u8"))
        dup = image.duplicate()
        for layer in dup.get_layers():
            if layer.get_name() in ("Tinct hints", "Strokes"):
                layer.set_visible(False)  # the strokes themselves are not part of the picture
        merged = dup.merge_visible_layers(Gimp.MergeType.CLIP_TO_IMAGE)
        # the composite over the source's rectangle (the merged layer covers only the
        # visible layers' bounds: translate image coordinates into its own)
        mx, my = _offsets(merged)
        rect = Gegl.Rectangle.new(lx - mx, ly - my, lw, lh)
        flat = merged.get_buffer().get(rect, 1.0, fmt, Gegl.AbyssPolicy.CLAMP)
        _save(os.path.join(out, "flat.raw"), flat)
        dup.delete()
    image.delete()
    with open(os.path.join(out, "result.json"), "w") as f:
        json.dump(record, f, indent=1)


def record_arguments(path):
    """The procedure's arguments as GIMP holds them (nick, default, bounds)."""
    proc = Gimp.get_pdb().lookup_procedure(PROC)
    out = {}
    for spec in proc.get_arguments():
        entry = {"nick": spec.get_nick()}
        for attr in ("default_value", "minimum", "maximum"):
            value = getattr(spec, attr, None)
            if isinstance(value, (bool, int, float, str)):
                entry[attr] = value
        out[spec.name] = entry
    with open(path, "w") as f:
        json.dump(out, f, indent=1)


def main():
    with open(os.environ["TINCT_GIMP_CASES"]) as f:
        cases = json.load(f)
    try:
        record_arguments(os.path.join(os.path.dirname(os.environ["TINCT_GIMP_CASES"]), "args.json"))
    except Exception:  # noqa: BLE001 - the test reports the missing file
        traceback.print_exc()
    for case in cases:
        try:
            run_case(case)
        except Exception:  # noqa: BLE001 - recorded per case, the others still run
            with open(os.path.join(case["out"], "crash.txt"), "w") as f:
                f.write(traceback.format_exc())


main()
