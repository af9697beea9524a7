"""`tinct install`: real files in a throwaway HOME, through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from home_snapshot import differences, seed_home, snapshot

from tinct.install import find_targets
from tinct.install.krita import enable_kritarc_text, revert_kritarc_text

GIMP_DIR = ".config/GIMP/3.0/plug-ins/tinct-colorize"
FLATPAK_GIMP_DIR = ".var/app/org.gimp.GIMP/config/GIMP/3.0/plug-ins/tinct-colorize"
KRITA_DIR = ".local/share/krita/pykrita"


def tinct(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    return subprocess.run(
        [sys.executable, "-m", "tinct", "install", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def ok(home: Path, *args: str) -> str:
    proc = tinct(home, *args)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture()
def home(tmp_path):
    home = tmp_path / "home"
    seed_home(home)
    return home


def test_install_places_both_plugins_enables_krita_and_records_the_backend(home):
    out = ok(home)
    for rel in (GIMP_DIR, FLATPAK_GIMP_DIR):
        entry = home / rel / "tinct-colorize.py"
        assert entry.stat().st_mode & 0o111, "GIMP runs only executable plug-ins"
        assert (home / rel / "tinct_protocol" / "client.py").is_file()
    assert (home / KRITA_DIR / "tinct_krita.desktop").is_file()
    assert (home / KRITA_DIR / "tinct_krita" / "tinct_protocol" / "zmtp.py").is_file()
    rc = (home / ".config/kritarc").read_text()
    assert rc.startswith("[General]\nLastPreset=basic\n\n[python]\nenable_tinct_krita=true\n")
    assert rc.endswith("enable_other_plugin=true\n\n[theme]\nx=1")
    config = json.loads((home / ".config/tinct/config.json").read_text())
    assert config == {"transport": "pure", "backend_cmd": [sys.executable, "-m", "tinct", "serve"]}
    flatpak = json.loads((home / ".var/app/org.gimp.GIMP/config/tinct/config.json").read_text())
    assert flatpak == {"backend_cmd": config["backend_cmd"]}
    assert "GIMP 3 plug-in (Flatpak)" in out and "Krita plugin" in out


def test_round_trip_leaves_home_exactly_as_it_was(home):
    before = snapshot(home)
    ok(home)
    installed = snapshot(home)
    ok(home)  # idempotent: a second install changes nothing
    assert differences(installed, snapshot(home)) == []
    ok(home, "--uninstall")
    assert differences(before, snapshot(home)) == []
    assert "nothing to uninstall" in ok(home, "--uninstall")


def test_round_trip_in_an_empty_home_removes_the_folders_it_made(tmp_path):
    home = tmp_path / "empty"
    home.mkdir()
    ok(home)
    assert (home / ".config/kritarc").read_text() == "[python]\nenable_tinct_krita=true\n"
    ok(home, "--uninstall")
    assert snapshot(home) == {}


def test_dry_run_writes_nothing(home):
    before = snapshot(home)
    out = ok(home, "--dry-run")
    assert "would install GIMP 3 plug-in" in out and "nothing was written" in out
    assert differences(before, snapshot(home)) == []
    ok(home)
    installed = snapshot(home)
    out = ok(home, "--uninstall", "--dry-run")
    assert "would remove" in out and GIMP_DIR in out
    assert differences(installed, snapshot(home)) == []


def test_one_host_at_a_time(home):
    before = snapshot(home)
    ok(home, "--gimp")
    assert (home / GIMP_DIR).is_dir() and not (home / KRITA_DIR / "tinct_krita").exists()
    assert "enable_tinct" not in (home / ".config/kritarc").read_text()
    ok(home, "--krita")
    assert (home / KRITA_DIR / "tinct_krita").is_dir()
    ok(home, "--uninstall", "--gimp")
    assert not (home / GIMP_DIR).exists() and (home / KRITA_DIR / "tinct_krita").is_dir()
    config = json.loads((home / ".config/tinct/config.json").read_text())
    assert "backend_cmd" in config, "Krita's plugin still needs the backend command"
    ok(home, "--uninstall", "--krita")
    assert differences(before, snapshot(home)) == []


def test_uninstall_keeps_what_krita_wrote_to_kritarc_since(home):
    ok(home)
    rc = home / ".config/kritarc"
    # Krita rewrites its whole config on exit (here: a new key in [python], a new group).
    rc.write_text(rc.read_text().replace("[theme]", "[MainWindow]\nState=abc\n\n[theme]"))
    rc.write_text(rc.read_text().replace("enable_other_plugin=true", "enable_other_plugin=false"))
    ok(home, "--uninstall")
    text = rc.read_text()
    assert "enable_tinct" not in text
    assert "[MainWindow]\nState=abc" in text and "enable_other_plugin=false" in text


def test_a_copy_not_made_by_the_installer_is_refused(home):
    foreign = home / KRITA_DIR / "tinct_krita"
    foreign.mkdir(parents=True)
    before = snapshot(home)
    proc = tinct(home)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "was not put there by `tinct install`" in proc.stderr
    assert str(foreign) in proc.stderr
    assert differences(before, snapshot(home)) == []


def test_backend_option_is_recorded_and_checked(home):
    ok(home, "--krita", "--backend", "'/opt/my tinct/tinct-backend' serve --threads 2")
    config = json.loads((home / ".config/tinct/config.json").read_text())
    assert config["backend_cmd"] == ["/opt/my tinct/tinct-backend", "serve", "--threads", "2"]
    proc = tinct(home, "--backend", "[1, 2]")
    assert proc.returncode == 2 and proc.stderr.startswith("tinct: error: --backend:")
    proc = tinct(home, "--uninstall", "--backend", "x")
    assert proc.returncode == 2 and "--uninstall" in proc.stderr


def test_the_installed_plugin_finds_the_recorded_backend(home):
    """The vendored launcher inside the installed GIMP plug-in reads what install recorded."""
    ok(home, "--gimp", "--backend", "/opt/tinct-backend/tinct-backend serve")
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]);"
        "from tinct_protocol.launcher import backend_command; print(json.dumps(backend_command()))"
    )
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-S", "-c", code, str(home / GIMP_DIR)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == ["/opt/tinct-backend/tinct-backend", "serve"]


def test_plugin_folders_per_platform(tmp_path):
    def dirs(platform, env):
        return [(t.host, t.flavour, t.plugin_dir, t.kritarc_dir) for t in find_targets(
            platform=platform, env=env)]  # fmt: skip

    win = {"APPDATA": r"C:\Users\a\AppData\Roaming", "LOCALAPPDATA": r"C:\Users\a\AppData\Local"}
    got = dirs("win32", win)
    roaming, local = Path(win["APPDATA"]), Path(win["LOCALAPPDATA"])
    assert got == [
        ("gimp", "native", roaming / "GIMP" / "3.0" / "plug-ins", None),
        ("krita", "native", roaming / "krita" / "pykrita", local),
    ]
    mac = tmp_path / "mac"
    (mac / "Library/Application Support/GIMP/3.2").mkdir(parents=True)
    support = mac / "Library/Application Support"
    assert dirs("darwin", {"HOME": str(mac)}) == [
        ("gimp", "native", support / "GIMP/3.2/plug-ins", None),
        ("krita", "native", support / "krita/pykrita", mac / "Library/Preferences"),
    ]
    lin = tmp_path / "linux"
    (lin / ".var/app/org.kde.krita").mkdir(parents=True)
    (lin / ".var/app/org.gimp.GIMP").mkdir(parents=True)
    env = {"HOME": str(lin), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    flat = lin / ".var/app"
    assert dirs("linux", env) == [
        ("gimp", "native", tmp_path / "cfg/GIMP/3.0/plug-ins", None),
        ("krita", "native", lin / ".local/share/krita/pykrita", tmp_path / "cfg"),
        ("gimp", "flatpak", flat / "org.gimp.GIMP/config/GIMP/3.0/plug-ins", None),
        (
            "krita",
            "flatpak",
            flat / "org.kde.krita/data/krita/pykrita",
            flat / "org.kde.krita/config",
        ),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[General]\na=1\n",
        "[General]\na=1",
        "[python]\nenable_x=true\n[z]\nb=2\n",
        "[python]\r\nenable_tinct_krita=false\r\n",
    ],
)
def test_kritarc_edit_is_exact_and_reversible(text):
    new, edit = enable_kritarc_text(text)
    assert "enable_tinct_krita=true" in new.splitlines()
    assert enable_kritarc_text(new)[0] == new  # enabling twice adds nothing
    back = revert_kritarc_text(new, edit)
    assert back == text or (not text.endswith("\n") and back == text + "\n")
    if text.startswith("[python]\r\n"):
        assert back == text, "the line we replaced comes back as it was"


@pytest.mark.slow
def test_a_regular_install_carries_the_plugins(tmp_path):
    """A wheel (not an editable checkout) has the plugins as data files under
    <prefix>/share/tinct, where tinct.install.sources finds them."""
    repo = Path(__file__).resolve().parents[1]
    wheels, venv, home = tmp_path / "wheels", tmp_path / "venv", tmp_path / "home"
    home.mkdir()

    def run(*cmd: str, **kw) -> subprocess.CompletedProcess:
        proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=300, **kw)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc

    pip = [sys.executable, "-m", "pip", "-q"]
    run(*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(repo))
    run(sys.executable, "-m", "venv", "--without-pip", str(venv))
    python = venv / "bin" / "python"
    wheel = next(wheels.glob("tinct-*.whl"))
    run(*pip, "--python", str(python), "install", "--no-deps", str(wheel))
    # `tinct install` needs only the standard library, so this venv has no other package.
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
    run(str(python), "-m", "tinct", "install", env=env, cwd=tmp_path)
    installed = home / GIMP_DIR / "tinct-colorize.py"
    assert (
        installed.read_bytes()
        == (repo / "gimp_plugin/tinct-colorize/tinct-colorize.py").read_bytes()
    )
    assert (home / KRITA_DIR / "tinct_krita" / "tinct_protocol" / "client.py").is_file()


def _old_name_copy(home: Path) -> None:
    """What an install from before the rename left: pykrita/tinct{,.desktop}, enable_tinct."""
    pykrita = home / KRITA_DIR
    ok(home, "--krita")
    (pykrita / "tinct_krita").rename(pykrita / "tinct")
    desktop = (pykrita / "tinct_krita.desktop").read_text()
    (pykrita / "tinct_krita.desktop").unlink()
    (pykrita / "tinct.desktop").write_text(desktop.replace("=tinct_krita", "=tinct"))
    rc = home / ".config/kritarc"
    rc.write_text(rc.read_text().replace("enable_tinct_krita=", "enable_tinct="))


def test_install_replaces_a_copy_under_the_old_name(home):
    _old_name_copy(home)
    (home / ".config/tinct/install-manifest.json").unlink()  # not even recorded
    out = ok(home, "--krita")
    assert "the plugin's old name" in out
    pykrita = home / KRITA_DIR
    assert sorted(p.name for p in pykrita.iterdir()) == ["tinct_krita", "tinct_krita.desktop"]
    lines = (home / ".config/kritarc").read_text().splitlines()
    assert "enable_tinct_krita=true" in lines and not any(
        ln.startswith("enable_tinct=") for ln in lines
    )
    ok(home, "--uninstall")  # no trace of either name is left
    assert list(pykrita.iterdir()) == []
    assert "enable_tinct" not in (home / ".config/kritarc").read_text()


def test_an_install_recorded_under_the_old_name_is_upgraded_and_uninstalled(home):
    before = snapshot(home)
    _old_name_copy(home)
    manifest = home / ".config/tinct/install-manifest.json"
    data = json.loads(manifest.read_text())
    for target in data["targets"].values():  # the record as the old install wrote it
        target["files"] = [
            f.replace("tinct_krita.desktop", "tinct.desktop") for f in target["files"]
        ]
        target["trees"] = [t.replace("/tinct_krita", "/tinct") for t in target["trees"]]
        target["kritarc"]["undo"].pop("key")
        target["kritarc"]["written_sha256"] = "changed-since"  # take the line-edit route
    manifest.write_text(json.dumps(data))
    saved = manifest.read_text()
    ok(home, "--uninstall")  # from the old record: old names, old kritarc key
    assert differences(before, snapshot(home)) == []
    _old_name_copy(home)
    manifest.write_text(saved)
    ok(home, "--krita")  # an upgrade: the old layout goes, the new one is recorded
    pykrita = home / KRITA_DIR
    assert sorted(p.name for p in pykrita.iterdir()) == ["tinct_krita", "tinct_krita.desktop"]
    assert "enable_tinct=" not in (home / ".config/kritarc").read_text()
    ok(home, "--uninstall")
    assert differences(before, snapshot(home)) == []
