"""Install and uninstall: copy the plugins, enable Krita's, record the backend command.

Everything written is noted in the manifest (tinct.install.record) before the next
step, and uninstall works from that manifest alone, so it removes exactly what an
install added, even if the machine's folders changed in between.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from tinct.install.gimp import PLUGIN_NAME as GIMP_PLUGIN
from tinct.install.gimp import stage_gimp
from tinct.install.krita import (
    ENABLE_KEY,
    LEGACY_ENABLE_KEY,
    KritarcEdit,
    drop_kritarc_key,
    enable_kritarc_text,
    legacy_paths,
    revert_kritarc_text,
    stage_krita,
)
from tinct.install.krita import PLUGIN_NAME as KRITA_PLUGIN
from tinct.install.locations import Target
from tinct.install.record import MANIFEST_NAME, Manifest, TargetRecord, TextEdit, sha256
from tinct.protocol.launcher import config_path

BACKEND_KEY = "backend_cmd"
Say = Callable[[str], None]


class InstallError(Exception):
    """Something the user must fix first; printed as one line."""


def default_manifest_path() -> Path:
    return config_path().parent / MANIFEST_NAME


def default_backend_cmd() -> list[str]:
    """The command that starts this backend's daemon: the bundle itself when frozen."""
    if getattr(sys, "frozen", False):
        return [str(Path(sys.executable).resolve()), "serve"]
    return [os.path.abspath(sys.executable), "-m", "tinct", "serve"]


def destinations(target: Target) -> list[Path]:
    """What an install puts into the target's plugin folder."""
    if target.host == "gimp":
        return [target.plugin_dir / GIMP_PLUGIN]
    return [target.plugin_dir / f"{KRITA_PLUGIN}.desktop", target.plugin_dir / KRITA_PLUGIN]


def missing_dirs(path: Path) -> list[Path]:
    """PATH and its parents that do not exist yet, outermost first."""
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    return missing[::-1]


def _read(path: Path) -> bytes:
    return path.read_bytes() if path.exists() else b""


def _write(path: Path, data: bytes, manifest: Manifest) -> None:
    created = missing_dirs(path.parent)
    path.parent.mkdir(parents=True, exist_ok=True)
    manifest.note_created(created)
    path.write_bytes(data)


def _track(edit: TextEdit, before: bytes, after: bytes) -> None:
    """Keep the 'restore the original bytes' route only while nobody else changed the file."""
    exact = edit.written_sha256 == "" or edit.written_sha256 == sha256(before)
    edit.written_sha256 = sha256(after) if exact else "changed-since"


# --- install ---------------------------------------------------------------------------


def install(
    targets: Iterable[Target],
    backend_cmd: list[str],
    manifest_path: Path | None = None,
    *,
    dry_run: bool = False,
    say: Say = print,
) -> Manifest:
    targets = list(targets)
    manifest = Manifest.load(manifest_path or default_manifest_path())
    for t in targets:  # refuse before writing anything
        if t.key in manifest.targets:
            continue
        for dest in destinations(t):
            if dest.exists() or dest.is_symlink():
                raise InstallError(
                    f"{dest} already exists and was not put there by `tinct install`; "
                    "move it away and run the install again"
                )
    verb = "would install" if dry_run else "installed"
    for t in targets:
        dest = destinations(t)[-1]
        _replace_old_layout(t, manifest, dry_run, say)
        if dry_run:
            say(f"{verb} {t.label} into {dest}")
        else:
            _install_plugin(t, manifest)
            say(f"{verb} {t.label} into {dest}")
        if t.kritarc_dir is not None:
            rc = t.kritarc_dir / "kritarc"
            if dry_run:
                say(f"would enable it in {rc}")
            elif _enable_kritarc(t, manifest):
                say(f"enabled it in {rc}")
    shown = shlex.join(backend_cmd)
    for config in dict.fromkeys(t.config_file for t in targets):
        if dry_run:
            say(f"would record the backend command `{shown}` in {config}")
        elif _record_backend(config, backend_cmd, manifest):
            say(f"recorded the backend command `{shown}` in {config}")
        else:
            say(f"the backend command in {config} is already `{shown}`")
    if dry_run:
        say("dry run: nothing was written")
    else:
        manifest.note_created(missing_dirs(manifest.path.parent))  # before it is serialised
        _write(manifest.path, manifest.to_json().encode(), manifest)
    return manifest


def _replace_old_layout(t: Target, manifest: Manifest, dry_run: bool, say: Say) -> None:
    """Take away what an earlier install put under other names (the Krita plugin was once
    the package ``tinct``, which shadowed the backend): recorded files and kritarc line,
    or an unrecorded old-name copy recognisably ours (tinct.install.krita.legacy_paths)."""
    record = manifest.targets.get(t.key)
    verb = "would remove" if dry_run else "removed"
    if record is not None and set(record.files + record.trees) != set(map(str, destinations(t))):
        for p in [*record.trees, *record.files]:
            say(f"{verb} {p} (an earlier install's layout)")
            if not dry_run:
                _remove(Path(p))
        if record.kritarc is not None and not dry_run:
            _revert(record.kritarc, lambda text, e=record.kritarc: _kritarc_fallback(text, e))
        if not dry_run:
            del manifest.targets[t.key]
    if t.host != "krita":
        return
    for p in legacy_paths(t.plugin_dir):
        say(f"{verb} {p} (the plugin's old name)")
        if not dry_run:
            _remove(p)
    rc = t.kritarc_dir / "kritarc" if t.kritarc_dir is not None else None
    if rc is not None and rc.exists() and not dry_run:
        text = rc.read_bytes().decode("utf-8", "surrogateescape")
        new = drop_kritarc_key(text, LEGACY_ENABLE_KEY)
        if new != text:
            rc.write_bytes(new.encode("utf-8", "surrogateescape"))
            say(f"took the old {LEGACY_ENABLE_KEY} line out of {rc}")


def _install_plugin(t: Target, manifest: Manifest) -> None:
    record = manifest.targets.get(t.key) or TargetRecord(
        t.host, t.flavour, str(t.plugin_dir), str(t.config_file)
    )
    manifest.targets[t.key] = record
    manifest.note_created(missing_dirs(t.plugin_dir))
    t.plugin_dir.mkdir(parents=True, exist_ok=True)
    if t.host == "gimp":
        stage_gimp(t.plugin_dir)
        record.trees = [str(t.plugin_dir / GIMP_PLUGIN)]
    else:
        desktop, package = stage_krita(t.plugin_dir)
        record.files, record.trees = [str(desktop)], [str(package)]


def _enable_kritarc(t: Target, manifest: Manifest) -> bool:
    record = manifest.targets[t.key]
    rc = t.kritarc_dir / "kritarc"
    before = _read(rc)
    text, edit = enable_kritarc_text(before.decode("utf-8", "surrogateescape"))
    after = text.encode("utf-8", "surrogateescape")
    if record.kritarc is None:
        undo = {
            "previous_line": edit.previous_line,
            "added_group": edit.added_group,
            "key": ENABLE_KEY,
        }
        record.kritarc = TextEdit.start(rc, {"changed": edit.changed, **undo})
    if edit.changed:
        _write(rc, after, manifest)
    _track(record.kritarc, before, after)
    return edit.changed


def _load_config(path: Path) -> dict:
    text = _read(path).decode("utf-8", "replace")
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InstallError(f"{path} is not valid JSON ({exc}); fix or remove it") from exc
    if not isinstance(data, dict):
        raise InstallError(f"{path} should hold a JSON object; fix or remove it")
    return data


def _record_backend(path: Path, cmd: list[str], manifest: Manifest) -> bool:
    before = _read(path)
    data = _load_config(path)
    edit = manifest.configs.get(str(path))
    if edit is None:
        undo = {"had_key": BACKEND_KEY in data, "previous": data.get(BACKEND_KEY)}
        edit = manifest.configs[str(path)] = TextEdit.start(path, undo)
    changed = data.get(BACKEND_KEY) != cmd
    after = before
    if changed:
        data[BACKEND_KEY] = cmd
        after = (json.dumps(data, indent=2) + "\n").encode()
        _write(path, after, manifest)
    _track(edit, before, after)
    return changed


# --- uninstall -------------------------------------------------------------------------


def uninstall(
    hosts: Iterable[str],
    manifest_path: Path | None = None,
    *,
    dry_run: bool = False,
    say: Say = print,
) -> Manifest | None:
    hosts = set(hosts)
    manifest = Manifest.load(manifest_path or default_manifest_path())
    chosen = {k: t for k, t in manifest.targets.items() if t.host in hosts}
    if not chosen:
        say(
            f"nothing to uninstall: {manifest.path} records no install for {', '.join(sorted(hosts))}"
        )
        return None
    verb = "would remove" if dry_run else "removed"
    for key, record in chosen.items():
        for p in [*record.trees, *record.files]:
            say(f"{verb} {p}")
            if not dry_run:
                _remove(Path(p))
        if record.kritarc is not None:
            say(
                f"{'would take' if dry_run else 'took'} the Tinct line out of {record.kritarc.path}"
            )
            if not dry_run:
                _revert(record.kritarc, lambda text, e=record.kritarc: _kritarc_fallback(text, e))
        if not dry_run:
            del manifest.targets[key]
    in_use = {t.config_file for k, t in manifest.targets.items() if k not in chosen}
    for path, edit in list(manifest.configs.items()):
        if path in in_use:
            continue
        say(f"{'would take' if dry_run else 'took'} the backend command out of {path}")
        if not dry_run:
            _revert(edit, lambda text, e=edit: _config_fallback(text, e))
            del manifest.configs[path]
    if dry_run:
        say("dry run: nothing was changed")
        return manifest
    if manifest.targets:
        _prune(manifest)
        manifest.path.write_text(manifest.to_json())
    else:
        _remove(manifest.path)
        _prune(manifest)
    return manifest


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _prune(manifest: Manifest) -> None:
    """Remove the folders an install created, deepest first, where they are empty again."""
    left = []
    for d in sorted(manifest.created_dirs, key=lambda p: len(Path(p).parts), reverse=True):
        path = Path(d)
        try:
            path.rmdir()
        except FileNotFoundError:
            pass
        except OSError:  # not empty: someone else's files are there now
            left.append(d)
    manifest.created_dirs = [d for d in manifest.created_dirs if d in left]


def _revert(edit: TextEdit, fallback: Callable[[str], str]) -> None:
    path = Path(edit.path)
    if not path.exists():
        return
    current = path.read_bytes()
    if sha256(current) == edit.written_sha256:  # untouched since: the exact old bytes
        original = edit.original
        if original is None:
            path.unlink()
        else:
            path.write_bytes(original)
        return
    text = fallback(current.decode("utf-8", "surrogateescape"))
    if edit.original is None and not text.strip():
        path.unlink()
    else:
        path.write_bytes(text.encode("utf-8", "surrogateescape"))


def _kritarc_fallback(text: str, edit: TextEdit) -> str:
    u = edit.undo
    return revert_kritarc_text(
        text,
        KritarcEdit(u["changed"], u.get("previous_line"), u.get("added_group", False)),
        u.get("key", LEGACY_ENABLE_KEY),  # records from before the rename carry no key
    )


def _config_fallback(text: str, edit: TextEdit) -> str:
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError:
        return text  # not ours to repair
    if not isinstance(data, dict):
        return text
    if edit.undo.get("had_key"):
        data[BACKEND_KEY] = edit.undo.get("previous")
    else:
        data.pop(BACKEND_KEY, None)
    if edit.original is None and not data:
        return ""
    return json.dumps(data, indent=2) + "\n"
