"""Colour science for Tinct: sRGB, CIELAB and YCbCr, the luma/chroma split,
resizing and edge-aware (guided) chroma upsampling.

Everything works on float32 numpy arrays of shape (H, W, C) with sRGB values
in [0, 1]. `to_float`/`from_float` convert from and to 8-bit, 16-bit and float
pixel data; alpha is never touched here, callers carry it alongside.

The package's submodules build on these functions (``from tinct import color``
stays the one name for them):

- ``hints``: edge-aware propagation of colour hints (painted or matched);
- ``reference``: colour from a reference photo, matched by lightness and texture;
- ``precedence``: the composition policy, the order in which the model, prior,
  prompt, hints, reference and painted pixels combine at the work size;
- ``compose``: the input's own luminance with the model's chroma at full resolution;
- ``prompt_words`` and ``prompt_regions``: a prompt's colour words, placed on the
  things they name;
- ``vocabulary``: the one table of colour words (the parser's and training's);
- ``regions``: the one sky finder (prompt placing's and training captions').

None of it knows of the pipeline, the daemon, the protocol or the CLI
(import-linter contracts in pyproject.toml).
"""

from __future__ import annotations

import numpy as np

# D65 reference white and the sRGB <-> XYZ matrices (IEC 61966-2-1).
_WHITE = np.array([0.95047, 1.0, 1.08883], dtype=np.float32)
_RGB2XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ],
    dtype=np.float32,
)
_XYZ2RGB = np.linalg.inv(_RGB2XYZ.astype(np.float64)).astype(np.float32)
_EPS = 216.0 / 24389.0
_KAPPA = 24389.0 / 27.0

SUPPORTED_DTYPES = (np.uint8, np.uint16, np.float32)


# ---------------------------------------------------------------- dtypes ---


def to_float(pixels: np.ndarray) -> np.ndarray:
    """u8, u16 or f32 pixels -> float32 in [0, 1] (floats are clipped)."""
    if pixels.dtype == np.uint8:
        return pixels.astype(np.float32) * np.float32(1.0 / 255.0)
    if pixels.dtype == np.uint16:
        return pixels.astype(np.float32) * np.float32(1.0 / 65535.0)
    if pixels.dtype in (np.float32, np.float64, np.float16):
        return np.clip(pixels.astype(np.float32, copy=False), 0.0, 1.0)
    raise ValueError(f"unsupported pixel dtype {pixels.dtype}; expected uint8, uint16 or float32")


def from_float(values: np.ndarray, dtype: type | np.dtype) -> np.ndarray:
    """float pixels in [0, 1] -> `dtype` (uint8, uint16 or float32), rounded."""
    dtype = np.dtype(dtype)
    values = np.clip(values, 0.0, 1.0)
    if dtype == np.uint8:
        return (values * 255.0 + 0.5).astype(np.uint8)
    if dtype == np.uint16:
        return (values * 65535.0 + 0.5).astype(np.uint16)
    if dtype == np.float32:
        return values.astype(np.float32)
    raise ValueError(f"unsupported output dtype {dtype}; expected uint8, uint16 or float32")


def split_alpha(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(H, W), (H, W, 1|2|3|4) -> RGB (H, W, 3) and alpha (H, W) or None."""
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if pixels.ndim != 3 or pixels.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"expected an image of shape (H, W[, 1-4]), got {pixels.shape}")
    channels = pixels.shape[2]
    alpha = pixels[..., channels - 1] if channels in (2, 4) else None
    color = pixels[..., :3] if channels >= 3 else np.repeat(pixels[..., :1], 3, axis=2)
    return color, alpha


# ------------------------------------------------------- transfer curves ---


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    """sRGB-encoded values in [0, 1] -> linear light (IEC 61966-2-1), float32, same shape."""
    rgb = np.asarray(rgb, dtype=np.float32)
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(lin: np.ndarray) -> np.ndarray:
    """Linear light (negative values clipped to 0) -> sRGB-encoded values, float32, same shape."""
    lin = np.clip(np.asarray(lin, dtype=np.float32), 0.0, None)
    return np.where(lin <= 0.0031308, lin * 12.92, 1.055 * np.power(lin, 1.0 / 2.4) - 0.055).astype(
        np.float32
    )


# ------------------------------------------------------------------ Lab ---


def _f(t: np.ndarray) -> np.ndarray:
    return np.where(t > _EPS, np.cbrt(t), (_KAPPA * t + 16.0) / 116.0).astype(np.float32)


def _f_inv(f: np.ndarray) -> np.ndarray:
    f3 = f * f * f
    return np.where(f3 > _EPS, f3, (116.0 * f - 16.0) / _KAPPA).astype(np.float32)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] (..., 3) -> CIELAB (D65): L* in [0, 100], a*, b* ~ [-128, 127]."""
    xyz = srgb_to_linear(rgb) @ (_RGB2XYZ / _WHITE[:, None]).T
    f = _f(xyz)
    lab = np.empty_like(f)
    lab[..., 0] = 116.0 * f[..., 1] - 16.0
    lab[..., 1] = 500.0 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200.0 * (f[..., 1] - f[..., 2])
    return lab


def lab_to_linear(lab: np.ndarray) -> np.ndarray:
    """CIELAB -> linear RGB, unclipped (values outside [0, 1] are out of gamut)."""
    lab = np.asarray(lab, dtype=np.float32)
    fy = (lab[..., 0] + 16.0) / 116.0
    f = np.stack([fy + lab[..., 1] / 500.0, fy, fy - lab[..., 2] / 200.0], axis=-1)
    xyz = _f_inv(f) * _WHITE
    return xyz @ _XYZ2RGB.T


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """CIELAB -> sRGB in [0, 1] (clipped; see `merge_luma` for gamut mapping)."""
    return np.clip(linear_to_srgb(lab_to_linear(lab)), 0.0, 1.0)


def luminance_lstar(rgb: np.ndarray) -> np.ndarray:
    """L* of sRGB pixels, cheaper than a full Lab conversion."""
    lin = srgb_to_linear(rgb)
    y = lin[..., 0] * 0.2126729 + lin[..., 1] * 0.7151522 + lin[..., 2] * 0.0721750
    return 116.0 * _f(y) - 16.0


def gray(rgb: np.ndarray) -> np.ndarray:
    """Neutral gray with the same L* as `rgb`, as 3-channel sRGB."""
    y = _f_inv((luminance_lstar(rgb) + 16.0) / 116.0)
    return np.repeat(linear_to_srgb(y)[..., None], 3, axis=-1)


# ---------------------------------------------------------------- YCbCr ---


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] -> full-range BT.601 Y'CbCr with Cb, Cr centred on 0."""
    m = np.array(
        [[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]],
        dtype=np.float32,
    )
    return np.asarray(rgb, dtype=np.float32) @ m.T


def ycbcr_to_rgb(ycc: np.ndarray) -> np.ndarray:
    """Full-range BT.601 Y'CbCr (Cb, Cr centred on 0) -> sRGB; the inverse of `rgb_to_ycbcr`."""
    m = np.array(
        [[1.0, 0.0, 1.402], [1.0, -0.344136, -0.714136], [1.0, 1.772, 0.0]], dtype=np.float32
    )
    return np.asarray(ycc, dtype=np.float32) @ m.T


# ----------------------------------------------------------- luma merge ---


def merge_linear(
    y: np.ndarray, fy: np.ndarray, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linear R, G, B planes with luminance exactly `y` and chroma a*, b*, in gamut.

    y is linear luminance (Y, white = 1) and fy = f(y) its CIELAB companion
    ((L* + 16) / 116). Where the colour falls outside sRGB it is moved toward
    the neutral of the same luminance along a straight line in linear RGB, by
    the largest factor that fits (closed form, per pixel): luminance is linear
    in linear RGB, so Y, hence L*, is kept exactly -- chroma is what we invent,
    lightness is the user's.
    """
    x = _f_inv(fy + a * np.float32(1.0 / 500.0))
    x *= _WHITE[0]
    z = _f_inv(fy - b * np.float32(1.0 / 200.0))
    z *= _WHITE[2]
    m = _XYZ2RGB
    planes = [m[i, 0] * x + m[i, 1] * y + m[i, 2] * z for i in range(3)]
    t = np.ones_like(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        for c in planes:
            c -= y  # offset from the neutral of the same luminance
            # room to the gamut wall the offset points at: 1 - y above, -y below
            room = np.subtract(c > 0, y, dtype=np.float32)
            # A channel exactly at the neutral (offset +0.0) sets no limit: without `where`
            # its -y / +0.0 = -inf turned the whole pixel gray (isolated gray pixels, about
            # one in a million; fmin also skips the 0/0 of black pixels).
            np.fmin(t, room / c, out=t, where=c != 0)
    np.maximum(t, 0.0, out=t)
    for c in planes:
        c *= t
        c += y
        np.clip(c, 0.0, 1.0, out=c)
    return planes[0], planes[1], planes[2]


def merge_luma(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """Pair L* (H, W) with chroma a*b* (H, W, 2) and return sRGB in [0, 1].

    Out-of-gamut pairs lose chroma, never lightness (see `merge_linear`).
    """
    fy = (np.asarray(lightness, dtype=np.float32) + np.float32(16.0)) * np.float32(1.0 / 116.0)
    y = _f_inv(fy)
    planes = merge_linear(y, fy, ab[..., 0], ab[..., 1])
    return linear_to_srgb(np.stack(planes, axis=-1))


# ------------------------------------------------------------- resizing ---


def _linear_weights(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs and weights for half-pixel-centred linear interpolation."""
    pos = (np.arange(n_out, dtype=np.float32) + 0.5) * (n_in / n_out) - 0.5
    pos = np.clip(pos, 0.0, n_in - 1)
    i0 = np.floor(pos).astype(np.int64)
    i1 = np.minimum(i0 + 1, n_in - 1)
    w = (pos - i0).astype(np.float32)
    return i0, i1, w


def resize_linear(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize of (h, w[, c]) float32 to (height, width[, c])."""
    r0, r1, rw = _linear_weights(height, img.shape[0])
    rows = img[r0] + (img[r1] - img[r0]) * (rw[:, None, None] if img.ndim == 3 else rw[:, None])
    c0, c1, cw = _linear_weights(width, img.shape[1])
    cw = cw[None, :, None] if img.ndim == 3 else cw[None, :]
    return rows[:, c0] + (rows[:, c1] - rows[:, c0]) * cw


def resize_area(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """Downscale by box averaging (exact for integer factors), for guides and inputs."""
    from PIL import Image

    if img.ndim == 2:
        chans = [img]
    else:
        chans = [img[..., c] for c in range(img.shape[2])]
    out = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(c, dtype=np.float32), mode="F").resize(
                (width, height), Image.Resampling.BOX if min(height, width) > 0 else 0
            ),
            dtype=np.float32,
        )
        for c in chans
    ]
    return out[0] if img.ndim == 2 else np.stack(out, axis=-1)


def resize_area_premultiplied(
    values: np.ndarray, alpha: np.ndarray, height: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Downscale (h, w, C) values that only count where alpha (h, w) says, box-averaged
    with premultiplied alpha: painted colours do not fade toward the unpainted pixels'
    values. Returns (values, alpha) at (height, width); values are 0 where alpha is 0."""
    small_alpha = resize_area(alpha, height, width)
    premult = resize_area(values * alpha[..., None], height, width)
    return premult / np.maximum(small_alpha, 1e-6)[..., None], small_alpha


def local_std(values: np.ndarray, size: int, mode: str = "reflect") -> np.ndarray:
    """Standard deviation of a 2-D array over size x size windows (scipy's edge
    `mode`), in the input's dtype: the texture measure of hints, reference
    matching and prompt placing."""
    from scipy.ndimage import uniform_filter

    mean = uniform_filter(values, size, mode=mode)
    var = uniform_filter(values * values, size, mode=mode) - mean * mean
    return np.sqrt(np.maximum(var, 0.0))


def _box(img: np.ndarray, r: int) -> np.ndarray:
    """Mean over a (2r+1)^2 window, edges handled by normalising the count."""
    from scipy.ndimage import uniform_filter

    size = (2 * r + 1, 2 * r + 1) + ((1,) if img.ndim == 3 else ())
    return uniform_filter(img, size=size, mode="nearest")


def guided_coefficients(
    chroma: np.ndarray, guide: np.ndarray, radius: int = 2, eps: float = 1e-3
) -> tuple[np.ndarray, np.ndarray]:
    """Fast guided filter (He & Sun 2015): the smoothed local linear model
    chroma ~ a * guide + b, fitted on (h, w, C) chroma and an (h, w) guide."""
    g = guide.astype(np.float32)[..., None]
    mean_g = _box(g, radius)
    mean_c = _box(chroma, radius)
    cov = _box(g * chroma, radius) - mean_g * mean_c
    var = _box(g * g, radius) - mean_g * mean_g
    a = cov / (var + eps)
    b = mean_c - a * mean_g
    return _box(a, radius), _box(b, radius)


def guided_upsample(
    chroma: np.ndarray,
    guide_low: np.ndarray,
    guide_full: np.ndarray,
    radius: int = 2,
    eps: float = 1e-3,
) -> np.ndarray:
    """The guided filter used as an upsampler.

    chroma (h, w, C) and guide_low (h, w) live at model resolution; guide_full
    (H, W) is the full-resolution luma. The local linear model is fitted at low
    resolution, its coefficients are upsampled bilinearly and applied to the
    full-resolution guide, so colour edges snap to luma edges. (tinct.color.compose
    does the same band by band for big layers.)
    """
    a, b = guided_coefficients(chroma, guide_low, radius, eps)
    height, width = guide_full.shape
    coeffs = resize_linear(np.concatenate([a, b], axis=-1), height, width)
    c = chroma.shape[2]
    return coeffs[..., :c] * guide_full[..., None] + coeffs[..., c:]


# -------------------------------------------------------------- metrics ---


def colorfulness(rgb: np.ndarray) -> float:
    """Hasler & Suesstrunk (2003) colourfulness of sRGB in [0, 1], on a 0-255 scale."""
    r, g, b = (rgb[..., i].astype(np.float64) * 255.0 for i in range(3))
    rg = r - g
    yb = 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
