"""The install manifest: what `tinct install` wrote, so `--uninstall` takes back exactly that.

It lives beside the launcher's config (``install-manifest.json``) and holds:
- ``targets``: per plugin folder, the trees and files copied there, and for Krita
  the kritarc edit;
- ``configs``: per launcher config file, its bytes before the first install and
  whether ``backend_cmd`` was there (and its value);
- ``created_dirs``: folders that did not exist before, removed again when empty.

A text file edit (kritarc, config.json) keeps the file's original bytes and a hash
of what was written. Undo puts the original back when the file still holds exactly
what we wrote; when the host or the user has changed it since, only our line or key
is taken out and the rest of their changes stay.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

MANIFEST_NAME = "install-manifest.json"
MANIFEST_VERSION = 1


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class TextEdit:
    """One file we changed: its bytes before (None: it did not exist) and after."""

    path: str
    original_b64: str | None
    written_sha256: str
    undo: dict = field(default_factory=dict)  # what the line/key edit needs to be reverted

    @classmethod
    def start(cls, path: Path, undo: dict) -> TextEdit:
        original = path.read_bytes() if path.exists() else None
        b64 = base64.b64encode(original).decode("ascii") if original is not None else None
        return cls(str(path), b64, "", undo)

    @property
    def original(self) -> bytes | None:
        return None if self.original_b64 is None else base64.b64decode(self.original_b64)


@dataclass
class TargetRecord:
    host: str
    flavour: str
    plugin_dir: str
    config_file: str
    trees: list[str] = field(default_factory=list)  # folders that are wholly ours
    files: list[str] = field(default_factory=list)
    kritarc: TextEdit | None = None


@dataclass
class Manifest:
    path: Path
    targets: dict[str, TargetRecord] = field(default_factory=dict)
    configs: dict[str, TextEdit] = field(default_factory=dict)
    created_dirs: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> Manifest:
        if not path.exists():
            return cls(path)
        try:
            raw = json.loads(path.read_text())
            if raw.get("version") != MANIFEST_VERSION:
                raise ValueError(f"version {raw.get('version')!r}")
            targets = {}
            for key, t in raw["targets"].items():
                rc = t.pop("kritarc", None)
                targets[key] = TargetRecord(**t, kritarc=TextEdit(**rc) if rc else None)
            configs = {k: TextEdit(**v) for k, v in raw["configs"].items()}
            return cls(path, targets, configs, list(raw["created_dirs"]))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"the install record {path} is damaged ({exc})") from exc

    def to_json(self) -> str:
        obj = {
            "version": MANIFEST_VERSION,
            "targets": {k: asdict(t) for k, t in self.targets.items()},
            "configs": {k: asdict(c) for k, c in self.configs.items()},
            "created_dirs": self.created_dirs,
        }
        return json.dumps(obj, indent=2) + "\n"

    def note_created(self, dirs: list[Path]) -> None:
        for d in dirs:
            if str(d) not in self.created_dirs:
                self.created_dirs.append(str(d))
