"""The colour U-Net's training objective, one for `tinct train` and the bundled recipe.

Per sample: delta = z_x - z_g (the colour latent); t = T ("fully gray", where every
colourisation starts) for a share T_MAX_SHARE of samples, else uniform in 0..T;
z_t = z_g + (1 - t/T) delta; the U-Net sees concat(z_t, z_g) and the caption and
predicts delta. Loss: MSE(delta_hat, delta), plus, when `chroma_weight` > 0, that
weight times the L1 of a*b* between D(z_g + delta_hat) (the frozen decoder) and
the photo: errors paid in the colours a user sees, not only in latent units.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tinct.train.torch_color import rgb_to_lab

# Share of samples at t = T: uniform t mostly teaches the easy inversion (z_t - z_g)/(1 - t/T)
# and starves t = T (DESIGN.md prototype; docs/design.md "Training weight at t = T").
T_MAX_SHARE = 0.6
# Weight of the decoded a*b* L1 in `tinct train` (commit 61f1fce; no measurement on record).
# The bundled model's recipe trains on the MSE alone (weight 0; model card, recipe step 2).
CHROMA_WEIGHT = 0.02


def sample_timesteps(
    n: int, num_train_timesteps: int, t_max_share: float = T_MAX_SHARE, generator=None
) -> torch.Tensor:
    """`n` training timesteps (int64): T = `num_train_timesteps` for a share
    `t_max_share` (0..1) of them, the rest uniform over 0..T inclusive."""
    T = int(num_train_timesteps)
    at_gray = torch.rand(n, generator=generator) < t_max_share
    uniform = torch.randint(0, T + 1, (n,), generator=generator)
    return torch.where(at_gray, torch.full((n,), T), uniform)


def unet_objective(
    pipe,
    unet,
    z_x: torch.Tensor,
    z_g: torch.Tensor,
    cond: torch.Tensor,
    t: torch.Tensor,
    chroma_weight: float = 0.0,
    rgb: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """The U-Net's loss on one batch. `pipe` (a TinctPipeline) gives the scheduler
    and the decoder; `unet` is the model being trained (maybe wrapped). `z_x`,
    `z_g`: latents of the photos and of their grays, (B, C, h, w); `cond`: text
    states (B, tokens, width); `t`: timesteps (B,) in 0..T; `rgb`: the photos,
    (B, 3, 8h, 8w) sRGB in [0, 1], needed when `chroma_weight` > 0. Returns
    {"loss": differentiable total, "mse": ..., "chroma": ... (only when weighted)},
    the parts detached."""
    delta = z_x - z_g
    z_t = pipe.scheduler.add_noise(delta, z_g, t)
    pred = unet(torch.cat([z_t, z_g], dim=1), t, encoder_hidden_states=cond).sample.float()
    mse = F.mse_loss(pred, delta.float())
    out = {"mse": mse.detach()}
    loss = mse
    if chroma_weight > 0:
        if rgb is None:
            raise ValueError("unet_objective: chroma_weight > 0 needs the photos (rgb)")
        # Through the frozen decoder: the colour the user would see at scale 1.
        decoded = pipe.decode_latent((z_g + pred).to(pipe.vae.dtype)).float()
        chroma = (rgb_to_lab(decoded)[:, 1:] - rgb_to_lab(rgb.float())[:, 1:]).abs().mean()
        loss = loss + chroma_weight * chroma
        out["chroma"] = chroma.detach()
    out["loss"] = loss
    return out


__all__ = ["CHROMA_WEIGHT", "T_MAX_SHARE", "sample_timesteps", "unet_objective"]
