"""The result layer's name, the same in both plugins, from what the user asked for.

``result_name`` is the one function GIMP and Krita call: the prompt, ``+hints`` when
painted hints were sent, the reference, the colourfulness and the seed, in that order
(``layers.result_layer_name`` writes them). A reference is named by its layer, unless
that layer has a name a host gives by default ("Background": Krita's for an opened
file, GIMP's for a new image): then by its image, without the file's extension.
"""

from __future__ import annotations

from .colorize_request import ColorizeRequest
from .layers import result_layer_name

# Layer names that say nothing about the picture (compared case-insensitively).
GENERIC_LAYER_NAMES = frozenset(("background",))
IMAGE_EXTENSIONS = frozenset(
    ("png", "jpg", "jpeg", "tif", "tiff", "webp", "bmp", "gif", "kra", "xcf", "ora", "psd")
)


def image_stem(image: str) -> str:
    """An image's label without a known image file extension (``beach.jpg`` -> ``beach``)."""
    stem, dot, ext = image.rpartition(".")
    return stem if dot and stem and ext.lower() in IMAGE_EXTENSIONS else image


def reference_name(image: str | None, layer: str | None) -> str | None:
    """How a result names its reference: the layer's name, or its image's when the layer
    is called "Background" (or has no name); None without a reference."""
    if not layer and not image:
        return None
    if not layer or layer.strip().lower() in GENERIC_LAYER_NAMES:
        return image_stem(image) if image else layer
    return layer


def result_name(req: ColorizeRequest, scale: float, *, hints: bool, seed: int = 0) -> str:
    """The result layer's name for REQ at SCALE: ``Tinct — "blue sky" +hints ref "beach"
    x1.20 seed 7``. HINTS: painted hints were sent (a chosen but blank hint layer is no
    hints); SEED: the result's own seed, named unless 0 (the model's own colouring)."""
    reference = reference_name(req.reference_document, req.reference_layer)
    return result_layer_name(req.prompt, scale, reference=reference, hints=hints, seed=seed)
