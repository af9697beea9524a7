"""A bounded LRU cache of finished jobs: latents plus what rescale/apply need of the source.

Bounded both in entries and in bytes; the entry being inserted is kept even if
it alone exceeds the byte budget (evicting everything else), so the job that
just finished can always be rescaled. A downsized source for ``rescale`` is kept
only when it takes at most ``SMALL_SHARE`` of the budget: one rescale to 8192x8192
(805 MB of float pixels) must not push every other client's jobs out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from tinct.protocol.pixels import PixelFormat

# The most of the byte budget one job's downsized rescale source may take; a bigger one
# is rendered from and dropped (made again from the source on the next such rescale).
SMALL_SHARE = 0.125


@dataclass
class CachedJob:
    """One finished job: its latents (any scale renders from them), the received source frame
    (kept without copying) with its format, and at most one downsized float32 source for
    rescale.
    """

    job_id: str
    latents: object  # the pipeline's ColorLatents
    source: object  # the received image frame (bytes-like), kept without copying
    source_format: PixelFormat
    latents_bytes: int = 0
    # Downsized float32 sources for rescale, keyed by (width, height): (array, PixelFormat)
    small: dict = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        """Bytes the entry holds: the source frame, the latents with the colour decoded at
        the scale nodes rescales have asked for so far, and the downsized source."""
        small = sum(arr.nbytes for arr, _ in self.small.values())
        decoded = getattr(self.latents, "decoded_nbytes", 0)
        return self.source_format.nbytes + self.latents_bytes + decoded + small


class JobCache:
    """The finished jobs, least recently used first, bounded by `max_jobs` entries and `max_bytes`
    bytes (the newest entry is always kept). Thread-safe.
    """

    def __init__(self, max_bytes: int, max_jobs: int):
        self.max_bytes = max_bytes
        self.max_jobs = max_jobs
        self._items: OrderedDict[str, CachedJob] = OrderedDict()
        self._lock = threading.Lock()
        self.evictions = 0

    def put(self, entry: CachedJob) -> None:
        """Add or replace a job and evict the least recently used others until within the bounds."""
        with self._lock:
            self._items[entry.job_id] = entry
            self._items.move_to_end(entry.job_id)
            self._trim(keep=entry.job_id)

    def get(self, job_id: str) -> CachedJob | None:
        """The cached job (now the most recently used), or None when unknown or evicted."""
        with self._lock:
            entry = self._items.get(job_id)
            if entry is not None:
                self._items.move_to_end(job_id)
            return entry

    def __contains__(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._items

    def touch_small(self, entry: CachedJob, key: tuple[int, int], value: tuple) -> bool:
        """Remember one downsized source per job (the latest size asked for), unless it
        alone would take more than SMALL_SHARE of the budget; True if it was kept."""
        if value[0].nbytes > self.max_bytes * SMALL_SHARE:
            return False
        with self._lock:
            entry.small.clear()
            entry.small[key] = value
            self._trim(keep=entry.job_id)
        return True

    def grew(self, entry: CachedJob) -> None:
        """Evict other jobs if `entry` grew past the bounds (its latents keep the colour
        decoded at each new scale node a rescale asks for)."""
        with self._lock:
            if entry.job_id in self._items:
                self._trim(keep=entry.job_id)

    def _trim(self, keep: str) -> None:
        while len(self._items) > 1 and (
            len(self._items) > self.max_jobs or self._total() > self.max_bytes
        ):
            victim = next(k for k in self._items if k != keep)
            del self._items[victim]
            self.evictions += 1

    def _total(self) -> int:
        return sum(e.nbytes for e in self._items.values())

    def stats(self) -> dict:
        """Entries, bytes held, the byte budget and evictions so far (for the status reply)."""
        with self._lock:
            return {
                "jobs": len(self._items),
                "bytes": self._total(),
                "max_bytes": self.max_bytes,
                "max_jobs": self.max_jobs,
                "evictions": self.evictions,
            }
