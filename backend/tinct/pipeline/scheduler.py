"""Cold-diffusion scheduler for latent desaturation.

Degradation (linear in latent space), with z_g the gray image's latent and
delta the colour latent E(x) - z_g:

    D(z_0, t) = z_g + (1 - t / T) * delta,      t in [0, T], t = T fully gray.

Sampling is Algorithm 2 of Bansal et al. 2022 ("Cold Diffusion"):

    z_{s-1} = z_s - D(z_hat_0, s) + D(z_hat_0, s - 1)

which for this linear D reduces to z_{s - ds} = z_s + (ds / T) * delta_hat.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.schedulers.scheduling_utils import SchedulerMixin
from diffusers.utils import BaseOutput


@dataclass
class ColdDiffusionSchedulerOutput(BaseOutput):
    """prev_sample: z at the next (less gray) timestep.
    pred_original_sample: the predicted fully coloured latent z_g + delta_hat."""

    prev_sample: torch.Tensor
    pred_original_sample: torch.Tensor


class ColdDiffusionScheduler(SchedulerMixin, ConfigMixin):
    """Linear latent desaturation with `set_timesteps`/`step`, as diffusers schedulers."""

    order = 1

    @register_to_config
    def __init__(self, num_train_timesteps: int = 1000):
        self.timesteps = torch.tensor([num_train_timesteps], dtype=torch.long)
        self.num_inference_steps: int | None = None

    def set_timesteps(self, num_inference_steps: int, device: str | torch.device | None = None):
        """Evenly spaced timesteps from T (fully gray) down to T / N."""
        if not isinstance(num_inference_steps, int) or num_inference_steps < 1:
            raise ValueError(
                f"num_inference_steps must be a positive integer, got {num_inference_steps!r}"
            )
        T = self.config.num_train_timesteps
        if num_inference_steps > T:
            raise ValueError(
                f"num_inference_steps={num_inference_steps} exceeds the {T} training steps"
            )
        steps = torch.linspace(T, T / num_inference_steps, num_inference_steps)
        self.timesteps = steps.round().long().to(device)
        self.num_inference_steps = num_inference_steps

    def add_noise(
        self, color_latent: torch.Tensor, gray_latent: torch.Tensor, timesteps: torch.Tensor
    ) -> torch.Tensor:
        """The degradation D(z_0, t) = z_g + (1 - t/T) * delta (delta = color_latent)."""
        keep = 1.0 - timesteps.to(gray_latent.dtype) / self.config.num_train_timesteps
        while keep.ndim < gray_latent.ndim:
            keep = keep[..., None]
        return gray_latent + keep * color_latent

    def _prev_timestep(self, timestep: int) -> int:
        idx = (self.timesteps == timestep).nonzero()
        if len(idx) == 0 or self.num_inference_steps is None:
            raise ValueError(
                f"timestep {timestep} is not in the schedule; call set_timesteps first"
            )
        i = int(idx[0])
        return int(self.timesteps[i + 1]) if i + 1 < len(self.timesteps) else 0

    def step(
        self,
        model_output: torch.Tensor,
        timestep: int | torch.Tensor,
        sample: torch.Tensor,
        gray_latent: torch.Tensor | None = None,
        return_dict: bool = True,
    ) -> ColdDiffusionSchedulerOutput | tuple:
        """One Algorithm 2 step. model_output is delta_hat, the predicted colour latent."""
        t = int(timestep)
        prev_t = self._prev_timestep(t)
        T = self.config.num_train_timesteps
        # Algorithm 2: z_{s'} = z_s - D(z0_hat, s) + D(z0_hat, s') = z_s + ((s - s') / T) * delta_hat
        prev_sample = sample + ((t - prev_t) / T) * model_output
        base = gray_latent if gray_latent is not None else sample - (1.0 - t / T) * model_output
        pred_original = base + model_output
        if not return_dict:
            return (prev_sample, pred_original)
        return ColdDiffusionSchedulerOutput(
            prev_sample=prev_sample, pred_original_sample=pred_original
        )

    def __len__(self) -> int:
        return self.config.num_train_timesteps
