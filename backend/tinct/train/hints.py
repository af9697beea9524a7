"""Simulated user hints: a few points or short strokes of the true colour."""

from __future__ import annotations

import numpy as np

from tinct import color
from tinct.color import hints as hint_propagation
from tinct.color.hints import hint_chroma, input_confidence


def simulate_hints(
    rgb: np.ndarray,
    rng: np.random.Generator,
    max_hints: int = 30,
    count: int | None = None,
    radius: int | None = None,
) -> np.ndarray:
    """rgb (H, W, 3) in [0, 1] -> RGBA hints (H, W, 4): true colour where painted."""
    h, w = rgb.shape[:2]
    hints = np.zeros((h, w, 4), np.float32)
    n = int(rng.integers(1, max_hints + 1)) if count is None else count
    for _ in range(n):
        r = int(rng.integers(1, 4)) if radius is None else radius
        y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
        length = int(rng.integers(0, 12)) if count is None else 0
        angle = rng.uniform(0, 2 * np.pi)
        for k in range(length + 1):
            cy = int(np.clip(y + k * np.sin(angle), 0, h - 1))
            cx = int(np.clip(x + k * np.cos(angle), 0, w - 1))
            y0, y1, x0, x1 = max(0, cy - r), min(h, cy + r + 1), max(0, cx - r), min(w, cx + r + 1)
            hints[y0:y1, x0:x1, :3] = rgb[y0:y1, x0:x1]
            hints[y0:y1, x0:x1, 3] = 1.0
    return hints


def hint_field(hints: np.ndarray, lightness: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pixel half of `TinctPipeline.hint_inputs` (both use
    `tinct.color.hints.hint_chroma`), for hints already at work size.

    hints (h, w, 4) RGBA in [0, 1], lightness (h, w) L*. Returns the sRGB image
    whose colour latent the U-Net receives (the propagated hint chroma, faded by
    confidence, on the input's lightness) and the confidence map. Done in data
    workers during training, so only the VAE encode is left for the trainer; a
    test keeps it equal to what the pipeline computes at inference.
    """
    if hint_propagation.UNET_SEES_HINTS:
        _, _, field_ab, reach = hint_chroma(hints[..., :3], hints[..., 3], lightness)
        conf = input_confidence(reach)
    else:  # as the pipeline: the channels stay empty (no solve)
        field_ab = np.zeros(lightness.shape + (2,), np.float32)
        conf = np.zeros(lightness.shape, np.float32)
    hint_rgb = color.merge_luma(lightness, field_ab * conf[..., None])
    return hint_rgb.astype(np.float32), conf.astype(np.float32)
