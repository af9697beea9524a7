"""GIMP 3 with its window (Xvfb): a black-and-white scan from open to colour, as a user does it.

docs/sample-bw.png opens as a Grayscale image in a display; Tinct Paint Hints makes
and selects the hint layer; a blue stroke goes on it; Tinct Colorize runs on the
hint layer with the bundled model (its dialogs answered by the test-only plug-in of
tests/gimp/tinct-colorize-selftest, which saves the screen with each dialog up). The screenshots are the README's.
Then the same scan again with a colour photo, open as a second image, picked in the
dialog's Reference list; one Ctrl+Z; and a gray layer as the reference.
Uses the trixie chroot of tests/test_gimp_host.py on Debian 12.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_gimp_host import CHROOT, find_gimp, install_selftest_plugin  # noqa: I001 (sibling test module)

from tinct import __version__, color
from tinct.install.gimp import stage_gimp
from tinct.protocol.layers import NO_REFERENCE, is_result_name, result_layer_name
from tinct.testing import DaemonHarness, serve_command

pytestmark = [pytest.mark.host, pytest.mark.slow]
HERE = Path(__file__).resolve().parent
SHOTS = HERE.parent / "out" / "screenshots"


def gimp_folder(prefix: str) -> tuple[Path | None, Path, Path]:
    """(the GIMP chroot or None, a fresh work folder in it, that folder as seen inside),
    with the Tinct and self-test plug-ins staged in the folder's GIMP profile. No GIMP:
    a failure in CI, else a skip."""
    host = find_gimp()
    if host is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"GIMP 3 is not available (no chroot at {CHROOT})")
        pytest.skip("GIMP 3 is not available; run `bash scripts/install_host_gimp.sh` as root")
    _, root = host
    work = Path(tempfile.mkdtemp(prefix=prefix, dir=(root / "tmp") if root else None))
    inner = Path("/") / work.relative_to(root) if root else work
    stage_gimp(work / "home/.config/GIMP/3.0/plug-ins")
    install_selftest_plugin(work / "home/.config/GIMP/3.0/plug-ins")
    return root, work, inner


def walk_env(inner: Path, backend: list[str], **extra: str) -> dict[str, str]:
    """The environment of a GIMP walk: HOME, TMPDIR and the runtime folder under INNER (the
    paths as seen inside the walk's root), BACKEND as $TINCT_BACKEND_CMD, the answering
    plug-in's file and the walk's result file, plus EXTRA."""
    return {
        "HOME": str(inner / "home"),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TMPDIR": str(inner / "tmp"),
        "TINCT_RUNTIME_DIR": str(inner / "rt"),
        "TINCT_BACKEND_CMD": json.dumps(backend),
        "TINCT_GIMP_SELFTEST": str(inner / "selftest.json"),
        "TINCT_GIMP_WALK_RESULT": str(inner / "walk.json"),
        **extra,
    }


def host_backend(root, inner: Path, work: Path, serve: str) -> list[str]:
    """The backend command a walk's plug-in runs: the shell command SERVE with the runtime
    folder WORK/rt, its pid (the daemon's: exec) added to WORK/rt/started.pids; from inside
    the chroot ROOT it re-enters this system's root, bound at INNER/host (`run_gimp_walk`'s
    bind_host), and runs there; with ROOT None, here."""
    script = f"echo $$ >> {work}/rt/started.pids; exec env TINCT_RUNTIME_DIR={work}/rt {serve}"
    if root is None:
        return ["/bin/sh", "-c", script]
    return ["/usr/sbin/chroot", str(inner / "host"), "/bin/sh", "-c", script]


def write_walk(work: Path, script: Path) -> None:
    """WORK/walk.py from SCRIPT, with the walks' shared helpers (tests/gimp/walk_common.py)
    beside it, where the walk imports them from."""
    (work / "walk.py").write_text(script.read_text())
    shutil.copy(HERE / "gimp" / "walk_common.py", work / "walk_common.py")


def run_gimp_walk(root, inner: Path, work: Path, env: dict, seconds: int, bind_host: bool = False):
    """Run WORK/walk.py in GIMP 3 under Xvfb, with exactly ENV (paths as seen inside the
    chroot, INNER being WORK there), in the chroot ROOT (None: this system) with /proc and
    /dev/shm mounted in a private mount namespace; with BIND_HOST this system's root is
    also bound at INNER/host there (and only there). Killed after SECONDS. Returns
    (walk.json's contents, GIMP's output)."""
    gimp = ["xvfb-run", "-a", "-s", "-screen 0 1280x900x24", "gimp-3.0", "-n",
            "--no-splash", "--batch-interpreter", "python-fu-eval", "-b",
            f"exec(open({str(inner / 'walk.py')!r}).read())", "--quit"]  # fmt: skip
    cmd = ["env", "-i", *(f"{k}={v}" for k, v in env.items()), *gimp]
    if root is not None:
        mounts = 'mount -t proc proc "$0/proc" && mount -t tmpfs tmpfs "$0/dev/shm" && '
        extra = []
        if bind_host:
            mounts = 'mount --rbind / "$0$1" && ' + mounts + "shift && "
            extra = [str(inner / "host")]
        cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
               mounts + 'exec chroot "$0" "$@"', str(root), *extra, *cmd]  # fmt: skip
    proc = subprocess.Popen(["timeout", "-k", "5", str(seconds), *cmd], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        out, _ = proc.communicate(timeout=seconds + 20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
    out = out.decode(errors="replace")
    assert (work / "walk.json").exists(), out[-3000:]
    return json.loads((work / "walk.json").read_text()), out


def test_a_scan_from_open_to_colour_in_the_gimp_window():
    root, work, inner = gimp_folder("tinct-gimp-gui-")
    harness = None
    try:
        harness = DaemonHarness(work / "rt", serve_command(None, "--idle-timeout", "0"))
        harness.connect().close()
        shutil.copy(HERE.parent / "docs" / "sample-bw.png", work / "scan.png")
        # the reference: another crop of the photo, in blue (a colour photo of one hue)
        g = np.asarray(Image.open(work / "scan.png").convert("L"))[40:400, 100:460] / 255.0
        blue = np.clip(g[..., None] * np.array([0.35, 0.6, 1.0]) * 1.15, 0, 1)
        Image.fromarray((blue * 255).astype(np.uint8)).save(work / "beach.png")
        ref_run = {
            "set": {"prompt": "", "steps": 3, "scale": 1.0},
            "hint": "(no hints)",
            "accept": True,
        }
        Image.open(work / "scan.png").convert("L").save(work / "old.png")  # stays Grayscale
        (work / "fail.py").write_text(FAILING_BACKEND)
        (work / "tmp").mkdir()
        selftest = {
            "set": {"prompt": "blue sky, green grass", "steps": 3, "scale": 1.0},
            "scales": [1.2],
            "accept": True,
            "screenshot_main": str(inner / "main.png"),
            "screenshot": str(inner / "slider.png"),
        }
        (work / "selftest.json").write_text(json.dumps(selftest))
        write_walk(work, HERE / "gimp" / "gui_walkthrough.py")
        # the test's daemon is found instead, until the walkthrough shuts it down
        env = walk_env(
            inner,
            ["/usr/bin/python3", str(inner / "fail.py")],
            TINCT_GIMP_GRAY_IMAGE=str(inner / "old.png"),
            TINCT_GIMP_PHOTO=str(inner / "scan.png"),
            TINCT_GIMP_REFERENCE=str(inner / "beach.png"),
            TINCT_GIMP_REF_SELFTEST=json.dumps(ref_run),
            TINCT_GIMP_REF_SHOT=str(inner / "main-ref.png"),
            # the walkthrough's Ctrl+Z is a core X key event
            GDK_CORE_DEVICE_EVENTS="1",
        )
        r, log = run_gimp_walk(root, inner, work, env, 360)
        assert r["ok"], r.get("error")
        # the scan opened Grayscale; Paint hints selected its layer; Colorize, run on the
        # hint layer, colorized the scan below it, converted the image to RGB and put the
        # result between the scan and the hints
        assert r["base_type_before"] == "GIMP_GRAY" and r["base_type_after"] == "GIMP_RGB"
        assert r["paint_hints"] == "GIMP_PDB_SUCCESS"
        assert r["selected_after_paint_hints"] == "Tinct hints"
        assert r["colorize"] == "GIMP_PDB_SUCCESS", log[-3000:]
        names = r["layers"]
        assert names[0] == "Tinct hints" and is_result_name(names[1]), names
        assert names[1] == 'Tinct \u2014 "blue sky, green grass" +hints x1.20', names
        # the dialogs bind each mnemonic once (Alt+C is Cancel only; Variations, Seed,
        # New seed and the slider's Before have their own); the slider dialog shows the
        # backend's version
        for dialog in ("mnemonics_main", "mnemonics_scale"):
            keys = [key for key, _text in r[dialog]]
            assert len(keys) == len(set(keys)) and "c" in keys, json.dumps(r[dialog])
        assert [t for k, t in r["mnemonics_main"] if k == "c"] == ["Cancel"], r["mnemonics_main"]
        assert ["b", "Before"] in r["mnemonics_scale"], r["mnemonics_scale"]  # its own Alt+B
        main_texts = [t.replace("_", "") for _k, t in r["mnemonics_main"]]
        assert {"Variations", "Seed", "New seed"} <= set(main_texts), r["mnemonics_main"]
        assert "Auto colourfulness" not in main_texts, r["mnemonics_main"]
        assert r["about"].startswith(f"Backend tinct {__version__} \u00b7 torch "), r["about"]
        # the Reference list: "(no reference)" first, then every open image's layers
        # except the scan being colorized (and the hint layer)
        items, label = r["reference_items"], r["reference_label"]
        assert items[0] == NO_REFERENCE and label in items, (items, label)
        assert label.endswith(" / colour photo") and len(items) == 3, items
        assert r["gray_image_type"] == "GIMP_GRAY"  # open, and never offered
        assert not any(item.startswith("old.png /") for item in items), items
        assert label.replace("colour photo", "gray copy") in items, items
        # the same colorize (no prompt, no hints, 1.00) without and with the reference: each
        # rerun replaced the result before it (one undo group); the scan and the reference
        # image are untouched; the reference's blue reaches the result
        assert r["colorize_plain"] == r["colorize_ref"] == "GIMP_PDB_SUCCESS", r.get("errors")
        assert r["layers_plain"] == ["Tinct hints", "Tinct x1.00", names[2]], r["layers_plain"]
        ref_name = result_layer_name("", 1.0, reference=r["beach_layers"][0])
        assert r["layers_ref"] == ["Tinct hints", ref_name, names[2]], r["layers_ref"]
        assert r["photo_unchanged_ref"] and r["beach_layers"][1] == "gray copy"
        b_plain, b_ref = (_mean_b(r[k]) for k in ("plain_pixels", "ref_pixels"))
        print(f"\nmean b*: without reference {b_plain:.1f}, with it {b_ref:.1f}")
        assert b_ref < -10 and b_ref < b_plain - 10, (b_plain, b_ref)
        # one Ctrl+Z in the image window: the plain result is back, the scan unchanged
        assert r["layers_after_undo"] == r["layers_plain"], r["layers_after_undo"]
        assert r["photo_unchanged_after_undo"]
        # a gray reference: the backend's message as the procedure's error, nothing added
        assert r["colorize_gray"] == "GIMP_PDB_EXECUTION_ERROR"
        gray_error, failing = r["errors"][-2:]  # the gray reference's, the failing backend's
        assert "gray" in gray_error and gray_error.startswith("Tinct:"), r["errors"]
        assert r["layers_after_gray"] == r["layers_plain"]
        # a backend that fails to start: one line, what failed, what to do, the log's path
        assert r["colorize_failing"] == "GIMP_PDB_EXECUTION_ERROR"
        assert "\n" not in failing and "Traceback" not in failing, failing
        assert failing.startswith("Tinct: The Tinct backend exited with code 1 while starting")
        assert failing.endswith(f"Log: {inner / 'rt' / 'daemon.log'}"), failing
        assert r["layers_after_failing"] == r["layers_plain"]
        SHOTS.mkdir(parents=True, exist_ok=True)
        for shot in ("main", "slider", "main-ref"):
            assert (work / f"{shot}.png").stat().st_size > 10_000, shot
            shutil.copy(work / f"{shot}.png", SHOTS / f"gimp-{shot}.png")
    finally:
        if harness is not None:
            harness.close()
        shutil.rmtree(work, ignore_errors=True)


FAILING_BACKEND = """\
import sys
print("Traceback (most recent call last):", file=sys.stderr)
print("RuntimeError: the model folder is missing", file=sys.stderr)
sys.exit(1)
"""


def _mean_b(hex_pixels: str) -> float:
    px = np.frombuffer(bytes.fromhex(hex_pixels), np.uint8).reshape(-1, 4)
    rgb = color.to_float(px[:, :3].copy())[None]
    return float(color.rgb_to_lab(rgb)[..., 2].mean())


def test_the_progress_names_each_phase_and_cancel_while_starting_ends_the_backend(tmp_path):
    """A real daemon on the tiny model that the plug-in starts itself, from inside the
    GIMP chroot: the backend command re-enters the host's root (bound at WORK/host in
    the test's mount namespace) and runs this checkout's `tinct serve` there, in the
    same runtime folder. tests/gimp/phases_walk.py drives two Colorize runs."""
    import sys

    import tinct
    from tinct.testing import pid_running, save_tiny_model

    root, work, inner = gimp_folder("tinct-gimp-phases-")
    model = save_tiny_model(tmp_path / "model")
    try:
        (work / "tmp").mkdir()
        (work / "shots").mkdir()
        (work / "host").mkdir()
        gray = Image.open(HERE.parent / "docs" / "sample-bw.png").convert("L").resize((160, 120))
        gray.save(work / "scan.png")
        write_walk(work, HERE / "gimp" / "phases_walk.py")
        backend_dir = Path(tinct.__file__).resolve().parent.parent
        serve = " ".join([f"PYTHONPATH={backend_dir}", "HF_HUB_OFFLINE=1", sys.executable,
                          "-m", "tinct", "serve", "--model", str(model), "--threads", "1",
                          "--idle-timeout", "0"])  # fmt: skip
        # the daemon's pid is recorded so the test can see it is gone
        backend = host_backend(root, inner, work, serve)
        env = walk_env(
            inner,
            backend,
            TINCT_GIMP_PHOTO=str(inner / "scan.png"),
            TINCT_GIMP_SHOTS=str(inner / "shots"),
        )
        r, _ = run_gimp_walk(root, inner, work, env, 300, bind_host=True)
        print("\ngimp phases run:", {k: v for k, v in r.items() if not k.startswith("log_")})
        assert r["ok"], r.get("error")
        # 1. the first dialog opening started the backend (its log was there before OK);
        #    Cancel while "Starting the backend…": no layer, the backend gone, never served
        assert r["early_cancel"]["log_exists"]
        lines = [t for t, _f in r["lines_cancel"]]
        assert lines[-2:] == ["Starting the backend…", "Cancelling…"] or lines[-1] == (
            "Starting the backend…"), lines  # fmt: skip
        assert r["run_cancel"] == "GIMP_PDB_CANCEL"
        assert r["layers_after_cancel"] == ["Background"], r["layers_after_cancel"]
        assert r["holder_after_cancel"] is None and r["alive_after_cancel"] == []
        assert "serving protocol" not in r["log_after_cancel"], r["log_after_cancel"]
        # 2. the cold run: each phase named while under way, in order; never "Queued";
        #    the bar full only once the layer is written
        cold = [t for t, _f in r["lines_cold"]]
        steps = [f"Colorizing: step {k} of 4" for k in range(1, 5)]
        expected = ["Connecting to the backend…", "Starting the backend…", "Loading the model…",
                    *steps, "Colorizing: rendering the result…", "Writing the layer…",
                    "Done."]  # fmt: skip
        assert [t for t in cold if t in expected] == expected, cold
        assert not any(t.startswith("Queued") for t in cold), cold
        fractions = dict(r["lines_cold"])
        assert all(fractions[t] < 1.0 for t in expected[3:-1]) and fractions["Done."] == 1.0
        assert r["run_cold"] == "GIMP_PDB_SUCCESS", r.get("errors")
        assert r["layers_cold"] == ["Tinct x1.00", "Background"], r["layers_cold"]
        serving = r["log_cold"].count("serving protocol")
        assert serving == 1 and "second one" not in r["log_cold"], r["log_cold"]
        SHOTS.mkdir(parents=True, exist_ok=True)
        for shot in ("starting", "loading", "step", "writing"):
            assert (work / "shots" / f"{shot}.png").stat().st_size > 10_000, shot
            shutil.copy(work / "shots" / f"{shot}.png", SHOTS / f"gimp-phase-{shot}.png")
    finally:
        rt = work / "rt"
        if (rt / "started.pids").exists():
            for pid in (rt / "started.pids").read_text().split():
                if pid_running(int(pid)):
                    os.kill(int(pid), signal.SIGKILL)
        # The host's root was bound at work/host in the child's private mount namespace
        # only; if that bind ever showed here, removing `work` would walk into it.
        bound = work / "host"
        if bound.is_dir() and (os.path.ismount(bound) or any(bound.iterdir())):
            raise RuntimeError(f"{bound} is not an empty folder: left in place, not removed")
        shutil.rmtree(work, ignore_errors=True)


def test_repeat_and_reshow_use_the_last_settings_and_a_slider_cancel_keeps_them(tmp_path):
    """tests/gimp/repeat_walk.py: Repeat (WITH_LAST_VALS, what Filters > Repeat Last
    gives) and Re-show (INTERACTIVE) start from the last run's prompt, steps,
    colourfulness, hint pick (an explicit "(no hints)" included) and reference pick;
    Cancel in the Colourfulness dialog keeps the run's settings (the colourfulness the
    first dialog asked for), adds nothing; a picked layer that is gone is named."""
    from tinct.testing import save_tiny_model

    root, work, inner = gimp_folder("tinct-gimp-repeat-")
    model = save_tiny_model(tmp_path / "model")
    harness = None
    try:
        harness = DaemonHarness(work / "rt", serve_command(model, "--idle-timeout", "0"))
        harness.connect().close()
        (work / "tmp").mkdir()
        photo = Image.open(HERE.parent / "docs" / "sample-bw.png").convert("L")
        photo.resize((160, 120)).save(work / "scan.png")
        g = np.asarray(photo)[40:400, 100:460] / 255.0
        blue = np.clip(g[..., None] * np.array([0.35, 0.6, 1.0]) * 1.15, 0, 1)
        Image.fromarray((blue * 255).astype(np.uint8)).resize((120, 120)).save(work / "beach.png")
        write_walk(work, HERE / "gimp" / "repeat_walk.py")
        # the test's daemon is found
        env = walk_env(
            inner,
            ["/bin/false"],
            TINCT_GIMP_PHOTO=str(inner / "scan.png"),
            TINCT_GIMP_REFERENCE=str(inner / "beach.png"),
            TINCT_GIMP_RESHOW_SHOT=str(inner / "reshow.png"),
        )
        r, _ = run_gimp_walk(root, inner, work, env, 300)
        print("\ngimp repeat run:", {k: {kk: vv for kk, vv in v.items() if kk != "pixels"}
                                     if isinstance(v, dict) else v for k, v in r.items()})  # fmt: skip
        assert r["ok"], r.get("error")
        label = r["reference_label"]
        first_name = result_layer_name("red roof", 1.4, reference="colour photo")
        # 1. the dialog's run: no hints although a hint layer is there, the reference, 1.40
        assert r["first"]["status"] == "GIMP_PDB_SUCCESS", r["errors"]
        assert r["first"]["layers"] == ["Tinct hints", first_name, "Background"], r["first"]
        # 2. Repeat: the same settings, picks included: the same name and the same pixels
        assert r["repeat"]["status"] == "GIMP_PDB_SUCCESS", r["errors"]
        assert r["repeat"]["layers"] == r["first"]["layers"]  # it replaced the first result
        a, b = (np.frombuffer(bytes.fromhex(r[k]["pixels"]), np.uint8).astype(int)
                for k in ("first", "repeat"))  # fmt: skip
        assert np.abs(a - b).max() <= 1, "Repeat did not give the first run's result"
        # 3. Re-show opens with them; its Cancel adds nothing
        shown = {"prompt": "red roof", "scale": 1.4, "steps": 2, "hint": "(no hints)",
                 "reference": label}  # fmt: skip
        assert r["reshow"]["shown"] == shown, r["reshow"]["shown"]
        assert r["reshow"]["status"] == "GIMP_PDB_CANCEL"
        assert r["reshow"]["layers"] == r["first"]["layers"]
        # 4. Cancel in the Colourfulness dialog: nothing added, the run's settings kept
        assert r["slider_cancel"]["status"] == "GIMP_PDB_SUCCESS", r["errors"]
        assert r["slider_cancel"]["layers"] == r["first"]["layers"]
        # 5. Repeat: the cancelled run's settings, at the colourfulness its dialog asked for
        second_name = result_layer_name("green field", 0.8, hints=True)
        assert r["repeat2"]["status"] == "GIMP_PDB_SUCCESS", r["errors"]
        assert r["repeat2"]["layers"] == ["Tinct hints", second_name, "Background"]
        # 6. Re-show shows them
        assert r["reshow2"]["shown"] == {"prompt": "green field", "scale": 0.8, "steps": 2,
                                         "hint": "Tinct hints",
                                         "reference": NO_REFERENCE}  # fmt: skip
        # 7. the picked hint layer is gone: Repeat names it, adds nothing
        assert r["repeat_gone"]["status"] == "GIMP_PDB_EXECUTION_ERROR"
        assert "hint layer 'Tinct hints' is not in this image" in r["errors"][-1], r["errors"]
        assert r["repeat_gone"]["layers"] == [second_name, "Background"]
        assert (work / "reshow.png").stat().st_size > 10_000
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(work / "reshow.png", SHOTS / "gimp-reshow.png")
    finally:
        if harness is not None:
            harness.close()
        shutil.rmtree(work, ignore_errors=True)


def test_hint_strokes_show_on_white_and_cancel_while_writing_leaves_nothing(tmp_path):
    """tests/gimp/hintwrite_walk.py. A: a stroke on the hint layer Tinct Paint Hints
    makes shows on a white and on a near-black part of the photo, and the job sends
    exactly the painted colour; a hint layer an earlier version made in LCh Color mode
    still works. B: a 3000x2000 Grayscale scan, Cancel pressed while "Writing the
    layer…" (between two strips of the write): CANCEL, no layer, the scan unchanged and
    still Grayscale, the window said "Cancelled."; the next Colorize gives its layer."""
    from tinct.testing import save_tiny_model

    root, work, inner = gimp_folder("tinct-gimp-hintwrite-")
    model = save_tiny_model(tmp_path / "model")
    harness = None
    try:
        harness = DaemonHarness(work / "rt", serve_command(model, "--idle-timeout", "0"))
        harness.connect().close()
        (work / "tmp").mkdir()
        (work / "shots").mkdir()
        write_walk(work, HERE / "gimp" / "hintwrite_walk.py")
        # the test's daemon is found
        env = walk_env(
            inner,
            ["/bin/false"],
            TINCT_GIMP_SHOTS=str(inner / "shots"),
        )
        r, out = run_gimp_walk(root, inner, work, env, 400)
        print("\ngimp hint/write run:", r)
        assert r["ok"], r.get("error")
        # A. the new hint layer: Normal at partial opacity; its stroke shows over anything
        assert r["paint_hints"] == "GIMP_PDB_SUCCESS"
        assert r["hint_mode"][0] == "normal" and 40 <= r["hint_mode"][1] < 100, r["hint_mode"]
        for plain, shown in zip(r["plain"], r["stroke"], strict=True):
            plain, shown = np.array(plain[:3]), np.array(shown[:3])
            assert np.abs(shown - plain).max() >= 60, (plain, shown)
            assert shown[0] - max(shown[1], shown[2]) >= 60, shown  # reads as red
        # ... and the job sent the painted colour, whatever the layer's mode and opacity
        assert r["run_hints"] == "GIMP_PDB_SUCCESS", r["errors"]
        assert r["sent_hints"] == [[[210, 40, 40, 255]] * 2], r["sent_hints"]
        assert r["names_hints"][0] == "Tinct hints" and "+hints" in r["names_hints"][1]
        # an LCh Color hint layer: on white its stroke barely shows (why the mode changed);
        # it still works, read as painted, its mode left as it was
        assert np.abs(np.array(r["legacy_stroke"][0][:3]) - 255).max() < 60, r["legacy_stroke"]
        assert r["run_legacy"] == "GIMP_PDB_SUCCESS", r["errors"]
        assert r["sent_legacy"] == [[[40, 90, 220, 255]] * 2], r["sent_legacy"]
        assert r["legacy_mode"] == "lch-color" and "+hints" in r["names_legacy"][1]
        # B. Cancel while the layer is written: the write had begun (the progress window
        # looked three times while writing) and was stopped there
        assert r["run_cancel"] == "GIMP_PDB_CANCEL", r["errors"]
        assert r["lines_cancel"][-1] == "Writing the layer…", r["lines_cancel"]
        assert r["closed_cancel"] == {"label": "Cancelled.", "write_polls": 3}
        assert r["names_cancel"] == ["scan"] and r["type_cancel"] == "GIMP_GRAY"
        assert r["scan_unchanged_cancel"]
        # the next Colorize: its layer (a look before each of the 32 strips, one before the
        # merge and one once the layer is done)
        assert r["run_after"] == "GIMP_PDB_SUCCESS", r["errors"]
        assert r["lines_after"][-1] == "Done." and r["closed_after"]["write_polls"] == 34
        assert r["names_after"] == ["Tinct x1.00", "scan"] and r["type_after"] == "GIMP_RGB"
        assert r["scan_unchanged_after"]
        SHOTS.mkdir(parents=True, exist_ok=True)
        for shot in ("hints-main", "hints", "writing"):
            assert (work / "shots" / f"{shot}.png").stat().st_size > 10_000, shot
            shutil.copy(work / "shots" / f"{shot}.png", SHOTS / f"gimp-{shot}.png")
    finally:
        if harness is not None:
            harness.close()
        shutil.rmtree(work, ignore_errors=True)


def test_the_slider_previews_while_it_moves_and_ok_keeps_the_full_resolution(tmp_path):
    """tests/gimp/slider_walk.py on a 1600x1000 photo (over the 1 MP up to which each
    render is full resolution): the Colourfulness slider moved through four values, one
    every 60 ms. While it moves the layer carries the saturation filter
    (``adapter.saturation_filter``) set to each value and no daemon preview is written;
    once it rests, the full-resolution render of the last value, equal to the daemon's
    own ``apply`` of that value, with the filter gone; OK keeps exactly that, no filter
    on any layer. From a result at 0 (no ratio for the filter), the daemon's small render
    (``preview_size``) upscaled, as before. A drag then Cancel leaves no filter.
    Then again with OK pressed right after the last move: the OK renders it. Then with
    the rest timer (``LiveScale.REST_MS``) an hour long and the knob let go (a GDK button
    release on the dialog's GtkScale) at the last value: the release alone brings the
    full resolution of that value, byte-equal to the daemon's ``apply``, before OK."""
    from tinct.protocol.preview import preview_size
    from tinct.testing import save_tiny_model

    FILTER_NAME = "Tinct colourfulness preview"  # tinct_gimp.adapter.FILTER_NAME (GIMP-only)

    root, work, inner = gimp_folder("tinct-gimp-slider-")
    model = save_tiny_model(tmp_path / "model")
    harness = None
    values = [1.2, 1.4, 1.6, 1.8]
    w, h = 1600, 1000
    try:
        harness = DaemonHarness(work / "rt", serve_command(model, "--idle-timeout", "0"))
        harness.connect().close()
        (work / "tmp").mkdir()
        gray = Image.open(HERE.parent / "docs" / "sample-bw.png").convert("L").resize((w, h))
        gray.convert("RGB").save(work / "photo.png")
        write_walk(work, HERE / "gimp" / "slider_walk.py")
        # the test's daemon is found
        env = walk_env(
            inner,
            ["/bin/false"],
            TINCT_GIMP_PHOTO=str(inner / "photo.png"),
            TINCT_SLIDER_VALUES=json.dumps(values),
        )
        r, log = run_gimp_walk(root, inner, work, env, 400)
        print("\ngimp slider run:", json.dumps(r["runs"], indent=None)[:3000])
        assert r["ok"], r.get("error") or log[-3000:]
        assert r["size"] == [w, h]
        small = list(preview_size(w, h))
        client = harness.connect()
        try:
            for name in ("rest", "ok_at_once", "release", "at_zero"):
                run = r["runs"][name]
                assert run["status"] == "GIMP_PDB_SUCCESS", run.get("error")
                renders = run["renders"]  # [scale, final, started, in, shown, w, h]
                filters = run["filters"]  # [value, shown, called, returned, layer's filters]
                previews = [x for x in renders if not x[1]]
                if name == "at_zero":
                    # (a) from a result at 0 (no ratio): no filter, the daemon's previews
                    assert not any(x[1] for x in filters), filters
                    assert previews, renders
                else:
                    # (a) while the knob moved: the layer's saturation filter showed each
                    # value, no daemon preview was written
                    assert [x[0] for x in filters] == values, filters
                    assert all(x[1] and x[4] == [FILTER_NAME] for x in filters), filters
                    assert not previews, renders
                assert all(x[5:] == small for x in previews), renders
                assert {x[0] for x in previews} <= set(values), renders
                # (b) the last render on the layer: the full resolution of the last value
                assert renders[-1][1] and renders[-1][0] == values[-1], renders
                assert renders[-1][5:] == [w, h]
                assert all(x[5:] == [w, h] for x in renders if x[1]), renders
                (job,) = run["jobs"]
                direct = client.apply(job, values[-1]).layer.tobytes()
                assert len(direct) == w * h * 4
                kept = (work / f"{name}-kept.raw").read_bytes()
                # (c) OK kept it: the kept layer is the daemon's full render of that value
                assert kept == direct, f"{name}: the kept layer is not the full render"
                assert run["layers"][0] == result_layer_name("", values[-1]), run["layers"]
                # (d) no filter stays on any layer after OK
                assert all(not f for f in run["filters_after"].values()), run["filters_after"]
            # the layer before OK (the knob rested; the knob let go) already held it, and
            # its filter was gone
            for name in ("rest", "release", "at_zero"):
                assert (work / f"{name}-before-ok.raw").read_bytes() == (
                    work / f"{name}-kept.raw"
                ).read_bytes(), f"{name}: the layer before OK was not the full render"
                assert r["runs"][name]["filters_before_ok"] == [], r["runs"][name]
            # Cancel after a drag: the filter showed the values, then nothing stays
            cancel = r["runs"]["cancel"]
            assert cancel["status"] == "GIMP_PDB_SUCCESS", cancel.get("error")
            assert all(x[1] for x in cancel["filters"]) and cancel["filters"], cancel
            assert cancel["layers"] == r["runs"]["at_zero"]["layers"], cancel["layers"]
            assert all(not f for f in cancel["filters_after"].values()), cancel
            # the release reached the dialog's handler (no rest timer could have fired)
            assert "released" in r["runs"]["release"], r["runs"]["release"]
        finally:
            client.close()
    finally:
        if harness is not None:
            harness.close()
        shutil.rmtree(work, ignore_errors=True)


def test_before_hides_the_result_while_pressed_in_and_ok_or_cancel_show_it_again(tmp_path):
    """tests/gimp/before_walk.py on a small photo with an empty "Tinct hints" layer above
    it: the Colourfulness dialog's "Before" toggle, pressed in, hides the run's layer,
    the source's earlier result and the hint layer (the photo alone shows); a slider
    render written meanwhile leaves them hidden; let out, they show again. OK pressed
    with "Before" still in keeps a visible result, and Cancel with it in leaves the
    image's layers as they were, all visible. Its mnemonic (Alt+B) is its own."""
    from tinct.testing import save_tiny_model

    root, work, inner = gimp_folder("tinct-gimp-before-")
    model = save_tiny_model(tmp_path / "model")
    harness = None
    try:
        harness = DaemonHarness(work / "rt", serve_command(model, "--idle-timeout", "0"))
        harness.connect().close()
        (work / "tmp").mkdir()
        gray = Image.open(HERE.parent / "docs" / "sample-bw.png").convert("L").resize((480, 300))
        gray.convert("RGB").save(work / "photo.png")
        write_walk(work, HERE / "gimp" / "before_walk.py")
        env = walk_env(  # the test's daemon is found
            inner,
            ["/bin/false"],
            TINCT_GIMP_PHOTO=str(inner / "photo.png"),
            TINCT_BEFORE_SHOT=str(inner / "before.png"),
        )
        r, log = run_gimp_walk(root, inner, work, env, 240)
        print("\ngimp before run:", json.dumps(r["runs"], indent=None)[:3000])
        assert r["ok"], r.get("error") or log[-3000:]
        hints, photo = r["layers"]
        assert hints == ["Tinct hints", True] and photo[1], r["layers"]

        def shown(layers):  # the visible layers' names
            return [name for name, visible in layers if visible]

        # 1. in: the run's layer and the hint layer hidden, the photo alone shows; a
        #    render at 1.40 written while in leaves them hidden; out: all show again
        toggled = r["runs"]["toggled"]
        assert toggled["status"] == "GIMP_PDB_SUCCESS", toggled.get("error")
        seen = toggled["before"]
        for when in ("on", "rendered"):
            assert seen[when]["active"] and not seen[when]["layer"], seen
            assert shown(seen[when]["layers"]) == [photo[0]], seen
            assert len(seen[when]["layers"]) == 3, seen
        assert not seen["off"]["active"] and seen["off"]["layer"], seen
        assert shown(seen["off"]["layers"]) == [x[0] for x in seen["off"]["layers"]], seen
        kept = result_layer_name("", 1.4)
        assert toggled["layers"] == [hints, [kept, True], photo], toggled["layers"]
        assert (work / "before.png").stat().st_size > 10_000
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(work / "before.png", SHOTS / "gimp-before.png")
        # 2. in, with run 1's result the earlier one: it is hidden too; OK with "Before"
        #    still in keeps the new result, visible, in place of the earlier one
        ok_in = r["runs"]["ok_in"]
        assert ok_in["status"] == "GIMP_PDB_SUCCESS", ok_in.get("error")
        on = ok_in["before"]["rendered"]
        assert on["active"] and not on["layer"] and "off" not in ok_in["before"], ok_in
        assert [x[0] for x in on["layers"]][2] == kept, on
        assert shown(on["layers"]) == [photo[0]], on
        ok_layers = [hints, [result_layer_name("", 1.0), True], photo]
        assert ok_in["layers"] == ok_layers, ok_in["layers"]
        # 3. Cancel with "Before" in: the layers as they were, all visible
        cancel_in = r["runs"]["cancel_in"]
        assert cancel_in["status"] == "GIMP_PDB_SUCCESS", cancel_in.get("error")
        on = cancel_in["before"]["rendered"]
        assert on["active"] and shown(on["layers"]) == [photo[0]], on
        assert cancel_in["layers"] == ok_layers, cancel_in["layers"]
        # the slider dialog binds each mnemonic once, Alt+B to "Before"
        for run in r["runs"].values():
            keys = [key for key, _text in run["mnemonics"]]
            assert len(keys) == len(set(keys)), run["mnemonics"]
            assert ["b", "Before"] in run["mnemonics"], run["mnemonics"]
    finally:
        if harness is not None:
            harness.close()
        shutil.rmtree(work, ignore_errors=True)
