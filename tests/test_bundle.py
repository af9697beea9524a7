"""The standalone backend (dist/tinct-backend, `make bundle`) run with no Python environment.

Every command here runs with PATH=/usr/bin:/bin, no VIRTUAL_ENV and no PYTHONPATH;
the bundle carries its interpreter, torch, the default model and its text encoder,
and the plugins it installs. The host tests run the plugins it installs
(test_krita_adapter.py, test_krita_gui.py, test_gimp_host.py, the "installed" cases).
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from bundled_backend import BUNDLE, clean_env, install_with_bundle, require_bundle, run_bundle
from home_snapshot import differences, seed_home, snapshot

from tinct import color
from tinct.imageio import read_image
from tinct.protocol import Launcher
from tinct.testing import as_layer, lstar, make_image, save_tiny_model

pytestmark = pytest.mark.slow
SAMPLE = BUNDLE.parents[2] / "docs" / "sample-bw.png"


@pytest.fixture()
def home(tmp_path):
    require_bundle()
    home = tmp_path / "home"
    home.mkdir()
    return home


def _lightness_error(src: np.ndarray, out: np.ndarray) -> np.ndarray:
    """|L*| difference between a gray input (H, W, 1) and a colour output."""
    return np.abs(lstar(np.repeat(src[..., :1], 3, axis=2)) - lstar(out))


def test_bundle_imports_every_module_the_daemon_uses(home):
    """`tinct-backend check` imports every backend module it carries and the classes
    diffusers/transformers load lazily, then loads the default model; a missing one
    is named (e.g. "module diffusers.AutoencoderKL: ... is `kernels` correctly installed?")."""
    proc = run_bundle(home, "check")
    assert proc.returncode == 0, f"the bundle is missing something:\n{proc.stdout}{proc.stderr}"
    assert proc.stdout.startswith("ok: tinct "), proc.stdout


def test_bundle_version_names_the_libraries_and_device(home):
    proc = run_bundle(home, "--version")
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip()
    for lib in ("torch", "diffusers", "transformers", "pyzmq"):
        assert f"{lib} " in line and f"{lib} missing" not in line, line
    assert line.endswith("device cpu)"), line


def test_bundle_colorizes_with_the_default_model_keeping_lightness(home):
    """The default model and its text encoder (all-MiniLM-L6-v2) load from inside the bundle."""
    out = home / "out.png"
    t0 = time.monotonic()
    proc = run_bundle(home, "colorize", str(SAMPLE), "-o", str(out), "--prompt", "green grass")
    seconds = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr
    src, res = read_image(SAMPLE), read_image(out)
    assert res.shape[:2] == src.shape[:2] and res.shape[2] == 3
    err = _lightness_error(src, res)
    rgb = color.to_float(res)
    chroma = rgb.max(axis=-1) - rgb.min(axis=-1)
    print(f"\nbundle colorize {seconds:.1f} s: L* error mean {err.mean():.3f} "
          f"p99 {np.percentile(err, 99):.3f}; mean chroma {chroma.mean():.4f}")  # fmt: skip
    assert err.mean() <= 0.5 and np.percentile(err, 99) <= 2.0
    assert chroma.mean() > 0.005, "the bundle's colorize added no colour"


def test_bundle_serves_the_protocol(home, tmp_path):
    """`tinct-backend serve`, started by the same Launcher the plugins use, answers a colorize."""
    model = save_tiny_model(tmp_path / "model")
    rt = tmp_path / "rt"
    cmd = [str(BUNDLE), "serve", "--model", str(model), "--threads", "1", "--idle-timeout", "0"]
    launcher = Launcher(rt, cmd, start_timeout=120, env=clean_env(home))
    client = launcher.connect()
    try:
        hello = client.hello()
        assert client.info.pid in [p.pid for p in launcher.processes]
        src = make_image(48, 32, 4, "u8", seed=3)
        events = list(client.colorize(as_layer(src), steps=2, scale=1.0, seed=1))
        result = events[-1]
        assert result.kind == "result", [e.kind for e in events]
        out = np.frombuffer(result.layer.tobytes(), np.uint8).reshape(32, 48, 4)
        err = np.abs(lstar(out) - lstar(src))
        assert err.mean() <= 0.5, err.mean()
        assert hello.get("model"), hello
    finally:
        client.close()
        launcher.stop_started()


def test_bundle_install_round_trip_restores_home(home):
    seed_home(home)
    before = snapshot(home)
    out = install_with_bundle(home)
    assert "GIMP 3 plug-in" in out and "Krita plugin" in out
    gimp = home / ".config/GIMP/3.0/plug-ins/tinct-colorize"
    assert (gimp / "tinct-colorize.py").stat().st_mode & 0o111
    assert (gimp / "tinct_protocol" / "launcher.py").is_file()
    pykrita = home / ".local/share/krita/pykrita"
    assert (pykrita / "tinct_krita.desktop").is_file() and (
        pykrita / "tinct_krita" / "docker.py"
    ).is_file()
    assert "enable_tinct_krita=true" in (home / ".config/kritarc").read_text().splitlines()
    config = json.loads((home / ".config/tinct/config.json").read_text())
    assert config["backend_cmd"] == [str(BUNDLE.resolve()), "serve"]
    assert config["transport"] == "pure", "the user's own settings stay"
    install_with_bundle(home, "--uninstall")
    assert differences(before, snapshot(home)) == []


def test_bundle_errors_are_one_line(home):
    proc = run_bundle(home, "colorize", str(home / "missing.png"), "-o", str(home / "o.png"))
    assert proc.returncode == 2 and proc.stderr.startswith("tinct: error: input not found")
    assert proc.stderr.count("\n") == 1
