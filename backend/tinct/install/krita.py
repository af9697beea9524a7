"""Install the Krita plugin into a pykrita folder, with its copy of the wire protocol.

``stage_krita(pykrita_dir)`` copies krita_plugin/tinct_krita.desktop and the
krita_plugin/tinct_krita/ package (without caches or an old protocol copy) and
vendors ``tinct.protocol`` into it through ``tinct.install.vendor.copy_protocol``.
Used by the host tests and the installer. Enabling the plugin is Krita's
config (``[python] enable_tinct_krita=true`` in kritarc), which ``enable_in_kritarc``
writes for a given config folder.

The package has a name of its own: Krita puts the pykrita folder on the Python
path, and a plugin package called ``tinct`` (as it was before) shadowed the
backend package of the same name. ``remove_legacy`` takes such a copy away.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from tinct.install.sources import krita_plugin_source
from tinct.install.vendor import VENDORED_NAME, copy_protocol

PLUGIN_NAME = "tinct_krita"
LEGACY_NAME = "tinct"  # the plugin's package name before it got one of its own


def stage_krita(pykrita_dir: str | Path, source: str | Path | None = None) -> list[Path]:
    """Copy the plugin into PYKRITA_DIR; returns the paths written (desktop file, package)."""
    src = Path(source) if source is not None else krita_plugin_source()
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
    remove_legacy(dest_root)
    return [desktop, package]


def legacy_paths(pykrita_dir: str | Path) -> list[Path]:
    """An old-name copy of this plugin in PYKRITA_DIR (desktop file, package), if there is one.

    Recognised by what only a staged Tinct plugin has: the desktop file naming the
    ``tinct`` library and a package holding the generated protocol copy. Anything
    else called ``tinct`` is someone else's and is left alone.
    """
    root = Path(pykrita_dir)
    desktop, package = root / f"{LEGACY_NAME}.desktop", root / LEGACY_NAME
    try:
        ours = f"X-KDE-Library={LEGACY_NAME}" in desktop.read_text(errors="replace").split()
    except OSError:
        ours = False
    ours = ours and (package / VENDORED_NAME / "SOURCE.txt").is_file()
    return [desktop, package] if ours else []


def remove_legacy(pykrita_dir: str | Path) -> list[Path]:
    """Remove an old-name copy of this plugin (see legacy_paths); returns what was removed."""
    found = legacy_paths(pykrita_dir)
    for path in found:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    return found


KRITARC_GROUP = "[python]"
ENABLE_KEY = f"enable_{PLUGIN_NAME}"
ENABLE_LINE = f"{ENABLE_KEY}=true"
LEGACY_ENABLE_KEY = f"enable_{LEGACY_NAME}"


@dataclass(frozen=True)
class KritarcEdit:
    """What enabling changed in a kritarc text, enough to take it back out later.

    ``previous_line``: the ``enable_tinct_krita=...`` line it replaced (None: the key was added);
    ``added_group``: True when the ``[python]`` group itself was appended.
    """

    changed: bool
    previous_line: str | None = None
    added_group: bool = False


def _python_group(lines: list[str]) -> tuple[int, int] | None:
    """(header index, end index) of the [python] group in LINES (kept line endings)."""
    start = next((i for i, ln in enumerate(lines) if ln.strip() == KRITARC_GROUP), None)
    if start is None:
        return None
    end = start + 1
    while end < len(lines) and not lines[end].lstrip().startswith("["):
        end += 1
    return start, end


def enable_kritarc_text(text: str) -> tuple[str, KritarcEdit]:
    """TEXT with ``enable_tinct_krita=true`` in its [python] group; every other byte kept."""
    lines = text.splitlines(keepends=True)
    group = _python_group(lines)
    if group is None:
        prefix = text if not text or text.endswith("\n") else text + "\n"
        blank = "\n" if prefix else ""
        return prefix + blank + f"{KRITARC_GROUP}\n{ENABLE_LINE}\n", KritarcEdit(True, None, True)
    start, end = group
    for i in range(start + 1, end):
        key = lines[i].split("=", 1)[0].strip()
        if key == ENABLE_KEY:
            if lines[i].rstrip("\r\n") == ENABLE_LINE:
                return text, KritarcEdit(False)
            ending = lines[i][len(lines[i].rstrip("\r\n")) :] or "\n"
            old = lines[i].rstrip("\r\n")
            lines[i] = ENABLE_LINE + ending
            return "".join(lines), KritarcEdit(True, old, False)
    header = lines[start]
    if not header.endswith("\n"):
        lines[start] = header + "\n"
    lines.insert(start + 1, ENABLE_LINE + "\n")
    return "".join(lines), KritarcEdit(True, None, False)


def revert_kritarc_text(text: str, edit: KritarcEdit, key: str = ENABLE_KEY) -> str:
    """Take EDIT back out of TEXT (which Krita may have rewritten since): KEY goes
    (or gets its old line back), and a [python] group we appended goes when left empty."""
    if not edit.changed:
        return text
    lines = text.splitlines(keepends=True)
    group = _python_group(lines)
    if group is None:
        return text
    start, end = group
    for i in range(start + 1, end):
        if lines[i].split("=", 1)[0].strip() == key:
            if edit.previous_line is not None:
                lines[i] = edit.previous_line + (lines[i][len(lines[i].rstrip("\r\n")) :])
            else:
                del lines[i]
                end -= 1
            break
    if edit.added_group and all(not ln.strip() for ln in lines[start + 1 : end]):
        del lines[start:end]
        if start > 0 and not lines[start - 1].strip():  # the blank line put before it
            del lines[start - 1]
    return "".join(lines)


def drop_kritarc_key(text: str, key: str) -> str:
    """TEXT without KEY's line in its [python] group (every other byte kept)."""
    lines = text.splitlines(keepends=True)
    group = _python_group(lines)
    if group is None:
        return text
    start, end = group
    kept = [ln for ln in lines[start + 1 : end] if ln.split("=", 1)[0].strip() != key]
    return "".join(lines[: start + 1] + kept + lines[end:])


def enable_in_kritarc(config_dir: str | Path) -> Path:
    """Turn the plugin on in CONFIG_DIR/kritarc (keeps the rest of the file)."""
    rc = Path(config_dir) / "kritarc"
    rc.parent.mkdir(parents=True, exist_ok=True)
    text = rc.read_bytes().decode("utf-8", "surrogateescape") if rc.exists() else ""
    new, edit = enable_kritarc_text(text)
    if edit.changed:
        rc.write_bytes(new.encode("utf-8", "surrogateescape"))
    return rc
