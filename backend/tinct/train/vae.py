"""`tinct train-vae`: the autoencoder, for models without a pretrained one.

Loss: L1 on RGB + chroma_weight * L1 on a*b* (the part of the decode Tinct
keeps) + a tiny KL. A share of the crops is gray, so gray stays gray.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tinct.options import VAE_CHROMA_WEIGHT, VAE_GRAY_SHARE, VAE_KL_WEIGHT
from tinct.train.dataset import Augment, ImageStream, stream_loader
from tinct.train.models import NEW, frozen, load_base
from tinct.train.torch_color import rgb_to_lab


def autoencoder_loss(
    vae,
    x: torch.Tensor,
    chroma_weight: float,
    kl_weight: float = 1e-6,
    generator: torch.Generator | None = None,
) -> dict[str, torch.Tensor]:
    """x: (B, 3, H, W) sRGB in [0, 1]. AutoencoderKL samples its posterior;
    AutoencoderTiny has none (no KL term)."""
    encoded = vae.encode(x * 2 - 1)
    post = getattr(encoded, "latent_dist", None)
    z = post.sample(generator) if post is not None else encoded.latents
    rec = (vae.decode(z).sample + 1) * 0.5
    lab_x, lab_r = rgb_to_lab(x), rgb_to_lab(rec)
    l1 = F.l1_loss(rec, x)
    ab = F.l1_loss(lab_r[:, 1:], lab_x[:, 1:])
    kl = post.kl().mean() if post is not None else torch.zeros((), device=x.device)
    return {"loss": l1 + chroma_weight * ab + kl_weight * kl, "l1": l1, "ab": ab, "kl": kl}


class AutoencoderObjective(nn.Module):
    """The VAE's loss as a forward pass, so DistributedDataParallel sees it
    (DDP synchronises gradients of work done through `forward` only)."""

    def __init__(self, vae, chroma_weight: float, kl_weight: float):
        super().__init__()
        self.vae, self.chroma_weight, self.kl_weight = vae, chroma_weight, kl_weight

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict:
        return autoencoder_loss(self.vae, x, self.chroma_weight, self.kl_weight, generator)


@torch.no_grad()
def autoencoded(vae, images: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(original, reconstruction) pairs: each image cropped to a multiple of the
    VAE's stride, encoded (posterior mean), decoded; sRGB float32 in [0, 1]."""
    f = 2 ** (len(getattr(vae.config, "block_out_channels", None) or (1, 1, 1, 1)) - 1)
    pairs = []
    for rgb in images:
        h, w = rgb.shape[0] // f * f, rgb.shape[1] // f * f
        if h == 0 or w == 0:
            continue
        crop = np.ascontiguousarray(rgb[:h, :w], dtype=np.float32)
        x = torch.from_numpy(crop.transpose(2, 0, 1).copy())[None].to(vae.device, vae.dtype)
        encoded = vae.encode(x * 2 - 1)
        post = getattr(encoded, "latent_dist", None)
        z = post.mean if post is not None else encoded.latents
        out = ((vae.decode(z).sample + 1) * 0.5)[0].permute(1, 2, 0).clamp(0, 1).float()
        pairs.append((crop, np.ascontiguousarray(out.cpu().numpy())))
    return pairs


def colorfulness_kept(pairs: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Mean colourfulness of the reconstructions over the originals' (`autoencoded` pairs)."""
    from tinct import color

    ratios = [color.colorfulness(d) / max(color.colorfulness(o), 1e-6) for o, d in pairs]
    return float(np.mean(ratios)) if ratios else float("nan")


def chroma_axes_kept(pairs: list[tuple[np.ndarray, np.ndarray]], cell: int = 8) -> dict[str, float]:
    """How much of each chroma axis survives the autoencoder (`autoencoded` pairs):
    R^2 of the decoded a* and b* against the originals', on cell x cell block means.

    Colourfulness alone can hide a lost axis: an autoencoder that keeps only
    yellow-blue (b*) still scores well on it, yet turns every green olive.
    """
    from tinct import color

    truth, decoded = [], []
    for pair in pairs:
        h, w = pair[0].shape[0] // cell * cell, pair[0].shape[1] // cell * cell
        if h == 0 or w == 0:
            continue
        for img, into in zip(pair, (truth, decoded), strict=True):
            ab = color.rgb_to_lab(np.ascontiguousarray(img[:h, :w]))[..., 1:]
            into.append(ab.reshape(h // cell, cell, w // cell, cell, 2).mean((1, 3)).reshape(-1, 2))
    if not truth:
        raise ValueError("no image large enough to measure")
    t, d = np.concatenate(truth), np.concatenate(decoded)
    r2 = 1.0 - ((t - d) ** 2).mean(0) / np.maximum(t.var(0), 1e-6)
    return {"a": float(r2[0]), "b": float(r2[1])}


@dataclass
class AutoencoderOptions:
    data: str
    model: str | None = NEW  # start: a new default architecture, or a Tinct model folder
    chroma_weight: float = VAE_CHROMA_WEIGHT
    kl_weight: float = VAE_KL_WEIGHT
    gray_share: float = VAE_GRAY_SHARE


class AutoencoderTask:
    name = "vae"

    def __init__(self, options: AutoencoderOptions, augment: Augment, seed: int = 0):
        self.options, self.seed = options, seed
        # The autoencoder needs no captions.
        self.dataset = ImageStream(options.data, augment, seed=seed, captions=False)

    def build(self, accelerator) -> None:
        pipe, self.drop_text_encoder = load_base(self.options.model, seed=self.seed)
        for part in (pipe.unet, pipe.text_encoder):
            frozen(part)
        pipe.vae.to(accelerator.device).train()
        self.pipe, self.device = pipe, accelerator.device
        o = self.options
        self.model = AutoencoderObjective(pipe.vae, o.chroma_weight, o.kl_weight)

    def loader(self, batch_size: int, rank: int, world: int, start: int, workers: int):
        return stream_loader(self.dataset, batch_size, rank, world, start, workers)

    def loss(self, model, batch: dict, generator: torch.Generator) -> dict[str, torch.Tensor]:
        x, g = batch["rgb"].to(self.device), batch["gray"].to(self.device)
        gray = torch.rand(x.shape[0], generator=generator) < self.options.gray_share
        x = torch.where(gray.to(self.device)[:, None, None, None], g, x)
        noise = torch.Generator(device=self.device).manual_seed(
            int(torch.randint(0, 2**62, (1,), generator=generator))
        )
        return model(x, noise)

    def export(self, model, folder: Path) -> dict:
        from tinct.train.loop import save_model_folder

        vae = self.pipe.vae.eval()
        images = [self.dataset[i]["rgb"].transpose(1, 2, 0) for i in range(8)]
        pairs = autoencoded(vae, images)
        kept, axes = colorfulness_kept(pairs), chroma_axes_kept(pairs)
        self.pipe.to(torch.float32)
        save_model_folder(self.pipe, folder, self.drop_text_encoder)
        return {
            "colorfulness_kept": round(kept, 4),
            "a_r2": round(axes["a"], 4),
            "b_r2": round(axes["b"], 4),
        }
