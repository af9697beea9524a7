"""Where GIMP 3 and Krita look for user plugins, per platform (and Flatpak on Linux).

Each `Target` is one place a host loads plugins from, with the launcher config file
that host's plugins will read: a Flatpak app sees its own ~/.var/app/ID/config as
$XDG_CONFIG_HOME, so it needs its own copy of the backend command.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tinct.protocol.launcher import config_path

HOSTS = ("gimp", "krita")
GIMP_FLATPAK = "org.gimp.GIMP"
KRITA_FLATPAK = "org.kde.krita"
GIMP_DEFAULT_SERIES = "3.0"  # GIMP 3's user folder is named after its series (GIMP/3.0)


@dataclass(frozen=True)
class Target:
    host: str  # "gimp" | "krita"
    flavour: str  # "native" | "flatpak"
    plugin_dir: Path  # GIMP: its plug-ins folder; Krita: its pykrita folder
    config_file: Path  # the launcher's config.json as this host's plugins see it
    kritarc_dir: Path | None = None  # Krita: the folder holding kritarc

    @property
    def key(self) -> str:
        return f"{self.host}:{self.plugin_dir}"

    @property
    def label(self) -> str:
        name = {"gimp": "GIMP 3 plug-in", "krita": "Krita plugin"}[self.host]
        return f"{name} (Flatpak)" if self.flavour == "flatpak" else name


def gimp_plug_ins(gimp_dir: Path) -> list[Path]:
    """plug-ins folders of every GIMP 3.x series already there, else the 3.0 one."""
    series = sorted(p for p in gimp_dir.glob("3.*") if p.is_dir()) if gimp_dir.is_dir() else []
    return [s / "plug-ins" for s in series] or [gimp_dir / GIMP_DEFAULT_SERIES / "plug-ins"]


def find_targets(
    hosts: tuple[str, ...] = HOSTS,
    platform: str | None = None,
    env: Mapping[str, str] | None = None,
) -> list[Target]:
    """The plugin folders to install into for HOSTS on PLATFORM (default: this machine)."""
    platform = platform or sys.platform
    env = os.environ if env is None else env
    home = Path(env.get("HOME") or env.get("USERPROFILE") or os.path.expanduser("~"))
    config = config_path()
    targets: list[Target] = []
    if platform.startswith("win"):
        appdata = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
        local = Path(env.get("LOCALAPPDATA") or home / "AppData" / "Local")
        gimp = gimp_plug_ins(appdata / "GIMP")
        krita = [(appdata / "krita" / "pykrita", local)]
    elif platform == "darwin":
        support = home / "Library" / "Application Support"
        gimp = gimp_plug_ins(support / "GIMP")
        krita = [(support / "krita" / "pykrita", home / "Library" / "Preferences")]
    else:
        config_home = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
        data_home = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
        gimp = gimp_plug_ins(config_home / "GIMP")
        krita = [(data_home / "krita" / "pykrita", config_home)]
    if "gimp" in hosts:
        targets += [Target("gimp", "native", d, config) for d in gimp]
    if "krita" in hosts:
        targets += [Target("krita", "native", d, config, rc) for d, rc in krita]
    if platform.startswith("linux"):
        targets += flatpak_targets(hosts, home)
    return targets


def flatpak_targets(hosts: tuple[str, ...], home: Path) -> list[Target]:
    """Flatpak installs that have been run (their ~/.var/app/ID exists)."""
    apps = home / ".var" / "app"
    found = []
    gimp_app, krita_app = apps / GIMP_FLATPAK, apps / KRITA_FLATPAK
    if "gimp" in hosts and gimp_app.is_dir():
        config = gimp_app / "config" / "tinct" / "config.json"
        for d in gimp_plug_ins(gimp_app / "config" / "GIMP"):
            found.append(Target("gimp", "flatpak", d, config))
    if "krita" in hosts and krita_app.is_dir():
        pykrita = krita_app / "data" / "krita" / "pykrita"
        config = krita_app / "config" / "tinct" / "config.json"
        found.append(Target("krita", "flatpak", pykrita, config, krita_app / "config"))
    return found
