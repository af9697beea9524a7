"""Full-resolution composition: the input's own luminance with the model's chroma.

The model sees ~0.25 MP; a layer may have 100 MP. Its a*b* are turned into a
guided filter's local linear model (a*b* = A * g + B with g = L*/100, fitted at
work resolution), and the coefficients are evaluated at full resolution band
by band, straight from the input pixels into the output buffer:

    Y    = luminance of the input (lookup tables for 8/16-bit input)
    a*b* = A(x, y) * L*(Y) / 100 + B(x, y)       (A, B bilinearly upsampled)
    RGB  = color.merge_linear(Y, a*b*)           (keeps Y exactly, in gamut)

``TinctPipeline.render`` and the daemon's ``render_layer`` both call
``compose``, so the one-shot and the banded layer are the same arithmetic.
Bands are independent: ``workers`` threads render them at once (numpy and
torch release the GIL).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from tinct import color

GUIDE_RADIUS = 2
GUIDE_EPS = 1e-3
BAND_PIXELS = 1 << 19  # ~0.5 M pixels per band: temporaries stay near the CPU caches
_LUMA_WEIGHTS = (0.2126729, 0.7151522, 0.0721750)  # rows of sRGB -> XYZ for Y


@lru_cache(maxsize=2)
def _luma_tables(levels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-channel tables: integer code -> weight * linear value (sums to Y)."""
    codes = np.arange(levels, dtype=np.float32) * np.float32(1.0 / (levels - 1))
    lin = color.srgb_to_linear(codes)
    return tuple(np.float32(w) * lin for w in _LUMA_WEIGHTS)  # type: ignore[return-value]


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Linear luminance Y (H, W) of sRGB pixels (H, W, 3) in u8, u16 or float (clipped)."""
    if rgb.dtype in (np.uint8, np.uint16):
        tables = _luma_tables(256 if rgb.dtype == np.uint8 else 65536)
        y = np.take(tables[0], rgb[..., 0])
        y += np.take(tables[1], rgb[..., 1])
        y += np.take(tables[2], rgb[..., 2])
        return y
    lin = color.srgb_to_linear(color.to_float(rgb))
    w = _LUMA_WEIGHTS
    return (
        lin[..., 0] * np.float32(w[0])
        + lin[..., 1] * np.float32(w[1])
        + lin[..., 2] * np.float32(w[2])
    )


def _lab_f(y: np.ndarray) -> np.ndarray:
    """CIELAB's f(Y) = (L* + 16) / 116."""
    return color._f(y)


@dataclass(frozen=True)
class PaintedPixels:
    """The pixels a user painted as hints, at the layer's full resolution, kept sparse:
    flat indices into (height, width) in ascending order, their a*b* and coverage. The
    precedence pastes the painted colour at the work size; the guided upsampling then
    smears a dot or a thin stroke, so the full-resolution render pastes them again."""

    height: int
    width: int
    index: np.ndarray  # (N,) int32 (int64 past 2**31 pixels), ascending
    ab: np.ndarray  # (N, 2) float32
    alpha: np.ndarray  # (N,) float32 in (0, 1]

    @classmethod
    def from_hints(cls, hints: np.ndarray | None) -> PaintedPixels | None:
        """From hints RGBA float32 (H, W, 4) (alpha > 0 where painted); None if none."""
        if hints is None:
            return None
        h, w = hints.shape[:2]
        alpha = np.asarray(hints[..., 3], np.float32).reshape(-1)
        index = np.flatnonzero(alpha > 0.0)
        if h * w < 2**31:  # 12 bytes a painted pixel instead of 16
            index = index.astype(np.int32)
        if index.size == 0:
            return None
        rgb = np.asarray(hints[..., :3], np.float32).reshape(-1, 3)[index]
        ab = color.rgb_to_lab(np.clip(rgb, 0.0, 1.0))[:, 1:]
        return cls(h, w, index, np.ascontiguousarray(ab, np.float32), alpha[index].copy())

    def paste(self, r0: int, r1: int, a: np.ndarray, b: np.ndarray) -> None:
        """Over rows r0:r1's a*, b* planes (rows, width), in place, by coverage."""
        lo, hi = np.searchsorted(self.index, (r0 * self.width, r1 * self.width))
        if hi <= lo:
            return
        rows, cols = np.divmod(self.index[lo:hi].astype(np.int64) - r0 * self.width, self.width)
        alpha = self.alpha[lo:hi]
        a[rows, cols] += alpha * (self.ab[lo:hi, 0] - a[rows, cols])
        b[rows, cols] += alpha * (self.ab[lo:hi, 1] - b[rows, cols])


class ChromaField:
    """The model's a*b* at work resolution, ready to evaluate at (height, width).

    When the layer is the work size itself, a*b* are used as they are;
    otherwise the guided filter's coefficients (4, h_low, w_low) are
    interpolated per band: along rows for the band's rows only, then along
    columns (columns first, once, for a layer narrower than the work size). Nothing here grows with the layer's height or width alone, so a
    1x5,000,000 strip costs what a square of the same pixel count does (a
    whole-height (4, height, w_low) table used to take 512 bytes per row).
    ``painted`` (optional) are the painted hint pixels at full resolution, pasted over
    the bands when the layer is that size (a preview of another size keeps the work-size
    paste only).
    """

    def __init__(
        self,
        ab_work: np.ndarray,
        lightness_work: np.ndarray,
        height: int,
        width: int,
        painted: PaintedPixels | None = None,
    ):
        self.height, self.width = height, width
        same = painted is not None and (painted.height, painted.width) == (height, width)
        self.painted = painted if same else None
        h_low, w_low = ab_work.shape[:2]
        self.direct = (h_low, w_low) == (height, width)
        if self.direct:
            self.ab = np.ascontiguousarray(ab_work, dtype=np.float32)
            return
        a, b = color.guided_coefficients(
            ab_work.astype(np.float32), lightness_work / 100.0, GUIDE_RADIUS, GUIDE_EPS
        )
        # (4, h_low, w_low): A_a, A_b, B_a, B_b
        coeffs = np.concatenate([a, b], axis=-1).transpose(2, 0, 1)
        # Narrower than the work size (a 1-pixel-wide strip): columns first, once, so a
        # band's row interpolation is (4, rows, width), never (4, rows, w_low).
        self.columns_done = width < w_low
        if self.columns_done:
            coeffs = torch.nn.functional.interpolate(
                torch.from_numpy(np.ascontiguousarray(coeffs, dtype=np.float32)),
                size=width,
                mode="linear",
                align_corners=False,
            ).numpy()
        self.coeffs = np.ascontiguousarray(coeffs, dtype=np.float32)

    def finite(self) -> bool:
        """False when the model's chroma holds NaN or infinity (e.g. from broken weights)."""
        return bool(np.isfinite(self.ab if self.direct else self.coeffs).all())

    def _rows(self, r0: int, r1: int) -> np.ndarray:
        """The coefficients linearly interpolated to rows r0:r1 of ``height`` (half-pixel
        centres, edges clamped: what torch's linear interpolation with
        align_corners=False gives), as (4, r1 - r0, w_low)."""
        h_low = self.coeffs.shape[1]
        pos = (np.arange(r0, r1, dtype=np.float64) + 0.5) * (h_low / self.height) - 0.5
        np.clip(pos, 0.0, h_low - 1, out=pos)
        i0 = pos.astype(np.int64)
        i1 = np.minimum(i0 + 1, h_low - 1)
        w1 = (pos - i0).astype(np.float32)[None, :, None]
        lo, hi = self.coeffs[:, i0], self.coeffs[:, i1]
        hi -= lo
        hi *= w1
        hi += lo
        return hi

    def at(self, r0: int, r1: int, guide: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """a*, b* planes of rows r0:r1, given those rows' guide (L* / 100)."""
        a, b = self._at(r0, r1, guide)
        if self.painted is not None:
            if self.direct:  # views of the kept field: paste into copies
                a, b = a.copy(), b.copy()
            self.painted.paste(r0, r1, a, b)
        return a, b

    def _at(self, r0: int, r1: int, guide: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.direct:
            return self.ab[r0:r1, :, 0], self.ab[r0:r1, :, 1]
        band = self._rows(r0, r1)  # (4, rows, width or w_low): A_a, A_b, B_a, B_b
        if not self.columns_done:
            band = torch.nn.functional.interpolate(
                torch.from_numpy(band), size=self.width, mode="linear", align_corners=False
            ).numpy()
        a = band[0] * guide
        a += band[2]
        b = band[1] * guide
        b += band[3]
        return a, b


def _encode(lin: np.ndarray, dtype: np.dtype) -> np.ndarray:
    srgb = color.linear_to_srgb(lin)
    if dtype == np.float32:
        return srgb
    top = np.float32(255.0 if dtype == np.uint8 else 65535.0)
    srgb *= top
    srgb += np.float32(0.5)
    np.clip(srgb, 0.0, top, out=srgb)
    return srgb.astype(dtype)


def compose_rows(rgb: np.ndarray, field: ChromaField, r0: int, out: np.ndarray) -> None:
    """Rows r0:r0+len(rgb) of the layer: input sRGB band (any supported dtype) -> ``out``
    (a (rows, W, 3) view in the output dtype, channel order already arranged)."""
    y = luminance(rgb)
    fy = _lab_f(y)
    guide = fy * np.float32(1.16) - np.float32(0.16)  # L* / 100
    a, b = field.at(r0, r0 + rgb.shape[0], guide)
    del guide
    for i, plane in enumerate(color.merge_linear(y, fy, a, b)):
        out[..., i] = _encode(plane, out.dtype)


def compose(
    rgb: np.ndarray,
    field: ChromaField,
    out: np.ndarray,
    *,
    band_pixels: int = BAND_PIXELS,
    workers: int = 1,
    check: Callable[[], None] | None = None,
) -> np.ndarray:
    """Fill ``out`` (H, W, 3; u8, u16 or f32; may be a strided view) from ``rgb`` (H, W, 3).

    ``check`` runs before each band (e.g. to raise on cancel); ``workers``
    threads render bands at once.
    """
    height = rgb.shape[0]
    band = max(1, band_pixels // max(1, rgb.shape[1]))

    def one(r0: int) -> None:
        if check is not None:
            check()
        r1 = min(height, r0 + band)
        compose_rows(rgb[r0:r1], field, r0, out[r0:r1])

    starts = range(0, height, band)
    if workers <= 1 or len(starts) == 1:
        for r0 in starts:
            one(r0)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tinct-band") as pool:
            for f in [pool.submit(one, r0) for r0 in starts]:
                f.result()  # re-raises a band's exception (e.g. a cancel)
    return out
