"""The training commands' CLI: listed by `tinct`, cheap to import, and clear
when the training extra is missing (as in the standalone backend)."""

from __future__ import annotations

import subprocess
import sys

from tinct.cli.main import main


def test_tinct_lists_the_commands_without_importing_training_code():
    code = (
        "import sys, tinct.cli.main\n"
        "p = tinct.cli.main.build_parser()\n"
        "heavy = ('accelerate', 'matplotlib', 'tinct.train', 'tinct.evaluate', 'torch')\n"
        "print(sorted({m.split('.')[0] if m.startswith(heavy[:2]) else m for m in sys.modules"
        " if m.startswith(heavy)}))\n"
        "print(p.format_help())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    loaded, help_text = proc.stdout.split("\n", 1)
    assert loaded == "[]"
    for command in ("train", "train-vae", "eval", "colorize"):
        assert command in help_text
    assert "train-ranker" not in help_text  # the ranker went with the automatic scale


def test_training_without_accelerate_names_the_extra_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "accelerate", None)  # import accelerate -> ImportError
    assert main(["train", str(tmp_path), "-o", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'tinct[train]'" in err[0]
    assert not (tmp_path / "run").exists()


def test_a_run_folder_only_resumes_the_same_kind_of_training(tmp_path, capsys):
    run = tmp_path / "run"
    (run / "checkpoints" / "checkpoint-5").mkdir(parents=True)
    (run / "options.json").write_text('{"task": "vae"}')
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.png").write_bytes(b"")
    assert main(["train", str(tmp_path / "photos"), "-o", str(run), "--resume"]) == 2
    assert "is a 'vae' run; it cannot resume as 'unet'" in capsys.readouterr().err
