"""`tinct colorize` over a folder: shared between processes under `accelerate
launch`, and resumable (outputs that exist are skipped)."""

from __future__ import annotations

import json
import shutil

from train_helpers import launch_two_cpu_processes, make_photos, one_thread

from tinct.cli.main import main
from tinct.imageio import read_image

__all__ = ["one_thread"]


def _records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_two_processes_share_a_folder_and_do_every_input_exactly_once(tmp_path, tiny_model_dir):
    photos = make_photos(tmp_path / "in", count=7, captions=False)
    out = tmp_path / "out"
    out.mkdir()
    # An earlier, interrupted job already wrote one output.
    shutil.copy(photos / "img3.png", out / "img3.png")
    before = (out / "img3.png").read_bytes()
    args = ["colorize", "in", "-o", "out", "--model", str(tiny_model_dir), "--device", "cpu"]
    args += ["--skip-existing", "--record", "record.jsonl", "--quiet"]
    proc = launch_two_cpu_processes(args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = _records(tmp_path / "record.jsonl")
    inputs = sorted(f"in/{p.name}" for p in photos.glob("*.png"))
    assert sorted(r["input"] for r in records) == inputs  # every input once, none twice
    assert {r["rank"] for r in records} == {0, 1}  # both processes took a share
    written = [r for r in records if r["status"] == "written"]
    assert [r["input"] for r in records if r["status"] == "skipped"] == ["in/img3.png"]
    assert len(written) == 6 and all(
        r["output"] == r["input"].replace("in/", "out/") for r in written
    )
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in photos.glob("*.png"))
    assert (out / "img3.png").read_bytes() == before
    for r in written:
        assert read_image(tmp_path / r["output"]).shape == read_image(tmp_path / r["input"]).shape
    # Run again: everything exists, nothing is redone.
    proc = launch_two_cpu_processes(args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    again = _records(tmp_path / "record.jsonl")[len(records) :]
    assert sorted(r["input"] for r in again) == inputs
    assert {r["status"] for r in again} == {"skipped"}


def test_a_folder_input_in_one_process_resumes_after_interruption(
    tmp_path, tiny_model_dir, one_thread
):
    photos = make_photos(tmp_path / "in", count=4, captions=False)
    out = tmp_path / "out"
    record = tmp_path / "record.jsonl"
    args = ["colorize", str(photos), "-o", str(out), "--model", str(tiny_model_dir)]
    args += ["--skip-existing", "--record", str(record), "--quiet"]
    assert main(args) == 0
    first = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert sorted(first) == ["img0.png", "img1.png", "img2.png", "img3.png"]
    (out / "img1.png").unlink()  # as if the job had stopped before this one
    assert main(args) == 0
    statuses = {r["input"]: r["status"] for r in _records(record)[4:]}
    assert statuses == {
        str(photos / "img0.png"): "skipped",
        str(photos / "img1.png"): "written",
        str(photos / "img2.png"): "skipped",
        str(photos / "img3.png"): "skipped",
    }
    assert all(first[n] == (out / n).stat().st_mtime_ns for n in first if n != "img1.png")
    # Without --skip-existing everything is colorized again, as before.
    assert main(args[:-4] + ["--quiet"]) == 0
    assert all(first[n] != (out / n).stat().st_mtime_ns for n in first if n != "img1.png")
