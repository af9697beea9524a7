"""scripts/gpu_check.sh, the GPU readiness check, in its CPU dry run.

The dry run is the real script end to end (real CLI, daemon, training and
`accelerate launch` processes) at small sizes, with the random-weight
stand-in text encoder a device machine without the MiniLM package gets, so
that the first run on a GPU has nothing left to find but the GPU.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "gpu_check.sh"


def _run(*args: str, timeout: float) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHON": sys.executable, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow
def test_cpu_dry_run_passes_every_section_and_writes_its_report(tmp_path):
    res = _run(
        "--device",
        "cpu",
        "--threads",
        "1",
        "--text-encoder",
        "standin",
        "--out",
        str(tmp_path / "out"),
        timeout=600,
    )
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-3000:]
    lines = res.stdout.splitlines()
    assert lines[-1].startswith("gpu_check: PASS in ")
    assert "FAIL" not in res.stdout
    for key in "12345":
        assert any(line.startswith(f"[{key}] ") for line in lines), key
    assert res.stdout.count("-> PASS") == 5
    assert "MiniLM's architecture with random weights" in res.stdout
    # The report file is what was printed; the figures say what was measured.
    assert (tmp_path / "out" / "report.txt").read_text().splitlines() == lines
    logs = (tmp_path / "out" / "logs.txt").read_text()
    for name in ("01-tinct-colorize.log", "02-tinct-train.log", "03-accelerate-launch.log"):
        assert f"===== {name}" in logs, name
    fig = json.loads((tmp_path / "out" / "figures.json").read_text())
    assert fig["device"] == "cpu"
    # 1. float32 on the CPU is the reference itself; bfloat16 differs, a little.
    assert fig["1"]["fp32"]["dab_mean"] == 0.0
    assert 0.0 < fig["1"]["bf16"]["dab_mean"] <= 1.5
    assert fig["1"]["bf16"]["ab_ref_mean"] > 5  # the model made colour to compare
    # 2. The CLI process gives what the CLI's per-file code gives in-process.
    for name in ("small", "big"):
        assert fig["2"][name]["dab_mean"] < 0.05, name
        assert fig["2"][name]["dl_mean"] <= 0.5, name
        assert fig["2"]["cli_seconds"][name] > 0
    assert fig["2"]["warm_big_s"] > 0 and "peak_gpu_gb" not in fig["2"]
    # 3. The daemon ran on the CPU and answered every measurement.
    assert fig["3"]["device"] == "cpu"
    assert fig["3"]["result_size"] == [864, 576]
    assert fig["3"]["rescale_p50_ms"] > 0 and fig["3"]["roundtrip_pure_ms"] > 0
    # 4 and 5. Trained, then resumed under accelerate launch.
    assert fig["4"]["steps_per_s"] > 0
    assert fig["5"]["processes"] == 1 and fig["5"]["steps_per_s"] > 0


def test_cuda_check_without_cuda_fails_at_once_with_one_line():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    res = _run("--device", "cuda", timeout=120)
    assert res.returncode == 1
    assert res.stderr.strip().splitlines()[-1] == (
        "gpu_check: FAIL: device 'cuda' requested but CUDA is not available"
    )
    assert "[1]" not in res.stdout


def test_missing_tokenizer_files_fail_with_a_pointer_to_prepare(tmp_path):
    res = _run(
        "--device",
        "cpu",
        "--text-encoder",
        "standin",
        "--minilm-files",
        str(tmp_path / "nowhere"),
        timeout=120,
    )
    assert res.returncode == 1
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("gpu_check: FAIL: MiniLM's config and tokenizer files are not in")
    assert "scripts/gpu_check.sh --prepare" in last
    assert "[1]" not in res.stdout


def test_a_failed_check_fails_its_section_and_the_run():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import gpu_check
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    report = gpu_check.Report()
    with report.section("a", "one check fails") as fig:
        report.check(True, "fine")
        report.check(False, "broken")
        fig["x"] = 1
    with report.section("b", "raises"):
        raise gpu_check.SectionFailed("process exited 2")
    with report.section("c", "passes"):
        report.check(True, "fine")
    assert report.results == {"a": False, "b": False, "c": True}
    assert report.figures["a"]["x"] == 1
    assert "    FAIL process exited 2" in report.lines
