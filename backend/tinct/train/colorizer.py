"""`tinct train`: the colour U-Net (the denoiser of Tinct's cold diffusion).

Per sample: z_x = E(x), z_g = E(gray(x)), delta = z_x - z_g;
t = T ("fully gray", what every colourisation starts from) for a share of
samples (DESIGN.md: t < T mostly teaches the easy inversion
(z_t - z_g) / (1 - t/T), so without this the t = T case starves), else uniform;
z_t = z_g + (1 - t/T) delta; the U-Net sees concat(z_t, z_g, hint latent,
hint confidence) and the caption, and predicts delta.

Loss: MSE(delta_hat, delta) + chroma_weight * L1 of a*b* between D(z_g +
delta_hat), decoded by the frozen VAE, and the photo: errors are paid in the
colours a user sees, not only in latent units.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from tinct.train.dataset import Augment, ImageStream, stream_loader
from tinct.train.models import cpu_attention, frozen, frozen_dtype, load_base
from tinct.train.torch_color import rgb_to_lab


@dataclass
class ColorizerOptions:
    data: str
    model: str | None = None  # Tinct model folder (default: the bundled model)
    from_sd: str | None = None  # Stable Diffusion folder or single file
    sd_config: str | None = None
    t_max_share: float = 0.6  # share of samples at t = T
    chroma_weight: float = 0.02


class ColorizerTask:
    name = "unet"

    def __init__(self, options: ColorizerOptions, augment: Augment, seed: int = 0):
        self.options, self.seed = options, seed
        self.dataset = ImageStream(options.data, augment, seed=seed)

    # ------------------------------------------------------------ setup ---

    def build(self, accelerator) -> None:
        o = self.options
        pipe, self.drop_text_encoder = load_base(o.model, o.from_sd, o.sd_config, self.seed)
        if not pipe.accepts_hints:
            raise ValueError(
                "this model's U-Net takes no hint channels "
                f"(in_channels={pipe.unet.config.in_channels}); train one that does"
            )
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
    def condition(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """-> z_x, z_g, hint input (hint colour latent + confidence) for a batch;
        the same tensors TinctPipeline.prepare_hints builds at inference."""
        x = batch["rgb"].to(self.device)
        z_x, z_g = self._encode(x), self._encode(batch["gray"].to(self.device))
        z_hint = torch.zeros_like(z_g)
        has = batch["has_hints"].to(self.device)
        if bool(has.any()):
            z_hint[has] = self._encode(batch["hint_rgb"].to(self.device)[has]) - z_g[has]
        conf = F.interpolate(
            batch["hint_conf"][:, None].to(self.device), size=z_g.shape[-2:], mode="area"
        )
        return z_x, z_g, torch.cat([z_hint, conf], dim=1)

    def loss(self, model, batch: dict, generator: torch.Generator) -> dict[str, torch.Tensor]:
        pipe = self.pipe
        z_x, z_g, hint_in = self.condition(batch)
        cond = pipe.encode_prompt(list(batch["caption"]))
        delta = z_x - z_g
        n = delta.shape[0]
        T = pipe.scheduler.config.num_train_timesteps
        at_gray = torch.rand(n, generator=generator) < self.options.t_max_share
        t = torch.where(at_gray, T, torch.randint(0, T, (n,), generator=generator))
        t = t.to(self.device)
        z_t = pipe.scheduler.add_noise(delta, z_g, t)
        pred = model(torch.cat([z_t, z_g, hint_in], dim=1), t, encoder_hidden_states=cond)
        pred = pred.sample.float()
        mse = F.mse_loss(pred, delta)
        losses = {"mse": mse.detach(), "t_at_T": at_gray.float().mean()}
        loss = mse
        if self.options.chroma_weight > 0:
            # Through the frozen decoder: the colour the user would see at scale 1.
            decoded = pipe.decode_latent((z_g + pred).to(pipe.vae.dtype)).float()
            truth_ab = rgb_to_lab(batch["rgb"].to(self.device))[:, 1:]
            chroma = (rgb_to_lab(decoded)[:, 1:] - truth_ab).abs().mean()
            loss = loss + self.options.chroma_weight * chroma
            losses["chroma"] = chroma.detach()
        losses["loss"] = loss
        return losses

    # ----------------------------------------------------------- export ---

    def export(self, model, folder: Path) -> dict:
        from tinct.train.loop import save_model_folder

        self.pipe.to(torch.float32)
        save_model_folder(self.pipe, folder, self.drop_text_encoder)
        return {"unet_parameters": sum(p.numel() for p in model.parameters())}
