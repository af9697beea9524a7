"""A full picture of a folder tree (kinds, modes, file bytes, link targets) for comparisons."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def snapshot(root: Path) -> dict[str, tuple]:
    """relative path -> ("dir", mode) | ("file", mode, bytes) | ("link", target)."""
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            st = path.lstat()
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", mode)
            else:
                out[rel] = ("file", mode, path.read_bytes())
    return out


def differences(before: dict, after: dict) -> list[str]:
    """Readable differences between two snapshots (empty when equal)."""
    lines = [f"gone: {p}" for p in sorted(before.keys() - after.keys())]
    lines += [f"new: {p}" for p in sorted(after.keys() - before.keys())]
    lines += [
        f"changed: {p}" for p in sorted(before.keys() & after.keys()) if before[p] != after[p]
    ]
    return lines


def seed_home(home: Path) -> None:
    """A HOME that already has Krita and Tinct settings and another GIMP plug-in,
    in a Flatpak GIMP too, so that a round trip has something to get wrong."""
    (home / ".config/tinct").mkdir(parents=True)
    (home / ".config/tinct/config.json").write_text('{"transport":  "pure"}\n')
    (home / ".config/kritarc").write_text(
        "[General]\nLastPreset=basic\n\n[python]\nenable_other_plugin=true\n\n[theme]\nx=1"
    )
    other = home / ".config/GIMP/3.0/plug-ins/other-plugin"
    other.mkdir(parents=True)
    (other / "other-plugin.py").write_text("# someone else's plug-in\n")
    (other / "other-plugin.py").chmod(0o750)
    (home / ".local/share").mkdir(parents=True)
    (home / ".var/app/org.gimp.GIMP/cache").mkdir(parents=True)
    (home / "notes.txt").symlink_to("nowhere")
