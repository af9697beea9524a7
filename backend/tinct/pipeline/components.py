"""Architectures of Tinct's own models: the bundled default and the tiny test model.

Each builder returns freshly initialised (seeded) components; training fills
the weights, `save_pretrained` stores them with their configs.
"""

from __future__ import annotations

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel

from tinct.pipeline.model_format import drop_input_channels, unet_inputs
from tinct.pipeline.pipeline_tinct import TinctPipeline
from tinct.pipeline.prior import TinctPrior
from tinct.pipeline.scheduler import ColdDiffusionScheduler


def default_vae() -> AutoencoderKL:
    """~1M parameters, 4 latent channels, 8x down: only chroma is kept downstream."""
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(16, 32, 64, 64),
        layers_per_block=1,
        norm_num_groups=8,
        mid_block_add_attention=False,
        scaling_factor=1.0,
    )


def default_unet(cross_attention_dim: int = 384, latent_channels: int = 4) -> UNet2DConditionModel:
    """The bundled model's U-Net, freshly initialised: inputs z_t and z_g (each
    `latent_channels` wide), text of width `cross_attention_dim`; output delta_hat."""
    return UNet2DConditionModel(
        in_channels=unet_inputs(latent_channels),
        out_channels=latent_channels,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        block_out_channels=(48, 96, 160),
        layers_per_block=1,
        norm_num_groups=16,
        cross_attention_dim=cross_attention_dim,
        attention_head_dim=8,
    )


def build_default_pipeline(seed: int = 0, text_encoder=None, tokenizer=None) -> TinctPipeline:
    """The default architecture, randomly initialised, with all-MiniLM-L6-v2."""
    from tinct.pipeline.loading import load_minilm

    torch.manual_seed(seed)
    if text_encoder is None:
        text_encoder, tokenizer = load_minilm()
    return TinctPipeline(
        vae=default_vae(),
        unet=default_unet(text_encoder.config.hidden_size),
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=ColdDiffusionScheduler(),
        prior=TinctPrior(),
    )


def build_tiny_pipeline(seed: int = 0, kind: str = "kl") -> TinctPipeline:
    """A tiny seeded random pipeline for fast tests (no downloads, < 1 s on CPU).

    kind: "kl" (AutoencoderKL) or "tiny" (AutoencoderTiny). The tokenizer is
    MiniLM's (installed offline); the text encoder is a tiny random BERT.
    """
    from diffusers import AutoencoderTiny
    from transformers import AutoTokenizer, BertConfig, BertModel

    from tinct.pipeline.loading import minilm_dir

    torch.manual_seed(seed)
    if kind == "kl":
        vae = AutoencoderKL(
            in_channels=3,
            out_channels=3,
            latent_channels=4,
            down_block_types=("DownEncoderBlock2D",) * 2,
            up_block_types=("UpDecoderBlock2D",) * 2,
            block_out_channels=(8, 16),
            layers_per_block=1,
            norm_num_groups=4,
            mid_block_add_attention=False,
        )
    elif kind == "tiny":
        vae = AutoencoderTiny(
            in_channels=3,
            out_channels=3,
            latent_channels=4,
            encoder_block_out_channels=(8, 8),
            decoder_block_out_channels=(8, 8),
            num_encoder_blocks=(1, 1),
            num_decoder_blocks=(1, 1),
            upsampling_scaling_factor=2,
        )
    else:
        raise ValueError(f"kind must be 'kl' or 'tiny', got {kind!r}")
    text_encoder = BertModel(
        BertConfig(
            vocab_size=30522,
            hidden_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=37,
            max_position_embeddings=128,
        ),
        add_pooling_layer=False,
    ).eval()
    tokenizer = AutoTokenizer.from_pretrained(minilm_dir(), local_files_only=True)
    # Built with the 5 hint channels of model format 1 and sliced as a format-1 folder
    # is on load: the seeded weights stay those every test was written against.
    unet = UNet2DConditionModel(
        in_channels=13,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        block_out_channels=(16, 32),
        layers_per_block=1,
        norm_num_groups=8,
        cross_attention_dim=32,
        attention_head_dim=4,
    )
    drop_input_channels(unet, unet_inputs(4))
    return TinctPipeline(
        vae=vae,
        unet=unet,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=ColdDiffusionScheduler(),
        work_pixels=64 * 48,
        prior=TinctPrior(channels=(8, 8), input_side=32, groups=4),
    )
