"""The encoder prior: the pretrained encoder loads as trained, the head's field at
any size, its folder holds only the head, its training learns, its bins add up."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tinct import color
from tinct.pipeline.encoder import imagenet_logits, lightness_to_gray
from tinct.pipeline.encoder_prior import EncoderPrior, bin_centres
from tinct.train.data import Photo
from tinct.train.encoder_prior import (
    draw_windows,
    encode_photos,
    rebalance_weights,
    soft_bins,
    window_loss,
)
from tinct.train.prior import lab_at_side

SKY, GROUND = (-5.0, -35.0), (-30.0, 30.0)  # a*b* of the synthetic scenes


def test_the_encoder_recognises_a_cat_in_a_gray_photo():
    """ImageNet classes 281-285 are domestic cats: the weights, the TF padding and
    the input normalisation are right only if a gray cat is still a cat."""
    skd = pytest.importorskip("skimage.data")
    rgb = np.asarray(skd.chelsea(), np.float32)[..., :3] / 255.0
    gray = lightness_to_gray(color.rgb_to_lab(np.ascontiguousarray(rgb))[..., 0])
    x = F.interpolate(torch.from_numpy(gray.astype(np.float32))[None, None], size=(224, 224))
    top = imagenet_logits(x).topk(3).indices[0].tolist()
    assert top[0] in range(281, 286), top


def test_lightness_to_gray_is_the_neutral_colour_of_that_lightness():
    values = np.linspace(0.0, 1.0, 11, dtype=np.float32)
    rgb = np.repeat(values[:, None, None], 3, axis=2)  # (11, 1, 3) grays
    lightness = color.rgb_to_lab(rgb)[..., 0]
    assert np.allclose(lightness_to_gray(lightness)[:, 0], values, atol=2e-4)


@pytest.mark.parametrize("shape", [(37, 53), (1, 300), (300, 2), (400, 640)])
def test_field_has_the_input_size_at_any_shape(shape):
    prior = EncoderPrior(width=16, input_side=96).eval()
    lightness = np.random.default_rng(0).uniform(0, 100, shape).astype(np.float32)
    ab, feats = prior.field_and_features(lightness)
    assert ab.shape == shape + (2,) and ab.dtype == np.float32 and np.isfinite(ab).all()
    assert feats.ndim == 3 and feats.shape[-1] == 16 and np.isfinite(feats).all()


def test_soft_bins_are_a_distribution_whose_mean_is_the_colour():
    ab = torch.tensor([[3.0, -47.5], [0.0, 0.0], [-101.2, 88.8], [109.9, -110.0]])
    weights = soft_bins(ab.T.reshape(1, 2, 4, 1), 10.0, 110.0)  # (1, Q, 4, 1)
    assert torch.allclose(weights.sum(1), torch.ones(1, 4, 1))
    mean = torch.einsum("bqhw,qc->bchw", weights, bin_centres(10.0, 110.0))
    assert torch.allclose(mean[0, :, :, 0].T, ab, atol=1e-2)


def test_the_model_folder_holds_the_head_only_and_round_trips(tmp_path):
    prior = EncoderPrior(width=16).eval()
    with torch.no_grad():
        prior.out.bias.normal_()
    prior.save_pretrained(tmp_path)
    files = list(tmp_path.glob("*.safetensors"))
    assert len(files) == 1 and files[0].stat().st_size < 1_000_000  # the encoder is 18.8 MB
    from safetensors.torch import load_file

    assert not any(k.startswith(("blocks", "stem", "head")) for k in load_file(files[0]))
    again = EncoderPrior.from_pretrained(tmp_path).eval()
    lightness = np.random.default_rng(2).uniform(0, 100, (64, 96)).astype(np.float32)
    assert np.allclose(prior.field(lightness), again.field(lightness), atol=1e-3)


def _scene(rng: np.random.Generator, h: int = 64, w: int = 96) -> np.ndarray:
    """A smooth bright sky over darker, textured ground, as sRGB."""
    horizon = int(h * rng.uniform(0.35, 0.65))
    lab = np.zeros((h, w, 3), np.float32)
    lab[:horizon] = (75.0, *SKY)
    lab[horizon:] = (45.0, *GROUND)
    lab[horizon:, :, 0] += rng.normal(0.0, 8.0, (h - horizon, w))
    return np.clip(color.lab_to_rgb(lab), 0.0, 1.0).astype(np.float32)


def test_training_on_cached_features_learns_sky_over_ground():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    photos = [Photo(f"s{i}", _scene(rng), "") for i in range(8)]
    prior = EncoderPrior(width=16, input_side=96)
    labs = lab_at_side(photos, 96)
    items = encode_photos(prior, labs, log_every=0)
    weights = rebalance_weights(labs, prior.config.bin_step, prior.config.bin_extent)
    opt = torch.optim.Adam(prior.parameters(), lr=3e-3)
    prior.train()
    for _ in range(120):
        loss = window_loss(prior, draw_windows(items, 8, 2, rng), weights)
        opt.zero_grad()
        loss.backward()
        opt.step()
    prior.eval()
    test = color.rgb_to_lab(_scene(np.random.default_rng(9)))
    ab = prior.field(test[..., 0])
    sky, ground = ab[:16].reshape(-1, 2).mean(0), ab[-16:].reshape(-1, 2).mean(0)
    assert np.linalg.norm(sky - SKY) < 15 and np.linalg.norm(ground - GROUND) < 15, (sky, ground)
