"""Device and dtype choice: CUDA > MPS > CPU unless told otherwise."""

from __future__ import annotations

import torch

_DTYPES = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "float16": torch.float16,
    "fp16": torch.float16,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
}


def pick_device(requested: str | None = None) -> torch.device:
    """The torch device to run on: `requested` ("cpu", "cuda", "cuda:N", "mps") when given and
    present, else CUDA > MPS > CPU (None or "auto"). Raises ValueError naming the device when it
    is unknown or not available.
    """
    if requested and requested != "auto":
        try:
            dev = torch.device(requested)
        except (RuntimeError, TypeError):
            raise ValueError(
                f"unknown device {requested!r}; use cpu, cuda, cuda:N or mps"
            ) from None
        if dev.type not in ("cpu", "cuda", "mps"):
            raise ValueError(f"unsupported device {requested!r}; use cpu, cuda, cuda:N or mps")
        if dev.type == "cuda" and dev.index is not None and torch.cuda.is_available():
            if dev.index >= torch.cuda.device_count():
                raise ValueError(
                    f"device {requested!r} requested but there are "
                    f"{torch.cuda.device_count()} CUDA devices"
                )
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {requested!r} requested but CUDA is not available")
        if dev.type == "mps" and not torch.backends.mps.is_available():
            raise ValueError(f"device {requested!r} requested but MPS is not available")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def pick_dtype(device: torch.device, requested: str | torch.dtype | None = None) -> torch.dtype:
    """The weights' dtype on `device`: `requested` (a torch.dtype or a name such as "fp16", "bf16",
    "float32") when given, else bfloat16 on a CUDA device that supports it, float16 on other
    CUDA devices and float32 elsewhere.
    """
    if isinstance(requested, torch.dtype):
        return requested
    if requested and requested != "auto":
        if requested not in _DTYPES:
            raise ValueError(f"unknown dtype {requested!r}; use one of {sorted(_DTYPES)}")
        return _DTYPES[requested]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32
