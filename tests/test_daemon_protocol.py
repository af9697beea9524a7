"""One protocol suite, run over both transports against a real `tinct serve` with a tiny model."""

from __future__ import annotations

import numpy as np
import pytest

from tinct.protocol import Cancelled, Layer, TinctError
from tinct.protocol import constants as C
from tinct.testing import (
    DaemonHarness,
    as_layer,
    layer_to_array,
    lstar,
    make_image,
    serve_command,
)

TRANSPORTS = ["zmq", "pure"]


def lab_of(rgb_u8: np.ndarray) -> np.ndarray:
    from tinct import color

    return color.rgb_to_lab(color.to_float(rgb_u8))


def gray_of(rgb_u8: np.ndarray) -> np.ndarray:
    """One u8 channel of the same L* (a gray scan of that colour photo)."""
    from tinct import color

    return color.from_float(color.gray(color.to_float(rgb_u8))[..., :1], np.uint8)


MAX_L_ERR = {"u8": 1.5, "u16": 0.2, "f32": 0.2}  # L* units; u8 rounding of RGB costs up to ~1


@pytest.fixture(scope="module")
def daemon(tmp_path_factory, model):
    rt = tmp_path_factory.mktemp("rt")
    harness = DaemonHarness(
        rt, serve_command(model, "--heartbeat", "0.25", "--idle-timeout", "0", "--steps", "2")
    )
    harness.connect().close()  # start it once for the module
    yield harness
    harness.close()


@pytest.fixture(params=TRANSPORTS)
def client(request, daemon):
    c = daemon.connect(request.param)
    assert c.transport_name == request.param
    yield c
    c.close()


def _check_color_layer(src: np.ndarray, layer: Layer, dtype: str) -> np.ndarray:
    out = layer_to_array(layer)
    h, w = src.shape[:2]
    assert out.shape == (h, w, 4) and layer.format.dtype == dtype
    if src.shape[2] in (2, 4):
        assert np.array_equal(out[..., 3], src[..., -1]), "alpha must come back bit for bit"
    else:
        assert (out[..., 3] == {"u8": 255, "u16": 65535, "f32": 1.0}[dtype]).all()
    err = np.abs(lstar(out[..., :3]) - lstar(src[..., :3] if src.shape[2] >= 3 else src[..., :1]))
    assert err.mean() < MAX_L_ERR[dtype] / 3 and np.percentile(err, 99) < MAX_L_ERR[dtype], (
        err.mean(),
        err.max(),
    )
    return out


def test_hello(client):
    hello = client.hello()
    assert hello["protocol"] == C.PROTOCOL_VERSION
    assert set(hello["ops"]) >= {
        "hello",
        "colorize",
        "rescale",
        "apply",
        "cancel",
        "status",
        "shutdown",
    }
    assert hello["limits"]["max_pixels"] == C.DEFAULT_MAX_PIXELS


def test_colorize_streams_progress_preview_result(client):
    src = make_image(96, 64, 4, "u8")
    events = list(client.colorize(as_layer(src), prompt="a red house", steps=3, seed=1))
    kinds = [e.kind for e in events]
    # queued (nothing ahead), started (out of the queue), then the steps
    assert kinds[:3] == ["queued", "started", "progress"] and kinds[-1] == "result"
    assert events[0].header["ahead"] == 0 and events[1].job == events[0].job
    progress = [e for e in events if e.kind == "progress"]
    assert [(e.step, e.total) for e in progress] == [(1, 3), (2, 3), (3, 3)]
    previews = [e for e in events if e.kind == "preview"]
    assert len(previews) == 1 and kinds.index("preview") < kinds.index("result")
    assert previews[0].layer.format.dtype == "u8" and previews[0].layer.format.channels == 4
    result = events[-1]
    assert result.job == events[0].job and isinstance(result.scale, float)
    assert result.scale == C.DEFAULT_SCALE and "auto_scale" not in result.header
    _check_color_layer(src, result.layer, "u8")


@pytest.mark.parametrize("dtype", ["u8", "u16", "f32"])
def test_dtypes_keep_alpha_and_luma(client, dtype):
    src = make_image(80, 48, 4, dtype, seed=3)
    result = list(client.colorize(as_layer(src), steps=1, scale=1.0))[-1]
    assert result.scale == 1.0
    _check_color_layer(src, result.layer, dtype)


@pytest.mark.parametrize("channels", [1, 2, 3])
def test_gray_and_alpha_less_inputs(client, channels):
    src = make_image(40, 30, channels, "u8", seed=channels)
    result = list(client.colorize(as_layer(src), steps=1))[-1]
    _check_color_layer(src, result.layer, "u8")


def test_bgr_order_and_padded_stride(client):
    src = make_image(50, 20, 4, "u16", seed=5)
    bgr = src[..., [2, 1, 0, 3]]
    padded = np.zeros((20, 50 * 4 + 6), np.uint16)  # 12 bytes of padding per row
    padded[:, : 50 * 4] = bgr.reshape(20, -1)
    layer = Layer.from_buffer(padded, 50, 20, 4, "u16", stride=padded.shape[1] * 2, order="bgr")
    result = list(client.colorize(layer, steps=1))[-1]
    assert result.layer.format.order == "bgr"
    _check_color_layer(src, result.layer, "u16")  # layer_to_array swaps back to RGB


def test_colorize_with_hint_frame_changes_the_colors(client):
    src = make_image(64, 64, 4, "u8", seed=7)
    hints = np.zeros((64, 64, 4), np.uint8)
    hints[10:30, 10:30] = (255, 0, 0, 255)  # a red stroke
    hints[40:60, 35:60] = (0, 0, 255, 255)  # a blue one
    plain = list(client.colorize(as_layer(src), steps=2, seed=3, scale=1.0))[-1]
    hinted = list(
        client.colorize(as_layer(src), hints=as_layer(hints), steps=2, seed=3, scale=1.0)
    )[-1]
    a, b = layer_to_array(plain.layer), _check_color_layer(src, hinted.layer, "u8")
    assert not np.array_equal(a[..., :3], b[..., :3]), "hints had no effect"


def test_painted_pixels_keep_their_colour_in_a_layer_the_daemon_reduced(daemon):
    """A 4.4 MP layer is box-reduced before the model sees it, and the colour upsampled
    again: a 2x4 px dot and a 3 px stroke still come back exactly as painted (at the
    photo's lightness), in the result and in a full-resolution apply at another scale."""
    from tinct import color

    h, w = 2100, 2100  # over 4 x REDUCED_PIXELS: the daemon reduces it by 2
    src = make_image(w, h, 4, "u8", seed=11)
    src[..., 3] = 255
    hints = np.zeros((h, w, 4), np.uint8)
    hints[400:402, 700:704] = (230, 80, 150, 255)  # a small pink dot
    hints[1500:1503, 300:900] = (30, 200, 60, 255)  # a thin green stroke
    painted = hints[..., 3] > 0
    want_ab = color.rgb_to_lab(color.to_float(hints[..., :3]))[..., 1:]
    lightness = lab_of(src[..., :3])[..., 0]
    want = color.rgb_to_lab(color.merge_luma(lightness, want_ab))[..., 1:][painted]
    client = daemon.connect("zmq")
    try:
        result = list(client.colorize(as_layer(src), hints=as_layer(hints), steps=1))[-1]
        for layer in (result.layer, client.apply(result.job, 0.4).layer):
            got = lab_of(layer_to_array(layer)[..., :3])[..., 1:][painted]
            error = np.linalg.norm(got - want, axis=-1)
            assert error.max() < 2.0, error.max()  # u8 rounding of the RGB
    finally:
        client.close()


def _sky_and_grass(h: int, w: int, sky_on_top: bool, seed: int) -> np.ndarray:
    """u8 RGB: a smooth blue sky and a textured green field, one above the other."""
    rng = np.random.default_rng(seed)
    sky, grass = np.array([90, 150, 240.0]), np.array([50, 140, 25.0])
    img = np.empty((h, w, 3))
    top, bottom = (slice(0, h // 2), slice(h // 2, h))
    img[top if sky_on_top else bottom] = sky
    field = bottom if sky_on_top else top
    img[field] = grass * rng.uniform(0.6, 1.4, (h // 2, w, 1))
    return np.clip(img, 0, 255).astype(np.uint8)


def test_colorize_with_a_reference_frame_of_another_size(client):
    assert C.FEATURE_REFERENCE in client.hello()["features"]
    ref = _sky_and_grass(90, 150, sky_on_top=True, seed=1)
    src = gray_of(_sky_and_grass(64, 64, sky_on_top=False, seed=2))  # one channel: a gray scan
    result = list(
        client.colorize(as_layer(src), reference=as_layer(ref), steps=2, seed=3, scale=1.0)
    )[-1]
    out = _check_color_layer(src, result.layer, "u8")
    lab = lab_of(out[..., :3])
    assert lab[36:60, :, 2].mean() < -15  # the smooth bright half is the reference's blue sky
    assert lab[4:28, :, 1].mean() < -8  # the textured half its green field
    # The reference's colour is cached with the job: apply needs no new prediction.
    again = client.apply(result.job, result.scale)
    assert np.array_equal(layer_to_array(again.layer), out)
    # A gray reference has nothing to lend: a clear error, and the daemon keeps serving.
    with pytest.raises(TinctError) as info:
        list(client.colorize(as_layer(src), reference=as_layer(np.repeat(src, 3, 2)), steps=1))
    assert info.value.code == C.E_BAD_PIXELS and "gray" in str(info.value)
    assert client.hello()["protocol"] == C.PROTOCOL_VERSION


def test_rescale_and_apply_from_cached_latents(client):
    src = make_image(120, 80, 4, "u16", seed=11)
    result = list(client.colorize(as_layer(src), steps=2, preview_side=60))[-1]
    small = client.rescale(result.job, 1.3, size=(60, 40))
    assert small.scale == 1.3 and small.job == result.job
    s = layer_to_array(small.layer)
    assert s.shape == (40, 60, 4) and s.dtype == np.uint8
    other = layer_to_array(client.rescale(result.job, 0.2, size=(60, 40)).layer)
    assert not np.array_equal(s[..., :3], other[..., :3]), "the scale changed nothing"
    assert np.array_equal(s[..., 3], other[..., 3])
    same = client.rescale(result.job, C.DEFAULT_SCALE, size=(30, 20), dtype="f32")
    assert same.scale == result.scale and same.layer.format.dtype == "f32"
    full = client.apply(result.job, 0.7)
    assert full.scale == 0.7
    _check_color_layer(src, full.layer, "u16")
    again = client.apply(result.job, result.scale)
    assert np.array_equal(layer_to_array(again.layer), layer_to_array(result.layer))


def test_scale_auto_from_an_old_plugin_is_refused_with_what_to_do(client):
    """Plugins from before the automatic pick was removed send scale "auto"; each op refuses
    it with one line saying to update the plugin, and the client can still work after."""
    src = make_image(40, 30, 4, "u8")
    job = list(client.colorize(as_layer(src), steps=1))[-1].job
    for send in (
        lambda: list(client.colorize(as_layer(src), steps=1, scale="auto")),
        lambda: client.rescale(job, "auto", size=(20, 15)),
        lambda: client.apply(job, "auto"),
    ):
        with pytest.raises(TinctError) as info:
            send()
        assert info.value.code == C.E_VERSION, info.value
        assert "update the Tinct plugin" in info.value.message
        assert "\n" not in info.value.message
    assert client.apply(job, 1.0).scale == 1.0


def test_rescale_unknown_job_is_an_error(client):
    with pytest.raises(TinctError) as info:
        client.rescale("no-such-job", 1.0)
    assert info.value.code == C.E_UNKNOWN_JOB


def test_cancel_mid_job(client):
    src = make_image(256, 256, 4, "u8")
    rid = client.enqueue_colorize(as_layer(src), steps=60)
    events = client.events(rid)
    job = next(events).job  # queued
    assert next(events).kind == "started"
    first = next(events)
    assert first.kind == "progress"
    client.cancel(job)
    with pytest.raises(Cancelled) as info:
        for _ in events:
            pass
    assert info.value.code == C.E_CANCELLED
    status = client.status()
    assert status["running"] == [] or all(r["job"] != job for r in status["running"])
    # and the daemon goes on serving
    assert list(client.colorize(as_layer(make_image(16, 16)), steps=1))[-1].kind == "result"


def test_a_job_behind_a_running_one_is_queued_with_one_ahead_then_started(client):
    """'ahead' counts the running job; 'started' comes when the job leaves the queue, so
    a plugin says "Queued" only while a job really is ahead."""
    first = client.enqueue_colorize(as_layer(make_image(128, 128)), steps=20)
    second = client.enqueue_colorize(as_layer(make_image(16, 16)), steps=1)
    events1, events2 = client.events(first), client.events(second)
    assert next(events1).header["ahead"] == 0
    queued = next(events2)
    assert queued.kind == "queued" and queued.header["ahead"] == 1
    assert next(events1).kind == "started"
    assert [e.kind for e in events1][-1] == "result"  # the first runs to its end
    kinds = [e.kind for e in events2]
    assert kinds[0] == "started" and kinds[-1] == "result", kinds


def test_echo_round_trip_is_exact(client):
    data = np.random.default_rng(0).integers(0, 255, (33, 17, 3), dtype=np.uint8)
    back = client.echo(as_layer(data))
    assert np.array_equal(layer_to_array(back), data)
