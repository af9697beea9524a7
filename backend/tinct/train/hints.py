"""Simulated user hints: a few points or short strokes of the true colour."""

from __future__ import annotations

import numpy as np


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
