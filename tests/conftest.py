"""Shared fixtures: tiny seeded models built locally (never downloaded)."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A tiny random TinctPipeline saved with save_pretrained."""
    from tinct.pipeline.components import build_tiny_pipeline

    path = tmp_path_factory.mktemp("tiny-model")
    build_tiny_pipeline(seed=0).save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A tiny model folder for the daemon tests (one per test module)."""
    from tinct.testing import save_tiny_model

    return save_tiny_model(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def daemon(tmp_path_factory, model):
    """A real daemon on the tiny model, started once per test module (modules that need
    other options define their own `daemon`)."""
    from tinct.testing import DaemonHarness, serve_command

    harness = DaemonHarness(
        tmp_path_factory.mktemp("rt"),
        serve_command(model, "--heartbeat", "0.25", "--idle-timeout", "0"),
    )
    harness.connect().close()
    yield harness
    harness.close()


@pytest.fixture()
def tiny_pipe():
    from tinct.pipeline.components import build_tiny_pipeline

    return build_tiny_pipeline(seed=0)


@pytest.fixture()
def photo():
    """A smooth synthetic colour image (sky-like gradient + a red disc)."""
    h, w = 72, 96
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([0.3 + 0.4 * x / w, 0.5 + 0.2 * y / h, 0.8 - 0.3 * y / h], axis=-1)
    disc = (y - 36) ** 2 + (x - 30) ** 2 < 150
    img[disc] = [0.85, 0.15, 0.1]
    return img.astype(np.float32)


@pytest.fixture()
def zctx():
    """A zmq context destroyed (sockets closed, then terminated) even when the test fails:
    a context left to the garbage collector blocks in zmq_ctx_term while a socket is open."""
    import zmq

    ctx = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)
