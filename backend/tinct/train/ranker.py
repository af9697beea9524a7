"""`tinct train-ranker`: which colourfulness scale looks natural (self-supervised).

Real photos are encoded; their colour latent delta = E(x) - E(gray(x)) is
scaled by a known s (log-uniform in [min_scale, max_scale]) and decoded:
D(z_g + s * delta) is the photo's own colour made paler (s < 1) or louder
(s > 1). The ranker learns to predict log s; `--scale auto` then picks the
candidate scale whose decode it finds closest to log s = 0 (natural).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from tinct.pipeline.pipeline_tinct import ranker_latents
from tinct.train.dataset import Augment, ImageStream, stream_loader
from tinct.train.models import frozen, frozen_dtype, load_base


@torch.no_grad()
def decode_at_scales(pipe, z_x, z_g, scales: torch.Tensor, size: int) -> torch.Tensor:
    """D(z_g + s * (z_x - z_g)) per sample, as the ranker sees it at inference
    (latents shrunk as in pick_scale), resized to size x size, in [-1, 1]."""
    s = scales.to(z_g)[:, None, None, None]
    z = ranker_latents(z_g + s * (z_x - z_g))
    images = pipe.decode_latent(z.to(pipe.vae.dtype)) * 2 - 1
    return F.interpolate(images.float(), size=(size, size), mode="bilinear")


@dataclass
class RankerOptions:
    data: str
    model: str | None = None  # a Tinct model folder (default: the bundled model)
    min_scale: float = 0.25
    max_scale: float = 2.5


class RankerTask:
    name = "ranker"

    def __init__(self, options: RankerOptions, augment: Augment, seed: int = 0):
        if not 0 < options.min_scale < 1 < options.max_scale:
            raise ValueError(
                f"scales must satisfy 0 < min_scale < 1 < max_scale, got "
                f"{options.min_scale}..{options.max_scale}"
            )
        self.options, self.seed = options, seed
        self.dataset = ImageStream(options.data, augment, seed=seed, captions=False)

    def build(self, accelerator) -> None:
        pipe, self.drop_text_encoder = load_base(self.options.model, seed=self.seed)
        if pipe.ranker is None:
            from tinct.pipeline import TinctRanker

            pipe.register_modules(ranker=TinctRanker())
        for part in (pipe.vae, pipe.unet, pipe.text_encoder):
            frozen(part)
        pipe.vae.to(accelerator.device, frozen_dtype(accelerator))
        pipe.ranker.to(accelerator.device).train()
        self.pipe, self.model, self.device = pipe, pipe.ranker, accelerator.device

    def loader(self, batch_size: int, rank: int, world: int, start: int, workers: int):
        return stream_loader(self.dataset, batch_size, rank, world, start, workers)

    @torch.no_grad()
    def samples(self, batch: dict, generator: torch.Generator):
        """Decoded images at random known scales, and their targets log(s)."""
        pipe, dev = self.pipe, self.device
        x, g = batch["rgb"].to(dev), batch["gray"].to(dev)
        z_x = pipe.encode_image((x * 2 - 1).to(pipe.vae.dtype)).float()
        z_g = pipe.encode_image((g * 2 - 1).to(pipe.vae.dtype)).float()
        lo, hi = math.log(self.options.min_scale), math.log(self.options.max_scale)
        log_s = lo + (hi - lo) * torch.rand(x.shape[0], generator=generator)
        size = int(pipe.ranker.config.input_size)
        images = decode_at_scales(pipe, z_x, z_g, log_s.exp(), size)
        return images, log_s.to(dev)

    def loss(self, model, batch: dict, generator: torch.Generator) -> dict[str, torch.Tensor]:
        images, target = self.samples(batch, generator)
        pred = model(images).float()
        loss = F.smooth_l1_loss(pred, target, beta=0.1)
        return {"loss": loss, "abs_error": (pred - target).abs().mean().detach()}

    def export(self, model, folder: Path) -> dict:
        from tinct.train.loop import save_model_folder

        self.pipe.to(torch.float32)
        save_model_folder(self.pipe, folder, self.drop_text_encoder)
        return {"ranker_parameters": sum(p.numel() for p in model.parameters())}
