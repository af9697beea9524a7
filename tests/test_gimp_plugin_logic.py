"""The GIMP plug-in's host-free modules and its staging, without GIMP."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tinct.install.gimp import PLUGIN_NAME, PLUGIN_SOURCE, stage_gimp

# The helpers import the vendored protocol next to them: test the staged copy, as GIMP runs it.
STAGED = Path(tempfile.mkdtemp(prefix="tinct-gimp-logic-")) / PLUGIN_NAME
stage_gimp(STAGED.parent)
sys.path.insert(0, str(STAGED))
from tinct_gimp import pixels, request, session  # noqa: E402
from tinct_protocol import Launcher  # noqa: E402
from tinct_protocol.geometry import Rect  # noqa: E402

# --- formats ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("precision", "babl", "dtype"),
    [
        ("U8_NON_LINEAR", "R'G'B'A u8", "u8"),
        ("GIMP_PRECISION_U8_LINEAR", "R'G'B'A u8", "u8"),
        ("U8_PERCEPTUAL", "R'G'B'A u8", "u8"),
        ("GIMP_PRECISION_U16_NON_LINEAR", "R'G'B'A u16", "u16"),
        ("U16_LINEAR", "R'G'B'A u16", "u16"),
        ("U32_LINEAR", "R'G'B'A float", "f32"),
        ("HALF_NON_LINEAR", "R'G'B'A float", "f32"),
        ("FLOAT_LINEAR", "R'G'B'A float", "f32"),
        ("gimp_precision_double_perceptual", "R'G'B'A float", "f32"),
    ],
)
def test_precision_maps_to_babl_format_and_wire_dtype(precision, babl, dtype):
    fmt = pixels.format_for_precision(precision)
    assert (fmt.babl, fmt.dtype) == (babl, dtype)


def test_unknown_precision_is_named():
    with pytest.raises(ValueError, match="'U64_LINEAR'"):
        pixels.format_for_precision("U64_LINEAR")


def test_check_pixels():
    pixels.check_pixels(3 * 2 * 4 * 2, 3, 2, pixels.U16, "x")
    with pytest.raises(ValueError, match="3x2 R'G'B'A u16 needs 48"):
        pixels.check_pixels(47, 3, 2, pixels.U16, "layer 'a'")


def test_packed_strips_row_padding():
    w, h, stride = 2, 3, 2 * 4 + 4
    rows = [bytes([y] * 8) + b"PADD" for y in range(h)]
    assert pixels.packed(b"".join(rows), w, h, stride, pixels.U8) == b"".join(
        bytes([y] * 8) for y in range(h)
    )
    data = bytes(range(24))
    assert pixels.packed(memoryview(data), w, h, 8, pixels.U8) == data
    with pytest.raises(ValueError, match="3 rows of stride 8"):
        pixels.packed(data[:-1], w, h, 8, pixels.U8)


# --- selection ------------------------------------------------------------------


def test_mask_plan():
    layer = Rect(10, 10, 100, 50)
    assert pixels.mask_plan(None, layer, "L") == pixels.MaskPlan.NONE
    assert pixels.mask_plan(Rect(0, 0, 0, 5), layer, "L") == pixels.MaskPlan.NONE
    assert pixels.mask_plan(Rect(0, 0, 11, 11), layer, "L") == pixels.MaskPlan.SELECTION
    with pytest.raises(ValueError, match="does not touch layer 'Photo'"):
        pixels.mask_plan(Rect(0, 0, 10, 10), layer, "Photo")  # touches only the corner


# --- arguments ------------------------------------------------------------------


def test_arguments_declared_once_with_defaults_in_range():
    names = [a.name for a in request.ARGUMENTS]
    assert names == [
        "prompt",
        "scale",
        "steps",
        "variations",
        "seed",
        "hint-layer",
        "reference-layer",
    ]
    for arg in request.ARGUMENTS:
        if arg.minimum is not None:
            assert arg.minimum <= arg.default <= arg.maximum, arg.name


def test_check_arguments_sends_the_sliders_number_and_the_seeds():
    req = request.check_arguments("  a red car ", 1.0, 20)
    assert req.colorize_kwargs() == {"prompt": "a red car", "scale": 1.0, "steps": 20, "seed": 0}
    req = request.check_arguments(None, 2, 1, "Tinct hints", variations=3, seed=40)
    assert req.scale == 2.0 and req.prompt == "" and req.hint_layer == "Tinct hints"
    assert req.colorize_kwargs()["scale"] == 2.0 and req.seeds() == [40, 41, 42]
    assert isinstance(req, sys.modules["tinct_protocol.colorize_request"].ColorizeRequest)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("x" * 2001, 1.0, 20), "shorten it to at most 2000"),
        ((5, 1.0, 20), "prompt must be text"),
        (("", 1.0, 0), "steps is 0; choose 1 to 200"),
        (("", 1.0, 201), "steps is 201"),
        (("", 1.0, 2.5), "steps must be a whole number"),
        (("", 2.5, 20), "colourfulness \\(scale\\) is 2.5; choose 0 to 2"),
        (("", float("nan"), 20), "must be a number"),
    ],
)
def test_check_arguments_errors_name_the_value_and_the_fix(args, message):
    with pytest.raises(ValueError, match=message):
        request.check_arguments(*args)
    with pytest.raises(ValueError, match="variations is 5; choose 1 to 4"):
        request.check_arguments("", 1.0, 4, variations=5)
    with pytest.raises(ValueError, match="seed is -1"):
        request.check_arguments("", 1.0, 4, seed=-1)


def test_pick_hint_layer():
    names = ["Photo", "Tinct hints", "Background"]
    assert request.pick_hint_layer(None, names, "Photo") == "Tinct hints"
    assert request.pick_hint_layer(None, ["Photo"], "Photo") is None
    assert request.pick_hint_layer("Strokes", names, "Photo") == "Strokes"
    assert request.pick_hint_layer(None, names, "Tinct hints") is None
    with pytest.raises(ValueError, match="is the layer being colorized"):
        request.pick_hint_layer("Photo", names, "Photo")


# --- staging --------------------------------------------------------------------


def test_stage_gimp_installs_an_executable_plugin_with_the_protocol(tmp_path):
    plug_ins = tmp_path / ".config" / "GIMP" / "3.0" / "plug-ins"
    (plug_ins / PLUGIN_NAME).mkdir(parents=True)
    (plug_ins / PLUGIN_NAME / "stale.py").write_text("old")
    files = stage_gimp(plug_ins)
    dest = plug_ins / PLUGIN_NAME
    entry = dest / f"{PLUGIN_NAME}.py"
    assert entry in files and os.access(entry, os.X_OK)
    assert not (dest / "stale.py").exists()
    assert (dest / "tinct_protocol" / "client.py").is_file()
    assert (dest / "tinct_gimp" / "request.py").is_file()
    assert not any("__pycache__" in p.parts for p in files)
    # The staged helpers import with no tinct, no numpy, no zmq: only the standard library.
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "import tinct_gimp.pixels, tinct_gimp.request, tinct_gimp.session, tinct_protocol; "
        "bad = [m for m in ('tinct', 'numpy', 'zmq') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-S", "-c", code, str(dest)], check=True, cwd=tmp_path)


def test_plugin_source_is_where_stage_gimp_looks():
    assert (Path(PLUGIN_SOURCE) / f"{PLUGIN_NAME}.py").is_file()


def test_helpers_are_never_the_source_nor_hints():
    names = ["Tinct hints", 'Tinct \u2014 "sky" x1.00', "Photo", "Tinct x0.90 auto", "Strokes"]
    assert request.is_helper("Tinct hints") and request.is_helper("Tinct x1.00")
    assert request.is_helper("Strokes", hint_name="Strokes") and not request.is_helper("Photo")
    with pytest.raises(ValueError, match="is a Tinct result"):
        request.pick_hint_layer("Tinct x1.00", names, "Photo")


def test_a_reference_is_checked_and_named_in_the_request():
    req = request.check_arguments("", 1.0, 2, None, "Background", "beach.jpg")
    assert req.reference_layer == "Background" and "reference" not in req.colorize_kwargs()
    assert req.reference_document == "beach.jpg"
    assert request.check_reference("Background", is_source=False, is_group=False) == "Background"
    with pytest.raises(ValueError, match="'Photo' is the layer being colorized"):
        request.check_reference("Photo", is_source=True, is_group=False)
    with pytest.raises(ValueError, match="is a layer group"):
        request.check_reference("Group", is_source=False, is_group=True)


# --- session: a real daemon (tiny model), and real backends that hang --------------


class _Progress:
    """What the session tells the UI: the start's phases and the daemon's replies."""

    def __init__(self, cancel_after=None):
        self.seen, self.cancel_sent, self.cancel_after = [], False, cancel_after
        self.backend = None

    def connected(self, backend):
        self.backend = backend

    def phase(self, phase):
        self.seen.append(f"phase {phase.value}")

    def show(self, ev):
        self.seen.append(ev.kind)

    def poll(self):
        if self.cancel_after in self.seen and not self.cancel_sent:
            self.cancel_sent = True
            return True
        return None


def _layer(w=48, h=32):
    from tinct_protocol import Layer

    return Layer.from_buffer(bytes(range(256)) * (w * h * 4 // 256), w, h, 4, "u8")


def _session_of(daemon):
    from tinct.testing import daemon_env

    return session.Session(lambda: Launcher(daemon.runtime_dir, daemon.command, env=daemon_env()))


def test_session_hands_every_event_to_the_progress_and_returns_the_result(daemon):
    s = _session_of(daemon)
    req = request.check_arguments("red", 1.5, 3)
    progress = _Progress()
    result = s.colorize(_layer(), None, None, req, progress)
    # the daemon was running: no start phases; "started" once out of the queue
    assert result.kind == "result" and result.scale == 1.5
    assert progress.seen == ["queued", "started", "progress", "progress", "progress", "result"]
    assert progress.backend == s.backend() and progress.backend.startswith("Backend tinct ")
    assert s.start.launches == 1  # the one start, which found the daemon
    s.close()


def test_variations_from_a_daemon_that_cannot_draw_them_are_refused_before_any_job(daemon):
    req = request.check_arguments("", 1.0, 2, variations=2)
    progress = _Progress()
    with pytest.raises(ValueError, match="cannot draw variations"):
        _session_of(daemon).colorize(_layer(), None, None, req, progress)
    assert progress.seen == []  # nothing was queued


def test_a_cancel_reaches_the_daemon_and_drops_a_result_that_beat_it(daemon):
    progress = _Progress(cancel_after="queued")
    with pytest.raises(session.Cancelled):
        _session_of(daemon).colorize(_layer(), None, None,
                                     request.check_arguments("", 1, 2), progress)  # fmt: skip
    assert progress.cancel_sent


def test_session_renders_the_slider_preview_small_and_the_full_layer(daemon):
    """The dialog's two renders: rescale at the preview's size, apply at full size."""
    s = _session_of(daemon)
    result = s.colorize(_layer(), None, None, request.check_arguments("", 1.0, 2), _Progress())
    small = s.rescale(result.job, 1.6, (12, 8), "u8").layer
    assert (small.width, small.height, small.format.dtype) == (12, 8, "u8")
    full = s.apply(result.job, 1.6).layer
    assert (full.width, full.height) == (48, 32)
    s.close()


def test_newest_runs_only_the_newest_and_says_when_another_is_coming():
    import threading

    started, release, seen = threading.Event(), threading.Event(), []

    def work(item):
        if item == "first":
            started.set()
            release.wait(5)
        if item == "boom":
            raise ValueError("boom")
        return item

    def done(out):
        seen.append((out if isinstance(out, str) else repr(out), worker.busy))

    worker = session.Newest(work, done)
    worker.submit("first")
    assert started.wait(5)
    for item in ("a", "b", "c"):  # submitted while "first" runs: only the newest runs
        worker.submit(item)
    assert worker.busy
    release.set()
    assert worker.wait_idle(5) and not worker.busy
    # when "first" was handed over, "c" was already waiting (busy); after "c", nothing
    assert seen == [("first", True), ("c", False)]
    worker.submit("boom")  # an exception is handed over, the thread goes on
    assert worker.wait_idle(5)
    assert seen[-1] == ("ValueError('boom')", False)
    worker.submit("late")
    worker.drop_pending()  # may already run: then it finishes; either way it ends idle
    assert worker.wait_idle(5)
    worker.close()
    worker.submit("after close")  # nothing runs any more
    assert not any(out == "after close" for out, _ in seen)


HANGING_BACKEND = """\
import os, sys, time
with open(sys.argv[1], "a") as f:
    f.write(f"{os.getpid()}\\n")
time.sleep(120)
"""


def test_cancel_while_the_early_start_starts_the_backend_ends_it(tmp_path):
    """The dialog opened (start_early); OK, then Cancel while the backend starts: the
    job's wait hears "starting", gives up at once, and the backend is gone before the
    call returns (the plug-in's process ends with the run)."""
    import time

    from tinct.testing import pid_running

    script, pids = tmp_path / "hang.py", tmp_path / "pids"
    script.write_text(HANGING_BACKEND)
    cmd = [sys.executable, str(script), str(pids)]
    s = session.Session(lambda: Launcher(tmp_path / "rt", cmd))
    s.start_early()
    for _ in range(500):
        if pids.exists() and pids.read_text().strip():
            break
        time.sleep(0.02)
    progress = _Progress(cancel_after="phase starting")
    t0 = time.monotonic()
    with pytest.raises(session.Cancelled):
        s.colorize(_layer(), None, None, request.check_arguments("", 1, 2), progress)
    assert time.monotonic() - t0 < 4.0
    assert progress.seen == ["phase starting"]
    started = [int(p) for p in pids.read_text().split()]
    assert len(started) == 1 and not pid_running(started[0])  # one start, and it is gone


def test_repeat_uses_the_last_dialogs_picks_or_says_what_is_missing():
    """Repeat (WITH_LAST_VALS) takes the hint and reference the last dialog picked, by
    name; none picked leaves them to the arguments; a picked layer that is gone is an
    error naming it, never a silent run without it."""
    names = ["Background", "photo", "Tinct hints"]
    beach = object()
    refs = {"beach.png / colour photo": beach}
    assert request.last_choices("", "", names, refs) == (None, None)
    assert request.last_choices("(no hints)", "(no reference)", names, refs) == (
        "(no hints)",
        "(no reference)",
    )
    assert request.last_choices("Tinct hints", "beach.png / colour photo", names, refs) == (
        "Tinct hints",
        beach,
    )
    with pytest.raises(request.UserError, match="'beach.png / colour photo' is not open"):
        request.last_choices("", "beach.png / colour photo", names, {})
    with pytest.raises(request.UserError, match="hint layer 'strokes' is not in this image"):
        request.last_choices("strokes", "", names, refs)
    # the picks are saved with the last-used values (aux arguments), never passed by scripts
    aux = {a.name: a for a in request.AUX_ARGUMENTS}
    assert set(aux) == {"hint-choice", "reference-choice"}
    assert all(a.kind == "string" and a.default == "" for a in aux.values())
    assert not set(aux) & {a.name for a in request.ARGUMENTS}
