"""The results a document's runs made, by layer id (host-free: no krita, no Qt).

The docker keeps one ``KeptResults`` per document: what each result layer was made
from (its job, its colourfulness, the earlier results its run hid), so that selecting
a Tinct layer binds the slider to that layer's job, and a layer that undo took away
and redo brought back (Krita re-adds the same node, with the same id) is known again.
Which kept layers are in the document is compared tick by tick (``changes``): the
docker shows again what a result that went had hidden, and hides it again when it
comes back.
"""

from __future__ import annotations

from typing import Generic, TypeVar

# Per document. Each kept result holds its pixels for the slider (about 24 MB at 6 MP),
# so a few, not the daemon's 32 jobs (DEFAULT_CACHE_JOBS).
KEPT_RESULTS = 4

V = TypeVar("V")


class KeptResults(Generic[V]):
    """Layer id -> what made that result (any value with a ``job``), newest last, at
    most ``limit``; and which of them were in the document at the last look."""

    def __init__(self, limit: int = KEPT_RESULTS):
        self.limit = limit
        self._items: dict[str, V] = {}
        self._present: set[str] = set()

    def keep(self, uid: str, value: V, *, present: bool = True) -> None:
        """VALUE for the layer UID (the newest now; the oldest beyond ``limit`` go)."""
        self._items.pop(uid, None)
        self._items[uid] = value
        if present:
            self._present.add(uid)
        while len(self._items) > self.limit:
            oldest = next(iter(self._items))
            del self._items[oldest]
            self._present.discard(oldest)

    def get(self, uid: str) -> V | None:
        return self._items.get(uid)

    def __contains__(self, uid: str) -> bool:
        return uid in self._items

    def __len__(self) -> int:
        return len(self._items)

    def forget_job(self, job: str) -> list[str]:
        """Drop the results JOB made (the daemon no longer holds it); their layer ids."""
        gone = [uid for uid, v in self._items.items() if getattr(v, "job", None) == job]
        for uid in gone:
            del self._items[uid]
            self._present.discard(uid)
        return gone

    def changes(self, ids_in_document) -> tuple[list[str], list[str], set[str]]:
        """Given the ids now in the document: the kept results that went since the last
        look (undone, deleted), those that came back (redo), and those present now."""
        present = {uid for uid in self._items if uid in ids_in_document}
        went = [uid for uid in self._items if uid in self._present - present]
        back = [uid for uid in self._items if uid in present - self._present]
        self._present = present
        return went, back, present
