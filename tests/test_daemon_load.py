"""4 clients x 5 jobs at once, over both transports: all complete, correct, served round robin."""

from __future__ import annotations

import threading

import numpy as np

from tinct.testing import (
    as_layer,
    layer_to_array,
    lstar,
    make_image,
    wait_for,
)

CLIENTS, JOBS = 4, 5


def test_four_clients_five_jobs_each(daemon):
    clients = [daemon.connect("zmq" if i % 2 == 0 else "pure") for i in range(CLIENTS)]
    images = {
        (c, j): make_image(48 + 8 * c, 40 + 4 * j, seed=10 * c + j)
        for c in range(CLIENTS)
        for j in range(JOBS)
    }
    results: dict = {}
    errors: list = []
    barrier = threading.Barrier(CLIENTS + 1)

    # A 24 MP "gate" job keeps the colorize worker busy while the 20 jobs arrive, so all
    # of them wait in the queue together and the order they are served in is the
    # queue's doing alone (not how fast each client thread got to send on a busy CPU).
    gate_client = daemon.connect()
    gate = gate_client.enqueue_colorize(as_layer(np.full((4000, 6000, 4), 128, np.uint8)), steps=2)
    assert wait_for(lambda: gate_client.status()["running"], 30), "the gate job never started"

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
    barrier.wait(10)
    # 20 in the queue at one moment means none of them had started yet.
    all_queued = wait_for(
        lambda: gate_client.status()["queued"]["colorize"] == CLIENTS * JOBS, 30, interval=0.01
    )
    assert all_queued, "the jobs did not all arrive while the gate job ran"
    assert list(gate_client.events(gate))[-1].kind == "result"
    gate_client.close()
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
