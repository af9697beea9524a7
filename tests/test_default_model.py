"""The bundled default model: present, small, loadable offline, sane on a real photo."""

from __future__ import annotations

import numpy as np

from tinct import color
from tinct.imageio import read_image
from tinct.pipeline import DEFAULT_MODEL_DIR, TinctPipeline, load_pipeline

ROOT = DEFAULT_MODEL_DIR.parents[3]


def test_weights_are_ours_and_at_most_40_mb():
    files = [p for p in DEFAULT_MODEL_DIR.rglob("*") if p.is_file()]
    weights = [p for p in files if p.suffix == ".safetensors"]
    assert {p.parent.name for p in weights} == {"vae", "unet", "ranker"}
    assert sum(p.stat().st_size for p in files) <= 40 * 1024 * 1024
    assert (DEFAULT_MODEL_DIR / "README.md").exists()


def test_loads_offline_with_minilm_and_keeps_the_sample_lightness():
    pipe = load_pipeline(None, device="cpu")
    assert isinstance(pipe, TinctPipeline) and pipe.accepts_hints
    assert pipe.text_encoder.config.hidden_size == 384  # all-MiniLM-L6-v2
    gray = color.to_float(np.repeat(read_image(ROOT / "docs" / "sample-bw.png"), 3, axis=2))
    out = pipe(gray, scale="auto")
    assert 0.6 <= out.scale <= 1.4
    dl = np.abs(color.luminance_lstar(out.images[0]) - color.luminance_lstar(gray))
    assert dl.mean() <= 0.5 and np.percentile(dl, 99) <= 2.0
    assert color.colorfulness(out.images[0]) > color.colorfulness(gray) + 1.0
