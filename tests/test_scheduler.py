from __future__ import annotations

import pytest
import torch

from tinct.pipeline.scheduler import ColdDiffusionScheduler


@pytest.mark.parametrize("steps", [1, 3, 4, 10])
def test_algorithm2_recovers_a_known_colour_latent_with_a_perfect_predictor(steps):
    torch.manual_seed(0)
    z_g, delta = torch.randn(1, 4, 6, 8), torch.randn(1, 4, 6, 8)
    sched = ColdDiffusionScheduler(num_train_timesteps=1000)
    sched.set_timesteps(steps)
    assert int(sched.timesteps[0]) == 1000 and len(sched.timesteps) == steps
    z = sched.add_noise(delta, z_g, torch.tensor([1000]))
    assert torch.allclose(z, z_g)  # t = T is fully gray
    for t in sched.timesteps:
        out = sched.step(delta, t, z, gray_latent=z_g)
        assert torch.allclose(out.pred_original_sample, z_g + delta, atol=1e-5)
        z = out.prev_sample
    assert torch.allclose(z, z_g + delta, atol=1e-5)


def test_an_oracle_reading_the_degraded_latent_also_converges():
    """A predictor that only sees z_t (reads delta off at t < T) still lands on z_0."""
    torch.manual_seed(1)
    z_g, delta = torch.randn(2, 4, 5, 5), torch.randn(2, 4, 5, 5)
    sched = ColdDiffusionScheduler(num_train_timesteps=100)
    sched.set_timesteps(5)
    z = z_g.clone()
    for t in sched.timesteps:
        keep = 1.0 - int(t) / 100
        guess = delta if keep == 0 else (z - z_g) / keep
        z = sched.step(guess, t, z).prev_sample
    assert torch.allclose(z, z_g + delta, atol=1e-4)


def test_degradation_is_linear_in_t():
    z_g, delta = torch.zeros(1, 1, 1, 1), torch.ones(1, 1, 1, 1)
    sched = ColdDiffusionScheduler(num_train_timesteps=1000)
    for t, expected in [(0, 1.0), (250, 0.75), (500, 0.5), (1000, 0.0)]:
        assert float(sched.add_noise(delta, z_g, torch.tensor([t]))) == pytest.approx(expected)


def test_bad_step_counts_are_refused_with_the_value():
    sched = ColdDiffusionScheduler(num_train_timesteps=10)
    with pytest.raises(ValueError, match="positive integer, got 0"):
        sched.set_timesteps(0)
    with pytest.raises(ValueError, match="exceeds"):
        sched.set_timesteps(11)
    with pytest.raises(ValueError, match="set_timesteps first"):
        sched.step(torch.zeros(1), 5, torch.zeros(1))


def test_config_round_trip(tmp_path):
    ColdDiffusionScheduler(num_train_timesteps=321).save_pretrained(tmp_path)
    assert ColdDiffusionScheduler.from_pretrained(tmp_path).config.num_train_timesteps == 321
