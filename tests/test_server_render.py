"""The daemon's banded full-resolution render equals TinctPipeline.render, and both equal the
plain one-shot recipe (guided_upsample + merge_luma) (tiny model, in process)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from tinct import color
from tinct.protocol import PixelFormat
from tinct.server.frames import NP_DTYPES, frame_array, to_rgb_float
from tinct.server.render import render_layer
from tinct.testing import make_image


@pytest.fixture(scope="module")
def pipe():
    from tinct.pipeline.components import build_tiny_pipeline

    # One thread: on a busy 2-core machine, OpenMP threads make tiny ops far slower.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield build_tiny_pipeline(seed=0)
    torch.set_num_threads(threads)


@pytest.mark.parametrize("dtype", ["u8", "u16", "f32"])
@pytest.mark.parametrize("order", ["rgb", "bgr"])
def test_banded_render_matches_pipeline_render(pipe, dtype, order):
    src = make_image(150, 97, 4, dtype, seed=4)
    wire = src[..., [2, 1, 0, 3]] if order == "bgr" else src
    fmt = PixelFormat.packed(150, 97, 4, dtype, order)
    frame = np.ascontiguousarray(wire).tobytes()
    image = to_rgb_float(frame, fmt)
    with torch.inference_mode():
        latents = pipe.predict(image, num_inference_steps=1)
        expected = pipe.render(image, latents, 1.2)
        out, ofmt = render_layer(
            pipe, frame, fmt, latents, 1.2, band_pixels=150 * 13
        )  # 13-row bands
    assert ofmt == PixelFormat.packed(150, 97, 4, dtype, order)
    got = frame_array(out.tobytes(), ofmt)
    if order == "bgr":
        got = got[..., [2, 1, 0, 3]]
    assert np.array_equal(got[..., 3], src[..., 3])
    want = color.from_float(expected, NP_DTYPES[dtype])
    diff = np.abs(got[..., :3].astype(np.float64) - want.astype(np.float64))
    tol = {"u8": 1, "u16": 2, "f32": 1e-4}[dtype]  # one quantisation step from float reassociation
    assert diff.max() <= tol, diff.max()
    assert (diff > 0).mean() < 0.01


def test_gray_source_without_alpha(pipe):
    src = make_image(64, 40, 1, "u16", seed=2)
    fmt = PixelFormat.packed(64, 40, 1, "u16")
    with torch.inference_mode():
        image = to_rgb_float(src.tobytes(), fmt)
        latents = pipe.predict(image, num_inference_steps=1)
        out, _ = render_layer(pipe, src.tobytes(), fmt, latents, 1.0, dtype="u8")
    assert out.dtype == np.uint8 and (out[..., 3] == 255).all()


def test_parallel_bands_and_float_sources_agree(pipe):
    """Bands rendered by 2 threads = 1 thread; a float32 RGBA source (the rescale path) works too."""
    src = make_image(90, 70, 4, "f32", seed=8)
    fmt = PixelFormat.packed(90, 70, 4, "f32")
    with torch.inference_mode():
        image = to_rgb_float(src.tobytes(), fmt)
        latents = pipe.predict(image, num_inference_steps=1)
        one, _ = render_layer(pipe, src, fmt, latents, 0.8, dtype="u8", band_pixels=90 * 9)
        two, ofmt = render_layer(
            pipe, src, fmt, latents, 0.8, dtype="u8", band_pixels=90 * 9, workers=2
        )
    assert np.array_equal(one, two) and ofmt.dtype == "u8"
    assert np.array_equal(two[..., 3], color.from_float(src[..., 3], np.uint8))


def test_check_stops_a_render(pipe):
    src = make_image(40, 40, 3, "u8")
    fmt = PixelFormat.packed(40, 40, 3, "u8")
    calls = []

    def check():
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # stands in for JobCancelled

    with torch.inference_mode():
        latents = pipe.predict(to_rgb_float(src.tobytes(), fmt), num_inference_steps=1)
        with pytest.raises(KeyboardInterrupt):
            render_layer(pipe, src.tobytes(), fmt, latents, 1.0, band_pixels=40 * 4, check=check)
    assert len(calls) == 3


def test_one_band_equals_many_bands(pipe):
    src = make_image(60, 44, 4, "u16", seed=6)
    fmt = PixelFormat.packed(60, 44, 4, "u16", "bgr")
    with torch.inference_mode():
        latents = pipe.predict(to_rgb_float(src.tobytes(), fmt), num_inference_steps=1)
        banded, bfmt = render_layer(pipe, src.tobytes(), fmt, latents, 1.1, band_pixels=60 * 7)
        whole, wfmt = render_layer(pipe, src.tobytes(), fmt, latents, 1.1, band_pixels=1 << 30)
    assert bfmt == wfmt
    assert np.array_equal(banded, whole)


@pytest.mark.parametrize("size", [(97, 150), (48, 64)])  # upsampled; the work size itself
def test_render_equals_the_plain_recipe(pipe, size):
    """Independent check of tinct.color.compose: the input's L* with the model's a*b* upsampled
    by color.guided_upsample, merged by color.merge_luma, all on full-size float arrays."""
    image = color.to_float(make_image(size[1], size[0], 3, "u8", seed=9))
    with torch.inference_mode():
        latents = pipe.predict(image, num_inference_steps=1)
        got = pipe.render(image, latents, 1.3)
    lightness = color.luminance_lstar(image)
    ab = pipe.chroma_at_work(latents, 1.3)
    if ab.shape[:2] != size:
        ab = color.guided_upsample(ab, latents.work_lightness / 100.0, lightness / 100.0, 2, 1e-3)
    want = color.merge_luma(lightness, ab)
    assert got.shape == want.shape == size + (3,)
    assert np.abs(got - want).max() < 2e-3


def test_a_slider_drag_gives_each_scale_what_a_fresh_result_gives_it(pipe):
    """The daemon renders every rescale from the colour decoded at scale nodes and kept
    with the job's latents: a drag 1.0 -> 1.3 -> 0.45 -> 1.0 through the same latents gives,
    at each value, exactly the layer that latents decoded afresh give (nothing stale), and
    that is within a few 8-bit codes of a decode at the value itself (the tiny random
    model's colour is far less smooth in the scale than a trained one's)."""
    src = make_image(120, 90, 4, "u8", seed=5)
    fmt = PixelFormat.packed(120, 90, 4, "u8")
    with torch.inference_mode():
        latents = pipe.predict(to_rgb_float(src.tobytes(), fmt), num_inference_steps=1)
        layers = {}
        for s in (1.0, 1.3, 0.45, 1.0):
            for reduce in (2, 1):
                got, _ = render_layer(pipe, src.tobytes(), fmt, latents, s, reduce=reduce)
                fresh = dataclasses.replace(latents, decoded={})
                want, _ = render_layer(pipe, src.tobytes(), fmt, fresh, s, reduce=reduce)
                assert np.array_equal(got, want), (s, reduce)
                layers[s, reduce] = got
        exact, _ = render_layer(pipe, src.tobytes(), fmt, latents, 1.3, exact=True)
    assert not np.array_equal(layers[1.3, 1], layers[1.0, 1])
    assert np.abs(exact.astype(int) - layers[1.3, 1]).max() <= 3


def test_preview_decode_is_cheaper_and_keeps_the_luma(pipe):
    """reduce=2 (slider previews) decodes a quarter of the latent pixels; the layer keeps L*."""
    src = make_image(120, 90, 3, "u8", seed=3)
    fmt = PixelFormat.packed(120, 90, 3, "u8")
    image = to_rgb_float(src.tobytes(), fmt)
    hints = np.zeros((90, 120, 4), np.float32)
    hints[30:60, 40:80] = [0.9, 0.1, 0.1, 1.0]  # a red patch
    with torch.inference_mode():
        latents = pipe.predict(image, hints=hints, num_inference_steps=1)
        full = pipe.chroma_at_work(latents, 1.0)
        small = pipe.chroma_at_work(latents, 1.0, reduce=2)
        out, _ = render_layer(pipe, src.tobytes(), fmt, latents, 1.0, reduce=2)
    assert small.shape[0] == full.shape[0] // 2 and small.shape[1] == full.shape[1] // 2
    got = color.to_float(out[..., :3])
    assert np.abs(color.luminance_lstar(got) - color.luminance_lstar(image)).max() < 0.5
    lab = color.rgb_to_lab(got)
    assert lab[35:55, 45:75, 1].mean() > 20.0  # the painted red survives the reduced decode


def test_an_idle_worker_decodes_the_sliders_scale_nodes_before_a_drag_needs_them(pipe):
    """Compute.warm_one, one decode per call: the preview's pair around the slider's
    value, then the full-size pair there (a release needs it next), then the preview's
    other nodes over the slider's range, nearest first; none while a rescale or apply ran
    within WARM_QUIET; after that a drag decodes nothing and the cache counts them."""
    import time

    from tinct.protocol.constants import MAX_SCALE
    from tinct.server.cache import CachedJob, JobCache
    from tinct.server.worker import PREVIEW_DECODE_REDUCE, WARM_QUIET, Compute, Defaults

    src = make_image(120, 90, 4, "u8", seed=6)
    fmt = PixelFormat.packed(120, 90, 4, "u8")
    with torch.inference_mode():
        latents = pipe.predict(to_rgb_float(src.tobytes(), fmt), num_inference_steps=1)
        cache = JobCache(max_bytes=1 << 30, max_jobs=4)
        entry = CachedJob("j", latents, src.tobytes(), fmt)
        cache.put(entry)
        compute = Compute(pipe, cache, Defaults())
        compute.slider_at("j", 1.0)
        calls, order = 0, []
        while compute.warm_one():
            calls += 1
            order += [k for k in latents.decoded if k not in order]
        step = pipe.scale_node_step
        at = round(1.0 / step)
        r = PREVIEW_DECODE_REDUCE
        assert order[:4] == [(r, at), (r, at + 1), (1, at), (1, at + 1)], order
        rest = [k for _r, k in order[4:]]
        assert all(_r == r for _r, _k in order[4:]), order
        assert [abs(k - at) for k in rest] == sorted(abs(k - at) for k in rest), order
        preview = {k for r, k in latents.decoded if r == PREVIEW_DECODE_REDUCE}
        assert preview == set(range(round(MAX_SCALE / step) + 1))
        assert {k for r, k in latents.decoded if r == 1} == {
            round(1.0 / step),
            round(1.0 / step) + 1,
        }
        assert calls == len(latents.decoded)
        assert cache.stats()["bytes"] == entry.nbytes > src.nbytes
        kept = set(latents.decoded)
        render_layer(pipe, src.tobytes(), fmt, latents, 0.73, reduce=PREVIEW_DECODE_REDUCE)
        render_layer(pipe, src.tobytes(), fmt, latents, 1.04)
        assert set(latents.decoded) == kept  # the drag and its release decoded nothing
        compute.slider_at("j", 3.0)
        compute._interactive_at = time.monotonic()  # a rescale just ended
        assert not compute.warm_one()
        compute._interactive_at -= WARM_QUIET
        assert compute.warm_one() and (1, round(3.0 / step)) in latents.decoded
