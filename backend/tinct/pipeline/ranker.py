"""The colourfulness ranker: a small CNN that looks at a decoded image and
predicts log(s), how far its colour is scaled from natural (0 = natural).

Trained self-supervised (see tinct.train.ranker): real photos are encoded,
their colour latent is scaled by a known s and decoded; the target is log(s).
Auto scale picks the candidate whose prediction is closest to 0.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn


class TinctRanker(ModelMixin, ConfigMixin):
    """How natural an image's colourfulness looks: 4 strided convolutions, then an MLP on the mean
    and standard deviation of their features, predicting log(s) (0 natural, below 0 muted, above
    0 over-coloured). `input_size`: the side images are resized to (pixels).
    """

    @register_to_config
    def __init__(self, channels: tuple[int, ...] = (16, 32, 64, 64), input_size: int = 96):
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 3
        for c in channels:
            layers += [nn.Conv2d(c_in, c, 3, stride=2, padding=1), nn.GroupNorm(4, c), nn.SiLU()]
            c_in = c
        self.features = nn.Sequential(*layers)
        # Mean and std of features: colourfulness is a statistic of the whole image.
        self.head = nn.Sequential(nn.Linear(2 * c_in, 64), nn.SiLU(), nn.Linear(64, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """images: (B, 3, H, W) sRGB in [-1, 1] -> (B,) predicted log scale."""
        size = self.config.input_size
        if images.shape[-2:] != (size, size):
            images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
        f = self.features(images)
        stats = torch.cat([f.mean(dim=(2, 3)), f.std(dim=(2, 3))], dim=1)
        return self.head(stats).squeeze(1)
