"""The chroma prior: its field at any size, its training, and its place in the render."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tinct.pipeline import load_pipeline
from tinct.pipeline.components import build_tiny_pipeline
from tinct.pipeline.prior import TinctPrior
from tinct.train.data import Photo
from tinct.train.prior import ab_error_ratio, lab_at_side, prior_loss, random_crop

SKY, GROUND = (0.0, -30.0), (-20.0, 25.0)  # a*b* of the synthetic scenes


def _constant(prior: TinctPrior, ab: tuple[float, float]) -> TinctPrior:
    """A prior that predicts `ab` everywhere (zero weights, bias ab / output_scale)."""
    with torch.no_grad():
        prior.out.weight.zero_()
        prior.out.bias.copy_(torch.tensor(ab) / prior.config.output_scale)
    return prior.eval()


def _scene(rng: np.random.Generator, h: int = 48, w: int = 64) -> np.ndarray:
    """A smooth bright blue sky over darker, textured green ground, as sRGB."""
    from tinct import color

    horizon = int(h * rng.uniform(0.35, 0.65))
    lab = np.zeros((h, w, 3), np.float32)
    lab[:horizon] = (78.0, *SKY)
    lab[horizon:] = (40.0, *GROUND)
    lab[horizon:, :, 0] += rng.normal(0.0, 8.0, (h - horizon, w))
    return np.clip(color.lab_to_rgb(lab), 0.0, 1.0).astype(np.float32)


@pytest.mark.parametrize("shape", [(37, 53), (1, 300), (300, 2), (400, 640)])
def test_field_has_the_input_size_at_any_shape(shape):
    prior = _constant(TinctPrior(channels=(8, 8, 8), input_side=48, groups=4), (5.0, -7.0))
    lightness = np.random.default_rng(0).uniform(0, 100, shape).astype(np.float32)
    ab = prior.field(lightness)
    assert ab.shape == shape + (2,) and ab.dtype == np.float32
    assert np.allclose(ab, (5.0, -7.0), atol=1e-4)


def test_an_untrained_prior_adds_no_colour():
    lightness = np.random.default_rng(1).uniform(0, 100, (40, 60)).astype(np.float32)
    assert np.abs(TinctPrior(channels=(8, 8), groups=4).field(lightness)).max() == 0.0


def test_training_learns_a_blue_sky_over_green_ground():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    photos = [Photo(f"s{i}", _scene(rng), "") for i in range(12)]
    labs = lab_at_side(photos, 64)
    prior = TinctPrior(channels=(8, 16), input_side=64, groups=4)
    before = ab_error_ratio(prior.eval(), labs[:3])
    opt = torch.optim.Adam(prior.parameters(), lr=1e-2)
    prior.train()
    for _ in range(120):
        batch = torch.stack([random_crop(labs[rng.integers(len(labs))], 32, rng) for _ in range(8)])
        loss = prior_loss(prior, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    prior.eval()
    after = ab_error_ratio(prior, labs[:3])
    assert before == pytest.approx(1.0) and after < 0.5
    test = lab_at_side([Photo("t", _scene(np.random.default_rng(9)), "")], 64)[0]
    ab = prior.field(test[0].numpy())
    sky, ground = ab[:12].mean(axis=(0, 1)), ab[-12:].mean(axis=(0, 1))
    assert sky[1] < -15 and abs(sky[0]) < 8
    assert ground[0] < -8 and ground[1] > 12


def test_the_prior_adds_its_colour_scaled_by_the_slider_under_the_hints(photo):
    pipe = build_tiny_pipeline(seed=0)
    plain = pipe.predict(photo, num_inference_steps=1)
    _constant(pipe.prior, (12.0, -20.0))
    lat = pipe.predict(photo, num_inference_steps=1)
    assert lat.prior_field is not None and lat.prior_field.shape == lat.work_size + (2,)
    for s in (0.0, 0.5, 1.0):
        added = pipe.chroma_at_work(lat, s) - pipe.chroma_at_work(plain, s)
        assert np.allclose(added, (12.0 * s, -20.0 * s), atol=1e-3)
    # A painted hint wins over the prior where it is painted.
    hints = np.zeros(photo.shape[:2] + (4,), np.float32)
    hints[20:40, 30:60] = (0.1, 0.8, 0.2, 1.0)
    hinted = pipe.predict(photo, hints=hints, num_inference_steps=1)
    ab = pipe.chroma_at_work(hinted, 1.0)
    h, w = ab.shape[:2]
    painted = ab[h * 25 // 72 : h * 35 // 72, w * 35 // 96 : w * 55 // 96]
    assert painted[..., 0].mean() < -20  # green, not the prior's red-blue


def test_a_model_folder_keeps_its_prior_and_one_without_loads_without(photo, tmp_path):
    pipe = build_tiny_pipeline(seed=0)
    _constant(pipe.prior, (6.0, 9.0))
    pipe.save_pretrained(tmp_path / "with")
    loaded = load_pipeline(tmp_path / "with", device="cpu")
    assert np.allclose(loaded.predict(photo, num_inference_steps=1).prior_field, (6.0, 9.0))
    pipe.register_modules(prior=None)
    pipe.save_pretrained(tmp_path / "without")
    bare = load_pipeline(tmp_path / "without", device="cpu")
    assert bare.prior is None and bare.predict(photo, num_inference_steps=1).prior_field is None
