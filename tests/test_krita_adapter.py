"""Real Krita (kritarunner): the plugin's adapter on real U8, U16 and F32 documents.

One kritarunner run (throwaway HOME, staged plugin on PYTHONPATH, a real
daemon with the tiny model found through TINCT_RUNTIME_DIR) colorizes every
case and writes a JSON result file; the tests below read it (kritarunner
exits 0 even after a Python traceback). Every test runs twice: against the
staged plugin and against the copy the bundle's `tinct-backend install` put
into HOME, where the plugin itself starts the bundled backend.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from bundled_backend import BUNDLE, install_with_bundle, require_bundle

from tinct.install.krita import stage_krita
from tinct.protocol.connection import read_connection_file
from tinct.testing import DaemonHarness, save_tiny_model, serve_command

pytestmark = [pytest.mark.host, pytest.mark.slow]
HERE = Path(__file__).resolve().parent

# Krita's "color" blend is HSY: the result takes the color layer's hue and
# saturation and the source's Rec.601 luma. The color layer's luma already
# equals the source's (the daemon's luma, not HSY's), so what is left is
# HSY's own clipping into gamut plus rounding. Measured here (Krita 5.1.5,
# tiny random model at scale 1.8, the documents' default profiles): max |dY|
# was U8 0.00196 (half a code value), U16 7.7e-6, F32 1.3e-7 (0..1 units).
# Tolerances are ~3x that; a saturated trained model may clip more in HSY.
LUMA_MAX = {"U8": 1.5 / 255, "U16": 3e-5, "F32": 1e-6}

SEL = [20, 12, 50, 36]
CASES = [
    {"name": "u8", "depth": "U8", "width": 96, "height": 64},
    {"name": "u8_sel", "depth": "U8", "width": 96, "height": 64, "selection": SEL},
    {"name": "u16", "depth": "U16", "width": 96, "height": 64},
    {"name": "u16_sel", "depth": "U16", "width": 96, "height": 64, "selection": SEL},
    {"name": "f32", "depth": "F32", "width": 96, "height": 64},
    {"name": "f32_sel", "depth": "F32", "width": 96, "height": 64, "selection": SEL},
    {"name": "u8_hints", "depth": "U8", "width": 96, "height": 64, "hints": True},
    {"name": "u16_sel_hints", "depth": "U16", "width": 96, "height": 64, "hints": True,
     "selection": SEL},
    {"name": "u8_soft_sel", "depth": "U8", "width": 96, "height": 64, "selection": SEL,
     "selection_value": 128},
    {"name": "gray_u8", "depth": "U8", "width": 96, "height": 64, "gray": True},
    {"name": "gray_u16_sel", "depth": "U16", "width": 96, "height": 64, "gray": True,
     "selection": SEL},
    {"name": "gray_f32", "depth": "F32", "width": 96, "height": 64, "gray": True},
    {"name": "cmyk", "depth": "U8", "model": "CMYKA", "width": 16, "height": 16},
    {"name": "f16", "depth": "F16", "model": "RGBA", "width": 16, "height": 16},
    {"name": "big", "depth": "U8", "width": 6000, "height": 4000, "big": True},
]  # fmt: skip


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        msg = f"{tool} is not installed (scripts/install_host_krita.sh installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)  # in CI a missing host is a failure, never a skip
        pytest.skip(msg)
    return path


def kill_krita_in(home: Path) -> None:
    """Kill Krita processes we started (recognised by their private HOME)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            env = (proc / "environ").read_bytes()
        except OSError:
            continue
        if f"HOME={home}".encode() + b"\0" in env:
            try:
                os.kill(int(proc.name), 9)
            except OSError:
                pass


def daemon_exe(runtime_dir: Path) -> str | None:
    """The executable of the daemon whose connection file is in RUNTIME_DIR (None: none)."""
    info = read_connection_file(runtime_dir)
    try:
        return os.readlink(f"/proc/{info.pid}/exe") if info else None
    except OSError:
        return None


@pytest.fixture(scope="module", params=["staged", "installed"])
def results(request, tmp_path_factory):
    """staged: the plugin copied by stage_krita, talking to a daemon the test started.
    installed: the plugin put into HOME by the bundle's `tinct-backend install`, whose
    own Launcher starts the bundled backend from the config file the install wrote."""
    runner = require("kritarunner")
    tmp = tmp_path_factory.mktemp(f"krita-adapter-{request.param}")
    home = tmp / "home"
    home.mkdir()
    rt = tmp / "rt"
    model = save_tiny_model(tmp / "model")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    for key in ("TINCT_BACKEND_CMD", "TINCT_CONFIG"):
        env.pop(key, None)
    if request.param == "staged":
        pykrita = tmp / "pykrita"
        stage_krita(pykrita)
        harness = DaemonHarness(rt, serve_command(model, "--idle-timeout", "0"))
        env["TINCT_BACKEND_CMD"] = json.dumps(harness.command)
    else:
        backend = [str(require_bundle()), "serve", "--model", str(model), "--threads", "1",
                   "--idle-timeout", "0"]  # fmt: skip
        install_with_bundle(home, "--krita", "--backend", json.dumps(backend))
        pykrita = home / ".local/share/krita/pykrita"
        harness = DaemonHarness(rt, backend)  # only to stop the daemon the plugin starts
    try:
        if request.param == "staged":
            harness.connect().close()
        cases = tmp / "cases.json"
        cases.write_text(json.dumps(CASES))
        out = tmp / "result.json"
        env.update(
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_DATA_HOME=str(home / ".local/share"),
            XDG_RUNTIME_DIR=str(tmp),
            QT_QPA_PLATFORM="offscreen",
            PYTHONPATH=os.pathsep.join([str(pykrita), str(HERE / "krita")]),
            TINCT_RUNTIME_DIR=str(rt),
            TINCT_TRANSPORT="pure",  # Krita's Python has no pyzmq
        )
        t0 = time.monotonic()
        proc = subprocess.run(
            ["timeout", "-k", "5", "240", runner, "-s", "adapter_check", "-f", "main",
             str(out), str(cases)],
            env=env, capture_output=True, text=True, cwd=tmp,
        )  # fmt: skip
        elapsed = time.monotonic() - t0
        assert out.exists(), f"no result file (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
        data = json.loads(out.read_text())
        data["elapsed"] = elapsed
        data["variant"] = request.param
        data["daemon_exe"] = daemon_exe(rt)
        print(f"\nkritarunner {data['version']}: {elapsed:.1f} s for {len(CASES)} cases")
        for name, case in data["cases"].items():
            print(
                name,
                {
                    k: case.get(k)
                    for k in ("luma_max", "luma_mean", "chroma_moved", "hint_region_rgb", "seconds")
                },
            )
        yield data
    finally:
        kill_krita_in(home)
        harness.close()


@pytest.mark.parametrize(
    "case", [c for c in CASES if not c.get("big") and not c.get("model")], ids=lambda c: c["name"]
)
def test_color_layer_on_real_document(results, case):
    r = results["cases"][case["name"]]
    assert "error" not in r, r.get("error")
    # a paint layer named for how it was made, directly above the source, in Color mode
    names = r["names"]
    assert names.index("Tinct x1.00") == names.index("photo") + 1, names
    # a Grayscale document is now RGBA at its own depth (the source converted with it)
    assert r["converted"] == ["RGBA", case["depth"]]
    assert bool(r["note"]) == bool(case.get("gray")), r["note"]
    assert r["blend"] == "color"
    assert r["color_layer_depth"] == ["RGBA", case["depth"]]
    assert r["source_unchanged"], "the source layer's bytes must not change"
    # Gray -> RGB profile conversion adds float rounding (measured: 1.1e-6 for F32)
    limit = LUMA_MAX[case["depth"]] * (2 if case.get("gray") else 1)
    assert r["luma_max"] <= limit, (r["luma_max"], r["luma_mean"])
    assert r["chroma_moved"] > 0, "the color layer changed nothing"
    assert r["inside_alpha_min"] > 0
    if case.get("selection_value"):  # a half-selected area gets a half-opaque color layer
        assert abs(r["inside_alpha_max"] - case["selection_value"] / 255) < 1 / 255
    if case.get("selection"):
        assert r["rect"] == case["selection"]
        assert r["outside_max_diff"] == 0, "pixels outside the selection changed"
    else:
        assert r["rect"] == [0, 0, case["width"], case["height"]]
    assert r["hints_sent"] == bool(case.get("hints"))


def test_hint_layer_steers_the_color(results):
    """Where a red stroke was painted on "Tinct hints", the composite is clearly redder."""

    def redness(name):
        rgb = results["cases"][name]["hint_region_rgb"]
        return rgb[0] - (rgb[1] + rgb[2]) / 2

    assert redness("u8_hints") > redness("u8") + 0.1, (redness("u8_hints"), redness("u8"))
    assert redness("u16_sel_hints") > redness("u16_sel") + 0.1


@pytest.mark.parametrize("name,words", [("cmyk", "CMYKA"), ("f16", "F16")])
def test_other_color_models_get_a_clear_message(results, name, words):
    r = results["cases"][name]
    assert r.get("message") and words in r["message"] and "Convert" in r["message"], r
    assert not any(n.startswith("Tinct") for n in r["names"])


def test_the_expected_backend_served_the_plugin(results):
    """Installed: the plugin's Launcher started the bundle (not a Python from the test)."""
    exe = results["daemon_exe"]
    assert exe is not None, "no daemon is running in the runtime dir"
    if results["variant"] == "installed":
        assert exe == str(BUNDLE.resolve()), exe
    else:
        assert "python" in Path(exe).name, exe


def test_big_document(results):
    r = results["cases"]["big"]
    assert "error" not in r, r.get("error")
    assert r["source_unchanged"] and r["names"][-1] == "Tinct x1.00"
    assert r["layer_bytes"] == 6000 * 4000 * 4
    print("6000x4000 U8 seconds:", r["seconds"])
