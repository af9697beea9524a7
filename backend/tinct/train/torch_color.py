"""Differentiable colour conversions for losses (mirrors tinct.color)."""

from __future__ import annotations

import torch

_M = torch.tensor(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_WHITE = torch.tensor([0.95047, 1.0, 1.08883])


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) sRGB in [0, 1] -> Lab (B, 3, H, W)."""
    rgb = rgb.clamp(0.0, 1.0)
    lin = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055).clamp_min(1e-8) ** 2.4)
    m = (_M / _WHITE[:, None]).to(rgb)
    xyz = torch.einsum("ij,bjhw->bihw", m, lin)
    eps, kappa = 216.0 / 24389.0, 24389.0 / 27.0
    f = torch.where(xyz > eps, xyz.clamp_min(eps) ** (1.0 / 3.0), (kappa * xyz + 16.0) / 116.0)
    L = 116.0 * f[:, 1] - 16.0
    a = 500.0 * (f[:, 0] - f[:, 1])
    b = 200.0 * (f[:, 1] - f[:, 2])
    return torch.stack([L, a, b], dim=1)
