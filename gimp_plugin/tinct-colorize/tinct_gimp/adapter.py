"""The GIMP adapter (host API edge): the only module that reads or writes an image's layers.

Pixels become plain values at once: a drawable is read through its Gegl buffer at
its own precision into the protocol's ``Layer`` (a Grayscale image reads as
R'G'B'A with R = G = B), and a daemon layer is written back through the shadow
buffer. Rectangles are the protocol's ``Rect``; names and choices are checked by
the host-free ``request`` and ``pixels`` modules.

A result is written in strips of ``WRITE_ROWS`` rows, each flushed to GIMP; between two,
``stopped`` (the progress window's loop and its Cancel) may stop the write: the new layer
is removed again (``add_color_layer``), so no half-written layer remains. Merging the
shadow into the layer is one call that cannot be interrupted; a Cancel pressed during it
is seen as soon as it returns, and the layer is removed then.

The hint layer is Normal at ``HINT_OPACITY``: in LCh Color mode a stroke keeps the
photo's lightness, so on white or black it did not show. Hints are read from the layer's
own buffer (``read_hints``), never the composite, so its mode and opacity change nothing
that is sent; a hint layer made in Color mode by an earlier version works as before.
"""

from __future__ import annotations

from gi.repository import Gegl, Gimp
from tinct_protocol import Cancelled, Layer
from tinct_protocol.colorize_request import ColorizeRequest
from tinct_protocol.geometry import Rect
from tinct_protocol.layers import HINT_LAYER_NAME, NO_HINTS, NO_REFERENCE, is_result_name

from . import request
from .pixels import (
    HINT_FORMAT,
    BablFormat,
    MaskPlan,
    check_pixels,
    format_for_precision,
    mask_plan,
    packed,
)
from .request import UserError

HINT_MODE = Gimp.LayerMode.NORMAL  # strokes show on any background (LCh Color: not on white)
HINT_OPACITY = 80.0  # percent: the painted colour near as painted, the photo under it
WRITE_ROWS = 64  # a result is written in strips of this many rows, Cancel live between
SATURATION_OP = "gegl:saturation"  # the slider's preview: a*b* scaled at constant L*
SATURATION_SPACE = "CIE-Lab"  # its "colorspace" choice (babl's CIE Lab; "Native" is RGB)
FILTER_NAME = "Tinct colourfulness preview"  # as the layer's Filters list would name it


def offsets(drawable) -> tuple[int, int]:
    res = drawable.get_offsets()
    return (res[1], res[2]) if len(res) == 3 else (res[0], res[1])


def layer_rect(drawable) -> Rect:
    x, y = offsets(drawable)
    return Rect(x, y, drawable.get_width(), drawable.get_height())


def selection_bounds(image) -> Rect | None:
    if Gimp.Selection.is_empty(image):
        return None
    res = Gimp.Selection.bounds(image)
    _, non_empty, x1, y1, x2, y2 = res
    if not non_empty:
        return None
    return Rect(x1, y1, x2 - x1, y2 - y1)


def all_layers(layers) -> list:
    out = []
    for layer in layers:
        out.append(layer)
        if layer.is_group():
            out.extend(all_layers(layer.get_children()))
    return out


def layer_names(image) -> list[str]:
    return [layer.get_name() for layer in all_layers(image.get_layers())]


def _siblings(image, layer) -> list:
    parent = layer.get_parent()
    return list(parent.get_children() if parent is not None else image.get_layers())


def reference_layers() -> list[tuple[str, str, int, object]]:
    """(image label, layer name, layer id, layer) for every pixel layer of every open
    colour image: what the Reference list offers (a Grayscale image has no colour to
    lend, and the backend would refuse it)."""
    out = []
    for img in Gimp.get_images():
        if img.get_base_type() == Gimp.ImageBaseType.GRAY:
            continue
        for layer in all_layers(img.get_layers()):
            if not layer.is_group():
                out.append((image_label(img), layer.get_name(), layer.get_id(), layer))
    return out


def image_label(image) -> str:
    """An image as the user knows it: its file's name (opened, imported or exported), else
    GIMP's name with the image's number, as its title bar shows it ("[Untitled]-2")."""
    for file in (image.get_file(), image.get_imported_file(), image.get_exported_file()):
        if file is not None:
            return file.get_basename()
    return f"{image.get_name()}-{image.get_id()}"


def previous_results(image, source) -> list:
    """Tinct results directly above the source (top of the stack is index 0 in GIMP)."""
    layers = _siblings(image, source)
    out = []
    for layer in reversed(layers[: layers.index(source)]):
        if layer.is_group() or not is_result_name(layer.get_name()):
            break
        out.append(layer)
    return out


def source_of(image, drawable, hint_name: str | None = None):
    """The layer to colorize: the selected one, unless it is a hint or Tinct result layer;
    then the nearest layer below it that is neither (so painting hints never makes the
    hint layer the target)."""
    if not request.is_helper(drawable.get_name(), hint_name):
        return drawable
    layers = _siblings(image, drawable)
    for layer in layers[layers.index(drawable) + 1 :]:
        if not layer.is_group() and not request.is_helper(layer.get_name(), hint_name):
            return layer
    raise UserError(
        f"{drawable.get_name()!r} is a hint or Tinct result layer and no layer to colorize "
        "lies below it; select the layer to colorize"
    )


def check_source(image, drawables):
    """The layer to colorize; refused before any dialog opens."""
    if len(drawables) != 1:
        raise UserError(f"select exactly one layer to colorize ({len(drawables)} are selected)")
    source = drawables[0]
    if not isinstance(source, Gimp.Layer) or source.is_group():
        raise UserError(f"{source.get_name()!r} is not a pixel layer; select the layer to colorize")
    if image.get_base_type() == Gimp.ImageBaseType.INDEXED:
        raise UserError(
            "the image is indexed, which cannot hold new colors; "
            "convert it with Image > Mode > RGB and run Tinct Colorize again"
        )
    return source_of(image, source)  # a Grayscale image is converted with the result


def check_inputs(
    image, source, config, hint_choice: str | None = None, reference_choice=None
) -> tuple[ColorizeRequest, object, object]:
    """The request, the hint layer and the reference layer. HINT_CHOICE is the dialog's
    pick (a layer name or NO_HINTS); without one, the "hint-layer" argument, else
    "Tinct hints". REFERENCE_CHOICE is the dialog's pick (a layer, or NO_REFERENCE);
    without one, the "reference-layer" argument (none: no reference)."""
    names = layer_names(image)
    if hint_choice == NO_HINTS:
        hint_name, hint_layer = None, None
    else:
        chosen = config.get_property("hint-layer")
        picked = hint_choice or (chosen.get_name() if chosen is not None else None)
        hint_name = request.pick_hint_layer(picked, names, source.get_name())
        hint_layer = chosen if chosen is not None and hint_choice is None else None
        if hint_layer is None and hint_name is not None:
            hint_layer = image.get_layer_by_name(hint_name)
    reference = reference_choice
    if reference is None:
        reference = config.get_property("reference-layer")
    elif reference == NO_REFERENCE:
        reference = None
    reference_name = reference_image = None
    if reference is not None:
        reference_name = request.check_reference(
            reference.get_name(),
            is_source=reference.get_id() == source.get_id(),
            is_group=reference.is_group(),
        )
        reference_image = image_label(reference.get_image())
    req = request.check_arguments(
        config.get_property("prompt"),
        config.get_property("scale"),
        config.get_property("steps"),
        hint_name,
        reference_name,
        reference_image,
        variations=config.get_property("variations"),
        seed=config.get_property("seed"),
    )
    return req, hint_layer, reference


def image_format(image) -> BablFormat:
    """How the image's pixels are read and written (its precision, as R'G'B'A)."""
    return format_for_precision(image.get_precision().value_name)


def read_pixels(drawable, fmt: BablFormat, rect=None, abyss=None) -> bytes:
    """Bulk read through the drawable's Gegl buffer (``rect`` in drawable coordinates)."""
    w, h = drawable.get_width(), drawable.get_height()
    rect = rect or Gegl.Rectangle.new(0, 0, w, h)
    buffer = drawable.get_buffer()
    data = buffer.get(rect, 1.0, fmt.babl, abyss or Gegl.AbyssPolicy.CLAMP)
    check_pixels(len(data), rect.width, rect.height, fmt, f"layer {drawable.get_name()!r}")
    return data


def read_source(source, fmt: BablFormat) -> Layer:
    """The whole source layer at the image's precision."""
    w, h = source.get_width(), source.get_height()
    return Layer.from_buffer(read_pixels(source, fmt), w, h, 4, fmt.dtype)


def read_hints(source, hint_layer) -> Layer | None:
    """The hint layer over the source's rectangle, 8-bit; None without a hint layer or
    when nothing is painted on it over the source.

    The hint layer may be any size and anywhere: it is read over the source's
    rectangle in its own coordinates; outside it, the abyss is transparent (= no hint).
    """
    if hint_layer is None:
        return None
    sx, sy = offsets(source)
    hx, hy = offsets(hint_layer)
    w, h = source.get_width(), source.get_height()
    rect = Gegl.Rectangle.new(sx - hx, sy - hy, w, h)
    data = read_pixels(hint_layer, HINT_FORMAT, rect, Gegl.AbyssPolicy.NONE)
    if not bytes(data[3::4]).strip(b"\0"):  # nothing painted over the source: no hints
        return None
    return Layer.from_buffer(data, w, h, 4, HINT_FORMAT.dtype)


def read_reference(reference) -> Layer | None:
    """The whole reference layer (any size, any open image) at its image's precision,
    read like the source (a Grayscale one as R = G = B: the daemon refuses it)."""
    if reference is None:
        return None
    fmt = image_format(reference.get_image())
    w, h = reference.get_width(), reference.get_height()
    return Layer.from_buffer(read_pixels(reference, fmt), w, h, 4, fmt.dtype)


def _check_stopped(stopped) -> None:
    if stopped is not None and stopped():
        raise Cancelled("cancelled", "cancelled by the user while the layer was written")


def write_pixels(drawable, fmt: BablFormat, result: Layer, stopped=None) -> None:
    """Write a daemon layer into ``drawable`` via its shadow buffer, then merge (one undo step;
    none while undo is frozen or inside the group that added the layer). STOPPED, asked
    between strips, stops the write with Cancelled (the shadow, not the layer, holds the
    strips written so far)."""
    w, h = drawable.get_width(), drawable.get_height()
    if (result.width, result.height) != (w, h) or result.format.channels != 4:
        raise UserError(
            f"the daemon returned a {result.width}x{result.height}x{result.format.channels} "
            f"layer for a {w}x{h} RGBA layer"
        )
    if result.format.dtype != fmt.dtype or result.format.order != "rgb":
        raise UserError(
            f"the daemon returned {result.format.dtype}/{result.format.order} pixels; "
            f"{fmt.dtype}/rgb were sent"
        )
    data = memoryview(packed(result.data, w, h, result.format.stride, fmt))
    row = fmt.row_bytes(w)
    shadow = drawable.get_shadow_buffer()
    for y in range(0, h, WRITE_ROWS):
        _check_stopped(stopped)
        n = min(WRITE_ROWS, h - y)
        shadow.set(Gegl.Rectangle.new(0, y, w, n), fmt.babl, bytes(data[y * row : (y + n) * row]))
        shadow.flush()
    _check_stopped(stopped)
    drawable.merge_shadow(True)
    drawable.update(0, 0, w, h)


def convert_to_rgb(image) -> bool:
    """Make a Grayscale image RGB (its precision kept); True when it converted."""
    if image.get_base_type() == Gimp.ImageBaseType.RGB:
        return False
    image.convert_rgb()
    return True


def _new_layer(image, name: str, width: int, height: int, mode=Gimp.LayerMode.LCH_COLOR,
               opacity: float = 100.0):  # fmt: skip
    """A layer in MODE (default LCh Color: a result shows as color over the source)."""
    return Gimp.Layer.new(image, name, width, height, Gimp.ImageType.RGBA_IMAGE, opacity, mode)


def _insert_above(image, layer, source, earlier: list) -> None:
    """Insert LAYER above the source and its earlier results."""
    top = earlier[-1] if earlier else source
    image.insert_layer(layer, source.get_parent(), image.get_item_position(top))


def add_color_layer(
    image, source, name: str, fmt: BablFormat, result: Layer, earlier: list, stopped=None
):
    """The new layer NAME above the source and its EARLIER results (same size and place,
    LCh Color mode, filled with RESULT, the selection as its mask). STOPPED (asked between
    strips, and once more when the layer is done) stops it with Cancelled, the layer
    removed again."""
    w, h = source.get_width(), source.get_height()
    layer = _new_layer(image, name, w, h)
    _insert_above(image, layer, source, earlier)
    try:
        layer.set_offsets(*offsets(source))
        write_pixels(layer, fmt, result, stopped)
        plan = mask_plan(selection_bounds(image), layer_rect(source), source.get_name())
        if plan == MaskPlan.SELECTION:
            layer.add_mask(layer.create_mask(Gimp.AddMaskType.SELECTION))
        _check_stopped(stopped)  # a Cancel pressed during the merge, seen now
    except BaseException:
        image.remove_layer(layer)  # no half-written (or cancelled) layer stays
        raise
    return layer


def hint_layer_for(image, source):
    """The hint layer: an existing one named HINT_LAYER_NAME (as it is), else a new
    transparent layer above the source and its results, Normal at HINT_OPACITY (strokes
    show on any background).
    Hints are colors: a Grayscale image is converted to RGB first (the caller's undo group).
    """
    hint = image.get_layer_by_name(HINT_LAYER_NAME)
    convert_to_rgb(image)
    if hint is None:
        w, h = image.get_width(), image.get_height()
        hint = _new_layer(image, HINT_LAYER_NAME, w, h, HINT_MODE, HINT_OPACITY)
        _insert_above(image, hint, source, previous_results(image, source))
        hint.fill(Gimp.FillType.TRANSPARENT)
    return hint


def saturation_filter(drawable, ratio: float):
    """A non-destructive ``gegl:saturation`` filter (CIE Lab: a*, b* times RATIO, L* kept)
    appended to DRAWABLE, or None where GIMP has no layer filters (``Gimp.DrawableFilter``
    came with 3.0), the operation or its Lab choice is missing, or RATIO is outside the
    operation's range. Nothing in the image changes but what the canvas shows; with undo
    frozen (the slider dialog), nothing reaches the history."""
    if getattr(Gimp, "DrawableFilter", None) is None:
        return None
    try:
        found = Gimp.DrawableFilter.new(drawable, SATURATION_OP, FILTER_NAME)
    except Exception:  # noqa: BLE001 - an older GIMP or GEGL: the caller falls back
        return None
    if found is None:
        return None
    config = found.get_config()
    space = config.find_property("colorspace")
    scale = config.find_property("scale")
    choices = Gimp.param_spec_choice_get_choice(space) if space is not None else None
    if (
        scale is None
        or choices is None
        or SATURATION_SPACE not in choices.list_nicks()
        or not scale.minimum <= ratio <= scale.maximum
    ):
        found.delete()
        return None
    config.set_property("colorspace", SATURATION_SPACE)
    config.set_property("scale", ratio)
    found.update()
    drawable.append_filter(found)
    return found


def set_saturation(found, ratio: float) -> bool:
    """Change FOUND's (``saturation_filter``) scale to RATIO; False when RATIO is outside
    its range (the filter is left as it was)."""
    config = found.get_config()
    scale = config.find_property("scale")
    if not scale.minimum <= ratio <= scale.maximum:
        return False
    config.set_property("scale", ratio)
    found.update()
    return True


def remove_filter(found) -> None:
    """Take FOUND off its drawable (a filter already gone with its layer is left)."""
    if found is not None and found.is_valid():
        found.delete()
