from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tinct import color

unit = st.floats(0.0, 1.0, width=32)
# Lightness is kept exactly up to float32 rounding: merge_luma and compose reach 2.3e-5 L*
# on random inputs and every out-of-gamut a*b* corner (measured for issue 28).
LIGHTNESS_KEPT = 1e-3


def test_lab_round_trip_and_known_values():
    rgb = np.random.default_rng(0).random((32, 32, 3), dtype=np.float32)
    assert np.abs(color.lab_to_rgb(color.rgb_to_lab(rgb)) - rgb).max() < 1e-4
    white = color.rgb_to_lab(np.ones((1, 1, 3), np.float32))[0, 0]
    assert white == pytest.approx([100.0, 0.0, 0.0], abs=0.05)
    red = color.rgb_to_lab(np.array([[[1.0, 0.0, 0.0]]], np.float32))[0, 0]
    assert red == pytest.approx([53.24, 80.09, 67.20], abs=0.1)  # CIE reference for sRGB red


def test_luminance_matches_lab_and_gray_is_neutral():
    rgb = np.random.default_rng(1).random((16, 16, 3), dtype=np.float32)
    assert np.abs(color.luminance_lstar(rgb) - color.rgb_to_lab(rgb)[..., 0]).max() < 1e-3
    g = color.gray(rgb)
    lab = color.rgb_to_lab(g)
    assert np.abs(lab[..., 1:]).max() < 0.05
    assert np.abs(lab[..., 0] - color.luminance_lstar(rgb)).max() < 0.01


def test_ycbcr_round_trip():
    rgb = np.random.default_rng(2).random((8, 8, 3), dtype=np.float32)
    assert np.abs(color.ycbcr_to_rgb(color.rgb_to_ycbcr(rgb)) - rgb).max() < 1e-5


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_dtype_round_trip(dtype):
    x = np.random.default_rng(3).random((5, 7, 3), dtype=np.float32)
    native = color.from_float(x, dtype)
    assert native.dtype == dtype
    tol = {np.uint8: 0.5 / 255, np.uint16: 0.5 / 65535, np.float32: 0}[dtype]
    assert np.abs(color.to_float(native) - x).max() <= tol + 1e-7


def test_unknown_dtype_is_refused():
    with pytest.raises(ValueError, match="unsupported pixel dtype int32"):
        color.to_float(np.zeros((2, 2, 3), np.int32))


def test_split_alpha_passes_alpha_through():
    rgba = np.random.default_rng(4).random((4, 4, 4), dtype=np.float32)
    rgb, alpha = color.split_alpha(rgba)
    assert rgb.shape == (4, 4, 3) and np.array_equal(alpha, rgba[..., 3])
    rgb, alpha = color.split_alpha(rgba[..., 0])
    assert rgb.shape == (4, 4, 3) and alpha is None


@settings(max_examples=60, deadline=None)
@given(
    rgb=arrays(np.float32, (6, 6, 3), elements=unit),
    donor=arrays(np.float32, (6, 6, 3), elements=unit),
)
def test_merging_any_in_gamut_chroma_keeps_lightness(rgb, donor):
    """The input's L* with another image's a*b* keeps L* exactly (float32 rounding:
    the code achieves 2e-5 L*; the README calls it exact)."""
    lightness = color.luminance_lstar(rgb)
    ab = color.rgb_to_lab(donor)[..., 1:]
    out = color.merge_luma(lightness, ab)
    assert np.abs(color.luminance_lstar(out) - lightness).max() <= LIGHTNESS_KEPT


@settings(max_examples=30, deadline=None)
@given(
    rgb=arrays(np.float32, (5, 5, 3), elements=unit), a=st.floats(-128, 127), b=st.floats(-128, 127)
)
def test_merge_luma_shrinks_out_of_gamut_chroma_instead_of_lightness(rgb, a, b):
    lightness = color.luminance_lstar(rgb)
    ab = np.broadcast_to(np.array([a, b], np.float32), (5, 5, 2))
    out = color.merge_luma(lightness, ab)
    assert np.abs(color.luminance_lstar(out) - lightness).max() <= LIGHTNESS_KEPT


def test_guided_upsample_snaps_colour_to_luma_edges():
    h, w = 64, 64
    lum = np.zeros((h, w), np.float32)
    lum[:, 33:] = 1.0  # an edge between columns 32 and 33, off the 4x grid
    chroma = np.zeros((h, w, 1), np.float32)
    chroma[:, 33:] = 1.0
    low_l, low_c = color.resize_area(lum, 16, 16), color.resize_area(chroma, 16, 16)
    guided = color.guided_upsample(low_c, low_l, lum, radius=1, eps=1e-4)
    plain = color.resize_linear(low_c, h, w)
    edge_error = lambda c: np.abs(c[:, 28:38, 0] - chroma[:, 28:38, 0]).mean()  # noqa: E731
    assert edge_error(guided) < 0.5 * edge_error(plain)


def test_colorfulness_orders_gray_below_colour():
    rgb = np.random.default_rng(5).random((16, 16, 3), dtype=np.float32)
    assert color.colorfulness(color.gray(rgb)) < 1.0 < color.colorfulness(rgb)


def test_the_training_losses_lab_agrees_with_tinct_color():
    """The differentiable Lab of the training losses (tinct.train.torch_color) is the same
    conversion as the one the pipeline and `tinct eval` use, dark and light pixels included."""
    import torch

    from tinct.train import torch_color

    rgb = np.random.default_rng(6).random((16, 16, 3), dtype=np.float32)
    rgb[0, :3] = [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.01, 0.02, 0.03]]  # the linear toe
    want = color.rgb_to_lab(rgb)
    got = torch_color.rgb_to_lab(torch.from_numpy(rgb.transpose(2, 0, 1))[None])
    assert np.abs(got[0].numpy().transpose(1, 2, 0) - want).max() < 1e-3
