"""Model folders in the old format 1, made from current ones for the upgrade tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

HINT_CHANNELS = 5  # format 1: hint colour latent (4) + hint confidence (1)


def save_format1_copy(src: Path, dst: Path, seed: int = 0) -> Path:
    """Copy the model folder `src` to `dst` as format 1 wrote it: no `model_format`
    key, and a U-Net conv_in with HINT_CHANNELS more inputs whose weights are
    random and clearly nonzero (so a loader that fed them anything but zeros, or
    kept them in the wrong place, would change the result). Returns `dst`."""
    shutil.copytree(src, dst)
    index_path = dst / "model_index.json"
    index = json.loads(index_path.read_text())
    index.pop("model_format", None)
    index_path.write_text(json.dumps(index, indent=2))
    config_path = dst / "unet" / "config.json"
    config = json.loads(config_path.read_text())
    config["in_channels"] += HINT_CHANNELS
    config_path.write_text(json.dumps(config, indent=2))
    weights_path = dst / "unet" / "diffusion_pytorch_model.safetensors"
    weights = load_file(weights_path)
    w = weights["conv_in.weight"]
    g = torch.Generator().manual_seed(seed)
    extra = torch.randn((w.shape[0], HINT_CHANNELS, *w.shape[2:]), generator=g).to(w.dtype)
    weights["conv_in.weight"] = torch.cat([w, extra * w.abs().mean() * 4], dim=1).contiguous()
    save_file(weights, weights_path)
    return dst
