"""Start a Tinct model from Stable Diffusion weights the user already has.

From a diffusers folder (model_index.json, vae/, unet/, text_encoder/,
tokenizer/) or a single-file checkpoint (.safetensors / .ckpt; offline it
needs `config`, a diffusers folder giving the configs): the SD VAE as is, the
CLIP text encoder as is, and the SD U-Net with conv_in widened from its
latent input to Tinct's concat(z_t, z_g). The SD weights keep reading the
first latent (z_t); the new input channels start at zero, so at step 0 the widened U-Net computes exactly what the SD U-Net did.
Nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

from tinct.pipeline.model_format import resize_conv_in


def widen_conv_in(unet, in_channels: int) -> None:
    """Give `unet` `in_channels` inputs: old weights on the first channels, zeros after."""
    old = unet.conv_in
    if old.in_channels > in_channels:
        raise ValueError(
            f"unet.conv_in already has {old.in_channels} inputs, more than {in_channels}"
        )
    resize_conv_in(unet, in_channels)


def load_stable_diffusion(path: str | Path, config: str | Path | None = None):
    """(vae, unet, text_encoder, tokenizer) from a local SD folder or single file."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer

    path = Path(path)
    if path.is_dir():
        if not (path / "unet").is_dir() or not (path / "vae").is_dir():
            raise FileNotFoundError(
                f"{path} is not a Stable Diffusion folder in diffusers layout (needs vae/ and unet/)"
            )
        kw = {"local_files_only": True}
        return (
            AutoencoderKL.from_pretrained(path, subfolder="vae", **kw),
            UNet2DConditionModel.from_pretrained(path, subfolder="unet", **kw),
            CLIPTextModel.from_pretrained(path, subfolder="text_encoder", **kw),
            CLIPTokenizer.from_pretrained(path, subfolder="tokenizer", **kw),
        )
    if not path.is_file():
        raise FileNotFoundError(f"no Stable Diffusion folder or checkpoint file at {path}")
    from diffusers import StableDiffusionPipeline

    try:
        sd = StableDiffusionPipeline.from_single_file(
            str(path),
            config=str(config) if config is not None else None,
            local_files_only=True,
            safety_checker=None,
            requires_safety_checker=False,
        )
    except Exception as exc:  # diffusers raises several kinds here; all mean "cannot load"
        hint = (
            ""
            if config is not None
            else " (offline, a single file needs --sd-config: a diffusers-layout SD folder "
            "of the same version that provides the configs)"
        )
        raise ValueError(f"cannot load Stable Diffusion weights from {path}: {exc}{hint}") from exc
    return sd.vae, sd.unet, sd.text_encoder, sd.tokenizer


def pipeline_from_stable_diffusion(
    path: str | Path, config: str | Path | None = None, work_pixels: int = 512 * 512
):
    """A TinctPipeline on SD weights: widened U-Net, cold-diffusion scheduler."""
    from tinct.pipeline import ColdDiffusionScheduler, TinctPipeline
    from tinct.pipeline.model_format import unet_inputs

    vae, unet, text_encoder, tokenizer = load_stable_diffusion(path, config)
    latent = int(vae.config.latent_channels)
    if unet.config.out_channels != latent:
        raise ValueError(
            f"the SD U-Net predicts {unet.config.out_channels} channels but the VAE has {latent}"
        )
    widen_conv_in(unet, unet_inputs(latent))
    return TinctPipeline(
        vae=vae,
        unet=unet,
        text_encoder=text_encoder.eval(),
        tokenizer=tokenizer,
        scheduler=ColdDiffusionScheduler(),
        work_pixels=work_pixels,
    )
