"""The slider's live preview, the same in both plugins: how big a render is asked for
while the knob moves, and how it is brought back to the layer's size.

While a Colourfulness slider moves, a plugin asks the daemon for the job's colour layer
at ``preview_size`` (a ``rescale`` of at most ``PREVIEW_SIDE`` pixels a side, not the
full-resolution ``apply``), blows it up to the layer with ``upscale_nearest`` and puts
the full result's alpha (the same at every colourfulness) back with ``copy_alpha``;
once the knob rests, the layer gets the full-resolution render. Standard library only:
both passes work on whole rows with bytes operations, never a Python loop per pixel.

Where a host can, it previews instead by a colour filter over the layer that holds the
full-resolution render at HELD (``filter_preview_applies``): no daemon render, no layer
write per move. GIMP scales CIE Lab a*b* (``gegl:saturation``); Krita has no such
filter, and uses its "HSV Adjustment" in HSY mode as a filter mask, whose ``s`` is an
integer percent (``hsy_percent``).
"""

from __future__ import annotations

from .constants import DTYPES
from .geometry import fit_size

PREVIEW_SIDE = 384  # longest side of a slider preview the daemon renders
# Up to this many pixels a drag renders the layer at full resolution (apply): what is
# seen while dragging is exactly what stays; above, a small preview.
FULL_PREVIEW_PIXELS = 1_000_000
# Krita's "HSV Adjustment" in HSY mode (compatibility mode) multiplies the chroma by
# 1 + s / 100 at constant hue and luma, s in -100..100: every R'G'B' channel goes to
# Y' + (1 + s / 100) (channel - Y'), clipped (checked in Krita 5.1.5 against that model,
# benchmarks/bench_krita_mask.py). So the mask reaches ratios 0..2 in 1 % steps.
HSY_PERCENT_MAX = 100


def preview_size(width: int, height: int) -> tuple[int, int] | None:
    """The size to ask the daemon for while the slider moves over a WIDTHxHEIGHT layer,
    or None when the layer is small enough to render at full resolution each time."""
    if width * height <= FULL_PREVIEW_PIXELS:
        return None
    return fit_size(width, height, PREVIEW_SIDE)


def filter_preview_applies(
    width: int, height: int, held: float, *, hints: bool, reference: bool
) -> bool:
    """Whether a slider move over a WIDTHxHEIGHT result held at HELD may be shown by a
    colour filter over the layer (GIMP's saturation filter, Krita's filter mask): the
    layer is over ``FULL_PREVIEW_PIXELS`` (up to that every move is rendered in full,
    ``preview_size``), HELD is not 0 (the ratio's divisor), and the run's colour follows
    the slider throughout (no HINTS or REFERENCE, whose colour the slider leaves as it
    is: ``tinct.color.precedence``)."""
    return preview_size(width, height) is not None and held != 0 and not hints and not reference


def hsy_percent(scale: float, held: float) -> int | None:
    """Krita's HSY ``s`` (integer percent) that shows SCALE over a layer held at HELD
    (chroma times SCALE / HELD, rounded to 1 %), or None where the ratio is outside the
    filter's reach (0..2) or HELD is 0."""
    if held == 0:
        return None
    percent = round(100.0 * (scale / held - 1.0))
    return percent if -HSY_PERCENT_MAX <= percent <= HSY_PERCENT_MAX else None


def upscale_nearest(
    data: bytes | bytearray, src_w: int, src_h: int, dst_w: int, dst_h: int, pixel_bytes: int
) -> bytearray:
    """Nearest-neighbour resize of packed pixels (the live slider preview).

    Each distinct source row is expanded once; output rows are references to
    those, so a 512-pixel preview becomes a 6000x4000 layer in well under a second.
    """
    if len(data) != src_w * src_h * pixel_bytes:
        raise ValueError(
            f"preview is {len(data)} bytes; {src_w}x{src_h} x {pixel_bytes} needs "
            f"{src_w * src_h * pixel_bytes}"
        )
    counts = [0] * src_w
    for x in range(dst_w):
        counts[min(src_w - 1, x * src_w // dst_w)] += 1
    mv = memoryview(bytes(data))
    rows: dict[int, bytes] = {}
    out_rows = []
    row_len = src_w * pixel_bytes
    for y in range(dst_h):
        sy = min(src_h - 1, y * src_h // dst_h)
        row = rows.get(sy)
        if row is None:
            base = sy * row_len
            row = b"".join(
                mv[base + i * pixel_bytes : base + (i + 1) * pixel_bytes].tobytes() * c
                for i, c in enumerate(counts)
                if c
            )
            rows[sy] = row
        out_rows.append(row)
    return bytearray(b"".join(out_rows))


def copy_alpha(dst: bytearray, src: bytes | bytearray, dtype: str) -> bytearray:
    """Put ``src``'s alpha channel into ``dst`` (same size and dtype, RGBA), in place."""
    if len(dst) != len(src):
        raise ValueError(f"copy_alpha: {len(dst)} and {len(src)} bytes differ")
    size = DTYPES[dtype]
    for k in range(size):
        dst[3 * size + k :: 4 * size] = src[3 * size + k :: 4 * size]
    return dst
