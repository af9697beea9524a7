"""Real Krita GUI under Xvfb: the installed plugin's docker colorizes through a real daemon.

The plugin is installed into a throwaway HOME and enabled in its kritarc, once
with stage_krita (a daemon started by the test), once by the bundle's
`tinct-backend install` (the plugin starts the bundled backend itself) and once
by `tinct install` of this Python environment (the plugin starts `python -m tinct
serve` itself, from inside Krita, whose PYTHONPATH holds the pykrita folder).
Next to it the test installs a test-only plugin, tests/krita/tinct_krita_selftest
(`install_selftest_plugin`), which runs the driver module named by
$TINCT_KRITA_SELFTEST once the window exists (tinct_krita_selftest/gui.py: Colorize,
then a slider drag, ...); the driver writes a JSON result and the color layer's bytes.
Here we check them against the daemon.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from bundled_backend import BUNDLE, install_with_bundle, require_bundle
from PIL import Image
from test_krita_adapter import daemon_exe, kill_krita_in, require  # noqa: I001 (sibling test module)

from tinct import color
from tinct.install.krita import KRITARC_GROUP, enable_in_kritarc, stage_krita
from tinct.protocol import constants as C
from tinct.testing import DaemonHarness, pid_running, save_tiny_model, serve_command

pytestmark = [pytest.mark.host, pytest.mark.slow]
HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHOTS = HERE.parent / "out" / "screenshots"  # the README's pictures come from here
SELFTEST_PLUGIN = "tinct_krita_selftest"  # tests/krita/: a test-only plugin, never shipped


def install_selftest_plugin(home: Path) -> None:
    """Put the test-only driver plugin next to the installed Tinct plugin in HOME's pykrita
    folder and enable it in HOME's kritarc (after whatever installed Tinct wrote there)."""
    pykrita = home / ".local/share/krita/pykrita"
    pykrita.mkdir(parents=True, exist_ok=True)
    shutil.copy(HERE / "krita" / f"{SELFTEST_PLUGIN}.desktop", pykrita)
    shutil.copytree(HERE / "krita" / SELFTEST_PLUGIN, pykrita / SELFTEST_PLUGIN,
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    rc = home / ".config" / "kritarc"
    lines = rc.read_text().splitlines() if rc.exists() else []
    if KRITARC_GROUP not in lines:
        lines += [KRITARC_GROUP]
    lines.insert(lines.index(KRITARC_GROUP) + 1, f"enable_{SELFTEST_PLUGIN}=true")
    rc.write_text("\n".join(lines) + "\n")


def install_with_python(home: Path, *args: str) -> None:
    """`tinct install ARGS` of this Python environment into HOME (what a pip user runs)."""
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    if os.environ.get("PYTHONPATH"):  # a checkout under test (the venv may be another's)
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    proc = subprocess.run(
        [sys.executable, "-m", "tinct", "install", *args],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("variant", ["staged", "installed", "python"])
def test_docker_colorizes_and_slider_updates_layer(tmp_path, variant):
    """staged: stage_krita + enable_in_kritarc and a daemon the test started; installed:
    the bundle's `tinct-backend install`, and the plugin starts the bundled backend itself;
    python: `tinct install` from this venv, and the plugin starts `python -m tinct serve`."""
    krita = require("krita")
    prompt = "a red ball"
    xvfb = require("xvfb-run")
    require("xauth")
    home = tmp_path / "home"
    rt = tmp_path / "rt"
    model = save_tiny_model(tmp_path / "model")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)  # Krita refuses offscreen; Xvfb gives it a display
    for key in ("TINCT_BACKEND_CMD", "TINCT_CONFIG"):
        env.pop(key, None)
    if variant == "staged":
        stage_krita(home / ".local/share/krita/pykrita")
        enable_in_kritarc(home / ".config")
        harness = DaemonHarness(rt, serve_command(model, "--idle-timeout", "0"))
        env["TINCT_BACKEND_CMD"] = json.dumps(harness.command)
    elif variant == "installed":
        home.mkdir()
        backend = [str(require_bundle()), "serve", "--model", str(model), "--threads", "1",
                   "--idle-timeout", "0"]  # fmt: skip
        install_with_bundle(home, "--krita", "--backend", json.dumps(backend))
        harness = DaemonHarness(rt, backend)  # finds the daemon the plugin starts
    else:  # the bundled model and a real photo: the README's screenshot comes from this run
        home.mkdir()
        backend = serve_command(None, "--idle-timeout", "0")  # sys.executable -m tinct serve
        install_with_python(home, "--krita", "--backend", json.dumps(backend))
        harness = DaemonHarness(rt, backend)
        photo = Image.open(REPO / "docs" / "sample-bw.png").convert("L")
        (tmp_path / "photo.gray").write_bytes(photo.tobytes())
        env["TINCT_KRITA_PHOTO"] = f"{tmp_path / 'photo.gray'}:{photo.width}x{photo.height}"
        prompt = "blue sky, green grass"
    install_selftest_plugin(home)
    out = tmp_path / "result.json"
    env["TINCT_KRITA_PROMPT"] = prompt
    try:
        if variant == "staged":
            harness.connect().close()
        env.update(
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_DATA_HOME=str(home / ".local/share"),
            XDG_RUNTIME_DIR=str(tmp_path),
            TINCT_RUNTIME_DIR=str(rt),
            TINCT_KRITA_SELFTEST="gui",
            TINCT_KRITA_RESULT=str(out),
        )
        t0 = time.monotonic()
        proc = subprocess.run(
            ["timeout", "-k", "5", "150", xvfb, "-a", "-s", "-screen 0 1280x1024x24",
             krita, "--nosplash"],
            env=env, capture_output=True, text=True, cwd=tmp_path,
        )  # fmt: skip
        elapsed = time.monotonic() - t0
        assert out.exists(), (
            f"no result file (exit {proc.returncode}); the plugin did not load or the "
            f"self-test never ran:\n{proc.stderr[-3000:]}"
        )
        r = json.loads(out.read_text())
        print(f"\nkrita GUI run {elapsed:.1f} s (exit {proc.returncode}):",
              {k: v for k, v in r.items() if k not in ("photo_before",)})  # fmt: skip
        assert r["ok"], r.get("error")
        exe = daemon_exe(rt)
        if variant == "installed":  # the plugin's Launcher started the bundle
            assert exe == str(BUNDLE.resolve()), exe
        if variant == "python":  # ... or this venv's Python, with the pykrita folder on
            # Krita's PYTHONPATH (where the plugin's package once shadowed `tinct`)
            assert exe == os.path.realpath(sys.executable), exe
            assert str(home / ".local/share/krita/pykrita") in r["pythonpath"], r["pythonpath"]
        ui = r["ui_defaults"]  # the protocol's defaults and bounds, the one slider word
        assert ui["steps"] == C.DEFAULT_STEPS and ui["steps_range"] == [C.MIN_STEPS, C.MAX_STEPS]
        assert ui["slider_range"] == [round(C.MIN_SCALE * 100), round(C.MAX_SCALE * 100)]
        assert ui["slider"] == round(C.DEFAULT_SCALE * 100)
        assert (ui["variations"], ui["seed"]) == (C.DEFAULT_VARIATIONS, C.DEFAULT_SEED)
        assert ui["variations_range"] == [C.MIN_VARIATIONS, C.MAX_VARIATIONS]
        assert ui["seed_range"] == [C.MIN_SEED, C.MAX_SEED]
        assert C.SCALE_WORD in ui["labels"], ui["labels"]
        # Paint hints: a "Tinct hints" layer in Color mode above the photo, made active and
        # chosen; the photo stays the layer colorized and is never offered as a hint layer
        assert r["names_with_hints"] == ["Background", "photo", "Tinct hints"]
        assert r["hint_blend"] == "normal" and r["hint_choice"] == "Tinct hints"
        assert "photo" not in r["hint_items"] and "'photo' is the layer colorized" in r[
            "hint_status"]  # fmt: skip
        first = f'Tinct \u2014 "{prompt}" +hints'  # painted hints went with it
        assert r["names"] == ["Background", "photo", r["first_name"], "Tinct hints"]
        assert r["first_name"] == first + " x1.00"  # the slider's number, never "auto"
        assert r["blend"] == "color" and r["photo_unchanged"]
        assert r["progress_seen"], "the progress bar never moved"
        assert any("step" in s for s in r["status_seen"]), r["status_seen"]
        # dragging changed the layer live; what the drag showed is exactly what stayed on
        # release, and the name says 1.90
        assert r["scale0"] == pytest.approx(C.DEFAULT_SCALE) and r["auto_scale"] is None
        assert r["scale_final"] == pytest.approx(1.9)
        assert r["preview_changed"] and r["final_changed"] and r["preview_is_final"]
        assert r["name_after_drag"] == first + " x1.90"
        # the layer now holds exactly what the daemon renders for that job at 1.9
        client = harness.connect("pure")
        try:
            ev = client.apply(r["job"], 1.9)
        finally:
            client.close()
        expected = np.frombuffer(ev.layer.tobytes(), np.uint8)
        got = np.frombuffer(Path(str(out) + ".layer").read_bytes(), np.uint8)
        assert np.array_equal(expected, got)
        # Before hides Tinct's colour (the gray photo shows), and brings it back
        assert r["chroma_before_on"] < 0.5 < r["chroma_composite"], r
        assert r["chroma_before_off"] == r["chroma_composite"]
        # a rerun uses the slider's 1.90 and goes on top of the first result
        assert r["rerun_scale"] == pytest.approx(1.9)
        assert r["names_rerun"] == ["Background", "photo", *[first + " x1.90"] * 2, "Tinct hints"]
        assert r["screenshot"], "Krita's window could not be grabbed"
        shot = Path(str(out) + ".krita.png")
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, SHOTS / f"krita-{variant}.png")
        # one Ctrl+Z: the rerun's layer is gone, the first result shows (the rerun had hidden
        # it) and the slider adjusts it again
        assert r["names_after_undo"] == ["Background", "photo", first + " x1.90", "Tinct hints"]
        assert r["photo_unchanged_after_undo"]
        assert r["status_after_undo"] == (
            f"The newer result was undone: the slider adjusts '{first} x1.90' again."
        )
        assert r["slider_enabled_after_undo"]
        # Cancel mid-job: no new layer; the next Ctrl+Z still undoes the first result
        assert r["status_after_cancel"] == "Cancelled."
        assert r["names_after_cancel"] == r["names_after_undo"]
        assert r["names_after_cancel_undo"] == ["Background", "photo", "Tinct hints"]
        assert "Tinct colorizes paint layers" in r["error_status"]
        # a Grayscale document: converted to RGB at its depth with the result; Krita records
        # the conversion as its own undo step (no undo grouping in its Python API)
        assert r["gray_before"][:2] == ["GRAYA", "U16"]
        assert r["gray_after"][:2] == ["RGBA", "U16"]
        # the new document has its own settings: no prompt, colourfulness 1 (not 1.90)
        assert r["gray_prompt"] == "" and r["gray_slider"] == 100
        gray_name = r["gray_after"][2][-1]
        assert r["gray_after"][2] == [*r["gray_before"][2], gray_name]
        assert gray_name == "Tinct x1.00", gray_name
        assert "Converted the image from Grayscale" in r["gray_status"], r["gray_status"]
        # one Ctrl+Z: the result goes and the image is Grayscale again
        assert r["gray_undo1"] == r["gray_before"]
        assert r["colorize_enabled_after_error"]
    finally:
        kill_krita_in(home)
        harness.close()


def test_variations_are_distinct_layers_and_a_seed_gives_one_again(tmp_path):
    """Variations in real Krita, against a daemon the test started with a tiny model whose
    chroma prior is an encoder prior (untrained head, so its variations are random, but
    drawn like the real one's): Variations 3 gives three layers named with their seeds,
    measurably different; Seed 2 with Variations 1 gives the seed-2 layer again."""
    model = save_tiny_model(tmp_path / "model", encoder_prior=True)
    photo = np.asarray(Image.open(REPO / "docs" / "sample-bw.png").convert("L"))
    src = np.ascontiguousarray(photo[96:256, 16:256])  # 240x160
    (tmp_path / "src.gray").write_bytes(src.tobytes())
    h, w = src.shape
    harness = DaemonHarness(tmp_path / "rt", serve_command(model, "--idle-timeout", "0"))
    try:
        harness.connect().close()
        r = _run_krita_driver(
            tmp_path,
            "variations",
            harness.command,
            TINCT_KRITA_PHOTO=f"{tmp_path / 'src.gray'}:{w}x{h}",
        )
    finally:
        harness.close()
    # three layers above the photo, bottom to top seeds 2, 1, 0: the first variation (the
    # model's own colouring, seed 0 unnamed) on top, even with results 0.3 s apart (a
    # worker message arriving while Krita handles the previous one waits its turn)
    assert r["seed_shown"] == C.DEFAULT_SEED
    assert r["names_three"] == ["Background", "photo", "Tinct x1.00 seed 2",
                                "Tinct x1.00 seed 1", "Tinct x1.00"]  # fmt: skip
    assert "3 variations" in r["status_three"], r["status_three"]
    three = {
        name: (tmp_path / f"result.json.three{i}").read_bytes()
        for i, (name, _uid) in enumerate(r["three"])
    }
    pairs = [("Tinct x1.00", "Tinct x1.00 seed 1"), ("Tinct x1.00", "Tinct x1.00 seed 2"),
             ("Tinct x1.00 seed 1", "Tinct x1.00 seed 2")]  # fmt: skip
    distances = [
        float(np.linalg.norm(lab_ab(three[a], w, h) - lab_ab(three[b], w, h), axis=-1).mean())
        for a, b in pairs
    ]
    print("mean a*b* distance between the variations:", [f"{d:.1f}" for d in distances])
    assert min(distances) > 2.0, distances
    # New seed put a random seed in the box; Seed 2 alone gave the layer named seed 2
    # again, bit for bit (so each name says which seed made its pixels)
    assert C.MIN_SEED < r["new_seed"] <= C.MAX_SEED
    first_ids = {uid for _name, uid in r["three"]}
    (new,) = [(i, name) for i, (name, uid) in enumerate(r["again"]) if uid not in first_ids]
    assert new[1] == "Tinct x1.00 seed 2", r["again"]
    again = (tmp_path / f"result.json.again{new[0]}").read_bytes()
    assert again == three["Tinct x1.00 seed 2"]


def lab_ab(bgra: bytes, w: int, h: int) -> np.ndarray:
    """(h, w, 2) a*, b* of a U8 BGRA layer."""
    px = np.frombuffer(bgra, np.uint8).reshape(h, w, 4)
    return color.rgb_to_lab(color.to_float(px[..., 2::-1].copy()))[..., 1:]


def blue_photo(gray: np.ndarray) -> np.ndarray:
    """A strongly blue colour photo made from a gray one (lightness kept in spirit)."""
    f = gray.astype(np.float32)[..., None] / 255.0
    return np.clip(f * np.array([0.35, 0.6, 1.0]) * 1.15 * 255.0, 0, 255).astype(np.uint8)


def mean_ab(bgra: bytes, w: int, h: int) -> np.ndarray:
    """Mean a*, b* of a U8 BGRA layer."""
    px = np.frombuffer(bgra, np.uint8).reshape(h, w, 4)
    return color.rgb_to_lab(color.to_float(px[..., 2::-1].copy()))[..., 1:].mean(axis=(0, 1))


def test_docker_colorizes_from_a_reference_in_another_document(tmp_path):
    """The Reference choice in real Krita: a gray scan in one document, a blue colour photo
    (another crop, another size) and a gray layer in a second one; the daemon is the
    test's, with the tiny model (the reference's colours reach the result through the
    edge-aware hint propagation, whatever the model)."""
    model = save_tiny_model(tmp_path / "model")
    photo = np.asarray(Image.open(REPO / "docs" / "sample-bw.png").convert("L"))
    src = photo[96:256, 16:256]  # 240x160: the scan to colorize
    ref = np.asarray(Image.fromarray(photo[40:400, 120:480]).resize((200, 200)))  # another crop
    (tmp_path / "src.gray").write_bytes(src.tobytes())
    (tmp_path / "ref.rgb").write_bytes(blue_photo(ref).tobytes())
    (tmp_path / "ref.rgb.gray").write_bytes(ref.tobytes())
    h, w = src.shape
    harness = DaemonHarness(tmp_path / "rt", serve_command(model, "--idle-timeout", "0"))
    try:
        harness.connect().close()
        r = _run_krita_driver(
            tmp_path,
            "reference",
            harness.command,
            TINCT_KRITA_PHOTO=f"{tmp_path / 'src.gray'}:{w}x{h}",
            TINCT_KRITA_REFERENCE=f"{tmp_path / 'ref.rgb'}:200x200",
        )
        # the list: "(no reference)" first and chosen, every paint layer of both documents
        # (the second one's found by the docker's watch), never the scan being colorized
        items = r["reference_items"]
        assert items[0] == r["reference_default"] == "(no reference)"
        assert {"beach / colour photo", "beach / gray copy", "old-scan / Background"} <= set(
            items)  # fmt: skip
        assert "old-scan / photo" not in items and "Reference" in r["labels"]
        # with the reference: a result named for it, the scan untouched, the other
        # document untouched, the pick kept
        assert r["ref_name"] == 'Tinct ref "colour photo" x1.00', r["ref_name"]
        assert r["names_ref"] == [*r["names_before"], r["ref_name"]]
        assert r["photo_unchanged_ref"] and r["reference_after"] == "beach / colour photo"
        assert r["ref_doc_names"] == ["Background", "gray copy", "colour photo"]
        # one Ctrl+Z removes the result; the scan is as it was
        assert r["names_after_undo"] == r["names_before"] and r["photo_unchanged_after_undo"]
        # the reference's blue reaches the result: mean b* well below the same colorize's
        # without a reference, and blue in sign
        a_ref, b_ref = mean_ab((tmp_path / "result.json.ref").read_bytes(), w, h)
        a_plain, b_plain = mean_ab((tmp_path / "result.json.plain").read_bytes(), w, h)
        print(f"mean a*b* with reference ({a_ref:.1f}, {b_ref:.1f}), "
              f"without ({a_plain:.1f}, {b_plain:.1f})")  # fmt: skip
        assert r["plain_name"] == "Tinct x1.00"
        assert b_ref < -10 and b_ref < b_plain - 10, (b_ref, b_plain)
        # the chosen reference is never colorized itself
        assert "reference" in r["reference_as_target_status"], r["reference_as_target_status"]
        assert r["reference_as_target_status"].startswith("Error:")
        assert r["ref_doc_names_after"] == r["ref_doc_names"]
        # a gray reference: the backend's message in the status line, no layer, no crash
        assert "gray" in r["gray_status"] and r["gray_status"].startswith("Error:"), r[
            "gray_status"
        ]
        assert r["names_after_gray"] == r["names_before_gray"] == r["names_before"]
        assert r["colorize_enabled_after_gray"] and r["photo_unchanged_after_gray"]
        assert r["screenshot"], "Krita's window could not be grabbed"
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "result.json.krita.png", SHOTS / "krita-reference.png")
    finally:
        harness.close()


def _run_krita_driver(
    tmp_path, driver: str, backend: list[str], seconds: int = 200, **extra_env
) -> dict:
    """Krita under Xvfb with the staged plugin and the test-only driver DRIVER; BACKEND is
    $TINCT_BACKEND_CMD; Krita is stopped after SECONDS. Returns the driver's JSON result
    (its files lie next to it)."""
    krita, xvfb = require("krita"), require("xvfb-run")
    require("xauth")
    home = tmp_path / "home"
    stage_krita(home / ".local/share/krita/pykrita")
    enable_in_kritarc(home / ".config")
    install_selftest_plugin(home)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    for key in ("QT_QPA_PLATFORM", "TINCT_CONFIG"):
        env.pop(key, None)
    out = tmp_path / "result.json"
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_RUNTIME_DIR=str(tmp_path),
        TINCT_RUNTIME_DIR=str(tmp_path / "rt"),
        TINCT_BACKEND_CMD=json.dumps(backend),
        TINCT_KRITA_SELFTEST=driver,
        TINCT_KRITA_RESULT=str(out),
        **extra_env,
    )
    try:
        proc = subprocess.run(
            ["timeout", "-k", "5", str(seconds), xvfb, "-a", "-s", "-screen 0 1280x1024x24",
             krita, "--nosplash"],
            env=env, capture_output=True, text=True, cwd=tmp_path,
        )  # fmt: skip
    finally:
        kill_krita_in(home)
    assert out.exists(), f"no result file (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    r = json.loads(out.read_text())
    print(f"\nkrita {driver} run:", r)
    assert r["ok"], r.get("error")
    return r


def test_settings_belong_to_the_document_enter_colorizes_and_the_number_box(tmp_path):
    """Two documents, each with its own prompt, reference, colourfulness and status line;
    Enter in Prompt runs Colorize; the number box moves the slider and the layer; the
    result names say prompt, reference (a "Background" layer by its image's name) and
    scale; the docker shows the backend's version once connected."""
    model = save_tiny_model(tmp_path / "model")
    photo = np.asarray(Image.open(REPO / "docs" / "sample-bw.png").convert("L"))
    src = photo[96:256, 16:256]
    ref = np.asarray(Image.fromarray(photo[40:400, 120:480]).resize((200, 200)))
    (tmp_path / "src.gray").write_bytes(src.tobytes())
    (tmp_path / "ref.rgb").write_bytes(blue_photo(ref).tobytes())
    h, w = src.shape
    harness = DaemonHarness(tmp_path / "rt", serve_command(model, "--idle-timeout", "0"))
    try:
        harness.connect().close()
        r = _run_krita_driver(
            tmp_path, "settings", harness.command,
            TINCT_KRITA_PHOTO=f"{tmp_path / 'src.gray'}:{w}x{h}",
            TINCT_KRITA_REFERENCE=f"{tmp_path / 'ref.rgb'}:200x200",
        )  # fmt: skip
    finally:
        harness.close()
    from tinct import __version__

    # the slider is wide and has no tooltip of its own (one would cover Colorize below it)
    assert r["slider_width"] >= 200 and r["slider_tooltip"] == ""
    # Enter in Prompt ran Colorize, with the reference named by its image (its layer is
    # "Background")
    assert r["beach_layers"] == ["Background"] and "beach.jpg / Background" in r["reference_items"]
    assert r["phase_after_enter"] != "idle"
    (a_name,) = r["a_name"]
    assert a_name == 'Tinct \u2014 "red roof" ref "beach" x1.00', a_name  # the slider's 1.00
    # the number box: the slider followed, the layer was re-rendered and renamed
    assert r["after_box"]["slider"] == 150
    assert r["a_name_boxed"] == ['Tinct \u2014 "red roof" ref "beach" x1.50']
    assert r["a_shown"]["box"] == 1.5 and r["a_shown"]["status"] == "Colourfulness 1.50."
    # the backend's version line, after connecting
    assert r["about_before"] == "Backend: not connected yet"
    assert r["about"].startswith(f"Backend tinct {__version__} \u00b7 torch ")
    assert r["about"].endswith("\u00b7 cpu"), r["about"]
    # doc-b: its own settings (defaults); its Colorize used no reference
    b = r["b_shown"]
    assert b["document"] == "doc-b" and b["prompt"] == "" and b["slider"] == 100, b
    assert (b["variations"], b["seed"]) == (C.DEFAULT_VARIATIONS, C.DEFAULT_SEED), b
    assert b["reference"] == "(no reference)" and b["status"] == "Ready.", b
    assert r["b_request_reference"] is None
    (b_name,) = r["b_name"]
    assert b_name == "Tinct x1.00", b_name
    assert r["a_names_while_b"] == r["a_name_boxed"]
    # back in doc-a: its settings and status line again
    a = r["a_again"]
    assert a["document"] == "doc-a" and a["prompt"] == "red roof", a
    assert a["reference"] == "beach.jpg / Background" and a["slider"] == 150
    assert a["status"] == "Colourfulness 1.50.", a
    assert r["screenshot"] and r["shot_docker"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "result.json.krita.png", SHOTS / "krita-settings.png")
    shutil.copy(tmp_path / "result.json.docker.png", SHOTS / "krita-docker.png")


FAILING_BACKEND = """\
import os, sys, time
marker = sys.argv[1]
with open(marker + ".starts", "a") as f:
    f.write("start\\n")
if not os.path.exists(marker):  # the first start hangs
    with open(marker, "w") as f:
        f.write(str(os.getpid()))
    time.sleep(60)
print("Traceback (most recent call last):", file=sys.stderr)
print('  File "tinct/server/loop.py", line 1, in <module>', file=sys.stderr)
print("RuntimeError: the model folder is missing", file=sys.stderr)
sys.exit(1)
"""


def test_a_failing_backend_is_one_line_with_the_log_and_cancel_is_live_while_starting(
    tmp_path,
):
    """The first start is the docker's early one, and it hangs: Colorize waits on it
    ("Starting the backend…"), Cancel ends it; the next start fails: one line."""
    script = tmp_path / "failing_backend.py"
    script.write_text(FAILING_BACKEND)
    marker = tmp_path / "hung.pid"
    try:
        r = _run_krita_driver(tmp_path, "failing", [sys.executable, str(script), str(marker)],
                              TINCT_KRITA_HUNG=str(marker))  # fmt: skip
    finally:
        hung = int(marker.read_text()) if marker.exists() else None
        alive = hung is not None and pid_running(hung)
        if alive:  # never left behind, even when the test fails
            os.kill(hung, 9)
    assert not alive, "the cancelled start left its backend running"
    # the early start began when the docker was shown with a document, before Colorize
    assert r["launches_early"] == 1 and r["status_before_colorize"] == "Ready."
    # Cancel is live while "Starting the backend…" and frees the docker at once; the
    # hung backend is ended (the launcher's SIGTERM to its process group)
    assert r["status_starting"] == "Starting the backend…", r["status_seen"]
    assert r["phase_starting"] == "starting" and r["cancel_enabled_starting"]
    assert r["phase_cancelled"] == "idle" and r["status_cancelled"] == "Cancelled."
    assert r["colorize_enabled_cancelled"] and r["cancel_seconds"] < 0.5
    assert r["hung_gone_seconds"] < 2.0, r["hung_gone_seconds"]
    assert r["launches_before_retry"] == 1 and r["launches_failed"] == 2  # Colorize: a new start
    assert (tmp_path / "hung.pid.starts").read_text().count("start") == 2
    # the failure: one line, what failed, what to do, the log's path; no traceback
    assert_one_line_start_error(r["status_failed"], tmp_path / "rt" / "daemon.log")
    # the traceback is behind Details
    assert r["details_visible"] and "RuntimeError: the model folder is missing" in r["details"]
    assert r["details_box_detailed"] == r["details"] and r["details_box_text"] == r["error"]
    assert r["colorize_enabled_failed"] and r["idle"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "result.json.docker.png", SHOTS / "krita-error.png")


def assert_one_line_start_error(status: str, log: Path) -> None:
    """The docker's status after a backend failed to start: one line, no traceback, what
    failed, what to do, and the log's path."""
    assert "\n" not in status and "Traceback" not in status, status
    assert status.startswith("Error: The Tinct backend exited with code 1 while starting")
    assert "Colorize again" in status and status.endswith(f"Log: {log}"), status


def test_a_failed_early_start_shows_its_one_line_error_when_colorize_is_pressed(tmp_path):
    """The backend fails at once: the docker's early start fails with nothing shown
    ("Ready." still); Colorize shows that failure as a start of its own would: one line
    with the log's path, the traceback behind Details; no second start for it."""
    script = tmp_path / "failing_backend.py"
    script.write_text(FAILING_BACKEND)
    marker = tmp_path / "no-hang.pid"
    marker.write_text("0")  # there already: no start hangs
    r = _run_krita_driver(tmp_path, "failing", [sys.executable, str(script), str(marker)],
                          TINCT_KRITA_FAIL_EARLY="1")  # fmt: skip
    assert r["launches_early"] == 1 and r["status_before_colorize"] == "Ready."
    assert r["launches_failed"] == 1  # the early start's failure, not a new start
    assert (tmp_path / "no-hang.pid.starts").read_text().count("start") == 1
    assert_one_line_start_error(r["status_failed"], tmp_path / "rt" / "daemon.log")
    assert r["details_visible"] and "RuntimeError: the model folder is missing" in r["details"]
    assert r["colorize_enabled_failed"] and r["idle"]


def worktree_serve_command(model: Path, *flags: str) -> list[str]:
    """`python -m tinct serve` of this checkout's backend, for a plugin to start: the
    launcher starts backends without the host's PYTHONPATH, so it is set by `env`."""
    import tinct

    backend = str(Path(tinct.__file__).resolve().parent.parent)
    return ["env", f"PYTHONPATH={backend}", *serve_command(model, *flags)]


def hsy_model(bgra: bytes, percent: int) -> np.ndarray:
    """Krita's "HSV Adjustment" in HSY mode (compatibility mode) at s = PERCENT on U8 BGRA
    pixels: each channel to Y' + (1 + PERCENT / 100) (channel - Y'), Y' the Rec. 709 luma
    of the 8-bit values, clipped (benchmarks/bench_krita_mask.py checks it in Krita)."""
    px = np.frombuffer(bgra, np.uint8).reshape(-1, 4).astype(np.float64) / 255.0
    rgb = px[:, 2::-1]
    y = (rgb @ np.array([0.2126, 0.7152, 0.0722]))[:, None]
    return np.round(np.clip(y + (1 + percent / 100) * (rgb - y), 0, 1) * 255).astype(np.uint8)


def test_the_slider_previews_by_a_filter_mask_over_1_mp_and_its_render_replaces_it(tmp_path):
    """tests/krita/.../mask.py (real Krita, 1600x1000, tiny model): while the knob is held
    down the result layer carries the Tinct filter mask at each value (its projection is
    the layer's pixels through the mask's model) and no daemon preview is asked for or
    written; after the release the mask is gone and the layer holds the daemon's own
    `apply` of the last value, byte for byte; the adjustments add no undo step (Krita's
    History docker is as before, one Ctrl+Z takes the result away, as on main) and the
    saved document holds no mask; Before pressed while the release's render is on its
    way leaves the mask until that render is written; a result at 0 previews by the
    daemon."""
    model = save_tiny_model(tmp_path / "model")
    harness = DaemonHarness(tmp_path / "rt", serve_command(model, "--idle-timeout", "0"))
    t0 = time.monotonic()
    try:
        harness.connect().close()
        r = _run_krita_driver(tmp_path, "mask", harness.command, seconds=300)
        client = harness.connect("pure")
        try:
            expected = {v: client.apply(r["job"], v).layer.tobytes() for v in (1.6, 0.7)}
        finally:
            client.close()
    finally:
        harness.close()
    print(f"mask test: {time.monotonic() - t0:.1f} s")
    # 2. during the drag: the mask at each value's percent of the held 1.0, nothing asked
    # of the daemon, nothing written; the canvas composites the layer through the mask
    pressed = r["pressed"]  # the knob taken: the mask on at 0 %, nothing changed yet
    assert pressed["mask"] and pressed["percent"] == 0 and pressed["same"], pressed
    assert pressed["active"] == r["active_result"]
    moves = r["moves"]
    assert [m["percent"] for m in moves] == [20, 40, 60], moves
    for m in moves:
        assert m["mask"] and m["children"] == [["Tinct colourfulness preview", "filtermask"]]
        assert m["rescales"] == 0 and m["previews"] == 0, m
        assert m["active"] == r["active_result"]  # the mask never becomes the active node
        pixels, projection = bytes.fromhex(m["pixels"]), bytes.fromhex(m["projection"])
        shown = np.frombuffer(projection, np.uint8).reshape(-1, 4)[:, 2::-1]
        assert np.abs(shown.astype(int) - hsy_model(pixels, m["percent"])).max() <= 1
        assert projection != pixels
    # the layer still holds the result at 1.0 (what the mask scales)
    assert len({m["pixels"] for m in moves}) == 1
    assert r["history_drag"] == r["history_result"], (r["history_drag"], r["history_result"])
    assert r["shot"], "Krita's window could not be grabbed"
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "result.json.drag.png", SHOTS / "krita-slider-mask.png")
    # 3. the release: the exact render, then no mask; no undo step; none saved
    after = r["after_release"]
    assert not after["mask"] and after["children"] == 0, after
    assert after["name"] == "Tinct x1.60" and after["rescales"] == 0 and after["masked_moves"] >= 3
    assert after["history"] == r["history_result"]
    assert after["active"] == r["active_result"]
    assert (tmp_path / "result.json.layer16").read_bytes() == expected[1.6]
    assert r["saved"]
    with zipfile.ZipFile(tmp_path / "result.json.kra") as kra:
        maindoc = kra.read("maindoc.xml").decode()
    assert "Tinct x1.60" in maindoc and "filtermask" not in maindoc
    # 4. Before pressed with the render on its way: the mask stays until it is written
    assert r["mask_at_07"] and r["before_in_flight"] == {"mask": True, "visible": False}
    assert r["before_done"] == {"mask": False, "visible": False, "name": "Tinct x0.70"}
    assert (tmp_path / "result.json.layer07").read_bytes() == expected[0.7]
    assert r["history_07"] == r["history_result"]
    # 5. one Ctrl+Z takes the result away (the adjustments recorded nothing); redo brings it
    # back with no mask
    assert r["names_undone"] == r["names_before"], r["names_undone"]
    assert r["names_redone"] == [*r["names_before"], "Tinct x0.70"]
    assert r["redone_children"] == 0
    # 6. a result at 0: the daemon previews, no mask
    assert r["zero_name"] == "Tinct x0.00"
    assert len(r["rescales"]) > r["zero_rescales_before"] and not r["zero_mask"]
    assert r["zero_after"] == {"mask": False, "name": "Tinct x0.50"}


def test_the_status_line_names_each_phase_and_cancel_stops_a_loading_backend(tmp_path):
    """A real daemon started by the plugin itself (tests/krita/.../phases.py): the early
    start, Colorize joining it while the model loads, Cancel ending it, a cold run through
    every phase, and "Queued" only behind another client's job."""
    model = save_tiny_model(tmp_path / "model")
    rt = tmp_path / "rt"
    backend = worktree_serve_command(model, "--idle-timeout", "0")
    try:
        r = _run_krita_driver(tmp_path, "phases", backend)
    finally:
        DaemonHarness(rt, backend).close()  # the daemon the plugin started
    texts = [t for t, _v, _m, _at in r["texts"]]
    # 1. the early start: under way with nothing pressed, the status line untouched
    assert r["early_launches"] == 1 and r["status_early"] == "Ready."
    assert r["holder_early"] and r["holder_early"][1] is False  # holds the lock, loading
    # 2. Colorize joins it ("Loading the model…", no second start); Cancel ends it
    joined = texts[r["mark_join"] : r["mark_cold"]]
    assert joined[:2] == ["Connecting to the backend…", "Loading the model…"], joined
    assert r["launches_joined"] == 1
    assert r["status_cancelled"] == "Cancelled." and r["cancel_seconds"] < 0.5
    if not r["cancel_after_serving"]:  # Cancel came while it loaded: the plugin ended it
        assert r["gone_seconds"] < 5.0  # its lock free and its process ended
    # else the tiny model had loaded first (a race in ~0.2 s): the run was cancelled and
    # the daemon kept for the next Colorize; the driver stopped it for a cold step 3
    # 3. the cold run: every phase, in order, each named while under way; never "Queued"
    cold = texts[r["mark_cold"] : r["mark_queued"]]
    steps = [f"Colorizing: step {k} of {C.DEFAULT_STEPS}" for k in range(1, C.DEFAULT_STEPS + 1)]
    expected = ["Connecting to the backend…", "Starting the backend…", "Loading the model…",
                *steps, "Colorizing: rendering the result…", "Writing the layer…",
                "Done: colourfulness 1.00."]  # fmt: skip
    assert cold == expected, cold
    assert r["launches_cold"] == 2 and r["names"] == ["Background", "photo", "Tinct x1.00"]
    # the bar: busy (0 of 0) until there is a fraction, never full before the layer is there
    bars = {t: (v, m) for t, v, m, _at in r["texts"][r["mark_cold"] : r["mark_queued"]]}
    assert bars["Starting the backend…"][1] == 0 and bars["Loading the model…"][1] == 0
    for text in expected[3:-1]:
        value, top = bars[text]
        assert top > 0 and value < top, (text, value, top)
    # never two daemons: no start found another one running; the cancelled one (the tiny
    # model loads in 0.2 s, so it may have just begun serving when Cancel came) stopped
    # before the cold run's daemon began
    daemon_log = (rt / "daemon.log").read_text()
    assert "not starting a second one" not in daemon_log, daemon_log
    serving = [line for line in daemon_log.splitlines() if "serving protocol" in line]
    assert 1 <= len(serving) <= 2, daemon_log
    if len(serving) == 2:
        assert f"(pid {r['holder_early'][0]}," in serving[0], daemon_log
        assert daemon_log.index("stopped") < daemon_log.index(serving[1]), daemon_log
    # 4. "Queued" only with a job ahead: the other client's, running; then ours runs
    assert r["other_queued"] == ["queued", 0]
    queued = texts[r["mark_queued"] :]
    assert r["status_queued"] == "Queued: 1 job ahead…" and r["busy_bar_queued"]
    assert queued.index("Queued: 1 job ahead…") < queued.index(steps[0]), queued
    assert queued[-1] == "Done: colourfulness 1.00." and r["other_end"] == "Cancelled"
    assert r["names_after_queued"] == ["Background", "photo", "Tinct x1.00", "Tinct x1.00"]
    assert r["shot_loading"] and r["shot_writing"] and r["shot_done"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    for key in ("loading", "writing", "done"):
        shutil.copy(tmp_path / f"result.json.{key}.png", SHOTS / f"krita-phase-{key}.png")


def test_undo_redo_stay_in_step_one_visible_result_and_older_results_adjust(tmp_path):
    """tests/krita/.../undo.py on a Grayscale scan: one Ctrl+Z takes the result and the
    RGB conversion; redo brings the same layer back and the docker adjusts it again; a
    rerun hides the earlier result (never deletes it) and undoing the rerun gives the
    slider back to it; selecting an older result binds the slider to its job; a Tinct
    layer the docker never made says it cannot be adjusted."""
    model = save_tiny_model(tmp_path / "model")
    photo = np.asarray(Image.open(REPO / "docs" / "sample-bw.png").convert("L"))
    src = photo[96:256, 16:256]
    (tmp_path / "src.gray").write_bytes(src.tobytes())
    h, w = src.shape
    # the daemon keeps two finished jobs: the third run evicts the least recently used
    harness = DaemonHarness(
        tmp_path / "rt", serve_command(model, "--idle-timeout", "0", "--cache-jobs", "2")
    )
    try:
        harness.connect().close()
        r = _run_krita_driver(tmp_path, "undo", harness.command,
                              TINCT_KRITA_PHOTO=f"{tmp_path / 'src.gray'}:{w}x{h}")  # fmt: skip
    finally:
        harness.close()
    base = [["photo", True]]
    assert r["before"] == ["GRAYA", [["Background", True], *base]] or r["before"][0] == "GRAYA"
    before_layers = r["before"][1]
    # 1. the result (the image converted to RGB with it), then 1.5 from the number box
    assert r["colorized"] == ["RGBA", [*before_layers, ["Tinct x1.00", True]]]
    boxed_layers, boxed = r["boxed"]
    assert boxed_layers == [*before_layers, ["Tinct x1.50", True]] and boxed["slider"] == 150
    # 2. one Ctrl+Z: the result and the conversion are gone; the slider and Before are off
    model_undone, layers_undone, undone = r["undone"]
    assert (model_undone, layers_undone) == ("GRAYA", before_layers)
    assert "gone" in undone["status"] and not undone["slider_enabled"]
    assert not undone["before_enabled"] and undone["job"] is None
    # 3. redo: the first Ctrl+Shift+Z converts to RGB again, the second brings the layer
    # back (the README says so); the docker found the same layer by its id
    assert r["redos"] == [["RGBA", before_layers], ["RGBA", boxed_layers]], r["redos"]
    model_back, layers_back, back = r["back"]
    assert (model_back, layers_back) == ("RGBA", boxed_layers)
    assert back["status"] == "The result layer is back; the slider adjusts it (colourfulness 1.50)."
    assert back["slider_enabled"] and back["before_enabled"] and back["slider"] == 150
    assert back["job"] == boxed["job"] and back["target"] == "Tinct x1.50"
    assert r["back_digest"] == r["first_digest"]
    # ... and the slider adjusts it: 0.5 renames it and changes its pixels
    layers_05, shown_05, digest_05 = r["adjusted_after_redo"]
    assert layers_05 == [*before_layers, ["Tinct x0.50", True]] and shown_05["slider"] == 50
    assert digest_05 != r["first_digest"]
    # 4. a rerun: the earlier result is hidden, not deleted; one visible Tinct layer
    first, second = ["Tinct x0.50", False], ['Tinct \u2014 "red roof" x0.50', True]
    rerun_layers, rerun = r["rerun"]
    assert rerun_layers == [*before_layers, first, second], rerun_layers
    assert rerun["target"] == second[0] and rerun["job"] != shown_05["job"]
    # 5. Ctrl+Z of the rerun: the earlier result shows again and the slider adjusts it
    undone_layers, rerun_undone = r["rerun_undone"]
    assert undone_layers == [*before_layers, ["Tinct x0.50", True]]
    assert rerun_undone["status"] == (
        "The newer result was undone: the slider adjusts 'Tinct x0.50' again."
    )
    assert rerun_undone["slider_enabled"] and rerun_undone["job"] == shown_05["job"]
    # ... redo: the rerun is back on top, the earlier one hidden again, the slider on the rerun
    redone_layers, redone = r["rerun_redone"]
    assert redone_layers == rerun_layers and redone["job"] == rerun["job"]
    assert redone["slider_enabled"] and redone["target"] == second[0]
    # 6. selecting the earlier result: shown (the rerun hidden), the slider bound to its job
    selected_layers, selected = r["selected"]
    assert selected_layers == [*before_layers, ["Tinct x0.50", True], [second[0], False]]
    assert selected["status"] == "Selected 'Tinct x0.50': the slider adjusts it."
    assert selected["job"] == shown_05["job"] and selected["slider"] == 50
    assert selected["slider_enabled"] and selected["before_enabled"]
    older_layers, older, first_digest, second_digest = r["adjusted_older"]
    assert older_layers == [*before_layers, ["Tinct x1.20", True], [second[0], False]]
    assert older["slider"] == 120 and older["job"] == shown_05["job"]
    assert first_digest != r["first_digest_before_select"]  # re-rendered at 1.2
    assert second_digest == r["second_digest"]  # the rerun untouched
    # 7. a Tinct layer this docker never made: it says so and how to get an adjustable one
    strange_layers, strange = r["strange"]
    assert strange_layers[-1] == ["Tinct x1.00", True]
    assert strange["status"].startswith("'Tinct x1.00' can no longer be adjusted (")
    assert "select its photo layer and Colorize again" in strange["status"]
    assert not strange["slider_enabled"] and strange["job"] is None
    # 8. a third run hides the others; the rerun's job is evicted from the daemon (the first
    # result's was used since): selected, the docker binds it, and the first slider move
    # learns the job is gone: it says so, the slider goes off, the layer stays as it was
    third_layers, third = r["third"]
    assert [v for _n, v in third_layers[2:]] == [False, False, False, True], third_layers
    assert third_layers[-1][0] == 'Tinct \u2014 "blue sea" x1.20'
    assert r["evicted_selected"]["job"] == rerun["job"]
    forgotten_layers, forgotten = r["forgotten"]
    assert forgotten["status"].startswith(f"'{second[0]}' can no longer be adjusted (the backend")
    assert not forgotten["slider_enabled"] and forgotten["job"] is None
    assert [n for n, _v in forgotten_layers] == [n for n, _v in third_layers]  # not renamed
    assert r["shot_redo"] and r["shot_older"] and r["shot_unknown"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    for key in ("redo", "older", "unknown"):
        shutil.copy(tmp_path / f"result.json.{key}.png", SHOTS / f"krita-{key}.png")


def test_hint_strokes_show_on_white_and_cancel_while_writing_leaves_nothing(tmp_path):
    """tests/krita/.../hintwrite.py. A: a stroke on the hint layer "Paint hints" makes
    shows on a white and on a near-black part of the photo (the composite there differs
    clearly from the photo), and the colorize sends exactly the painted colour; a hint
    layer an earlier version made in Color mode is still read (and left in Color mode).
    B: on a 3000x2000 photo, Cancel clicked while "Writing the layer…" stops the write
    between two strips: no layer, the photo unchanged, "Cancelled.", no undo step; the
    next Colorize gives its layer."""
    model = save_tiny_model(tmp_path / "model")
    harness = DaemonHarness(tmp_path / "rt", serve_command(model, "--idle-timeout", "0"))
    try:
        harness.connect().close()
        r = _run_krita_driver(tmp_path, "hintwrite", harness.command, seconds=400)
    finally:
        harness.close()
    # A. the new hint layer: Normal at partial opacity (its stroke shows over anything)
    assert r["hint_mode"][0] == "normal" and 100 <= r["hint_mode"][1] < 255, r["hint_mode"]
    red, blue = [210, 40, 40, 255], [40, 90, 220, 255]
    for where in ("white", "dark"):
        plain, shown = np.array(r[f"plain_{where}"][:3]), np.array(r[f"stroke_{where}"][:3])
        assert np.abs(shown - plain).max() >= 60, (where, plain, shown)
        # and it reads as the painted colour: red well above green and blue
        assert shown[0] - max(shown[1], shown[2]) >= 60, (where, shown)
    # ... what was sent is what was painted, whatever the layer's mode and opacity
    assert r["sent_new"] == {"white": red, "dark": red}, r["sent_new"]
    assert r["names_hints"][-1] == "Tinct hints" and "+hints" in r["names_hints"][-2]
    # a Color-mode hint layer (an earlier version's): on white it barely shows (why the
    # mode changed), and it still works: read as painted, its mode left as it was
    assert np.abs(np.array(r["legacy_white"][:3]) - 255).max() < 60, r["legacy_white"]
    assert r["legacy_choice"] == "Tinct hints" and r["legacy_mode"] == "color"
    assert r["sent_legacy"] == {"white": blue, "dark": blue}, r["sent_legacy"]
    assert "+hints" in r["names_legacy"][-2], r["names_legacy"]
    assert r["screenshot"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "result.json.hints.png", SHOTS / "krita-hints.png")
    # B. the first result, then the run cancelled while its layer was written
    first = r["big_names_first"]
    assert first == [*r["big_names_before"], "Tinct x1.00"], first
    texts = r["texts_cancel"]
    assert "Writing the layer…" in texts and r["cancel_enabled_writing"], texts
    assert texts[texts.index("Writing the layer…") + 1 :] == ["Cancelling…", "Cancelled."], texts
    # the click was handled inside the write: some strips written, not all, none kept
    ((strips, whole),) = r["cancel_write"]
    assert strips >= 1 and not whole, r["cancel_write"]
    assert r["big_names_cancelled"] == first and r["big_photo_cancelled"] == r["big_photo"]
    assert r["status_cancelled"] == r["status_later"] == "Cancelled."
    assert r["colorize_enabled_cancelled"] and r["job_after_cancel"] == r["job_first"]
    # no undo step: one Ctrl+Z takes the first result away, redo brings it back
    assert r["big_names_undone"] == r["big_names_before"], r["big_names_undone"]
    assert r["big_names_redone"] == first
    # the next Colorize: its layer, whole, on top; the photo still unchanged
    assert r["big_names_third"] == [*first, "Tinct x1.00"], r["big_names_third"]
    assert r["status_third"].startswith("Done") and r["writes_third"][1]
    assert r["writes_third"][0] == 2000 // 64  # every strip but the last asked (32 strips)
    assert r["big_photo_third"] == r["big_photo"]
