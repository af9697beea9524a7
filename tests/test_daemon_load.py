"""4 clients x 5 jobs at once, over both transports: all complete, correct, served round robin."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from tinct.server_testing import (
    DaemonHarness,
    as_layer,
    layer_to_array,
    lstar,
    make_image,
    save_tiny_model,
    serve_command,
)

CLIENTS, JOBS = 4, 5


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    model = save_tiny_model(tmp_path_factory.mktemp("model"))
    harness = DaemonHarness(
        tmp_path_factory.mktemp("rt"),
        serve_command(model, "--heartbeat", "0.25", "--idle-timeout", "0"),
    )
    harness.connect().close()
    yield harness
    harness.close()


def test_four_clients_five_jobs_each(daemon):
    clients = [daemon.connect("zmq" if i % 2 == 0 else "pure") for i in range(CLIENTS)]
    images = {
        (c, j): make_image(48 + 8 * c, 40 + 4 * j, seed=10 * c + j)
        for c in range(CLIENTS)
        for j in range(JOBS)
    }
    results: dict = {}
    errors: list = []
    barrier = threading.Barrier(CLIENTS)

    def run(c: int) -> None:
        try:
            client = clients[c]
            barrier.wait(10)
            rids = [
                client.enqueue_colorize(as_layer(images[c, j]), steps=2, seed=j)
                for j in range(JOBS)
            ]
            for j, rid in enumerate(rids):
                results[c, j] = list(client.events(rid))[-1]
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert len(results) == CLIENTS * JOBS

    for (c, j), ev in results.items():
        src = images[c, j]
        out = layer_to_array(ev.layer)
        assert out.shape == src.shape
        assert np.array_equal(out[..., 3], src[..., 3])
        assert np.abs(lstar(out[..., :3]) - lstar(src[..., :3])).mean() < 0.5

    # Fairness: the daemon numbers results in finishing order ("seq"). Round robin means no
    # client gets more than one job ahead of another while both still have jobs waiting.
    order = sorted(results, key=lambda k: results[k].header["seq"])
    done = [0] * CLIENTS
    for c, _ in order:
        done[c] += 1
        unfinished = [done[k] for k in range(CLIENTS) if done[k] < JOBS]
        if len(unfinished) == CLIENTS:
            assert max(done) - min(done) <= 2, f"unfair service: {done} after {order}"
    for client in clients:
        client.close()
