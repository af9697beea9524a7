"""Jobs and the fair job queue of the daemon (pure Python, no zmq, no torch).

Fairness: each client identity has its own FIFO; ``get`` serves the clients
round robin, so a client that queues twenty jobs cannot starve one that
queues a single job after it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from enum import Enum

from tinct.protocol.messages import Request


class Lane(Enum):
    """The daemon's two queues, each with its own worker thread: colorize jobs, and the
    interactive ones (rescale, apply) that keep the scale slider live meanwhile."""

    COLORIZE = "colorize"
    INTERACTIVE = "interactive"


class QueueFull(Exception):
    """A job was refused: the daemon's queue, or this client's share of it, is full (or the daemon
    is shutting down).
    """

    pass


class JobCancelled(Exception):
    """Raised inside a running job (from the progress callback) to stop it."""


@dataclass
class Job:
    """One queued request: the client's ROUTER identity, the validated request, a job id
    (hex uuid), a cancel flag and its queue and start times (time.monotonic).
    """

    client: bytes  # ROUTER identity of the requesting connection
    request: Request
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    cancelled: threading.Event = field(default_factory=threading.Event)
    queued_at: float = field(default_factory=time.monotonic)
    started_at: float | None = None

    @property
    def request_id(self) -> str:
        """The id the client gave the request."""
        return self.request.id

    @property
    def op(self) -> str:
        """The request's op (colorize, rescale or apply)."""
        return self.request.op


class FairQueue:
    """Bounded, thread-safe, round robin over clients."""

    def __init__(self, max_total: int, max_per_client: int):
        self.max_total = max_total
        self.max_per_client = max_per_client
        self._by_client: OrderedDict[bytes, deque[Job]] = OrderedDict()
        self._count = 0
        self._running = 0  # jobs taken by ``get`` and not yet ``done``
        self._cond = threading.Condition()
        self._closed = False

    def __len__(self) -> int:
        with self._cond:
            return self._count

    def put(self, job: Job) -> int:
        """Queue a job; returns how many jobs are ahead of it, the running ones included
        (a client must not read "none ahead" while the worker is busy). Raises QueueFull."""
        with self._cond:
            if self._closed:
                raise QueueFull("the daemon is shutting down")
            mine = self._by_client.get(job.client)
            if self._count >= self.max_total:
                raise QueueFull(
                    f"the daemon's queue is full ({self.max_total} jobs); try again later"
                )
            if mine is not None and len(mine) >= self.max_per_client:
                raise QueueFull(f"this client already has {self.max_per_client} jobs queued")
            if mine is None:
                mine = self._by_client[job.client] = deque()
            mine.append(job)
            self._count += 1
            self._cond.notify()
            return self._count - 1 + self._running

    def get(self, timeout: float) -> Job | None:
        """The next job, from the client that has waited longest (round robin); None after
        `timeout` seconds with nothing queued.
        """
        with self._cond:
            if not self._count and not self._closed:
                self._cond.wait(timeout)
            if not self._count:
                return None
            client, jobs = next(iter(self._by_client.items()))
            job = jobs.popleft()
            self._count -= 1
            self._running += 1  # counted as ahead of new jobs until ``done``
            del self._by_client[client]
            if jobs:  # back of the line: the next client goes first
                self._by_client[client] = jobs
            return job

    def done(self) -> None:
        """A job taken by ``get`` has finished (or failed, or was cancelled)."""
        with self._cond:
            self._running = max(0, self._running - 1)

    def remove(self, job_id: str) -> Job | None:
        """Take a queued job out by id (a cancel before it starts); None when it is not queued."""
        with self._cond:
            for client, jobs in self._by_client.items():
                for job in jobs:
                    if job.id == job_id:
                        jobs.remove(job)
                        self._count -= 1
                        if not jobs:
                            del self._by_client[client]
                        return job
        return None

    def remove_client(self, client: bytes) -> list[Job]:
        """Take out every job of one client (it disconnected); returns them."""
        with self._cond:
            jobs = list(self._by_client.pop(client, ()))
            self._count -= len(jobs)
            return jobs

    def clients(self) -> set[bytes]:
        """The ROUTER identities of the clients with jobs queued."""
        with self._cond:
            return set(self._by_client)

    def close(self) -> list[Job]:
        """Refuse new jobs and return the ones still waiting."""
        with self._cond:
            self._closed = True
            jobs = [j for q in self._by_client.values() for j in q]
            self._by_client.clear()
            self._count = 0
            self._cond.notify_all()
            return jobs
