"""The chroma prior: a small CNN that reads a photo's lightness and predicts the
a*b* a retoucher would bet on with no other clue (tinct.train.prior).

Trained to minimise the mean Euclidean a*b* distance to the true colour, it
predicts a geometric median per pixel: where the corpus says a kind of region
takes many colours (a smooth bright top can be a blue or an overcast sky) the
median stays near gray, and where it agrees (foliage, wood, fur) it commits.
The pipeline adds the prior's field to the U-Net's chroma, scaled by the slider.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

from tinct import color


def _block(c_in: int, c_out: int, groups: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1),
        nn.GroupNorm(groups, c_out),
        nn.SiLU(),
        nn.Conv2d(c_out, c_out, 3, padding=1),
        nn.GroupNorm(groups, c_out),
        nn.SiLU(),
    )


def input_at_side(
    lightness: np.ndarray, side: int, multiple: int, pad: str = "replicate"
) -> tuple[torch.Tensor, tuple[int, int]]:
    """(H, W) L* area-resized to long side `side`, padded at the bottom and right
    to multiples of `multiple` ("reflect" where the picture is large enough, else
    "replicate") -> a (1, 1, H', W') tensor and the resized size before padding."""
    h, w = lightness.shape
    f = side / max(h, w)
    sh, sw = max(1, round(h * f)), max(1, round(w * f))
    small = color.resize_area(lightness.astype(np.float32), sh, sw)
    ph, pw = -sh % multiple, -sw % multiple
    x = torch.from_numpy(np.array(small, np.float32))[None, None]
    if ph or pw:
        mode = pad if pad != "reflect" or min(sh, sw) > max(ph, pw) else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    return x, (sh, sw)


class TinctPrior(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(
        self,
        channels: tuple[int, ...] = (16, 32, 64, 128),
        input_side: int = 192,
        # Source: an architecture constant set by hand (7dd7785), never tuned; the weights fit it.
        output_scale: float = 20.0,
        groups: int = 8,
        strength: float = 1.0,
    ):
        super().__init__()
        c = list(channels)
        # Inputs: L* and the vertical position (skies are up, ground is down).
        self.down = nn.ModuleList(
            _block(i, o, groups) for i, o in zip([2] + c[:-1], c, strict=True)
        )
        self.up = nn.ModuleList(
            _block(c[k + 1] + c[k], c[k], groups) for k in reversed(range(len(c) - 1))
        )
        self.out = nn.Conv2d(c[0], 2, 1)
        # Untrained, the prior adds nothing (a*b* = 0 everywhere).
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    @property
    def multiple(self) -> int:
        return 2 ** (len(self.config.channels) - 1)

    def forward(self, lightness: torch.Tensor) -> torch.Tensor:
        """lightness: (B, 1, H, W) L* in [0, 100], H and W multiples of `multiple`
        -> (B, 2, H, W) a*b*."""
        b, _, h, w = lightness.shape
        rows = torch.linspace(-1.0, 1.0, h, device=lightness.device, dtype=lightness.dtype)
        x = torch.cat([lightness / 50.0 - 1.0, rows.view(1, 1, h, 1).expand(b, 1, h, w)], 1)
        skips = []
        for k, block in enumerate(self.down):
            x = block(x if k == 0 else F.avg_pool2d(x, 2))
            skips.append(x)
        x = x + x.mean(dim=(2, 3), keepdim=True)  # the whole image's context
        for block, skip in zip(self.up, reversed(skips[:-1]), strict=True):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block(torch.cat([x, skip], 1))
        return self.out(x) * self.config.output_scale

    @torch.no_grad()
    def field(self, lightness: np.ndarray) -> np.ndarray:
        """(H, W) L* -> (H, W, 2) a*b*: the prior run at its own input size (long
        side `input_side`, edges padded by reflection), resized back and scaled
        by `strength` (a calibration: how much of its bet the render takes)."""
        h, w = lightness.shape
        x, (sh, sw) = input_at_side(lightness, self.config.input_side, self.multiple, "reflect")
        param = next(self.parameters())
        ab = self(x.to(param.device, param.dtype))[0, :, :sh, :sw].float().cpu().numpy()
        ab = np.ascontiguousarray(ab.transpose(1, 2, 0)) * np.float32(self.config.strength)
        return color.resize_linear(ab, h, w) if (sh, sw) != (h, w) else ab
