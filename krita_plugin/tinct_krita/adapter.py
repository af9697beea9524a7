"""The Krita adapter (host API edge): the only module that reads or writes a document's pixels.

Everything takes ``(document, node)`` explicitly (in kritarunner there is no
window, so no active document or node). Pixels become a plain ``Pixels``
value at once; the rest of the plugin never sees a Krita object.

Undo (measured in Krita 5.1 with a window): ``addChildNode`` is one undo step,
``setPixelData`` records none. So the color layer is filled before it is
added, the source is never touched, and one Ctrl+Z removes the result.

A Grayscale document is read as RGBA (R = G = B) and converted to RGBA at its own
depth only when the result arrives (``Document.setColorSpace``). Krita records
that conversion as an undo step of its own and its scripting API has no way to
group steps; the docker therefore follows a Ctrl+Z that removed such a result
with the second undo itself, so one Ctrl+Z restores Grayscale (docker.py,
``_undo_conversion``).

``Node.setBlendingMode`` on a layer of the document is an undo step of its own
(measured), so new layers get their mode (and opacity) in a throwaway 1x1 document and
join the real one as a clone (``_detached_layer``): one step, the addition.

A result is written in strips of ``WRITE_ROWS`` rows into that detached layer before it
joins the document (``fill_layer``), asking between strips whether to go on: Cancel
during "Writing the layer…" drops the layer, and the document never saw it (no layer,
no undo step). Adding the finished layer (``insert_result_layer``) is one Krita call
and the point of no return.

The hint layer is Normal at ``HINT_OPACITY``, not Color: a stroke in Color mode keeps
the photo's lightness, so on white or black (skies, paper, shadows) it did not show at
all. The hints are read from the layer's own pixels (``Node.pixelData``), never the
composite, so the mode and opacity change nothing that is sent; a hint layer made in
Color mode by an earlier version is read the same way and left as it is.

A rerun goes on top of the source's earlier results (``previous_results``): the
topmost Color layer wins, and one Ctrl+Z shows the earlier result again.

While the Colourfulness slider moves, the result layer may carry one filter mask
(``show_preview_mask``): Krita's "HSV Adjustment" in HSY mode, which scales the chroma
at constant luma (``tinct_protocol.preview.hsy_percent``). It joins and leaves the layer
by ``Node.setChildNodes`` (Krita's node graph directly), never ``addChildNode`` /
``remove``, which are undo steps (measured in Krita 5.1.5 with the History docker: the
mask's coming, its changes and its going record none this way); it goes once the exact
render is written (``drop_preview_mask``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .pixels import (
    GRAY_MODEL,
    ITEMSIZE,
    Pixels,
    alpha_is_empty,
    convert_depth,
    gray_to_rgba,
    mask_alpha,
    to_order,
    wire_format,
)
from .request import UserError
from .tinct_protocol.geometry import Rect
from .tinct_protocol.layers import HINT_LAYER_NAME, is_result_name

BLEND_MODE = "color"  # Krita's HSY "Color" mode (there is no LCh mode)
HINT_BLEND_MODE = "normal"  # strokes show on any background (Color mode: not on white)
HINT_OPACITY = 204  # of 255 (80 %): the painted colour near as painted, the photo under it
WRITE_ROWS = 64  # a result is written in strips of this many rows (Krita's tile height)
PREVIEW_MASK_NAME = "Tinct colourfulness preview"  # the slider's filter mask, as Layers shows it
# Krita's "HSV Adjustment" filter: "type" 3 is HSY (0 HSV, 1 HSL, 2 HSI, 4 YCbCr, whose
# Cb and Cr Krita centres on 0.5, so it cannot scale chroma: measured), and the
# compatibility mode scales the chroma by 1 + s / 100 for s > 0 too (without it, s > 0
# moves the chroma toward its maximum instead: measured)
HSY_SETTINGS = {"type": 3, "h": 0, "v": 0, "colorize": False, "compatibilityMode": True}


@dataclass
class Source:
    """What one colorize reads: the region's pixels and, with a selection, its mask."""

    pixels: Pixels
    mask: bytes | None  # one byte per pixel of pixels.rect, or None (no selection)
    gray: bool = False  # the document is Grayscale: converted to RGBA with the result


def read_source(document, node) -> Source:
    if node is None:
        raise UserError("select a paint layer to colorize")
    if node.type() != "paintlayer":
        raise UserError(f"Tinct colorizes paint layers; '{node.name()}' is a {node.type()}")
    dtype, order = wire_format(node.colorModel(), node.colorDepth())
    rect = Rect(0, 0, document.width(), document.height())
    mask = None
    selection = document.selection()
    if selection is not None and selection.width() > 0 and selection.height() > 0:
        rect = rect.intersect(
            Rect(selection.x(), selection.y(), selection.width(), selection.height())
        )
        if rect.empty:
            raise UserError("the selection lies outside the image")
        mask = bytes(selection.pixelData(rect.x, rect.y, rect.width, rect.height))
        if not mask.strip(b"\0"):
            raise UserError("the selection is empty")
    data = bytes(node.pixelData(rect.x, rect.y, rect.width, rect.height))
    gray = node.colorModel() == GRAY_MODEL
    if gray:
        if document.colorModel() != GRAY_MODEL:
            raise UserError(
                f"'{node.name()}' is a Grayscale layer in an RGB image; convert the layer "
                "with Layer > Convert > Convert Layer Color Space (RGB/Alpha)"
            )
        data = gray_to_rgba(data, dtype)
    return Source(Pixels(data, rect, dtype, order), mask, gray)


def convert_to_rgb(document, source: Source) -> str:
    """Convert a Grayscale document to RGBA at its own depth; returns what it did, for the
    status line ("" when the document was RGB already)."""
    if not source.gray:
        return ""
    depth = document.colorDepth()
    if not document.setColorSpace("RGBA", depth, ""):
        raise UserError(f"Krita could not convert the image to RGBA {depth}")
    document.waitForDone()
    return f"converted the image from Grayscale to RGB ({depth}); one Ctrl+Z undoes both"


def previous_results(document, source_node) -> list:
    """Tinct results sitting directly above the source (a rerun goes on top of them)."""
    parent = source_node.parentNode() or document.rootNode()
    siblings = parent.childNodes()  # bottom to top
    out = []
    i = next((k for k, n in enumerate(siblings) if same(n, source_node)), None)
    if i is None:
        return out
    for node in siblings[i + 1 :]:
        if node.type() != "paintlayer" or not is_result_name(node.name()):
            break
        out.append(node)
    return out


def find_layer(document, name: str):
    """The first node called ``name`` (depth-first from the top), or None."""
    stack = list(reversed(document.rootNode().childNodes()))
    while stack:
        node = stack.pop()
        if node.name() == name:
            return node
        stack.extend(reversed(node.childNodes()))
    return None


def _detached_layer(model: str, depth: str, profile: str, blend: str, opacity: int = 255):
    """A paint layer in mode BLEND at OPACITY (0-255) that belongs to no document (see
    the module docstring)."""
    from krita import Krita  # here, so the rest of this module imports without Krita

    scratch = Krita.instance().createDocument(1, 1, "tinct-scratch", model, depth, profile, 72.0)
    try:
        layer = scratch.createNode("tinct", "paintlayer")
        layer.setBlendingMode(blend)
        layer.setOpacity(opacity)
        return layer.clone()
    finally:
        scratch.close()


def same(a, b) -> bool:
    """The same layer (wrappers of one layer made at different times compare unequal)."""
    return a is not None and b is not None and a.uniqueId() == b.uniqueId()


def same_document(a, b) -> bool:
    """Whether two Document wrappers name one open image (libkis compares them by value)."""
    return a is not None and b is not None and a == b


def in_document(document, node):
    """NODE's wrapper from DOCUMENT's tree, or None when it is not there (undone, deleted)."""
    stack = list(document.rootNode().childNodes())
    while stack:
        n = stack.pop()
        if same(n, node):
            return n
        stack.extend(n.childNodes())
    return None


def nodes_by_id(document) -> dict:
    """Every node of DOCUMENT by its ``node_id`` (one walk of the tree)."""
    out = {}
    stack = list(document.rootNode().childNodes())
    while stack:
        n = stack.pop()
        out[node_id(n)] = n
        stack.extend(n.childNodes())
    return out


def is_open(document) -> bool:
    """Whether DOCUMENT is still open in Krita (a closed one's layers are left alone)."""
    from krita import Krita  # here, so the rest of this module imports without Krita

    return any(same_document(document, d) for d in Krita.instance().documents())


def contains(document, node) -> bool:
    return in_document(document, node) is not None


def hint_layer_for(document, source_node) -> tuple[object, str]:
    """The hint layer (an existing one named HINT_LAYER_NAME, as it is, else a new paint
    layer above the source and its results, Normal at HINT_OPACITY so strokes show on
    any background) and a note for the status line.

    Hints need color: a Grayscale image is converted to RGBA first (its own undo step).
    """
    note = ""
    if document.colorModel() == GRAY_MODEL:
        depth = document.colorDepth()
        if not document.setColorSpace("RGBA", depth, ""):
            raise UserError(f"Krita could not convert the image to RGBA {depth}")
        document.waitForDone()
        note = f" (The image was converted from Grayscale to RGB ({depth}) to hold colors.)"
    hint = find_layer(document, HINT_LAYER_NAME)
    if hint is None:
        hint = _detached_layer(
            source_node.colorModel(),
            source_node.colorDepth(),
            source_node.colorProfile(),
            HINT_BLEND_MODE,
            HINT_OPACITY,
        )
        above = (previous_results(document, source_node) or [source_node])[-1]
        (source_node.parentNode() or document.rootNode()).addChildNode(hint, above)
        hint = in_document(document, hint)
        hint.setName(HINT_LAYER_NAME)
    return hint, note


def paint_layers(document) -> list:
    """Every paint layer of DOCUMENT, groups included (depth-first from the top)."""
    nodes, stack = [], list(document.rootNode().childNodes())
    while stack:
        node = stack.pop()
        if node.type() == "paintlayer":
            nodes.append(node)
        stack.extend(node.childNodes())
    return nodes


def layer_names(document) -> list[str]:
    return [node.name() for node in paint_layers(document)]


def document_label(document) -> str:
    """A document as a user knows it: its title, else its file's name, else "Untitled"."""
    name = document.name() or document.fileName().replace("\\", "/").rsplit("/", 1)[-1]
    return name or "Untitled"


def node_id(node) -> str:
    return node.uniqueId().toString()


def find_by_id(documents, uid: str):
    """(document, node) of the paint layer whose ``node_id`` is UID, or (None, None)."""
    for document in documents:
        for node in paint_layers(document):
            if node_id(node) == uid:
                return document, node
    return None, None


def read_reference(document, node) -> Pixels:
    """A reference photo: the whole layer over its document's extent (any size, any
    document), in the layer's own wire format; a Grayscale layer is read as RGBA with
    R = G = B (the daemon then refuses it as gray, with a message for the user)."""
    if node.type() != "paintlayer":
        raise UserError(f"the reference '{node.name()}' must be a paint layer")
    dtype, order = wire_format(node.colorModel(), node.colorDepth())
    rect = Rect(0, 0, document.width(), document.height())
    data = bytes(node.pixelData(rect.x, rect.y, rect.width, rect.height))
    if node.colorModel() == GRAY_MODEL:
        data = gray_to_rgba(data, dtype)
    return Pixels(data, rect, dtype, order)


def read_hints(document, hint_node, source: Source) -> Pixels | None:
    """The hint layer over the source's region, in the source's dtype and order; None if blank."""
    if hint_node is None:
        return None
    if hint_node.type() != "paintlayer":
        raise UserError(f"the hint layer '{hint_node.name()}' must be a paint layer")
    if hint_node.colorModel() == GRAY_MODEL:
        return None  # a Grayscale image holds no colour to follow
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


def new_result_layer(source_node, source: Source):
    """An empty paint layer in Color mode for a result, in no document yet: the source's
    colour space, or RGBA at its depth (the default profile, as ``convert_to_rgb`` gives)
    for a Grayscale source, whose image is converted only once the layer is written."""
    if source.gray:
        return _detached_layer("RGBA", source_node.colorDepth(), "", BLEND_MODE)
    return _detached_layer(
        source_node.colorModel(), source_node.colorDepth(), source_node.colorProfile(), BLEND_MODE
    )


def fill_layer(layer, data, source: Source, *, masked: bool = False, between=None) -> bool:
    """Write a full-region result into LAYER (masked to the selection unless already
    ``masked``) in strips of WRITE_ROWS rows; BETWEEN, called after each strip but the
    last, returns True to stop there. True when the whole layer was written."""
    r = source.pixels.rect
    Pixels(data, r, source.pixels.dtype, source.pixels.order)  # size check
    if source.mask is not None and not masked:
        data = mask_alpha(data, source.pixels.dtype, source.mask)
    data = memoryview(data)
    row = r.width * 4 * ITEMSIZE[source.pixels.dtype]
    for y in range(0, r.height, WRITE_ROWS):
        n = min(WRITE_ROWS, r.height - y)
        layer.setPixelData(bytes(data[y * row : (y + n) * row]), r.x, r.y + y, r.width, n)
        if between is not None and y + n < r.height and between():
            return False
    return True


def insert_result_layer(document, source_node, layer, *, name: str, above=None):
    """Add the written LAYER as NAME above the source and its earlier results (or right
    above ``above``: a run's previous variation, which Krita's node list may not show
    yet when results come back to back). One undo step (measured): one Ctrl+Z removes
    the whole result; later ``write_color`` calls (the slider) add none."""
    if above is None:
        above = (previous_results(document, source_node) or [source_node])[-1]
    parent = source_node.parentNode() or document.rootNode()
    parent.addChildNode(layer, above)
    layer = in_document(document, layer)  # the wrapper that knows its document
    layer.setName(name)  # a rename records no undo step (measured)
    document.refreshProjection()
    return layer


def add_color_layer(
    document, source_node, data, source: Source, *, name: str, masked: bool = False, above=None
):
    """A paint layer NAME in Color mode, filled with ``data``, above the source (in one go:
    ``new_result_layer``, ``fill_layer``, ``insert_result_layer``)."""
    layer = new_result_layer(source_node, source)
    fill_layer(layer, data, source, masked=masked)
    return insert_result_layer(document, source_node, layer, name=name, above=above)


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


def _hsy_filter(percent: int):
    """Krita's "HSV Adjustment" set to scale chroma by 1 + PERCENT / 100 (HSY_SETTINGS)."""
    from krita import Krita  # here, so the rest of this module imports without Krita

    found = Krita.instance().filter("hsvadjustment")
    config = found.configuration()
    for key, value in {**HSY_SETTINGS, "s": int(percent)}.items():
        config.setProperty(key, value)
    found.setConfiguration(config)
    return found


def show_preview_mask(document, layer, mask, percent: int, *, refresh: bool = True):
    """LAYER shown with its chroma times 1 + PERCENT / 100 (-100..100) by the slider's
    filter mask: MASK changed, or a new one put on LAYER when MASK is None; the projection
    refreshed (``setFilter`` marks nothing for Krita to redraw) unless not REFRESH (a mask
    put on at 0 changes nothing). Returns the mask, or None (nothing changed) when LAYER
    carries children of its own (``setChildNodes`` would have to take them off and put
    them back)."""
    if mask is None:
        if layer.childNodes():
            return None
        active = document.activeNode()
        mask = document.createFilterMask(PREVIEW_MASK_NAME, _hsy_filter(percent), layer)
        layer.setChildNodes([mask])  # not addChildNode: no undo step (module docstring)
        # Krita's layer model learns of the mask through a queued signal; a mask taken
        # off before that crashes Krita (measured: kritarunner, no event loop between)
        from PyQt5.QtCore import QCoreApplication, QEventLoop

        QCoreApplication.processEvents(QEventLoop.ExcludeUserInputEvents)
        # ... and makes it the active node (seen in the Layers docker): the user's stays
        if active is not None and not same(document.activeNode(), active):
            document.setActiveNode(active)
    else:
        mask.setFilter(_hsy_filter(percent))
    if refresh:
        document.refreshProjection()
    return mask


def drop_preview_mask(document, layer, mask, *, refresh: bool = True) -> None:
    """Take the slider's MASK off LAYER (in the document or not: undone meanwhile); a
    mask already gone is left. No undo step, unless other children joined LAYER since
    (``setChildNodes`` cannot take one child of several off): then ``remove``, one step."""
    if mask is None:
        return
    children = layer.childNodes()
    ours = [c for c in children if same(c, mask)]
    if not ours:
        return
    if len(children) == 1:
        layer.setChildNodes([])
    else:
        ours[0].remove()
    if refresh:
        document.refreshProjection()


def has_preview_mask(layer) -> bool:
    """Whether LAYER carries a filter mask named PREVIEW_MASK_NAME (for scripts and tests)."""
    return any(
        c.type() == "filtermask" and c.name() == PREVIEW_MASK_NAME for c in layer.childNodes()
    )
