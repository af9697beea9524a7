"""The bundled default model: present, small, loadable offline, sane on a real photo."""

from __future__ import annotations

import numpy as np

from tinct import color
from tinct.imageio import read_image
from tinct.pipeline import DEFAULT_MODEL_DIR, TinctPipeline, load_pipeline

ROOT = DEFAULT_MODEL_DIR.parents[3]
MIN_AXIS_R2 = 0.6  # R^2 of decoded a* (and b*) against the input; v0.4 had a* at 0.0


def test_weights_are_ours_and_at_most_40_mb():
    files = [p for p in DEFAULT_MODEL_DIR.rglob("*") if p.is_file()]
    weights = [p for p in files if p.suffix == ".safetensors"]
    assert {p.parent.name for p in weights} == {"vae", "unet", "prior"}  # no ranker any more
    assert sum(p.stat().st_size for p in files) <= 40 * 1024 * 1024
    assert (DEFAULT_MODEL_DIR / "README.md").exists()


def test_loads_offline_with_minilm_and_keeps_the_sample_lightness():
    pipe = load_pipeline(None, device="cpu")
    assert isinstance(pipe, TinctPipeline) and pipe.config.model_format == 2
    assert pipe.text_encoder.config.hidden_size == 384  # all-MiniLM-L6-v2
    gray = color.to_float(np.repeat(read_image(ROOT / "docs" / "sample-bw.png"), 3, axis=2))
    out = pipe(gray)
    assert out.scale == 1.0
    dl = np.abs(color.luminance_lstar(out.images[0]) - color.luminance_lstar(gray))
    assert dl.mean() <= 0.5 and np.percentile(dl, 99) <= 2.0
    assert color.colorfulness(out.images[0]) > color.colorfulness(gray) + 1.0


def test_the_bundled_model_colours_as_its_format_1_folder_did(tmp_path):
    """The bundled folder was rewritten in model format 2 (its U-Net's hint
    channels, always fed zeros, sliced off). A format-1 copy, hint channels put
    back with nonzero weights, still loads and gives the same 8-bit colours on
    the sample photo (the weights it had before: scripts/upgrade_model_folder.py
    and docs/design.md)."""
    from format_helpers import save_format1_copy

    old_dir = save_format1_copy(DEFAULT_MODEL_DIR, tmp_path / "format1")
    gray = color.to_float(np.repeat(read_image(ROOT / "docs" / "sample-bw.png"), 3, axis=2))
    outputs = []
    for folder in (DEFAULT_MODEL_DIR, old_dir):
        pipe = load_pipeline(folder, device="cpu")
        assert pipe.unet.config.in_channels == 8
        out = pipe(gray, scale=1.0)
        outputs.append((out.scale, color.from_float(out.images[0], np.uint8).astype(int)))
    (scale_new, new), (scale_old, old) = outputs
    assert scale_new == scale_old
    assert np.abs(new - old).max() <= 1


def test_the_demo_photo_gets_no_orange_sky_or_field():
    """The chroma prior's bet on the sample photo: a bright smooth sky over a
    field of grass must not come out orange (hue 20-80 degrees, chroma > 12),
    the failure users saw first."""
    pipe = load_pipeline(None, device="cpu")
    gray = color.to_float(np.repeat(read_image(ROOT / "docs" / "sample-bw.png"), 3, axis=2))
    lab = color.rgb_to_lab(pipe(gray).images[0])
    h = lab.shape[0]
    for band in (lab[: h // 5], lab[4 * h // 5 :]):
        a, b = band[..., 1].mean(), band[..., 2].mean()
        hue = np.degrees(np.arctan2(b, a)) % 360.0
        assert not (20.0 <= hue <= 80.0 and np.hypot(a, b) > 12.0), (a, b)


def colour_fields(count: int = 6, size: int = 128, seed: int = 0) -> list[np.ndarray]:
    """Textured sRGB images whose a* and b* wander independently in smooth blobs."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        coarse = rng.uniform(-1.0, 1.0, (3, 4, 4)).astype(np.float32)
        smooth = [color.resize_linear(c[..., None], size, size)[..., 0] for c in coarse]
        grain = 6.0 * rng.standard_normal((size, size)).astype(np.float32)
        lightness = np.clip(55.0 + 20.0 * smooth[0] + grain, 5.0, 95.0)
        lab = np.stack([lightness, 45.0 * smooth[1], 45.0 * smooth[2]], axis=-1)
        images.append(np.clip(color.lab_to_rgb(lab.astype(np.float32)), 0.0, 1.0))
    return images


def test_the_autoencoder_keeps_both_chroma_axes():
    # Colourfulness alone missed it once: an autoencoder that keeps yellow-blue
    # but drops red-green turns every leaf olive and still looks "colourful".
    from tinct.train.vae import autoencoded, chroma_axes_kept

    vae = load_pipeline(None, device="cpu").vae
    kept = chroma_axes_kept(autoencoded(vae, colour_fields()))
    assert kept["a"] >= MIN_AXIS_R2 and kept["b"] >= MIN_AXIS_R2, kept


def test_the_sliders_colour_between_scale_nodes_is_within_the_tolerance_of_a_decode():
    """A rescale interpolates the model's decoded a*b* between latent scale nodes
    (TinctPipeline.model_chroma) instead of decoding at the slider's value. With the
    bundled model on the sample photo, at the folder's unet_share and at 0.2, halfway
    between two nodes (where the interpolation is furthest off) the colour is within
    a mean of 0.1 a*b* and a 99th percentile of 1 a*b* of a decode at the value itself
    (benchmarks/bench_rescale.py measures it on validation photos)."""
    import torch

    from tinct.pipeline.pipeline_tinct import LATENT_NODE_STEP

    pipe = load_pipeline(None, device="cpu")
    gray = color.to_float(np.repeat(read_image(ROOT / "docs" / "sample-bw.png"), 3, axis=2))
    gray = color.resize_area(gray, 256, 256)
    with torch.inference_mode():
        latents = pipe.predict(gray)
        for share in sorted({float(pipe.config.unet_share), 0.2}):
            pipe.register_to_config(unet_share=share)
            step = LATENT_NODE_STEP / share
            for s in (0.6 // step * step + step / 2, 1.3 // step * step + step / 2):
                fast = pipe.model_chroma(latents, s)
                exact = pipe.model_chroma(latents, s, exact=True)
                d = np.linalg.norm(fast - exact, axis=-1)
                assert d.mean() < 0.1 and np.percentile(d, 99) < 1.0, (share, s)
