"""Install the Krita plugin into a pykrita folder, with its copy of the wire protocol.

``stage_krita(pykrita_dir)`` copies krita_plugin/tinct.desktop and the
krita_plugin/tinct/ package (without caches or an old protocol copy) and
vendors ``tinct.protocol`` into it through ``stage_protocol.copy_protocol``.
Used by the host tests and the installer. Enabling the plugin is Krita's
config (``[python] enable_tinct=true`` in kritarc), which ``enable_in_kritarc``
writes for a given config folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import tinct
from tinct.stage_protocol import VENDORED_NAME, copy_protocol

# backend/tinct/__init__.py -> the repository root (stage_protocol.REPO_ROOT is one level too high).
REPO_ROOT = Path(tinct.__file__).resolve().parents[2]
KRITA_SOURCE = REPO_ROOT / "krita_plugin"
PLUGIN_NAME = "tinct"


def stage_krita(pykrita_dir: str | Path, source: str | Path = KRITA_SOURCE) -> list[Path]:
    """Copy the plugin into PYKRITA_DIR; returns the paths written (desktop file, package)."""
    src = Path(source)
    dest_root = Path(pykrita_dir)
    dest_root.mkdir(parents=True, exist_ok=True)
    desktop = dest_root / f"{PLUGIN_NAME}.desktop"
    shutil.copy2(src / f"{PLUGIN_NAME}.desktop", desktop)
    package = dest_root / PLUGIN_NAME
    if package.exists():
        shutil.rmtree(package)
    shutil.copytree(
        src / PLUGIN_NAME,
        package,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", VENDORED_NAME),
    )
    copy_protocol(package)
    return [desktop, package]


def enable_in_kritarc(config_dir: str | Path) -> Path:
    """Turn the plugin on in CONFIG_DIR/kritarc (keeps the rest of the file)."""
    rc = Path(config_dir) / "kritarc"
    rc.parent.mkdir(parents=True, exist_ok=True)
    lines = rc.read_text().splitlines() if rc.exists() else []
    key = f"enable_{PLUGIN_NAME}=true"
    if key in lines:
        return rc
    if "[python]" in lines:
        lines.insert(lines.index("[python]") + 1, key)
    else:
        lines += ["", "[python]", key]
    rc.write_text("\n".join(lines) + "\n")
    return rc
