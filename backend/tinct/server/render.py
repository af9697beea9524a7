"""The daemon's colour layer: full resolution, banded, straight from the received frame.

``tinct.color.compose`` does the arithmetic (the same that ``TinctPipeline.render``
uses); this module adds the wire side: the frame's dtype and channel order,
the output's dtype and order, and the source's alpha plane copied bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tinct import color
from tinct.color.compose import BAND_PIXELS, compose
from tinct.protocol.pixels import PixelFormat
from tinct.server.frames import NP_DTYPES, alpha_channel, color_channels, frame_array, opaque


def render_layer(
    pipe,
    source: object,
    fmt: PixelFormat,
    latents,
    scale: float,
    *,
    dtype: str | None = None,
    order: str | None = None,
    band_pixels: int = BAND_PIXELS,
    workers: int = 1,
    check: Callable[[], None] | None = None,
    reduce: int = 1,
    exact: bool = False,
) -> tuple[np.ndarray, PixelFormat]:
    """The color layer (RGBA, ``dtype`` and ``order`` = the source's by default) of a frame.

    ``workers`` threads render row bands at once; ``check`` runs before each
    band (e.g. to raise on cancel); ``reduce`` > 1 takes the cheaper preview decode
    (see ``TinctPipeline.chroma_at_work``); the model's colour comes from the decodes at
    the scale nodes around ``scale`` (``TinctPipeline.model_chroma``), or with ``exact``
    from a decode at ``scale`` itself.
    """
    dtype = dtype or fmt.dtype
    order = order or fmt.order
    H, W = fmt.height, fmt.width
    arr = frame_array(source, fmt)
    field = pipe.chroma_field(latents, scale, H, W, reduce, exact)
    out = np.empty((H, W, 4), NP_DTYPES[dtype])
    rgb_out = out[..., 2::-1] if order == "bgr" else out[..., :3]
    compose(
        color_channels(arr, fmt),
        field,
        rgb_out,
        band_pixels=band_pixels,
        workers=workers,
        check=check,
    )
    alpha = alpha_channel(arr, fmt)
    if alpha is None:
        out[..., 3] = opaque(dtype)
    elif dtype == fmt.dtype:
        out[..., 3] = alpha  # bit for bit
    else:
        out[..., 3] = color.from_float(color.to_float(alpha), NP_DTYPES[dtype])
    return out, PixelFormat.packed(W, H, 4, dtype, order)
