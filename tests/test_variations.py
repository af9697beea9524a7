"""Variations: N distinct, reproducible colourings drawn from the encoder prior's
distribution, through the pipeline, the CLI and a real daemon (tiny models: the encoder
prior's head is untrained, the frozen EfficientNet-Lite0 under it is the real one)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from tinct import color
from tinct.imageio import read_image, write_image
from tinct.protocol import TinctError
from tinct.protocol import constants as C
from tinct.protocol.colorize_request import ColorizeRequest, variation_seeds
from tinct.protocol.layers import is_result_name
from tinct.protocol.naming import result_name
from tinct.testing import (
    DaemonHarness,
    as_layer,
    daemon_env,
    layer_to_array,
    make_image,
    save_tiny_model,
    serve_command,
)


@pytest.fixture(scope="module")
def encoder_model(tmp_path_factory):
    """A tiny model whose chroma prior is an EncoderPrior (it draws variations)."""
    return save_tiny_model(tmp_path_factory.mktemp("enc-model"), encoder_prior=True)


@pytest.fixture(scope="module")
def encoder_pipe(encoder_model):
    from tinct.pipeline import load_pipeline

    return load_pipeline(str(encoder_model), device="cpu")


def _ab(rgb: np.ndarray) -> np.ndarray:
    return color.rgb_to_lab(color.to_float(rgb[..., :3]))[..., 1:]


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean a*b* distance between two colourings."""
    return float(np.linalg.norm(_ab(a) - _ab(b), axis=-1).mean())


# --- the draw ------------------------------------------------------------------


def test_smooth_gumbel_is_gumbel_per_pixel_and_smooth_across_pixels():
    from tinct.pipeline.encoder_prior import smooth_gumbel

    g = smooth_gumbel((1, 64, 60, 80), torch.Generator().manual_seed(3), cells=7)
    # Gumbel(0, 1): mean = Euler's gamma 0.577, std = pi / sqrt(6) = 1.28
    assert float(g.mean()) == pytest.approx(0.577, abs=0.05)
    assert float(g.std()) == pytest.approx(1.283, abs=0.06)
    # neighbours nearly equal (regions), far pixels unrelated (not one colour everywhere)
    near = np.corrcoef(g[0, :, :, :-1].flatten(), g[0, :, :, 1:].flatten())[0, 1]
    far = np.corrcoef(g[0, :, :, :40].flatten(), g[0, :, :, 40:].flatten())[0, 1]
    assert near > 0.95 and abs(far) < 0.2, (near, far)
    again = smooth_gumbel((1, 64, 60, 80), torch.Generator().manual_seed(3), cells=7)
    assert torch.equal(g, again)


def test_a_variation_is_reproducible_and_each_seed_another(encoder_pipe):
    prior = encoder_pipe.prior
    lightness = color.luminance_lstar(make_image(96, 64, 3, "f32", seed=1))
    fields, feats = prior.variation_fields_and_features(
        lightness,
        [None, torch.Generator().manual_seed(5), torch.Generator().manual_seed(6)],
    )
    own, own_feats = prior.field_and_features(lightness)
    np.testing.assert_array_equal(fields[0], own)  # None: the model's own field
    np.testing.assert_array_equal(feats, own_feats)  # the same features for the hints
    again, _ = prior.variation_fields_and_features(lightness, [torch.Generator().manual_seed(5)])
    np.testing.assert_array_equal(fields[1], again[0])
    for a, b in itertools.combinations(fields, 2):
        assert float(np.linalg.norm(a - b, axis=-1).mean()) > 1.0


# --- the pipeline ----------------------------------------------------------------


def test_pipeline_gives_n_images_the_first_the_models_own(encoder_pipe, photo):
    from tinct.pipeline.pipeline_tinct import seed_generator

    out = encoder_pipe(
        photo,
        scale=1.0,
        num_images_per_prompt=3,
        generator=[seed_generator(s) for s in (0, 7, 8)],
    )
    assert len(out.images) == 3 and len(out.variations) == 3
    plain = encoder_pipe(photo, scale=1.0).images[0]
    np.testing.assert_array_equal(out.images[0], plain)
    seven = encoder_pipe(photo, scale=1.0, generator=[seed_generator(7)]).images[0]
    np.testing.assert_array_equal(out.images[1], seven)
    for a, b in itertools.combinations(out.images, 2):
        assert _distance(a, b) > 1.0
    # every variation keeps the input's lightness
    for img in out.images:
        dl = np.abs(color.luminance_lstar(img) - color.luminance_lstar(photo))
        assert float(dl.max()) < 1e-2


def test_generator_rules_and_a_prior_without_distribution(tiny_pipe, encoder_pipe, photo):
    with pytest.raises(ValueError, match="needs a generator"):
        encoder_pipe(photo, scale=1.0, num_images_per_prompt=2)
    with pytest.raises(ValueError, match="one generator per image"):
        encoder_pipe(photo, scale=1.0, num_images_per_prompt=2, generator=[None])
    one = torch.Generator().manual_seed(1)
    assert len(encoder_pipe(photo, scale=1.0, num_images_per_prompt=2, generator=one).images) == 2
    assert not tiny_pipe.draws_variations and encoder_pipe.draws_variations
    with pytest.raises(ValueError, match="cannot draw variations"):
        tiny_pipe(photo, scale=1.0, generator=[torch.Generator().manual_seed(1)])


# --- protocol: seeds, names, bounds --------------------------------------------------


def test_variation_seeds_names_and_the_request():
    assert variation_seeds(0, 3) == [0, 1, 2]
    assert variation_seeds(41, 1) == [41]
    assert variation_seeds(C.MAX_SEED, 3) == [C.MAX_SEED, 1, 2]  # never wraps to 0
    assert len(variation_seeds(5, 99)) == C.MAX_VARIATIONS
    req = ColorizeRequest("sky", variations=3, seed=9, scale=5.0)
    assert req.seeds() == [9, 10, 11]
    assert req.colorize_kwargs(10) == {
        "prompt": "sky",
        "scale": C.MAX_SCALE,
        "steps": 4,
        "seed": 10,
    }
    assert ColorizeRequest().colorize_kwargs()["seed"] == 0
    assert "auto" not in ColorizeRequest().to_json()
    names = [result_name(req, 1.0, hints=False, seed=s) for s in req.seeds()]
    assert names[0] == 'Tinct \u2014 "sky" x1.00 seed 9' and len(set(names)) == 3
    assert all(is_result_name(n) and is_result_name(n + " #2") for n in names)
    assert result_name(ColorizeRequest(), 1.0, hints=False, seed=0) == "Tinct x1.00"
    assert not is_result_name("Tinct x1.00 seed") and not is_result_name("Tinct x1.00 seed 1 x")


# --- the CLI ---------------------------------------------------------------------


def _tinct(*args):
    return subprocess.run(
        [sys.executable, "-m", "tinct", *map(str, args)],
        capture_output=True,
        timeout=600,
        env=daemon_env(),
    )


def test_cli_variations_write_n_files_and_a_seed_gives_one_again(encoder_model, tmp_path):
    src = tmp_path / "in.png"
    write_image(src, make_image(80, 56, 3, "u8", seed=2)[..., :3])
    out = tmp_path / "out.png"
    proc = _tinct(
        "colorize", src, "-o", out, "--model", encoder_model, "--variations", 3, "--seed", 4
    )
    assert proc.returncode == 0, proc.stderr.decode()
    files = [tmp_path / f"out-{k}.png" for k in (1, 2, 3)]
    assert all(f.is_file() for f in files) and not out.exists()
    assert b"seed 4" in proc.stderr and b"seed 6" in proc.stderr
    results = [read_image(f) for f in files]
    for a, b in itertools.combinations(results, 2):
        assert _distance(a, b) > 1.0
    # The second variation's own seed, alone, gives that file again, bit for bit.
    one = tmp_path / "five.png"
    proc = _tinct("colorize", src, "-o", one, "--model", encoder_model, "--seed", 5)
    assert proc.returncode == 0, proc.stderr.decode()
    np.testing.assert_array_equal(read_image(one), results[1])


def test_cli_variations_with_a_model_that_cannot_draw_them_is_one_line(tiny_model_dir, tmp_path):
    src = tmp_path / "in.png"
    write_image(src, make_image(40, 32, 3, "u8", seed=2)[..., :3])
    proc = _tinct(
        "colorize", src, "-o", tmp_path / "o.png", "--model", tiny_model_dir, "--variations", 2
    )
    err = proc.stderr.decode().strip().splitlines()
    assert proc.returncode != 0 and len(err) == 1, err
    assert "--variations 2" in err[0] and "cannot draw variations" in err[0], err
    # the bundled model, while its prior is v0.7's (from lightness alone): refused before
    # it is loaded (the bundled model may get an encoder prior: then it draws them)
    from tinct.pipeline.loading import DEFAULT_MODEL_DIR

    bundled = json.loads((DEFAULT_MODEL_DIR / "model_index.json").read_text())["prior"][1]
    if bundled == "TinctPrior":
        proc = _tinct("colorize", src, "-o", tmp_path / "o.png", "--seed", 3)
        err = proc.stderr.decode().strip().splitlines()
        assert proc.returncode == 2 and len(err) == 1, err
        assert "--seed 3" in err[0] and "the bundled model" in err[0], err
        assert not (tmp_path / "o.png").exists()
    proc = _tinct("colorize", src, "-o", tmp_path / "o.png", "--variations", C.MAX_VARIATIONS + 1)
    err = proc.stderr.decode().strip().splitlines()
    assert proc.returncode == 2 and len(err) == 1 and "--variations" in err[0], err


# --- the daemon ------------------------------------------------------------------


def test_daemon_seeds_draw_reproducible_variations(encoder_model, model, tmp_path):
    src = make_image(72, 48, 4, "u8", seed=6)
    harness = DaemonHarness(tmp_path / "rt", serve_command(encoder_model, "--idle-timeout", "0"))
    try:
        client = harness.connect()
        assert C.FEATURE_VARIATIONS in client.hello()["features"]

        def run(seed):
            kwargs = {} if seed is None else {"seed": seed}
            result = list(client.colorize(as_layer(src), steps=2, scale=1.0, **kwargs))[-1]
            return result.header["seed"], layer_to_array(result.layer)

        (s0, own), (s_none, plain) = run(0), run(None)
        (s5, five), (s5b, five_again), (s6, six) = run(5), run(5), run(6)
        assert (s0, s_none, s5, s5b, s6) == (0, 0, 5, 5, 6)
        np.testing.assert_array_equal(own, plain)
        np.testing.assert_array_equal(five, five_again)
        for a, b in itertools.combinations((own, five, six), 2):
            assert _distance(a, b) > 1.0
        with pytest.raises(TinctError, match="seed"):
            list(client.colorize(as_layer(src), steps=2, seed=C.MAX_SEED + 1))
        client.close()
    finally:
        harness.close()
    # A model without a distribution: no "variations" feature, the seed ignored (reply 0).
    plain_harness = DaemonHarness(tmp_path / "rt2", serve_command(model, "--idle-timeout", "0"))
    try:
        client = plain_harness.connect()
        assert C.FEATURE_VARIATIONS not in client.hello()["features"]
        result = list(client.colorize(as_layer(src), steps=2, scale=1.0, seed=5))[-1]
        assert result.header["seed"] == 0
        client.close()
    finally:
        plain_harness.close()
