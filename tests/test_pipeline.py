from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
import torch
from diffusers import AutoencoderTiny

from tinct import color
from tinct.color import precedence
from tinct.pipeline import TinctPipeline, load_pipeline
from tinct.pipeline.components import build_tiny_pipeline
from tinct.pipeline.devices import pick_device, pick_dtype
from tinct.pipeline.loading import ModelError
from tinct.pipeline.model_format import MODEL_FORMAT
from tinct.pipeline.pipeline_tinct import LATENT_NODE_STEP


def test_output_keeps_size_and_the_inputs_lightness(tiny_pipe, photo):
    out = tiny_pipe(photo, num_inference_steps=2, scale=1.0)
    img = out.images[0]
    assert img.shape == photo.shape and img.dtype == np.float32
    # Exact up to float32 rounding (the code reaches 2.3e-5 L* here; the README says exact).
    dl = np.abs(color.luminance_lstar(img) - color.luminance_lstar(photo))
    assert dl.max() <= 1e-3


def test_save_load_round_trip_gives_identical_output(tiny_pipe, photo, tmp_path):
    a = tiny_pipe(photo, prompt="a red ball", num_inference_steps=3)
    tiny_pipe.save_pretrained(tmp_path)
    loaded = load_pipeline(tmp_path, device="cpu")
    assert (
        isinstance(loaded, TinctPipeline)
        and loaded.config.work_pixels == tiny_pipe.config.work_pixels
    )
    b = loaded(photo, prompt="a red ball", num_inference_steps=3)
    assert a.scale == b.scale == 1.0  # the default colourfulness
    # The colour word is placed (no text reaches the U-Net): the loaded tiny U-Net's
    # single-batch pass differs from the built one's in the 6th decimal.
    assert np.allclose(a.images[0], b.images[0], atol=1e-5)


def test_classifier_free_guidance_extrapolates_from_the_empty_prompt(tiny_pipe, photo):
    # One step: z_0 = z_g + delta_hat, so the colour latent IS the guided prediction.
    # (A prompt without colour words: those are placed, not read by the U-Net.)
    cond = tiny_pipe.predict(
        photo, prompt="a sunny beach", num_inference_steps=1, guidance_scale=1.0
    )
    uncond = tiny_pipe.predict(photo, prompt="", num_inference_steps=1)
    guided = tiny_pipe.predict(
        photo, prompt="a sunny beach", num_inference_steps=1, guidance_scale=3.0
    )
    expected = uncond.color_latent + 3.0 * (cond.color_latent - uncond.color_latent)
    assert not torch.allclose(cond.color_latent, uncond.color_latent)
    assert torch.allclose(guided.color_latent, expected, atol=1e-4)


def test_scale_zero_decodes_the_gray_latent_and_one_the_prediction(tiny_pipe, photo):
    lat = tiny_pipe.predict(photo, num_inference_steps=2)
    with torch.no_grad():
        gray = tiny_pipe.decode_latent(lat.gray_latent)[0].permute(1, 2, 0).numpy()
        full = (
            tiny_pipe.decode_latent(lat.gray_latent + lat.color_latent)[0].permute(1, 2, 0).numpy()
        )
    assert np.allclose(tiny_pipe.preview(lat, 0.0), gray, atol=1e-6)
    assert np.allclose(tiny_pipe.preview(lat, 1.0), full, atol=1e-6)
    assert not np.allclose(gray, full)
    small = tiny_pipe.preview(lat, 0.5, size=(20, 30))
    assert small.shape == (20, 30, 3)


def test_the_unets_share_scales_its_colour_latent_and_survives_save_and_load(
    tiny_pipe, photo, tmp_path
):
    lat = tiny_pipe.predict(photo, num_inference_steps=2)
    at_one = tiny_pipe.preview(lat, 1.0)
    half_way = tiny_pipe.preview(lat, 0.3)
    tiny_pipe.register_to_config(unet_share=0.3)
    # scale 1 with a share of 0.3 is the old scale 0.3; share 0 leaves only the gray latent
    assert np.allclose(tiny_pipe.preview(lat, 1.0), half_way, atol=1e-6)
    assert not np.allclose(tiny_pipe.preview(lat, 1.0), at_one, atol=1e-3)
    tiny_pipe.save_pretrained(tmp_path / "m")
    loaded = load_pipeline(tmp_path / "m", device="cpu")
    assert loaded.config.unet_share == pytest.approx(0.3)
    assert np.allclose(loaded.preview(lat, 1.0), half_way, atol=1e-5)
    loaded.register_to_config(unet_share=0.0)
    with torch.no_grad():
        gray = loaded.decode_latent(lat.gray_latent)[0].permute(1, 2, 0).numpy()
    assert np.allclose(loaded.preview(lat, 1.7), gray, atol=1e-6)


def test_rescale_needs_no_unet(tiny_pipe, photo):
    lat = tiny_pipe.predict(photo, num_inference_steps=2)
    calls = []
    handle = tiny_pipe.unet.register_forward_hook(lambda *a: calls.append(1))
    try:
        for s in (0.3, 1.0, 1.7):
            tiny_pipe.render(photo, lat, s)
    finally:
        handle.remove()
    assert calls == []


def test_a_rescale_interpolates_the_colour_decoded_at_the_scale_nodes_around_it(tiny_pipe, photo):
    """The slider's colour at s is the decodes at the two latent scale nodes around it
    (LATENT_NODE_STEP / unet_share apart on the slider), linearly interpolated, each node
    decoded once and kept with the latents. Asked in any order, each scale gets its own
    nodes' colour: a cache that answered with a scale asked before fails here (the tiny
    model's colour moves by far more than the tolerance between these scales)."""
    lat = tiny_pipe.predict(photo, num_inference_steps=2)
    step = LATENT_NODE_STEP / tiny_pipe.config.unet_share

    def between_nodes(s: float) -> np.ndarray:  # decoded afresh, nothing kept
        lo = math.floor(s / step + 1e-9)
        t = s / step - lo
        a = tiny_pipe.decode_chroma(lat, lo * step)
        return a if t < 1e-6 else (1 - t) * a + t * tiny_pipe.decode_chroma(lat, (lo + 1) * step)

    asked = [1.0, 1.37, 0.52, 1.37, 2.0, 0.0, 1.33, 0.52]
    wanted = {s: between_nodes(s) for s in set(asked)}
    for s, before in zip(asked, [None, *asked], strict=False):
        got = tiny_pipe.model_chroma(lat, s)
        assert np.abs(got - wanted[s]).max() < 1e-4, s
        if before is not None and before != s:  # the check can tell the two apart
            assert np.abs(wanted[s] - wanted[before]).mean() > 0.1
    nodes = {round(k * step, 6) for _, k in lat.decoded}
    assert nodes == {0.0, 0.5, 0.6, 1.0, 1.3, 1.4, 2.0}
    kept = dict(lat.decoded)
    tiny_pipe.model_chroma(lat, 1.37)  # nothing decoded again
    assert all(lat.decoded[k] is v for k, v in kept.items()) and len(lat.decoded) == len(kept)
    # At a node the result is that decode, the same as the exact path at that scale.
    assert np.allclose(tiny_pipe.model_chroma(lat, 1.0), tiny_pipe.decode_chroma(lat, 1.0))
    assert np.allclose(
        tiny_pipe.chroma_at_work(lat, 1.0), tiny_pipe.chroma_at_work(lat, 1.0, exact=True)
    )
    # The exact path decodes at the scale itself and keeps nothing.
    exact = tiny_pipe.chroma_at_work(lat, 1.37, exact=True)
    assert np.allclose(
        exact,
        precedence.combine_chroma(
            tiny_pipe.decode_chroma(lat, 1.37), 1.37, prior_field=lat.prior_field
        ),
        atol=1e-5,
    )
    assert len(lat.decoded) == len(kept)


def test_the_default_scale_is_one_and_auto_is_refused_with_a_reason(tiny_pipe, photo):
    """The automatic pick is gone: no scale means 1.0, and "auto" is an error that says so."""
    out = tiny_pipe(photo, num_inference_steps=1)
    assert out.scale == 1.0
    assert np.array_equal(out.images[0], tiny_pipe.render(photo, out.latents, 1.0))
    with pytest.raises(ValueError, match="automatic pick was removed.*pass 1.0"):
        tiny_pipe(photo, num_inference_steps=1, scale="auto")
    for bad in (True, 4.5, -0.1, "1.0"):
        with pytest.raises(ValueError, match="scale must be a number in 0..4"):
            tiny_pipe(photo, num_inference_steps=1, scale=bad)


def _add_old_ranker(folder, with_folder: bool = True) -> None:
    """Make a saved model look like one from before the ranker was removed: model_index.json
    lists it, and (with_folder) its folder holds the old bundled ranker's config and weights."""
    import json

    from safetensors.torch import save_file

    index_path = folder / "model_index.json"
    index = json.loads(index_path.read_text())
    index["ranker"] = ["tinct.pipeline.ranker", "TinctRanker"]
    index_path.write_text(json.dumps(index, indent=2))
    if with_folder:
        (folder / "ranker").mkdir()
        config = {"_class_name": "TinctRanker", "_diffusers_version": "0.42.1",
                  "channels": [16, 32, 64, 64], "input_size": 96}  # fmt: skip
        (folder / "ranker" / "config.json").write_text(json.dumps(config))
        weights = {"head.2.weight": torch.zeros(1, 64), "head.2.bias": torch.zeros(1)}
        save_file(weights, str(folder / "ranker" / "diffusion_pytorch_model.safetensors"))


def test_an_old_model_folder_with_a_ranker_loads_and_ignores_it(tiny_pipe, photo, tmp_path):
    """Model folders saved while the automatic pick existed list a `ranker` component (whose
    module is gone): they load with it skipped, silently, colour exactly as the same folder
    without it, and save back without it."""
    import logging

    from diffusers.utils import logging as dlog

    plain, old = tmp_path / "plain", tmp_path / "old"
    tiny_pipe.save_pretrained(plain)
    tiny_pipe.save_pretrained(old)
    _add_old_ranker(old)
    want = load_pipeline(plain, device="cpu")(photo, num_inference_steps=2).images[0]

    class Collect(logging.Handler):
        def emit(self, record):
            said.append(record.getMessage())

    said: list[str] = []
    root, handler, level = dlog.get_logger("diffusers"), Collect(), dlog.get_verbosity()
    root.addHandler(handler)
    dlog.set_verbosity_warning()  # the tests run diffusers at "error"; a user sees warnings
    try:
        loaded = load_pipeline(old, device="cpu")
        direct = TinctPipeline.from_pretrained(old)
    finally:
        dlog.set_verbosity(level)
        root.removeHandler(handler)
    assert not [m for m in said if "ranker" in m], said
    for pipe in (loaded, direct):
        assert "ranker" not in pipe.components and not hasattr(pipe, "ranker")
        assert np.array_equal(pipe(photo, num_inference_steps=2).images[0], want)

    resaved = tmp_path / "resaved"
    loaded.save_pretrained(resaved)
    assert "ranker" not in (resaved / "model_index.json").read_text()
    assert not (resaved / "ranker").exists()
    assert np.array_equal(load_pipeline(resaved, device="cpu")(photo, num_inference_steps=2)
                          .images[0], want)  # fmt: skip

    # Listed but its folder deleted: still no error (only a used component must be present).
    gone = tmp_path / "gone"
    tiny_pipe.save_pretrained(gone)
    _add_old_ranker(gone, with_folder=False)
    assert np.array_equal(load_pipeline(gone, device="cpu")(photo, num_inference_steps=2)
                          .images[0], want)  # fmt: skip


def test_hints_change_the_output_where_painted_and_follow_their_colour(tiny_pipe, photo):
    hints = np.zeros(photo.shape[:2] + (4,), np.float32)
    hints[50:66, 60:80] = [0.1, 0.8, 0.2, 1.0]  # green patch on a bluish area
    plain = tiny_pipe(photo, num_inference_steps=2, scale=1.0).images[0]
    hinted = tiny_pipe(photo, hints=hints, num_inference_steps=2, scale=1.0).images[0]
    region = (slice(52, 64), slice(62, 78))
    want = color.rgb_to_lab(hints[region][..., :3])[..., 1:].mean(axis=(0, 1))
    got = color.rgb_to_lab(hinted[region])[..., 1:].mean(axis=(0, 1))
    before = color.rgb_to_lab(plain[region])[..., 1:].mean(axis=(0, 1))
    assert np.linalg.norm(got - want) < 0.5 * np.linalg.norm(before - want)
    assert got[0] < -15  # green: negative a*
    # lightness is still the input's
    assert np.abs(color.luminance_lstar(hinted) - color.luminance_lstar(photo)).mean() <= 0.5


def test_hints_spread_beyond_the_painted_pixels_fading_with_distance(tiny_pipe):
    """The propagated hint field is blended in by its support: unpainted pixels next to a
    hint take its colour; far away the model's own chroma keeps more of its say."""
    image = np.full((96, 128, 3), 0.4, np.float32)
    hints = np.zeros((96, 128, 4), np.float32)
    hints[4:12, 4:12] = [0.1, 0.8, 0.2, 1.0]  # a green dot in the top-left corner
    plain = tiny_pipe(image, num_inference_steps=2, scale=1.0).images[0]
    hinted = tiny_pipe(image, hints=hints, num_inference_steps=2, scale=1.0).images[0]

    def shift(ys, xs):  # how far a* moved toward green
        before = color.rgb_to_lab(plain[ys, xs])[..., 1].mean()
        return before - color.rgb_to_lab(hinted[ys, xs])[..., 1].mean()

    near = shift(slice(4, 12), slice(14, 20))  # unpainted, right next to the dot
    far = shift(slice(80, 96), slice(110, 128))  # the opposite corner
    assert near > 35.0  # (the U-Net alone moves it ~16 here)
    assert far < 0.8 * near


def test_painted_pixels_are_kept_exactly_at_full_resolution(tiny_pipe):
    """README: "painted pixels are kept exactly". On an image 6x the work size (per
    side), every painted pixel's a*b* is the painted colour at the input's lightness
    (merge_luma shrinks a colour that does not fit that lightness)."""
    h, w = 288, 384
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    image = np.stack([0.3 + 0.4 * x / w, 0.5 + 0.2 * y / h, 0.8 - 0.3 * y / h], axis=-1)
    image[(y - 140) ** 2 + (x - 120) ** 2 < 2400] = [0.85, 0.15, 0.1]
    image = image.astype(np.float32)
    assert tiny_pipe.work_size_for(h, w) == (48, 64)
    hints = np.zeros((h, w, 4), np.float32)
    hints[200:203, 250:300] = [0.1, 0.8, 0.2, 1.0]  # a thin green stroke
    hints[40:42, 40:44] = [0.9, 0.3, 0.6, 1.0]  # a small pink dot
    hints[130:150, 110:130] = [0.2, 0.3, 0.9, 1.0]  # a blue patch on the red disc
    out = tiny_pipe(image, hints=hints, num_inference_steps=1, scale=1.0).images[0]
    painted = hints[..., 3] > 0
    painted_ab = color.rgb_to_lab(hints[..., :3])[..., 1:]
    want = color.rgb_to_lab(color.merge_luma(color.luminance_lstar(image), painted_ab))[..., 1:]
    error = np.linalg.norm(color.rgb_to_lab(out)[..., 1:] - want, axis=-1)
    assert error[painted].max() < 0.5, error[painted].max()


def test_an_old_model_folder_loads_without_its_hint_channels_and_colours_the_same(
    photo, tiny_model_dir, tmp_path
):
    """Format 1 folders carry U-Net hint channels that only ever saw zeros: loading
    slices them off (model format 2), and the colours are the same."""
    from format_helpers import save_format1_copy

    old_dir = save_format1_copy(tiny_model_dir, tmp_path / "format1")
    assert json.loads((old_dir / "unet" / "config.json").read_text())["in_channels"] == 13
    new, old = load_pipeline(tiny_model_dir, device="cpu"), load_pipeline(old_dir, device="cpu")
    assert old.unet.config.in_channels == new.unet.config.in_channels == 8
    assert old.config.model_format == new.config.model_format == MODEL_FORMAT == 2
    assert torch.equal(old.unet.conv_in.weight, new.unet.conv_in.weight)
    hints = np.zeros(photo.shape[:2] + (4,), np.float32)
    hints[20:40, 50:80] = [0.1, 0.8, 0.2, 1.0]
    for kwargs in ({}, {"hints": hints, "prompt": "a photo"}):
        a = new(photo, num_inference_steps=2, scale=1.0, **kwargs).images[0]
        b = old(photo, num_inference_steps=2, scale=1.0, **kwargs).images[0]
        assert np.abs(a - b).max() < 1e-5
    # Saved again, it is a format 2 folder: no hint channels left on disk.
    old.save_pretrained(tmp_path / "resaved")
    assert json.loads((tmp_path / "resaved" / "model_index.json").read_text())["model_format"] == 2
    assert (
        json.loads((tmp_path / "resaved" / "unet" / "config.json").read_text())["in_channels"] == 8
    )


def test_a_model_folder_of_a_newer_format_or_with_stray_channels_is_refused(
    tiny_model_dir, tmp_path
):
    from format_helpers import save_format1_copy

    newer = tmp_path / "newer"
    shutil.copytree(tiny_model_dir, newer)
    index = json.loads((newer / "model_index.json").read_text())
    (newer / "model_index.json").write_text(json.dumps({**index, "model_format": 3}))
    with pytest.raises(ModelError, match="model_format=3: this Tinct reads model formats 1 to 2"):
        load_pipeline(newer, device="cpu")
    # Hint channels in a folder that says it is format 2: not a folder Tinct wrote.
    stray = save_format1_copy(tiny_model_dir, tmp_path / "stray")
    index = json.loads((stray / "model_index.json").read_text())
    (stray / "model_index.json").write_text(json.dumps({**index, "model_format": 2}))
    with pytest.raises(ModelError, match="unet.in_channels=13 does not fit .* model format 2"):
        load_pipeline(stray, device="cpu")


def test_autoencoder_tiny_works_too(photo):
    pipe = build_tiny_pipeline(seed=2, kind="tiny")
    assert isinstance(pipe.vae, AutoencoderTiny)
    out = pipe(photo, prompt="green", num_inference_steps=2)
    img = out.images[0]
    assert img.shape == photo.shape and out.scale == 1.0
    # The result is the render at the scale it reports, with the input's lightness...
    assert np.array_equal(img, pipe.render(photo, out.latents, out.scale))
    assert np.abs(color.luminance_lstar(img) - color.luminance_lstar(photo)).max() <= 1e-3
    # ...and its colour follows the slider (scale 0 decodes the gray latent alone).
    ab = lambda s: color.rgb_to_lab(pipe.render(photo, out.latents, s))[..., 1:]  # noqa: E731
    assert np.abs(ab(out.scale) - ab(0.0)).mean() > 1.0


def test_progress_callback_counts_steps_and_can_cancel(tiny_pipe, photo):
    seen = []
    tiny_pipe.predict(photo, num_inference_steps=3, callback=lambda i, n: seen.append((i, n)))
    assert seen == [(1, 3), (2, 3), (3, 3)]

    class Cancelled(Exception):
        pass

    def stop(i, n):
        raise Cancelled

    with pytest.raises(Cancelled):
        tiny_pipe.predict(photo, num_inference_steps=3, callback=stop)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"image": np.zeros((4, 4), np.float32)}, "image must be a"),
        ({"image": np.zeros((4, 4, 3), np.uint8)}, "must be float32"),
        ({"num_inference_steps": 0}, "num_inference_steps"),
        ({"guidance_scale": -1.0}, "guidance_scale"),
        ({"scale": "loud"}, "scale must be"),
        ({"hints": np.zeros((3, 3, 4), np.float32)}, "hints must be"),
        ({"prompt": 5}, "prompt must be a string"),
        ({"reference": np.zeros((8, 8, 3), np.uint8)}, "reference must be"),
    ],
)
def test_bad_arguments_name_the_argument(tiny_pipe, photo, kwargs, message):
    args = {"image": photo, **kwargs}
    with pytest.raises(ValueError, match=message):
        tiny_pipe(**args)


def test_work_size_is_bounded_and_aligned(tiny_pipe):
    m = tiny_pipe.size_multiple
    for h, w in [(1600, 2560), (10, 10), (4000, 6000), (33, 1000)]:
        wh, ww = tiny_pipe.work_size_for(h, w)
        assert wh % m == 0 and ww % m == 0
        assert wh * ww <= 2 * tiny_pipe.config.work_pixels + 4 * m * m


@pytest.mark.parametrize(
    "cuda, mps, expected",
    [(True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"), (False, False, "cpu")],
)
def test_device_choice_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert pick_device(None).type == expected
    assert pick_device("auto").type == expected
    assert pick_device("cpu").type == "cpu"  # an explicit choice wins


@pytest.mark.parametrize("bf16, expected", [(True, torch.bfloat16), (False, torch.float16)])
def test_cuda_takes_bf16_where_supported_else_fp16(monkeypatch, bf16, expected):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: bf16)
    assert pick_dtype(torch.device("cuda")) == expected
    assert pick_dtype(torch.device("cuda"), "fp32") == torch.float32


def test_device_choice():
    assert pick_device("cpu").type == "cpu"
    assert pick_dtype(torch.device("cpu")) == torch.float32
    assert pick_dtype(torch.device("cpu"), "bf16") == torch.bfloat16
    with pytest.raises(ValueError, match="unknown dtype"):
        pick_dtype(torch.device("cpu"), "float7")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            pick_device("cuda")


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="model_index.json not found"):
        load_pipeline(tmp_path)
