"""Starting from Stable Diffusion weights (a tiny SD-like folder built here),
`tinct train-vae`, and the default model's recipe."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from train_helpers import fresh_accelerate_state, make_photos, one_thread

from tinct.cli.main import main

__all__ = ["fresh_accelerate_state", "one_thread"]

LOOP = ["--workers", "0", "--cpu", "--log-every", "1"]


def _byte_symbols() -> list[str]:
    """The 256 printable stand-ins byte-level BPE uses for bytes (as GPT-2/CLIP)."""
    keep = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    table, extra = {b: chr(b) for b in keep}, 0
    for b in range(256):
        if b not in table:
            table[b], extra = chr(256 + extra), extra + 1
    return [table[b] for b in range(256)]


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory):
    """A Stable Diffusion folder in diffusers layout with tiny random weights:
    AutoencoderKL, UNet2DConditionModel (4 latent inputs), CLIP text encoder and
    a byte-level CLIP tokenizer with no merges."""
    from diffusers import (
        AutoencoderKL,
        PNDMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    root = tmp_path_factory.mktemp("tiny-sd")
    symbols = _byte_symbols()
    tokens = symbols + [s + "</w>" for s in symbols] + ["<|startoftext|>", "<|endoftext|>"]
    vocab = {t: i for i, t in enumerate(tokens)}
    (root / "vocab.json").write_text(json.dumps(vocab))
    (root / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(root / "vocab.json"), str(root / "merges.txt"))
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(vocab),
            hidden_size=32,
            intermediate_size=37,
            num_hidden_layers=1,
            num_attention_heads=2,
            max_position_embeddings=77,
            bos_token_id=vocab["<|startoftext|>"],
            eos_token_id=vocab["<|endoftext|>"],
            pad_token_id=vocab["<|endoftext|>"],
        )
    )
    vae = AutoencoderKL(
        block_out_channels=(8, 16),
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        latent_channels=4,
        norm_num_groups=4,
        layers_per_block=1,
        scaling_factor=0.18215,
    )
    unet = UNet2DConditionModel(
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        block_out_channels=(16, 32),
        layers_per_block=1,
        norm_num_groups=8,
        cross_attention_dim=32,
        attention_head_dim=4,
    )
    StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=PNDMScheduler(skip_prk_steps=True, steps_offset=1),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    ).save_pretrained(root / "sd")
    return root / "sd"


def test_sd_unet_is_widened_with_zero_weights_and_computes_what_it_did(tiny_sd, one_thread):
    from diffusers import UNet2DConditionModel

    from tinct.train.sd_init import pipeline_from_stable_diffusion

    sd_unet = UNet2DConditionModel.from_pretrained(tiny_sd, subfolder="unet").eval()
    pipe = pipeline_from_stable_diffusion(tiny_sd)
    unet = pipe.unet.eval()
    assert unet.config.in_channels == 8 and pipe.config.model_format == 2  # z_t, z_g
    w = unet.conv_in.weight
    assert torch.equal(w[:, :4], sd_unet.conv_in.weight) and not w[:, 4:].any()
    g = torch.Generator().manual_seed(0)
    z = torch.randn(1, 4, 8, 8, generator=g)
    extra = torch.randn(1, 4, 8, 8, generator=g)
    cond = torch.randn(1, 5, 32, generator=g)
    with torch.no_grad():
        before = sd_unet(z, 500, encoder_hidden_states=cond).sample
        after = unet(torch.cat([z, extra], 1), 500, encoder_hidden_states=cond).sample
    assert torch.allclose(before, after, atol=1e-6)
    assert type(pipe.text_encoder).__name__ == "CLIPTextModel"


def test_train_from_sd_exports_a_tinct_model_with_the_clip_encoder(
    tmp_path, tiny_sd, one_thread, fresh_accelerate_state
):
    from tinct.pipeline import load_pipeline

    photos = make_photos(tmp_path / "photos", count=3)
    out = tmp_path / "run"
    argv = ["train", str(photos), "-o", str(out), "--from-sd", str(tiny_sd), *LOOP]
    assert main([*argv, "--resolution", "32", "--batch-size", "2", "--max-steps", "2"]) == 0
    model = out / "model"
    assert (model / "text_encoder").is_dir() and (model / "tokenizer").is_dir()
    pipe = load_pipeline(model, device="cpu")
    assert type(pipe.text_encoder).__name__ == "CLIPTextModel"
    assert pipe.unet.config.in_channels == 8 and pipe.config.model_format == 2
    assert pipe.vae.config.scaling_factor == pytest.approx(0.18215)
    image = np.random.default_rng(0).random((40, 48, 3), dtype=np.float32)
    out_image = pipe(image, prompt="blue sky", scale=1.0).images[0]
    assert out_image.shape == (40, 48, 3)


def test_train_vae_improves_reconstruction(
    tmp_path, tiny_model_dir, one_thread, fresh_accelerate_state
):
    from tinct.pipeline import load_pipeline
    from tinct.train.dataset import Augment, ImageStream
    from tinct.train.vae import (
        autoencoded,
        autoencoder_loss,
        chroma_axes_kept,
        colorfulness_kept,
    )

    photos = make_photos(tmp_path / "photos", count=4)
    out = tmp_path / "vae"
    argv = ["train-vae", str(photos), "-o", str(out), "--model", str(tiny_model_dir), *LOOP]
    argv += ["--resolution", "32", "--batch-size", "4", "--max-steps", "80", "--lr", "5e-3"]
    assert main([*argv, "--lr-warmup", "1", "--ema-decay", "0"]) == 0
    training = json.loads((out / "model" / "training.json").read_text())
    assert training["task"] == "vae"
    held = ImageStream(photos, Augment(resolution=32, hue_shift=0.0), seed=7)
    x = torch.stack([torch.from_numpy(held[1000 + i]["rgb"]) for i in range(8)])

    def measured(model_dir):
        vae = load_pipeline(model_dir, device="cpu").vae
        with torch.no_grad():
            l1 = autoencoder_loss(vae, x, 0.0, 0.0, torch.Generator().manual_seed(0))["l1"]
            pairs = autoencoded(vae, [img.numpy().transpose(1, 2, 0) for img in x])
        return float(l1), colorfulness_kept(pairs), chroma_axes_kept(pairs)

    l1_before, kept_before, axes_before = measured(tiny_model_dir)
    l1_after, kept_after, axes_after = measured(out / "model")
    assert l1_after < 0.7 * l1_before, (l1_before, l1_after)
    # The figures training.json reports mean something: on held-out crops the trained
    # autoencoder keeps more of the colour and of the yellow-blue axis than the untrained
    # one (80 steps, held-out crops: kept 0.74 -> 0.80, b* R^2 -3.95 -> 0.68, a* -0.06 ->
    # 0.22; training.json: kept 0.90, b* R^2 0.74).
    assert abs(kept_after - 1.0) < abs(kept_before - 1.0), (kept_before, kept_after)
    assert axes_after["b"] > axes_before["b"] + 0.2, (axes_before, axes_after)
    assert 0.5 < training["colorfulness_kept"] < 1.5 and training["b_r2"] > 0.4, training


def test_default_recipe_keeps_its_flags(tmp_path):
    """The recipe runs its three phases in the one training loop: each leaves its
    loss log and checkpoints in OUTPUT-runs/PHASE, the U-Net stops at
    --unet-max-steps, and a rerun with --resume continues from the checkpoints
    (finished phases stay finished) instead of training again."""
    photos = make_photos(tmp_path / "photos", count=3)
    out = tmp_path / "recipe"
    cmd = [sys.executable, "-m", "tinct.train.default_recipe", str(photos), "-o", str(out)]
    cmd += ["--vae-minutes", "0.003", "--unet-minutes", "1"]
    cmd += ["--prior-minutes", "0.003"]
    cmd += ["--vae-lr", "1e-3", "--chroma-weight", "0.02", "--seed", "1", "--threads", "1"]
    cmd += ["--unet-decay-minutes", "1", "--caption-dropout", "0.35", "--hue-shift", "0.5"]
    cmd += ["--unet-max-steps", "2"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == [
        "model_index.json",
        "prior",
        "scheduler",
        "training_log.json",
        "unet",
        "vae",
    ]
    log = json.loads((out / "training_log.json").read_text())
    last = {r["phase"]: r["step"] for r in log if "step" in r}
    assert last == {"vae": 1, "unet": 2, "prior": 1}, last
    assert all(math.isfinite(r["loss"]) for r in log if "loss" in r)
    runs = tmp_path / "recipe-runs"
    assert (runs / "unet" / "checkpoints" / "checkpoint-2").is_dir()
    # Without --resume the earlier run's checkpoints are not overwritten.
    clash = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert clash.returncode == 2 and "pass --resume" in clash.stderr, clash.stderr[-2000:]
    # --resume: every phase is at its end already, so nothing trains again.
    again = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "resumed from" in again.stderr and "at step 2" in again.stderr
    log = json.loads((out / "training_log.json").read_text())
    assert {r["phase"]: r["step"] for r in log if "step" in r} == last
