"""Any transformers text encoder plugs in: BERT/MiniLM (default) and CLIP."""

from __future__ import annotations

import json

import numpy as np
import torch
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from tinct.pipeline import TinctPipeline
from tinct.pipeline.components import build_tiny_pipeline


def _tiny_clip(tmp_path):
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for ch in letters:
        vocab[ch] = len(vocab)
        vocab[ch + "</w>"] = len(vocab)
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    (tmp_path / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(tmp_path / "vocab.json"), str(tmp_path / "merges.txt"))
    config = CLIPTextConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=1,
        num_attention_heads=2,
        max_position_embeddings=77,
        bos_token_id=0,
        eos_token_id=1,
    )
    return CLIPTextModel(config).eval(), tokenizer


def test_clip_text_encoder_steers_and_round_trips(tmp_path, photo):
    base = build_tiny_pipeline(seed=3)
    encoder, tokenizer = _tiny_clip(tmp_path)
    pipe = TinctPipeline(
        vae=base.vae,
        unet=base.unet,
        text_encoder=encoder,
        tokenizer=tokenizer,
        scheduler=base.scheduler,
        work_pixels=base.config.work_pixels,
    )
    # Prompts without colour words reach the U-Net as text (colour words are placed).
    beach = pipe.predict(photo, prompt="a sunny beach", num_inference_steps=1)
    forest = pipe.predict(photo, prompt="a forest at night", num_inference_steps=1)
    assert not torch.allclose(beach.color_latent, forest.color_latent)
    pipe.save_pretrained(tmp_path / "model")
    loaded = TinctPipeline.from_pretrained(tmp_path / "model")
    assert type(loaded.text_encoder).__name__ == "CLIPTextModel"
    a = pipe(photo, prompt="a sunny beach", num_inference_steps=2, scale=1.0).images[0]
    b = loaded(photo, prompt="a sunny beach", num_inference_steps=2, scale=1.0).images[0]
    assert np.array_equal(a, b)
