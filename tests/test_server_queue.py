"""The daemon's fair queue and bounded job cache (pure Python parts, no sockets)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinct.protocol import PixelFormat, Request
from tinct.server.cache import CachedJob, JobCache
from tinct.server.jobs import FairQueue, Job, QueueFull


def _job(client: bytes) -> Job:
    return Job(client, Request("colorize", "r"))


def test_round_robin_across_clients():
    q = FairQueue(100, 100)
    for _ in range(5):
        q.put(_job(b"A"))
    q.put(_job(b"B"))
    q.put(_job(b"C"))
    q.put(_job(b"B"))
    order = [q.get(0).client for _ in range(8)]
    assert order == [b"A", b"B", b"C", b"A", b"B", b"A", b"A", b"A"]
    assert q.get(0) is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([b"a", b"b", b"c", b"d"]), min_size=1, max_size=60))
def test_no_client_waits_more_than_one_round(arrivals):
    """Whatever the arrival order, while client X has jobs waiting, no other client is served twice."""
    q = FairQueue(1000, 1000)
    for c in arrivals:
        q.put(_job(c))
    served = [q.get(0).client for _ in arrivals]
    assert sorted(served) == sorted(arrivals)
    for i, c in enumerate(served):
        remaining = served[i:]
        # between two services of c, every other client that still had work is served at most once
        if c in remaining[1:]:
            nxt = remaining.index(c, 1)
            between = remaining[1:nxt]
            assert len(between) == len(set(between))


def test_limits_remove_and_close():
    q = FairQueue(max_total=3, max_per_client=2)
    a1, a2, b1 = _job(b"A"), _job(b"A"), _job(b"B")
    q.put(a1)
    q.put(a2)
    with pytest.raises(QueueFull):
        q.put(_job(b"A"))
    q.put(b1)
    with pytest.raises(QueueFull):
        q.put(_job(b"C"))
    assert q.remove(a2.id) is a2 and q.remove(a2.id) is None
    assert q.remove_client(b"B") == [b1]
    assert len(q) == 1
    assert q.close() == [a1]
    with pytest.raises(QueueFull):
        q.put(_job(b"A"))


def _entry(job_id: str, mb: float) -> CachedJob:
    n = int(mb * 2**20)
    return CachedJob(
        job_id, np.zeros(4), bytes(n), PixelFormat.packed(n, 1, 1, "u8"), latents_bytes=32
    )


def test_cache_is_bounded_in_bytes_and_entries_lru():
    cache = JobCache(max_bytes=3 * 2**20 + 1000, max_jobs=10)
    for i in range(3):
        cache.put(_entry(f"j{i}", 1))
    assert cache.get("j0") is not None  # j0 is now most recent
    cache.put(_entry("j3", 1))  # over budget: j1 (least recently used) goes
    assert "j1" not in cache and "j0" in cache and "j3" in cache
    assert cache.stats()["bytes"] <= cache.max_bytes
    cache.put(_entry("huge", 10))  # alone over budget: kept, everything else evicted
    assert "huge" in cache and cache.stats()["jobs"] == 1
    small = JobCache(max_bytes=1 << 40, max_jobs=2)
    for i in range(5):
        small.put(_entry(f"k{i}", 0.01))
    assert small.stats()["jobs"] == 2 and small.evictions == 3


def test_a_downsized_source_over_its_share_of_the_budget_is_not_cached():
    from tinct.server.cache import SMALL_SHARE

    cache = JobCache(max_bytes=4 * 2**20, max_jobs=10)
    for name in ("a", "b"):
        cache.put(_entry(name, 1))
    entry = cache.get("b")
    fits = np.zeros(int(4 * 2**20 * SMALL_SHARE) // 4, np.float32)
    assert cache.touch_small(entry, (1, 1), (fits, None))
    too_big = np.zeros(3 * 2**20 // 4, np.float32)  # would push "a" out
    assert not cache.touch_small(entry, (2, 2), (too_big, None))
    assert "a" in cache and "b" in cache and list(entry.small) == [(1, 1)]


def test_the_colour_decoded_at_scale_nodes_counts_and_evicts_others_once_it_grows():
    """A rescale keeps the colour it decoded at new scale nodes with the job's latents
    (TinctPipeline.model_chroma): the cache counts it and, told the entry grew, evicts
    the least recently used others."""
    from types import SimpleNamespace

    cache = JobCache(max_bytes=3 * 2**20, max_jobs=10)
    cache.put(_entry("a", 1))
    latents = SimpleNamespace(decoded={}, decoded_nbytes=0)
    entry = CachedJob("b", latents, bytes(2**20), PixelFormat.packed(2**20, 1, 1, "u8"))
    cache.put(entry)
    assert entry.nbytes == 2**20 and "a" in cache
    latents.decoded_nbytes = int(1.5 * 2**20)  # two rescales' nodes
    assert entry.nbytes == int(2.5 * 2**20)
    cache.grew(entry)
    assert "a" not in cache and "b" in cache
    assert cache.stats()["bytes"] == entry.nbytes


def test_jobs_ahead_count_the_running_one_until_it_is_done():
    """'queued' must not read as 'nothing ahead' while the lane's worker is busy."""
    q = FairQueue(max_total=8, max_per_client=8)
    assert q.put(_job(b"A")) == 0
    running = q.get(timeout=0)
    assert running is not None and len(q) == 0
    assert q.put(_job(b"B")) == 1  # the running job is ahead of it
    assert q.put(_job(b"C")) == 2
    q.done()
    assert q.put(_job(b"D")) == 2  # B and C still wait
