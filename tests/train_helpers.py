"""Helpers for the training, batch and evaluation tests: small colour photos
made here, and `accelerate launch` of two CPU processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def make_photos(folder: Path, count: int = 6, captions: bool = True) -> Path:
    """Smooth colourful images of a few sizes; every other one gets a caption."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        h, w = 40 + 4 * i, 56
        y, x = np.mgrid[0:h, 0:w] / 50.0
        base = rng.random(3)
        img = np.stack(
            [base[0] + 0.3 * np.sin(3 * x + i), base[1] + 0.3 * np.cos(4 * y), base[2] * (1 - y)],
            axis=-1,
        )
        Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8)).save(folder / f"img{i}.png")
        if captions and i % 2 == 0:
            (folder / f"img{i}.txt").write_text(f"a red thing, number {i}")
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_two_cpu_processes(args: list[str], cwd: Path, timeout: int = 300):
    """`accelerate launch` of `python -m tinct ARGS` as two processes on the CPU.

    accelerate 1.x starts ONE process for `--cpu --num_processes 2` unless MPI
    is set up (its simple launcher only execs the script); `--multi_gpu` goes
    through torchrun, which starts both, and on a machine without GPUs (or with
    tinct's own `--cpu`) they run on the CPU with the gloo backend.
    """
    launcher = Path(sys.executable).with_name("accelerate")
    cmd = [
        str(launcher),
        "launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        str(free_port()),
        "-m",
        "tinct",
        *args,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture()
def one_thread():
    """One torch thread for in-process model work: on a busy 2-core machine two
    threads wait on each other at every tiny op (measured: 6 min vs 8 s)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture()
def fresh_accelerate_state():
    """accelerate keeps process-wide singletons; in-process runs start clean."""
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()
    yield
    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()
