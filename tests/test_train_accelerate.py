"""`tinct train` under `accelerate launch`: two CPU processes, checkpoints, resume.

The resumed run must repeat exactly what the uninterrupted run did after the
checkpoint: same step numbers, same losses, same final optimizer and EMA
state. A resume that forgot the optimizer, the EMA or where the data stream
stood gives different numbers (checked by hand when this test was written:
each of those three breakages changed the step-5 or step-6 loss or the final
EMA weights well beyond the tolerances below).
"""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file
from train_helpers import fresh_accelerate_state, launch_two_cpu_processes, make_photos, one_thread

from tinct.cli.main import main

__all__ = ["fresh_accelerate_state", "one_thread"]

TRAIN = [
    "train",
    "photos",
    "--model",
    "tiny",
    "--resolution",
    "32",
    "--batch-size",
    "2",
    "--grad-accum",
    "2",
    "--max-steps",
    "6",
    "--checkpoint-every",
    "3",
    "--log-every",
    "1",
    "--workers",
    "0",
    "--lr",
    "3e-3",
    "--lr-warmup",
    "1",
    "--ema-decay",
    "0.9",
    "--cpu",
]


def _log(run):
    return [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]


def _custom_states(checkpoint):
    """The registered objects, in registration order: LR schedule, EMA, progress."""
    return [
        torch.load(checkpoint / f"custom_checkpoint_{i}.pkl", weights_only=False) for i in range(3)
    ]


def test_two_processes_stop_and_resume_where_they_stopped(tmp_path, tiny_model_dir):
    make_photos(tmp_path / "photos")
    shutil.copytree(tiny_model_dir, tmp_path / "tiny")
    # 1. Uninterrupted: 6 steps, checkpoints at 3 and 6.
    ref = launch_two_cpu_processes([*TRAIN, "-o", "ref"], cwd=tmp_path)
    assert ref.returncode == 0, ref.stderr[-3000:]
    ref_log = _log(tmp_path / "ref")
    assert [r["step"] for r in ref_log] == [1, 2, 3, 4, 5, 6]
    # two processes x batch 2 x 2 micro-batches per step
    assert [r["samples"] for r in ref_log] == [8 * s for s in range(1, 7)]
    # 2. The same run killed after step 6 but before its last checkpoint:
    #    checkpoint-3 survives, the log already holds steps 4-6 (to be redone).
    run = tmp_path / "run"
    shutil.copytree(tmp_path / "ref", run)
    shutil.rmtree(run / "checkpoints" / "checkpoint-6")
    shutil.rmtree(run / "model")
    res = launch_two_cpu_processes([*TRAIN, "-o", "run", "--resume"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "resumed from run/checkpoints/checkpoint-3 at step 3" in res.stderr
    log = _log(run)
    # Step numbers continue where they stopped, each step logged once.
    assert [r["step"] for r in log] == [1, 2, 3, 4, 5, 6]
    assert log[:3] == ref_log[:3]
    for mine, theirs in zip(log[3:], ref_log[3:], strict=True):
        assert mine["samples"] == theirs["samples"] and mine["lr"] == theirs["lr"]
        assert mine["loss"] == pytest.approx(theirs["loss"], rel=1e-5, abs=1e-6)
        assert mine["mse"] == pytest.approx(theirs["mse"], rel=1e-5, abs=1e-7)
    # The losses moved: the check above compares a trajectory, not a constant.
    assert abs(ref_log[5]["mse"] - ref_log[0]["mse"]) > 1e-3
    # Final state: weights, EMA (and its step count), schedule, stream position.
    for name in ("ref", "run"):
        assert sorted(p.name for p in (tmp_path / name / "checkpoints").iterdir()) == [
            "checkpoint-3",
            "checkpoint-6",
        ]
    ref6, run6 = (tmp_path / n / "checkpoints" / "checkpoint-6" for n in ("ref", "run"))
    a, b = load_file(ref6 / "model.safetensors"), load_file(run6 / "model.safetensors")
    assert max(float((a[k] - b[k]).abs().max()) for k in a) <= 1e-6
    (sched_a, ema_a, prog_a), (sched_b, ema_b, prog_b) = _custom_states(ref6), _custom_states(run6)
    # Training time (it sets --minutes budgets) is the one state that may differ.
    assert prog_a.pop("seconds") > 0 and prog_b.pop("seconds") > 0
    assert prog_a == prog_b == {"step": 6, "samples": 48}
    assert sched_a["last_epoch"] == sched_b["last_epoch"] == 6
    assert ema_a["optimization_step"] == ema_b["optimization_step"] == 6
    for x, y in zip(ema_a["shadow_params"], ema_b["shadow_params"], strict=True):
        assert float((x - y).abs().max()) <= 1e-6
    ua = load_file(tmp_path / "ref" / "model" / "unet" / "diffusion_pytorch_model.safetensors")
    ub = load_file(run / "model" / "unet" / "diffusion_pytorch_model.safetensors")
    assert max(float((ua[k] - ub[k]).abs().max()) for k in ua) <= 1e-6
    # Both processes trained: each saved its own RNG state.
    assert {p.name for p in run6.glob("random_states_*.pkl")} == {
        "random_states_0.pkl",
        "random_states_1.pkl",
    }


def test_a_finished_run_is_not_overwritten_without_resume(
    tmp_path, tiny_model_dir, one_thread, fresh_accelerate_state, capsys
):
    photos = make_photos(tmp_path / "photos", count=3)
    out = tmp_path / "run"
    base = ["train", str(photos), "-o", str(out), "--model", str(tiny_model_dir)]
    base += ["--resolution", "32", "--batch-size", "1", "--workers", "0", "--cpu"]
    assert main([*base, "--max-steps", "2", "--checkpoint-every", "1", "--log-every", "1"]) == 0
    assert main([*base, "--max-steps", "2"]) == 2
    assert "pass --resume" in capsys.readouterr().err
    # --resume at the target step: nothing to do, the model is exported again.
    assert main([*base, "--max-steps", "2", "--resume"]) == 0
    assert [json.loads(x)["step"] for x in (out / "train_log.jsonl").read_text().splitlines()] == [
        1,
        2,
    ]
    # Only the newest --checkpoints-keep (default 2) checkpoints are kept.
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [
        "checkpoint-1",
        "checkpoint-2",
    ]
    training = json.loads((out / "model" / "training.json").read_text())
    assert training["task"] == "unet" and training["steps"] == 2


def test_time_budgets_end_a_run_and_span_its_cosine(tmp_path):
    """`minutes` ends a run by training time (resumes add up) and the "cosine-time"
    schedule falls from the peak to 10 % over `decay_minutes` of it."""
    from tinct.train.loop import LoopOptions, Progress, lr_lambda

    opts = LoopOptions(output=tmp_path, lr_schedule="cosine-time", minutes=2.0, lr_warmup=0)
    progress = Progress()
    factor = lr_lambda(opts, progress)
    assert factor(0) == pytest.approx(1.0) and not progress.done(opts)
    progress.seconds = 60.0
    assert factor(7) == pytest.approx(0.55) and not progress.done(opts)
    progress.seconds = 120.0
    assert factor(9) == pytest.approx(0.1) and progress.done(opts)
    longer = LoopOptions(
        output=tmp_path, lr_schedule="cosine-time", minutes=2.0, decay_minutes=4.0, lr_warmup=0
    )
    assert lr_lambda(longer, progress)(9) == pytest.approx(0.55)
    with pytest.raises(ValueError, match="needs minutes"):
        lr_lambda(LoopOptions(output=tmp_path, lr_schedule="cosine-time"), progress)
