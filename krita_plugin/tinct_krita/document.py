"""The Krita adapter: the only module that reads or writes a document's pixels.

Everything takes ``(document, node)`` explicitly (in kritarunner there is no
window, so no active document or node). Pixels become a plain ``Pixels``
value at once; the rest of the plugin never sees a Krita object.

Undo (measured in Krita 5.1 with a window): ``addChildNode`` is one undo step,
``setPixelData`` records none. So the color layer is filled before it is
added, the source is never touched, and one Ctrl+Z removes the result.
"""

from __future__ import annotations

from dataclasses import dataclass

from .pixels import (
    Pixels,
    Rect,
    UnsupportedLayer,
    alpha_is_empty,
    convert_depth,
    mask_alpha,
    to_order,
    wire_format,
)

COLOR_LAYER_NAME = "Tinct color"
HINT_LAYER_NAME = "Tinct hints"
BLEND_MODE = "color"  # Krita's HSY "Color" mode (there is no LCh mode)


@dataclass
class Source:
    """What one colorize reads: the region's pixels and, with a selection, its mask."""

    pixels: Pixels
    mask: bytes | None  # one byte per pixel of pixels.rect, or None (no selection)


def read_source(document, node) -> Source:
    if node is None:
        raise UnsupportedLayer("select a paint layer to colorize")
    if node.type() != "paintlayer":
        raise UnsupportedLayer(f"Tinct colorizes paint layers; '{node.name()}' is a {node.type()}")
    dtype, order = wire_format(node.colorModel(), node.colorDepth())
    rect = Rect(0, 0, document.width(), document.height())
    mask = None
    selection = document.selection()
    if selection is not None and selection.width() > 0 and selection.height() > 0:
        rect = rect.intersect(
            Rect(selection.x(), selection.y(), selection.width(), selection.height())
        )
        if rect.empty:
            raise UnsupportedLayer("the selection lies outside the image")
        mask = bytes(selection.pixelData(rect.x, rect.y, rect.width, rect.height))
        if not mask.strip(b"\0"):
            raise UnsupportedLayer("the selection is empty")
    data = bytes(node.pixelData(rect.x, rect.y, rect.width, rect.height))
    return Source(Pixels(data, rect, dtype, order), mask)


def find_layer(document, name: str):
    """The first node called ``name`` (depth-first from the top), or None."""
    stack = list(reversed(document.rootNode().childNodes()))
    while stack:
        node = stack.pop()
        if node.name() == name:
            return node
        stack.extend(reversed(node.childNodes()))
    return None


def layer_names(document) -> list[str]:
    names, stack = [], list(document.rootNode().childNodes())
    while stack:
        node = stack.pop()
        if node.type() == "paintlayer":
            names.append(node.name())
        stack.extend(node.childNodes())
    return names


def read_hints(document, hint_node, source: Source) -> Pixels | None:
    """The hint layer over the source's region, in the source's dtype and order; None if blank."""
    if hint_node is None:
        return None
    if hint_node.type() != "paintlayer":
        raise UnsupportedLayer(f"the hint layer '{hint_node.name()}' must be a paint layer")
    dtype, order = wire_format(hint_node.colorModel(), hint_node.colorDepth())
    r = source.pixels.rect
    data = bytes(hint_node.pixelData(r.x, r.y, r.width, r.height))
    if alpha_is_empty(data, dtype):
        return None
    if dtype != source.pixels.dtype:
        data = to_order(data, dtype, order, "rgb")
        data = convert_depth(data, dtype, source.pixels.dtype)
        order = "rgb"
        dtype = source.pixels.dtype
    data = to_order(data, dtype, order, source.pixels.order)
    return Pixels(data, r, dtype, source.pixels.order)


def add_color_layer(document, source_node, data, source: Source, *, masked: bool = False):
    """A paint layer "Tinct color" in Color mode, filled with ``data``, directly above the source.

    Filled before it is added: Krita records the addition as one undo step
    (measured), so one Ctrl+Z removes the whole result. Later ``write_color``
    calls (the slider) add no undo steps.
    """
    layer = document.createNode(COLOR_LAYER_NAME, "paintlayer")
    if (layer.colorModel(), layer.colorDepth()) != (
        source_node.colorModel(),
        source_node.colorDepth(),
    ):
        layer.setColorSpace(
            source_node.colorModel(), source_node.colorDepth(), source_node.colorProfile()
        )
    layer.setBlendingMode(BLEND_MODE)
    write_color(document, layer, data, source, masked=masked, refresh=False)
    parent = source_node.parentNode() or document.rootNode()
    parent.addChildNode(layer, source_node)
    document.refreshProjection()
    return layer


def write_color(
    document, layer, data, source: Source, *, masked: bool = False, refresh: bool = True
) -> None:
    """Write a full-region color layer (masked to the selection unless already ``masked``)."""
    r = source.pixels.rect
    Pixels(data, r, source.pixels.dtype, source.pixels.order)  # size check
    if source.mask is not None and not masked:
        data = mask_alpha(data, source.pixels.dtype, source.mask)
    layer.setPixelData(bytes(data), r.x, r.y, r.width, r.height)
    if refresh:
        document.refreshProjection()
