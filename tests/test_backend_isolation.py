"""The backend starts isolated from the host's Python path (a real daemon, a real Launcher).

Krita puts its pykrita folder on PYTHONPATH, and a folder there (or in the host's
working directory) named ``tinct`` once shadowed the backend package: `python -m
tinct serve` then failed with "No module named tinct.__main__". The Launcher drops
the host's Python variables and starts the backend in its runtime dir.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tinct.install.krita import stage_krita
from tinct.protocol.isolation import HOST_PYTHON_VARIABLES, backend_environment
from tinct.protocol.launcher import Launcher
from tinct.testing import save_tiny_model, serve_command


def _shadowing_package(folder):
    """A package named ``tinct`` with no __main__: what used to shadow the backend."""
    pkg = folder / "tinct"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("# a host's own 'tinct' package\n")
    return folder


def test_backend_environment_drops_only_the_hosts_python_variables():
    base = {"PYTHONPATH": "/krita/pykrita", "PYTHONHOME": "/app/usr", "HOME": "/h", "LANG": "C"}
    env = backend_environment(base)
    assert env == {"HOME": "/h", "LANG": "C"}
    assert "PYTHONPATH" in HOST_PYTHON_VARIABLES and base["PYTHONPATH"] == "/krita/pykrita"


def test_launcher_starts_a_python_backend_despite_a_shadowing_path(tmp_path, monkeypatch):
    model = save_tiny_model(tmp_path / "model")
    shadow = _shadowing_package(tmp_path / "pykrita")
    cwd = _shadowing_package(tmp_path / "cwd")
    # The setup that failed: `tinct` on PYTHONPATH and in the working directory.
    probe = subprocess.run(
        [sys.executable, "-m", "tinct", "--help"],
        env={**os.environ, "PYTHONPATH": str(shadow)},
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    assert probe.returncode != 0 and "tinct.__main__" in probe.stderr, probe.stderr
    monkeypatch.setenv("PYTHONPATH", str(shadow))
    monkeypatch.chdir(cwd)
    launcher = Launcher(tmp_path / "rt", serve_command(model, "--idle-timeout", "0"))
    try:
        client = launcher.connect()
        try:
            hello = client.hello()
        finally:
            client.close()
        assert hello["protocol"] >= 1
        pid = launcher.processes[0].pid
        environ = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
        assert not any(e.startswith(b"PYTHONPATH=") for e in environ)
        assert os.readlink(f"/proc/{pid}/cwd") == str(tmp_path / "rt")
    finally:
        launcher.stop_started()


def test_tinct_client_runs_with_the_staged_krita_plugin_on_the_path(tmp_path):
    """The Krita plugin's package no longer shadows the backend (`tinct_krita`, not `tinct`)."""
    pykrita = tmp_path / "pykrita"
    stage_krita(pykrita)
    proc = subprocess.run(
        [sys.executable, "-m", "tinct", "client", "--help"],
        env={**os.environ, "PYTHONPATH": str(pykrita)},
        cwd=pykrita,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.dumps(sorted(p.name for p in pykrita.iterdir())) == json.dumps(
        ["tinct_krita", "tinct_krita.desktop"]
    )
