"""The PyInstaller bundle built by `make bundle`, and a clean environment to run it in.

`make test` builds the bundle first, so under CI a missing bundle is a failure;
elsewhere the tests that need it are skipped with the command that builds it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BUNDLE = REPO / "dist" / "tinct-backend" / "tinct-backend"
# No virtualenv, no PYTHONPATH: only the system's own folders, as on a user's machine.
CLEAN_PATH = "/usr/bin:/bin"


def require_bundle() -> Path:
    if BUNDLE.is_file() and os.access(BUNDLE, os.X_OK):
        return BUNDLE
    msg = f"{BUNDLE} is missing: `make bundle` builds it (`make test` does so first)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg)
    pytest.skip(msg)


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    return {"PATH": CLEAN_PATH, "HOME": str(home), "LANG": "C.UTF-8", **extra}


def run_bundle(
    home: Path, *args: str, timeout: float = 300, **extra: str
) -> subprocess.CompletedProcess:
    """`tinct-backend ARGS` in a clean environment with HOME=home."""
    return subprocess.run(
        [str(require_bundle()), *args],
        env=clean_env(home, **extra),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=home,
    )


def install_with_bundle(home: Path, *args: str) -> str:
    """`tinct-backend install ARGS` into HOME; returns what it printed."""
    proc = run_bundle(home, "install", *args, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout
