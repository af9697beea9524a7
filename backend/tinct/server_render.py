"""Full-resolution rendering in row bands, so a 24 MP layer never needs full-size float copies.

Computes exactly what ``TinctPipeline.render`` computes — the input's own L*,
the model's a*b* at work resolution upsampled by the guided filter, merged by
``color.merge_luma`` — but band by band, straight from the received frame into
the reply's buffer. The guided filter's coefficients are smooth low-resolution
fields: upsampled along rows once (H x w_low, small), then along columns per band.
Bilinear resizing is separable, so this is the same arithmetic as the one-shot
version; tests/test_server_render.py checks the two agree.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from tinct import color
from tinct.protocol.pixels import PixelFormat
from tinct.server_pixels import NP_DTYPES, alpha_channel, color_channels, frame_array, opaque

# Must match TinctPipeline.render's guided filter (checked by the equality test).
GUIDE_RADIUS = 2
GUIDE_EPS = 1e-3
BAND_PIXELS = 1 << 20  # ~1 M pixels per band: ~50 MB of temporaries
SMALL_PIXELS = 2 << 20  # up to ~2 MP the full-size temporaries are cheap: no bands


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
) -> tuple[np.ndarray, PixelFormat]:
    """The color layer (RGBA, ``dtype`` and ``order`` = the source's by default) of a frame.

    Bands are independent, so ``workers`` threads render them at once (numpy
    releases the GIL). ``check`` runs before each band (e.g. to raise on cancel).
    """
    dtype = dtype or fmt.dtype
    order = order or fmt.order
    H, W = fmt.height, fmt.width
    arr = frame_array(source, fmt)
    if H * W <= SMALL_PIXELS:  # previews, rescale: one call of the pipeline's own render is faster
        if check is not None:
            check()
        rgb = pipe.render(color.to_float(color_channels(arr, fmt)), latents, scale)
        return _assemble(rgb, alpha_channel(arr, fmt), fmt.dtype, dtype, order)
    ab_work = pipe.chroma_at_work(latents, scale)
    h_low, w_low = ab_work.shape[:2]
    upsample = (h_low, w_low) != (H, W)
    a_rows = b_rows = None
    if upsample:
        # Coefficients of the guided filter's local linear model chroma = a * guide + b,
        # upsampled along rows only: guided_upsample with a constant guide returns b (guide 0)
        # and a + b (guide 1), resized to (H, w_low) -- a few MB even for 24 MP.
        guide_low = latents.work_lightness / 100.0
        zeros = np.zeros((H, w_low), np.float32)
        b_rows = color.guided_upsample(
            ab_work, guide_low, zeros, radius=GUIDE_RADIUS, eps=GUIDE_EPS
        )
        a_rows = (
            color.guided_upsample(
                ab_work, guide_low, zeros + 1.0, radius=GUIDE_RADIUS, eps=GUIDE_EPS
            )
            - b_rows
        )
        del zeros
    out = np.empty((H, W, 4), NP_DTYPES[dtype])
    alpha = alpha_channel(arr, fmt)
    band = max(1, band_pixels // max(1, W))

    def render_band(r0: int) -> None:
        if check is not None:
            check()
        r1 = min(H, r0 + band)
        lightness = color.luminance_lstar(color.to_float(color_channels(arr[r0:r1], fmt)))
        if upsample:
            a = color.resize_linear(a_rows[r0:r1], r1 - r0, W)
            b = color.resize_linear(b_rows[r0:r1], r1 - r0, W)
            ab = a * (lightness / 100.0)[..., None] + b
            del a, b
        else:
            ab = ab_work[r0:r1]
        rgb = color.merge_luma(lightness, ab)
        q = color.from_float(rgb, NP_DTYPES[dtype])
        out[r0:r1, :, :3] = q[..., ::-1] if order == "bgr" else q
        if alpha is None:
            out[r0:r1, :, 3] = opaque(dtype)
        elif dtype == fmt.dtype:
            out[r0:r1, :, 3] = alpha[r0:r1]  # bit for bit
        else:
            out[r0:r1, :, 3] = color.from_float(color.to_float(alpha[r0:r1]), NP_DTYPES[dtype])

    starts = range(0, H, band)
    if workers <= 1 or len(starts) == 1:
        for r0 in starts:
            render_band(r0)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tinct-band") as pool:
            for f in [pool.submit(render_band, r0) for r0 in starts]:
                f.result()  # re-raises a band's exception (e.g. JobCancelled)
    return out, PixelFormat.packed(W, H, 4, dtype, order)


def _assemble(
    rgb: np.ndarray, alpha: np.ndarray | None, src_dtype: str, dtype: str, order: str
) -> tuple[np.ndarray, PixelFormat]:
    """Float RGB + the source's alpha plane -> an RGBA layer in ``dtype`` and ``order``."""
    H, W = rgb.shape[:2]
    out = np.empty((H, W, 4), NP_DTYPES[dtype])
    q = color.from_float(rgb, NP_DTYPES[dtype])
    out[..., :3] = q[..., ::-1] if order == "bgr" else q
    if alpha is None:
        out[..., 3] = opaque(dtype)
    elif dtype == src_dtype:
        out[..., 3] = alpha
    else:
        out[..., 3] = color.from_float(color.to_float(alpha), NP_DTYPES[dtype])
    return out, PixelFormat.packed(W, H, 4, dtype, order)
