"""Where the plugins' sources are: a checkout, a frozen bundle, or an installed wheel.

The GIMP and Krita plugins live at the repository root (gimp_plugin/, krita_plugin/),
outside the Python package. A PyInstaller bundle carries them under
``sys._MEIPASS/tinct_plugins`` and a wheel under ``<prefix>/share/tinct``; this one
function decides which copy ``tinct.install.gimp`` and ``tinct.install.krita`` stage.
"""

from __future__ import annotations

import sys
from pathlib import Path

import tinct

# backend/tinct/__init__.py -> the repository root (a checkout or an editable install).
REPO_ROOT = Path(tinct.__file__).resolve().parents[2]
BUNDLE_SUBDIR = "tinct_plugins"  # inside a PyInstaller bundle (see installer/tinct-backend.spec)
WHEEL_SUBDIR = Path("share") / "tinct"  # data-files of a regular install (pyproject.toml)
PLUGIN_DIRS = ("gimp_plugin", "krita_plugin")


def candidate_roots() -> list[Path]:
    roots = []
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        roots.append(Path(frozen) / BUNDLE_SUBDIR)
    roots.append(REPO_ROOT)
    roots.append(Path(sys.prefix) / WHEEL_SUBDIR)
    return roots


def plugins_root() -> Path:
    """The folder that holds gimp_plugin/ and krita_plugin/ (first complete one found)."""
    roots = candidate_roots()
    for root in roots:
        if all((root / name).is_dir() for name in PLUGIN_DIRS):
            return root
    tried = ", ".join(str(r) for r in roots)
    raise FileNotFoundError(
        f"the plugins' sources are missing (looked in {tried}); reinstall tinct"
    )


def gimp_plugin_source() -> Path:
    return plugins_root() / "gimp_plugin" / "tinct-colorize"


def krita_plugin_source() -> Path:
    return plugins_root() / "krita_plugin"
