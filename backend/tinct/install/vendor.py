"""Copy the one source of the wire protocol into a plugin folder.

Plugins run inside GIMP's and Krita's own Pythons, which cannot import the
backend package, so each carries a copy of `tinct.protocol` (standard library
only, relative imports) as a sub-package. It is always produced from the
source by this function — by the installer and by the host tests — never
edited by hand.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import tinct.protocol

PROTOCOL_SOURCE = Path(tinct.protocol.__file__).resolve().parent
VENDORED_NAME = "tinct_protocol"


def copy_protocol(plugin_dir: str | Path) -> Path:
    """Copy tinct/protocol/*.py to PLUGIN_DIR/tinct_protocol/ (replacing an old copy)."""
    dest = Path(plugin_dir) / VENDORED_NAME
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for src in sorted(PROTOCOL_SOURCE.glob("*.py")):
        shutil.copy2(src, dest / src.name)
    (dest / "SOURCE.txt").write_text(
        "Generated copy of backend/tinct/protocol (tinct.install.vendor). Do not edit.\n"
    )
    return dest
