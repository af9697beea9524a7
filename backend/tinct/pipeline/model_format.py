"""Versions of the Tinct model folder, and how an older one is brought up to date.

The version is `model_format` in model_index.json (the pipeline's config):

1 (no `model_format` key): the U-Net may take concat(z_t, z_g, hint latent,
  hint confidence), 3 x latent channels + 1 inputs. The hint channels were
  always zeros at inference (the render's blend carries the hints), so they
  never changed a result.
2: the U-Net takes concat(z_t, z_g) only, 2 x latent channels.

A format-1 U-Net with hint channels is sliced on load: its conv_in keeps the
weights of the first 2 x latent channels. Since the dropped channels only ever
saw zeros, the sliced U-Net computes the same function (up to float rounding).
"""

from __future__ import annotations

import torch
from torch import nn

MODEL_FORMAT = 2  # what this version of Tinct writes (and the newest it reads)
FORMAT_WITHOUT_KEY = 1  # a model_index.json without `model_format` is format 1


def unet_inputs(latent_channels: int) -> int:
    """The U-Net's input channels in the current format: z_t and z_g, each
    `latent_channels` (a positive int) wide."""
    return 2 * latent_channels


def resize_conv_in(unet, in_channels: int) -> None:
    """Give `unet`'s conv_in (a diffusers UNet2DConditionModel, changed in place)
    `in_channels` inputs (a positive int) and record that in its config. The
    first min(old, new) channels keep their weights; added channels start at
    zero (so they change nothing until trained), dropped ones are discarded.
    Bias, device, dtype and requires_grad are kept."""
    old = unet.conv_in
    new = nn.Conv2d(
        in_channels,
        old.out_channels,
        kernel_size=old.kernel_size,
        stride=old.stride,
        padding=old.padding,
        bias=old.bias is not None,
    ).to(device=old.weight.device, dtype=old.weight.dtype)
    kept = min(in_channels, old.in_channels)
    with torch.no_grad():
        new.weight.zero_()
        new.weight[:, :kept] = old.weight[:, :kept]
        if old.bias is not None:
            new.bias.copy_(old.bias)
    new.requires_grad_(old.weight.requires_grad)
    unet.conv_in = new
    unet.register_to_config(in_channels=in_channels)


def drop_input_channels(unet, keep: int) -> None:
    """Cut `unet`'s conv_in (a diffusers UNet2DConditionModel, changed in place)
    down to its first `keep` input channels and record that in its config.
    The other channels' weights are discarded: only right for inputs that were
    always zero."""
    resize_conv_in(unet, keep)


def upgrade_unet(unet, latent_channels: int, model_format: int) -> None:
    """Bring a U-Net read from a folder of `model_format` (an int, 1 or 2) to the
    current format, in place: a format-1 U-Net with hint channels (3 x
    `latent_channels` + 1 inputs) loses them. Raises ValueError, naming what was
    found and what was expected, for a format newer than MODEL_FORMAT or input
    channels that do not fit the format."""
    if not isinstance(model_format, int) or not 1 <= model_format <= MODEL_FORMAT:
        raise ValueError(
            f"model_format={model_format!r}: this Tinct reads model formats 1 to "
            f"{MODEL_FORMAT}; a newer model needs a newer Tinct"
        )
    have, want = int(unet.config.in_channels), unet_inputs(latent_channels)
    with_hints = 3 * latent_channels + 1
    if model_format == 1 and have == with_hints:
        drop_input_channels(unet, want)
    elif have != want:
        allowed = f"{want} (z_t, z_g)" + (
            f" or {with_hints} (z_t, z_g, hint latent, hint mask)" if model_format == 1 else ""
        )
        raise ValueError(
            f"unet.in_channels={have} does not fit latent_channels={latent_channels} in "
            f"model format {model_format}: expected {allowed}"
        )


__all__ = [
    "FORMAT_WITHOUT_KEY",
    "MODEL_FORMAT",
    "drop_input_channels",
    "resize_conv_in",
    "unet_inputs",
    "upgrade_unet",
]
