"""Install the GIMP 3 plug-in into a plug-ins folder (used by the installer and the host tests).

GIMP 3 loads ``<plug-ins>/tinct-colorize/tinct-colorize.py`` (folder and file of the
same name, the file executable). The plug-in runs in GIMP's own Python, so it
carries its host-free helpers (``tinct_gimp/``) and a vendored copy of the
protocol (``tinct_protocol/``, see tinct.install.vendor).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tinct.install.sources import gimp_plugin_source
from tinct.install.vendor import VENDORED_NAME, copy_protocol

PLUGIN_NAME = "tinct-colorize"


def __getattr__(name: str):
    if name == "PLUGIN_SOURCE":  # looked up on use: a checkout, a bundle or a wheel
        return gimp_plugin_source()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def stage_gimp(plug_ins_dir: str | Path, source: str | Path | None = None) -> list[Path]:
    """Copy the plug-in to PLUG_INS_DIR/tinct-colorize/ (replacing an old copy).

    Returns the files written. Caches (``__pycache__``) are not copied.
    """
    source = Path(source) if source is not None else gimp_plugin_source()
    entry = source / f"{PLUGIN_NAME}.py"
    if not entry.is_file():
        raise FileNotFoundError(f"GIMP plug-in source {entry} is missing")
    dest = Path(plug_ins_dir) / PLUGIN_NAME
    if dest.is_symlink() or dest.is_file():
        dest.unlink()
    elif dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(
        source, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", VENDORED_NAME)
    )
    (dest / entry.name).chmod(0o755)
    copy_protocol(dest)
    return sorted(p for p in dest.rglob("*") if p.is_file())
