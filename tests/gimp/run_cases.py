# Batch code run inside GIMP 3 by tests/test_gimp_host.py:
#   gimp-console-3.0 -i -n --batch-interpreter python-fu-eval \
#       -b 'exec(open("/…/run_cases.py").read())' --quit
# with TINCT_GIMP_CASES = a JSON file listing cases. For each case it builds an image
# from raw source bytes, runs plug-in-tinct-colorize non-interactively and dumps what
# the host test checks (layers, modes, positions, raw pixels) into the case's folder.
# GIMP's Python has no numpy: all checks happen in pytest; this only records.
import json
import os
import traceback

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp  # noqa: E402

PROC = "plug-in-tinct-colorize"
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
    if case.get("hints"):
        hx, hy, hw, hh = case["hints"]["rect"]
        hint_name = case["hints"].get("name", "Tinct hints")
        hint_layer = Gimp.Layer.new(
            image, hint_name, hw, hh, Gimp.ImageType.RGBA_IMAGE, 100.0, Gimp.LayerMode.NORMAL
        )
        image.insert_layer(hint_layer, None, 0)
        hint_layer.set_offsets(hx, hy)
        with open(case["hints"]["path"], "rb") as f:
            _write(hint_layer, "R'G'B'A u8", f.read())
    if case.get("selection"):
        x, y, sw, sh = case["selection"]
        image.select_rectangle(Gimp.ChannelOps.REPLACE, x, y, sw, sh)
    src_before = _read(source, fmt)
    layers_before = [layer.get_name() for layer in image.get_layers()]

    proc = Gimp.get_pdb().lookup_procedure(PROC)
    config = proc.create_config()
    selftest = os.environ.get("TINCT_GIMP_SELFTEST")
    for path in (selftest, f"{selftest}.trace"):
        if selftest and os.path.exists(path):
            os.remove(path)
    if case.get("selftest") is not None:
        with open(selftest, "w") as f:
            json.dump(case["selftest"], f)
    mode = case.get("run_mode", "NONINTERACTIVE")  # INTERACTIVE: the self-test answers the dialogs
    config.set_property("run-mode", getattr(Gimp.RunMode, mode))
    config.set_property("image", image)
    config.set_core_object_array("drawables", [source])
    for key, value in case.get("args", {}).items():
        config.set_property(key, value)
    if case.get("hints", {}).get("pass_as_argument"):
        config.set_property("hint-layer", hint_layer)
    result = proc.run(config)
    status = result.index(0).value_name
    error = ""
    if status != "GIMP_PDB_SUCCESS":
        try:
            error = Gimp.get_pdb().get_last_error()
        except Exception as exc:  # noqa: BLE001
            error = f"(no message: {exc})"

    record = {
        "status": status,
        "error": error,
        "layers_before": layers_before,
        "layers": [_layer_info(image, layer) for layer in image.get_layers()],
        "source_unchanged": bytes(_read(source, fmt)) == bytes(src_before),
    }
    if selftest and os.path.exists(f"{selftest}.trace"):  # strengths the dialog rendered
        with open(f"{selftest}.trace") as f:
            record["renders"] = [float(line) for line in f.read().split()]
    _save(os.path.join(out, "source_after.raw"), _read(source, fmt))
    new = image.get_layer_by_name("Tinct color")
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
