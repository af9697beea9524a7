"""The Krita plugin's host-free modules (pixels, request, state, session), tested without Krita.

The plugin is staged with stage_krita (as the installer does) and imported
under another name, so its relative import of the vendored protocol is real.
"""

from __future__ import annotations

import importlib.util
import struct
import sys
import time

import numpy as np
import pytest

from tinct.install.krita import enable_in_kritarc, stage_krita

HOST_FREE = ("pixels", "request", "state", "session", "results", "slider")


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    pykrita = tmp_path_factory.mktemp("pykrita")
    written = stage_krita(pykrita)
    assert [p.name for p in written] == ["tinct_krita.desktop", "tinct_krita"]
    pkg = pykrita / "tinct_krita"
    assert (pkg / "tinct_protocol" / "client.py").exists()
    spec = importlib.util.spec_from_file_location(
        "tinct_krita", pkg / "__init__.py", submodule_search_locations=[str(pkg)]
    )
    mod = importlib.util.module_from_spec(spec)
    sys.modules["tinct_krita"] = mod
    spec.loader.exec_module(mod)  # outside Krita: registers nothing
    for name in HOST_FREE:
        importlib.import_module(f"tinct_krita.{name}")

    yield mod
    for name in [n for n in sys.modules if n == "tinct_krita" or n.startswith("tinct_krita.")]:
        del sys.modules[name]


def test_staging_is_repeatable_and_enables(tmp_path):
    stage_krita(tmp_path)
    stage_krita(tmp_path)  # replaces, never nests
    assert not (tmp_path / "tinct_krita" / "tinct_krita").exists()
    assert "X-KDE-Library=tinct_krita" in (tmp_path / "tinct_krita.desktop").read_text()
    rc = enable_in_kritarc(tmp_path / "cfg")
    enable_in_kritarc(tmp_path / "cfg")
    assert rc.read_text().count("enable_tinct_krita=true") == 1


def test_no_host_import(plugin):
    for name in HOST_FREE:
        src = sys.modules[f"tinct_krita.{name}"].__file__
        text = open(src).read()
        assert "import krita" not in text and "PyQt5" not in text


_NP = {"u8": np.uint8, "u16": np.dtype("<u2"), "f32": np.dtype("<f4")}


@pytest.mark.parametrize("dtype", ["u8", "u16", "f32"])
def test_swap_red_blue(plugin, dtype):
    px = plugin.pixels
    a = (np.arange(6 * 4).reshape(6, 4) * 7).astype(_NP[dtype])
    out = np.frombuffer(bytes(px.swap_red_blue(a.tobytes(), dtype)), _NP[dtype]).reshape(6, 4)
    assert np.array_equal(out, a[:, [2, 1, 0, 3]])


def test_wire_format(plugin):
    px = plugin.pixels
    assert px.wire_format("RGBA", "U8") == ("u8", "bgr")
    assert px.wire_format("RGBA", "U16") == ("u16", "bgr")
    assert px.wire_format("RGBA", "F32") == ("f32", "rgb")
    with pytest.raises(plugin.request.UserError, match="CMYK"):
        px.wire_format("CMYKA", "U8")
    with pytest.raises(plugin.request.UserError, match="F16"):
        px.wire_format("RGBA", "F16")


def test_convert_depth(plugin):
    px = plugin.pixels
    u8 = bytes([0, 1, 128, 255])
    u16 = px.convert_depth(u8, "u8", "u16")
    assert struct.unpack("<4H", u16) == (0, 257, 128 * 257, 65535)
    assert bytes(px.convert_depth(u16, "u16", "u8")) == u8
    f = px.convert_depth(u8, "u8", "f32")
    assert np.allclose(np.frombuffer(bytes(f), "<f4"), np.array([0, 1, 128, 255]) / 255)
    assert bytes(px.convert_depth(struct.pack("<3f", -1.0, 0.5, 2.0), "f32", "u8")) == bytes(
        [0, 128, 255]
    )


def test_selection_bounds(plugin):
    px = plugin.pixels
    m = np.zeros((10, 12), np.uint8)
    m[3:6, 4:9] = 255
    m[7, 2] = 10
    assert px.selection_bounds(m.tobytes(), 12, 10) == px.Rect(2, 3, 7, 5)
    assert px.selection_bounds(bytes(120), 12, 10).empty
    assert px.Rect(0, 0, 10, 10).intersect(px.Rect(5, -3, 10, 6)) == px.Rect(5, 0, 5, 3)
    assert px.Rect is sys.modules["tinct_krita.tinct_protocol.geometry"].Rect  # one Rect


@pytest.mark.parametrize("dtype", ["u8", "u16", "f32"])
def test_mask_alpha(plugin, dtype):
    px = plugin.pixels
    rng = np.random.default_rng(0)
    h, w = 7, 9
    if dtype == "f32":
        a = rng.uniform(0, 1, (h, w, 4)).astype("<f4")
    else:
        top = 255 if dtype == "u8" else 65535
        a = rng.integers(0, top + 1, (h, w, 4)).astype(_NP[dtype])
    mask = rng.choice([0, 255, 0, 255, 77, 200], size=(h, w)).astype(np.uint8)
    out = np.frombuffer(bytes(px.mask_alpha(a.tobytes(), dtype, mask.tobytes())), a.dtype)
    out = out.reshape(h, w, 4)
    assert np.array_equal(out[..., :3], a[..., :3]), "color untouched"
    if dtype == "f32":
        expect = a[..., 3] * mask / 255.0
        assert np.allclose(out[..., 3], expect, atol=1e-6)
    else:
        expect = (a[..., 3].astype(np.int64) * mask + 127) // 255
        assert np.array_equal(out[..., 3], expect)


def test_upscale_and_alpha(plugin):
    px = importlib.import_module("tinct_krita.tinct_protocol.preview")  # GIMP uses it too
    small = np.arange(3 * 2 * 4, dtype=np.uint8).reshape(2, 3, 4)
    big = np.frombuffer(bytes(px.upscale_nearest(small.tobytes(), 3, 2, 7, 5, 4)), np.uint8)
    big = big.reshape(5, 7, 4)
    ys = np.arange(5) * 2 // 5
    xs = np.arange(7) * 3 // 7
    assert np.array_equal(big, small[ys][:, xs])
    alpha_src = np.full((5, 7, 4), 9, np.uint8)
    out = px.copy_alpha(bytearray(big.tobytes()), alpha_src.tobytes(), "u8")
    out = np.frombuffer(bytes(out), np.uint8).reshape(5, 7, 4)
    assert (out[..., 3] == 9).all() and np.array_equal(out[..., :3], big[..., :3])
    fit_size = sys.modules["tinct_krita.tinct_protocol.geometry"].fit_size
    assert fit_size(6000, 4000, 384) == (384, 256)
    assert fit_size(100, 50, 384) == (100, 50)
    assert px.preview_size(2450, 1630) == (384, 255)  # a drag over 4 MP asks for this
    assert px.preview_size(1000, 1000) is None  # <= 1 MP: full resolution every time


def test_the_filter_preview_rule_and_krita_mask_percent(plugin):
    px = importlib.import_module("tinct_krita.tinct_protocol.preview")
    big, small = (2450, 1630), (1000, 1000)
    assert px.filter_preview_applies(*big, 1.0, hints=False, reference=False)
    assert not px.filter_preview_applies(*small, 1.0, hints=False, reference=False)  # <= 1 MP
    assert not px.filter_preview_applies(*big, 0.0, hints=False, reference=False)  # no ratio
    assert not px.filter_preview_applies(*big, 1.0, hints=True, reference=False)
    assert not px.filter_preview_applies(*big, 1.0, hints=False, reference=True)
    # chroma x scale / held in 1 % steps, 0..2 only
    assert px.hsy_percent(1.0, 1.0) == 0 and px.hsy_percent(0.0, 1.0) == -100
    assert px.hsy_percent(2.0, 1.0) == 100 and px.hsy_percent(1.37, 1.0) == 37
    assert px.hsy_percent(1.9, 0.95) == 100  # 2.0000000000000004: rounds into reach
    assert px.hsy_percent(1.05, 1.3) == -19  # 0.8077
    assert px.hsy_percent(1.2, 0.5) is None and px.hsy_percent(0.5, 0.0) is None


def test_slider_preview_orders_the_mask_and_the_daemon_renders(plugin):
    sl = plugin.slider
    show = sl.SliderPreview(2450, 1630, 1.0, hints=False, reference=False)
    assert show.move(1.5) == (1, 50) and show.move(1.6) == (2, 60)
    assert show.masked == sl.Masked(2, 1.6, 60)
    assert not show.preview_in(1)  # an older daemon preview is not written over the mask
    seq = show.release()
    assert seq == 3 and show.final_due
    assert show.final_in(seq, 1.6) is None and show.held == 1.6 and not show.final_due
    assert show.masked is None  # the exact render is written: the mask goes
    # a move the mask cannot reach (ratio > 2) goes to the daemon; once its preview is on
    # the layer, the mask is off until the next full-resolution render
    assert show.move(0.5) == (4, -69)  # 0.3125 of 1.6
    assert show.move(1.8) == (5, 12)
    low = sl.SliderPreview(2450, 1630, 0.5, hints=False, reference=False)
    assert low.move(0.9) == (1, 80) and low.move(1.2) == (2, None)
    assert low.preview_in(2) and low.previewed and low.masked is None
    assert low.move(0.6) == (3, None)  # the layer holds a preview: no mask on it
    seq = low.release()
    assert low.final_in(seq, 0.6) is None and low.move(0.9) == (5, 50)
    # a full render of an older value while the mask shows a newer one: the mask stays,
    # its percent re-based on the new held value (or gone where out of reach)
    again = sl.SliderPreview(2450, 1630, 1.0, hints=False, reference=False)
    seq = again.release()
    assert again.move(1.2) == (2, 20)
    assert again.final_in(seq, 0.8) == sl.Masked(2, 1.2, 50) and again.held == 0.8
    far = sl.SliderPreview(2450, 1630, 1.0, hints=False, reference=False)
    seq = far.release()
    far.move(1.9)
    assert far.final_in(seq, 0.5) is None and far.masked is None  # 3.8: out of reach
    # where the rule says no: always the daemon
    for kwargs in ({"hints": True, "reference": False}, {"hints": False, "reference": True}):
        assert sl.SliderPreview(2450, 1630, 1.0, **kwargs).move(1.2) == (1, None)
    assert sl.SliderPreview(1000, 1000, 1.0, hints=False, reference=False).move(1.2)[1] is None
    assert sl.SliderPreview(2450, 1630, 0.0, hints=False, reference=False).move(1.2)[1] is None
    f32 = sl.SliderPreview(2450, 1630, 1.0, hints=False, reference=False, encoded=False)
    assert f32.move(1.2)[1] is None  # a float layer: Krita's filter works on linear values
    blocked = sl.SliderPreview(2450, 1630, 1.0, hints=False, reference=False)
    blocked.blocked = True  # the layer has children of its own
    assert blocked.move(1.2)[1] is None
    # the knob taken: the mask goes on at the held value (0 %) before the first move
    pressed = sl.SliderPreview(2450, 1630, 1.0, hints=False, reference=False)
    assert pressed.press() and pressed.masked == sl.Masked(0, 1.0, 0) and not pressed.press()
    seq = pressed.release()  # let go without a move: the render comes, the mask goes
    assert pressed.final_in(seq, 1.0) is None and pressed.masked is None
    assert not sl.SliderPreview(2450, 1630, 0.0, hints=False, reference=False).press()
    failing = sl.SliderPreview(2450, 1630, 1.0, hints=False, reference=False)
    failing.move(1.2)
    failing.release()
    failing.failed()
    assert failing.masked is None and not failing.final_due


def test_state_machine(plugin):
    st = plugin.state
    s = st.DockerState()
    assert s.controls() == st.Controls(
        colorize=True, cancel=False, slider=False, progress_visible=False, progress_busy=False
    )
    assert s.slider_moved(120, released=False) is None  # nothing to adjust yet
    assert s.colorize_clicked() and not s.colorize_clicked()  # no double start
    s.on_started("j1")
    assert s.controls().cancel and not s.controls().colorize
    s.on_progress(2, 4)
    assert s.status == "Colorizing: step 3 of 4"  # two steps done: the third under way
    s.on_result("j1", 0.9, None)
    assert (
        s.phase == st.Phase.READY
        and s.controls().slider
        and s.status == "Done: colourfulness 0.90."
    )
    assert s.slider_moved(150, released=False) == st.Adjust.PREVIEW
    assert s.slider_moved(150, released=True) == st.Adjust.APPLY and s.scale == 1.5
    s.on_adjusted(1.5, final=True)
    assert s.phase == st.Phase.READY
    # a second run that fails keeps the first result adjustable
    assert s.colorize_clicked()
    s.on_started("j2")
    assert s.cancel_clicked() == "j2" and s.phase == st.Phase.CANCELLING
    s.on_cancelled()
    assert s.phase == st.Phase.READY and s.job == "j1"
    assert s.colorize_clicked()
    s.on_error("the daemon is gone")
    assert s.status == "Error: the daemon is gone" and s.job == "j1"
    rq = plugin.request
    req = rq.ColorizeRequest(prompt="red car", scale=5.0)
    assert req.wire_scale() == 2.0 and rq.ColorizeRequest().wire_scale() == 1.0
    assert rq.slider_to_scale(-5) == 0.0 and rq.scale_to_slider(1.234) == 123


def test_state_machine_runs_all_variations_before_the_slider(plugin):
    st = plugin.state
    s = st.DockerState()
    assert s.colorize_clicked()
    s.expect_results(3)
    s.on_started("j1")
    s.on_progress(1, 4)
    assert "variation 1 of 3, step 2 of 4" in s.status
    s.on_result("j1", 1.0, None)
    assert s.phase == st.Phase.COLORIZING and not s.controls().colorize and not s.controls().slider
    s.on_started("j2")
    s.on_result("j2", 1.0, None)
    s.on_started("j3")
    s.on_result("j3", 1.0, None)
    assert s.phase == st.Phase.READY and s.job == "j3" and "3 variations" in s.status
    # Cancel between two variations' jobs: nothing to cancel in the daemon, the run stops
    assert s.colorize_clicked()
    s.expect_results(2)
    s.on_started("j4")
    s.on_result("j4", 1.0, None)
    assert s.cancel_clicked() is None and s.cancelled_run == s.run
    s.on_cancelled()
    assert s.phase == st.Phase.READY and s.job == "j4"


def test_state_follows_undo_redo_and_the_selected_result(plugin):
    """Undo frees the slider, redo gives it back at the scale the layer had; selecting
    another Tinct layer binds the slider to its job, or says it cannot be adjusted;
    none of it interrupts a run or an adjustment under way."""
    st = plugin.state
    s = st.DockerState()
    assert s.colorize_clicked()
    s.on_started("j1")
    s.on_result("j1", 1.0, None)
    assert s.slider_moved(150, released=True) == st.Adjust.APPLY
    s.on_adjusted(1.5, final=True)
    s.on_result_gone()  # Ctrl+Z
    assert s.job is None and not s.controls().slider and "gone" in s.status
    s.on_result_back("j1", 1.5)  # redo
    assert s.job == "j1" and s.scale == 1.5 and s.controls().slider
    assert s.status == "The result layer is back; the slider adjusts it (colourfulness 1.50)."
    s.bind_result("j0", 0.7, "Tinct x0.70")  # an older result selected
    assert (s.job, s.scale, s.phase) == ("j0", 0.7, st.Phase.READY) and s.controls().slider
    assert s.status == "Selected 'Tinct x0.70': the slider adjusts it."
    assert s.slider_moved(80, released=False) == st.Adjust.PREVIEW
    s.bind_result("j1", 1.5, "Tinct x1.50")  # ignored while the adjustment is in flight
    s.not_adjustable("Tinct x1.00", "why")
    assert s.job == "j0" and s.phase == st.Phase.ADJUSTING
    s.on_adjusted(0.8, final=True)
    s.not_adjustable("Tinct x1.00", "it was made in an earlier Krita session")
    assert s.job is None and not s.controls().slider and s.controls().colorize
    assert s.status.startswith("'Tinct x1.00' can no longer be adjusted (it was made in an")
    assert "select its photo layer and Colorize again" in s.status
    # a run under way is never rebound
    assert s.colorize_clicked()
    s.bind_result("j0", 0.7, "Tinct x0.70")
    s.on_result_back("j0", 0.7)
    assert s.job is None and s.phase == st.Phase.STARTING


def test_kept_results_follow_undo_redo_and_stay_bounded(plugin):
    """What the docker knows of its result layers: found again by id when redo brings one
    back, which went and which came back since the last look, the newest LIMIT only,
    and a job the daemon dropped forgotten."""
    from collections import namedtuple

    kept_results = plugin.results.KeptResults
    R = namedtuple("R", "job scale")
    kept = kept_results(limit=3)
    kept.keep("a", R("j1", 1.0))
    kept.keep("b", R("j2", 1.0))
    assert kept.changes({"x", "a", "b"}) == ([], [], {"a", "b"})
    assert kept.changes({"x", "a"}) == (["b"], [], {"a"})  # Ctrl+Z took b
    assert kept.changes({"x", "a"}) == ([], [], {"a"})  # said once
    assert kept.get("b") == R("j2", 1.0)  # still known: redo finds it by its id
    assert kept.changes({"x", "a", "b"}) == ([], ["b"], {"a", "b"})  # redo
    kept.keep("a", R("j1", 1.5))  # a slider render: the newest now, its scale updated
    kept.keep("c", R("j3", 1.0))
    kept.keep("d", R("j4", 1.0))  # over the limit: the oldest (b) goes
    assert "b" not in kept and kept.get("a").scale == 1.5 and len(kept) == 3
    assert kept.changes({"a", "b", "c", "d"}) == ([], [], {"a", "c", "d"})
    assert kept.forget_job("j3") == ["c"] and "c" not in kept
    assert kept.changes({"a", "d"}) == ([], [], {"a", "d"})  # a forgotten one never "went"
    assert kept_results().limit == plugin.results.KEPT_RESULTS == 4


def test_latest_runs_only_the_newest(plugin):
    seen = []

    def slow(v):
        time.sleep(0.05)
        seen.append(v)

    latest = plugin.session.Latest(slow)
    for i in range(20):
        latest.submit(i)
    assert latest.idle(5)
    assert seen[-1] == 19 and len(seen) < 20


def test_backend_cmd_inside_a_host(plugin, monkeypatch, tmp_path):
    sess = plugin.session
    monkeypatch.delenv("TINCT_BACKEND_CMD", raising=False)
    monkeypatch.setenv("TINCT_CONFIG", str(tmp_path / "none.json"))
    monkeypatch.setattr(sess.shutil, "which", lambda name: None)
    monkeypatch.setattr(sess.sys, "executable", "/usr/bin/krita")
    with pytest.raises(sess.LaunchError, match="TINCT_BACKEND_CMD"):
        sess.default_backend_cmd()
    monkeypatch.setenv("TINCT_BACKEND_CMD", "tinct serve")
    assert sess.default_backend_cmd() is None


def test_session_against_real_daemon(plugin, tmp_path):
    """The docker's worker calls (colorize with hints, rescale, apply, cancel) on a real daemon."""
    from tinct.testing import (
        DaemonHarness,
        as_layer,
        make_image,
        save_tiny_model,
        serve_command,
    )

    harness = DaemonHarness(
        tmp_path / "rt",
        serve_command(save_tiny_model(tmp_path / "model"), "--idle-timeout", "0"),
    )
    try:
        vendored = sys.modules["tinct_krita.tinct_protocol"]
        session = plugin.session.Session(
            lambda: vendored.Launcher(
                harness.runtime_dir, harness.command, env=harness.launcher().env
            )
        )
        src = make_image(64, 48, 4, "u8")
        img = as_layer(src[..., [2, 1, 0, 3]].copy(), order="bgr")
        image = vendored.Layer.from_buffer(img.data, 64, 48, 4, "u8", order="bgr")
        hints = vendored.Layer.from_buffer(bytes(64 * 48 * 4), 64, 48, 4, "u8", order="bgr")
        kinds = []
        result = session.colorize(
            image, hints, prompt="red", steps=2, scale=1.0, seed=0,
            on_event=lambda ev: kinds.append(ev.kind),
        )  # fmt: skip
        assert kinds[0] == "queued" and "progress" in kinds and kinds[-1] == "result"
        assert result.layer.format.order == "bgr" and result.scale == 1.0
        small = session.rescale(result.job, 1.5, (32, 24), "u8")
        assert (small.layer.width, small.layer.height) == (32, 24)
        full = session.apply(result.job, 1.5)
        assert full.layer.tobytes() != result.layer.tobytes()
        # cancel from another thread while the colorize runs
        big = make_image(640, 480, 4, "u8")
        big_layer = vendored.Layer.from_buffer(big.tobytes(), 640, 480, 4, "u8")
        started = []

        def on_event(ev):
            if ev.kind == "queued":
                started.append(ev.job)
                session.cancel(ev.job)

        with pytest.raises(vendored.Cancelled):
            session.colorize(
                big_layer, None, prompt="", steps=50, scale=1.0, seed=0, on_event=on_event
            )
        assert started
        session.close()
    finally:
        harness.close()


def test_cancel_while_the_layer_is_written_drops_it_until_it_joins_the_image(plugin):
    """Cancel while "Writing the layer…": the job is over (nothing to cancel in the
    daemon), the run is marked cancelled for the docker's write loop; once the written
    layer is being added (one host call) Cancel is off and a click does nothing."""
    st = plugin.state
    s = st.DockerState()
    assert s.colorize_clicked()
    s.on_started("j1")
    s.on_result("j1", 1.0, None)  # the first run's result: the slider's
    assert s.colorize_clicked()
    run = s.run
    s.on_started("j2")
    s.on_writing()
    assert s.status == "Writing the layer…" and s.controls().cancel
    assert not s.write_cancelled(run)
    assert s.cancel_clicked() is None  # j2 is finished: no cancel for the daemon
    assert s.phase == st.Phase.CANCELLING and s.status == "Cancelling…"
    assert s.write_cancelled(run)
    s.on_cancelled()  # the docker dropped the layer
    assert s.phase == st.Phase.READY and s.job == "j1" and s.status == "Cancelled."
    assert s.controls().colorize and not s.controls().cancel
    # too late: the written layer is going into the image
    assert s.colorize_clicked()
    run = s.run
    s.on_started("j3")
    s.on_writing()
    s.on_committing()
    assert not s.controls().cancel
    assert s.cancel_clicked() is None and s.phase == st.Phase.COLORIZING
    assert not s.write_cancelled(run)
    s.on_result("j3", 1.0, None)
    assert s.phase == st.Phase.READY and s.job == "j3" and not s.committing


def test_cancel_is_live_while_starting_and_errors_keep_their_details(plugin):
    """Cancel while "Starting…" (no job yet) abandons the run at once; its late messages
    no longer count. An error is one status line; its details are kept for the button."""
    st = plugin.state
    s = st.DockerState()
    assert s.colorize_clicked() and s.controls().cancel  # live from the start
    first = s.run
    assert s.cancel_clicked() is None
    assert s.phase == st.Phase.IDLE and s.status == "Cancelled." and s.controls().colorize
    assert not s.is_current(first)
    assert s.colorize_clicked() and s.is_current(s.run) and not s.is_current(first)
    s.on_error("The Tinct backend exited with code 1 while starting. Log: /x/daemon.log",
               "Traceback (most recent call last):\n  RuntimeError: no model")  # fmt: skip
    assert "\n" not in s.status and s.status.endswith("/x/daemon.log")
    assert "RuntimeError" in s.details
    assert s.colorize_clicked() and s.details == ""  # a new run clears the last error


def test_the_status_line_names_each_phase_as_it_happens(plugin):
    """A cold Colorize: connecting, starting the backend, loading the model, the step
    under way (never "Queued" with nothing ahead), the full-size render, writing the
    layer; the bar is busy until there is a fraction, and full only once written."""
    st = plugin.state
    phase = sys.modules["tinct_krita.tinct_protocol.constants"].StartPhase
    s = st.DockerState()
    assert s.colorize_clicked()
    s.expect_results(1, 4)
    seen = [s.status]
    s.on_start_phase(phase.STARTING)
    seen.append(s.status)
    assert s.controls().progress_busy and s.controls().cancel
    s.on_start_phase(phase.LOADING)
    seen.append(s.status)
    s.on_started("j1", 0)
    seen.append(s.status)
    assert not s.controls().progress_busy
    s.on_running()
    fractions = [s.fraction]
    for k in (1, 2, 3, 4):
        s.on_progress(k, 4)
        seen.append(s.status)
        fractions.append(s.fraction)
    s.on_writing()
    seen.append(s.status)
    fractions.append(s.fraction)
    assert s.phase == st.Phase.COLORIZING and s.controls().progress_visible
    s.on_result("j1", 1.0, None)
    assert seen == [
        "Connecting to the backend…",
        "Starting the backend…",
        "Loading the model…",
        "Colorizing: step 1 of 4",
        "Colorizing: step 2 of 4",
        "Colorizing: step 3 of 4",
        "Colorizing: step 4 of 4",
        "Colorizing: rendering the result…",
        "Writing the layer…",
    ]
    assert not any("Queued" in t for t in seen)
    assert fractions == sorted(fractions) and max(fractions) < 1.0
    assert s.fraction == 1.0 and s.status == "Done: colourfulness 1.00."
    assert s.phase == st.Phase.READY and not s.controls().progress_visible


def test_queued_only_with_jobs_ahead_and_cancel_while_loading(plugin):
    st = plugin.state
    phase = sys.modules["tinct_krita.tinct_protocol.constants"].StartPhase
    s = st.DockerState()
    assert s.colorize_clicked()
    s.expect_results(1, 3)
    s.on_started("j1", 1)
    assert s.status == "Queued: 1 job ahead…" and s.controls().progress_busy
    s.on_running()
    assert s.status == "Colorizing: step 1 of 3"
    s.on_result("j1", 1.0, None)
    # Cancel while the model loads: the run is abandoned at once
    assert s.colorize_clicked()
    s.on_start_phase(phase.LOADING)
    assert s.status == "Loading the model…" and s.controls().cancel
    run = s.run
    assert s.cancel_clicked() is None
    assert s.status == "Cancelled." and not s.is_current(run) and s.controls().colorize
    s.on_start_phase(phase.LOADING)  # a late phase of the abandoned start changes nothing
    assert s.status == "Cancelled."


HANGING_BACKEND = """\
import os, sys, time
with open(sys.argv[1], "w") as f:
    f.write(str(os.getpid()))
time.sleep(120)
"""


def test_session_early_start_is_cancelled_from_colorize_and_leaves_nothing(plugin, tmp_path):
    """The docker's Session: start_early (the docker shown), then Colorize's client()
    waits on that start, hears "starting", and Cancel ends it: the hung backend is gone."""
    from tinct.testing import pid_running

    vendored = sys.modules["tinct_krita.tinct_protocol"]
    script, marker = tmp_path / "hang.py", tmp_path / "pid"
    script.write_text(HANGING_BACKEND)
    launches = []

    def factory():
        launches.append(1)
        return vendored.Launcher(tmp_path / "rt", [sys.executable, str(script), str(marker)])

    session = plugin.session.Session(factory)
    session.start_early()
    deadline = time.monotonic() + 20
    while not marker.exists() or not marker.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    pid = int(marker.read_text())
    phases = []
    pressed = time.monotonic() + 0.3
    with pytest.raises(vendored.Cancelled):
        session.client(phases.append, lambda: time.monotonic() > pressed)
    assert [p.value for p in phases] == ["starting"] and launches == [1]  # the early one
    assert session.start.join(10)
    assert not pid_running(pid)
    session.cancel_start()  # nothing under way: nothing happens
    assert session.hello is None
