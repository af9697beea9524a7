"""`tinct train`: the colour U-Net (the denoiser of Tinct's cold diffusion).

Photos streamed from disk (tinct.train.dataset), encoded by the frozen VAE on
the fly; the objective is tinct.train.unet_objective's, the one the bundled
recipe uses too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from tinct.train.dataset import Augment, ImageStream, stream_loader
from tinct.train.models import cpu_attention, frozen, frozen_dtype, load_base
from tinct.train.unet_objective import CHROMA_WEIGHT, T_MAX_SHARE, sample_timesteps, unet_objective


@dataclass
class ColorizerOptions:
    data: str
    model: str | None = None  # Tinct model folder (default: the bundled model)
    from_sd: str | None = None  # Stable Diffusion folder or single file
    sd_config: str | None = None
    t_max_share: float = T_MAX_SHARE  # share of samples at t = T
    chroma_weight: float = CHROMA_WEIGHT


class ColorizerTask:
    name = "unet"

    def __init__(self, options: ColorizerOptions, augment: Augment, seed: int = 0):
        self.options, self.seed = options, seed
        self.dataset = ImageStream(options.data, augment, seed=seed)

    # ------------------------------------------------------------ setup ---

    def build(self, accelerator) -> None:
        o = self.options
        pipe, self.drop_text_encoder = load_base(o.model, o.from_sd, o.sd_config, self.seed)
        size = self.dataset.augment.resolution
        if size % pipe.size_multiple:
            raise ValueError(
                f"--resolution {size} must be a multiple of {pipe.size_multiple} for this model"
            )
        for part in (pipe.vae, pipe.text_encoder):
            frozen(part)
        dtype = frozen_dtype(accelerator)
        pipe.vae.to(accelerator.device, dtype)
        pipe.text_encoder.to(accelerator.device, dtype)
        pipe.unet.to(accelerator.device).train()
        cpu_attention(pipe.unet, accelerator)
        self.pipe, self.model, self.device = pipe, pipe.unet, accelerator.device

    def loader(self, batch_size: int, rank: int, world: int, start: int, workers: int):
        return stream_loader(self.dataset, batch_size, rank, world, start, workers)

    # ------------------------------------------------------------- loss ---

    @torch.no_grad()
    def _encode(self, rgb01: torch.Tensor) -> torch.Tensor:
        return self.pipe.encode_image((rgb01 * 2.0 - 1.0).to(self.pipe.vae.dtype)).float()

    @torch.no_grad()
    def condition(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """-> z_x, z_g: latents of a batch's photos and of their grays."""
        z_x = self._encode(batch["rgb"].to(self.device))
        return z_x, self._encode(batch["gray"].to(self.device))

    def loss(self, model, batch: dict, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """The objective (tinct.train.unet_objective) on one batch, plus the share of
        samples drawn at t = T."""
        pipe = self.pipe
        z_x, z_g = self.condition(batch)
        cond = pipe.encode_prompt(list(batch["caption"]))
        T = pipe.scheduler.config.num_train_timesteps
        t = sample_timesteps(z_x.shape[0], T, self.options.t_max_share, generator)
        t = t.to(self.device)
        losses = unet_objective(
            pipe,
            model,
            z_x,
            z_g,
            cond,
            t,
            chroma_weight=self.options.chroma_weight,
            rgb=batch["rgb"].to(self.device),
        )
        losses["t_at_T"] = (t == T).float().mean()
        return losses

    # ----------------------------------------------------------- export ---

    def export(self, model, folder: Path) -> dict:
        from tinct.train.loop import save_model_folder

        self.pipe.to(torch.float32)
        save_model_folder(self.pipe, folder, self.drop_text_encoder)
        return {"unet_parameters": sum(p.numel() for p in model.parameters())}
