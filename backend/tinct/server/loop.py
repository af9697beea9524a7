"""The Tinct daemon: a ZeroMQ ROUTER on 127.0.0.1 serving the protocol in docs/protocol.md.

One thread runs the socket loop (validate, authenticate, queue, heartbeat,
forward replies); worker threads run the model (see worker.py). The
loop never computes, so it answers hello/status/cancel and sends heartbeats
while a 24 MP job runs.

Lanes: "colorize" jobs and "interactive" jobs (rescale, apply) have separate
queues and threads, so the scale slider stays live while another colorize runs.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import zmq

from tinct.protocol.connection import ConnectionInfo, runtime_dir
from tinct.protocol.constants import (
    DEFAULT_CACHE_BYTES,
    DEFAULT_CACHE_JOBS,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_QUEUE,
    DEFAULT_MAX_QUEUE_PER_CLIENT,
    E_BAD_FRAMES,
    E_BAD_HEADER,
    E_CANCELLED,
    E_INTERNAL,
    E_QUEUE_FULL,
    E_SHUTTING_DOWN,
    E_UNKNOWN_JOB,
    EXIT_ALREADY_RUNNING,
    HANDSHAKE_TIMEOUT,
    OPS,
    PROTOCOL_VERSION,
    WIRE_FRAME_BYTES,
    CancelState,
    Op,
    Reply,
)
from tinct.protocol.errors import ProtocolError
from tinct.protocol.messages import (
    Limits,
    Request,
    encode_header,
    error_reply,
    make_reply,
    parse_request,
)
from tinct.server.auth import ZapHandler
from tinct.server.cache import JobCache
from tinct.server.jobs import FairQueue, Job, Lane, QueueFull
from tinct.server.runtime import (
    AlreadyRunning,
    ConnectionFile,
    DaemonLock,
    raise_fd_limit,
    rss_bytes,
    trim_heap,
)
from tinct.server.worker import Compute, Defaults, Worker

log = logging.getLogger("tinct.server")

EVENTS_ENDPOINT = "inproc://tinct-events"
CONNECTION_FILE_CHECK = 0.5  # seconds between looks at daemon.json's mode (token rotation)
MAX_BATCH = 64  # messages handled per socket per loop turn, so neither side starves


@dataclass
class ServerConfig:
    """Everything `tinct serve` sets: model folder, device, runtime dir, idle timeout
    (seconds, 0 = never), heartbeat interval (seconds), limits, queue and cache bounds, torch
    threads (None = torch's default) and the job defaults.
    """

    model: str | None = None
    device: str | None = None
    runtime_dir: Path | None = None
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT  # 0 = never
    heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL
    limits: Limits = field(default_factory=Limits)
    max_queue: int = DEFAULT_MAX_QUEUE
    max_queue_per_client: int = DEFAULT_MAX_QUEUE_PER_CLIENT
    cache_bytes: int = DEFAULT_CACHE_BYTES
    cache_jobs: int = DEFAULT_CACHE_JOBS
    threads: int | None = None  # torch intra-op threads; None = torch's default
    defaults: Defaults = field(default_factory=Defaults)


class Server:
    """The daemon: a ROUTER on 127.0.0.1 (a free port; only holders of the token are served), a
    colorize and an interactive lane with a worker thread each, and the job cache. `run` serves
    until shutdown, idle timeout or `stopping`.
    """

    def __init__(self, config: ServerConfig, pipe, model_name: str = "", device: str = "cpu"):
        self.config = config
        self.pipe = pipe
        self.model_name = model_name
        self.device = device
        self.token = secrets.token_urlsafe(24)
        self.cache = JobCache(config.cache_bytes, config.cache_jobs)
        self.queues = {
            Lane.COLORIZE: FairQueue(config.max_queue, config.max_queue_per_client),
            Lane.INTERACTIVE: FairQueue(config.max_queue, config.max_queue_per_client),
        }
        render_workers = config.threads or min(4, os.cpu_count() or 1)
        self.compute = Compute(pipe, self.cache, config.defaults, workers=render_workers)
        self.connection_file: ConnectionFile | None = None  # set by serve() once written
        self.stopping = threading.Event()
        self.started = time.monotonic()
        self.last_activity = time.monotonic()
        self.counters = {"requests": 0, "errors": 0, "dropped": 0, "jobs": 0}
        self.ctx = zmq.Context()
        # The token is checked in the ZMTP handshake (PLAIN, see auth.py): a peer without
        # it never gets to send a message.
        self.zap = ZapHandler(self.ctx, lambda: self.token)
        self.router = self.ctx.socket(zmq.ROUTER)
        self.router.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self.router.setsockopt(zmq.LINGER, 0)
        self.router.setsockopt(zmq.PLAIN_SERVER, 1)
        # libzmq buffers a whole frame (a handshake command too) before anyone looks at it,
        # and drops a connection that announces a bigger one: this bounds what a peer
        # without the token can make the daemon hold. Pixel frames come in chunks of it.
        self.router.setsockopt(
            zmq.MAXMSGSIZE, max(WIRE_FRAME_BYTES, config.limits.max_header_bytes)
        )
        # Connections that do not finish the ZMTP handshake (no token) give their fd back soon.
        self.router.setsockopt(zmq.HANDSHAKE_IVL, int(HANDSHAKE_TIMEOUT * 1000))
        self.router.bind("tcp://127.0.0.1:0")  # loopback only, a free port
        self.endpoint = self.router.getsockopt(zmq.LAST_ENDPOINT).decode()
        self.port = int(self.endpoint.rsplit(":", 1)[1])
        self.events = self.ctx.socket(zmq.PULL)
        self.events.bind(EVENTS_ENDPOINT)
        self.workers = [
            # The colorize lane warms the slider's scale nodes while it is idle, so that a
            # move never waits behind that decode (worker.PREVIEW_DECODE_REDUCE's note).
            Worker(
                f"tinct-{lane.value}",
                q,
                self.compute,
                self.ctx,
                EVENTS_ENDPOINT,
                warms=lane == Lane.COLORIZE,
            )
            for lane, q in self.queues.items()
        ]

    # --- lifecycle ------------------------------------------------------------
    def connection_info(self) -> ConnectionInfo:
        """What the connection file must say for clients to reach this daemon (port, token, pid,
        protocol).
        """
        return ConnectionInfo(
            port=self.port, token=self.token, pid=os.getpid(), protocol=PROTOCOL_VERSION
        )

    def run(self) -> None:
        """Serve until shut down: the socket loop (validate, queue, cancel, heartbeat, forward the
        workers' replies) in this thread; stops the workers and fails the jobs still queued on
        the way out.
        """
        self.zap.start()
        for w in self.workers:
            w.start()
        poller = zmq.Poller()
        poller.register(self.router, zmq.POLLIN)
        poller.register(self.events, zmq.POLLIN)
        next_beat = next_file_check = time.monotonic()
        tick = min(0.1, self.config.heartbeat_interval)
        try:
            while not self.stopping.is_set():
                ready = dict(poller.poll(int(tick * 1000)))
                if self.events in ready:
                    self._forward_events()
                if self.router in ready:
                    self._serve_requests()
                now = time.monotonic()
                if now >= next_beat:
                    self._heartbeat()
                    next_beat = now + self.config.heartbeat_interval
                if now >= next_file_check:
                    self._check_connection_file()
                    next_file_check = now + CONNECTION_FILE_CHECK
                if self._busy():
                    self.last_activity = now
                elif (
                    self.config.idle_timeout and now - self.last_activity > self.config.idle_timeout
                ):
                    log.info("idle for %.0f s: shutting down", self.config.idle_timeout)
                    self.stopping.set()
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        for q in self.queues.values():
            for job in q.close():
                self._send(
                    job.client,
                    error_reply(
                        E_SHUTTING_DOWN, "the daemon is shutting down", job.request_id, job=job.id
                    ),
                )
        for w in self.workers:
            w.stopping.set()
            if w.current is not None:
                w.current.cancelled.set()
        for w in self.workers:
            w.join(timeout=10)
        self._forward_events()  # last replies (cancelled) before closing
        self.events.close(0)
        # Let queued replies (the "ok" to a shutdown, cancellations) reach their clients.
        self.router.close(linger=1000)
        self.zap.stopping.set()
        if self.zap.is_alive():
            self.zap.join(timeout=5)
        else:  # never started: its socket is still open
            self.zap._sock.close(0)
        self.ctx.term()

    def _check_connection_file(self) -> None:
        """A daemon.json others could read: its token may be known, so publish a new one.
        Connections made with the old token stay open, but every request on them is
        refused (the header token is checked too); a client's launcher notices the new
        token in the file and reconnects with it."""
        conn = self.connection_file
        why = conn.exposed() if conn is not None else None
        if why is None:
            return
        self.token = secrets.token_urlsafe(24)
        conn.rotate(self.token)
        log.warning("%s %s: rotated the token (the old one is refused from now on)", conn.path, why)

    def _busy(self) -> bool:
        return any(len(q) for q in self.queues.values()) or any(
            w.current is not None for w in self.workers
        )

    # --- sending --------------------------------------------------------------
    def _send(self, client: bytes, header: dict, frames: tuple = ()) -> bool:
        """Send a reply; False (and the client's jobs cancelled) if the client is gone."""
        parts = [client, encode_header(header), *frames]
        try:
            self.router.send_multipart(parts, zmq.NOBLOCK, copy=len(frames) == 0)
            return True
        except zmq.Again:  # the client stopped reading (high-water mark): drop this reply
            self.counters["dropped"] += 1
            return False
        except zmq.ZMQError as exc:
            if exc.errno == zmq.EHOSTUNREACH:
                self.counters["dropped"] += 1
                self._client_gone(client)
                return False
            raise

    def _client_gone(self, client: bytes) -> None:
        """Nobody will read these results: drop the client's queued jobs, stop its running ones."""
        for q in self.queues.values():
            q.remove_client(client)
        for w in self.workers:
            job = w.current
            if job is not None and job.client == client:
                job.cancelled.set()

    def _forward_events(self) -> None:
        for _ in range(MAX_BATCH):
            try:
                parts = self.events.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            client = parts[0].bytes
            try:
                self.router.send_multipart(parts, zmq.NOBLOCK, copy=False)
            except zmq.Again:
                self.counters["dropped"] += 1
            except zmq.ZMQError as exc:
                if exc.errno != zmq.EHOSTUNREACH:
                    raise
                self.counters["dropped"] += 1
                self._client_gone(client)

    def _heartbeat(self) -> None:
        clients: dict[bytes, int] = {}
        for q in self.queues.values():
            for c in q.clients():
                clients[c] = clients.get(c, 0) + 1
        for w in self.workers:
            job = w.current
            if job is not None:
                clients[job.client] = clients.get(job.client, 0) + 1
        for c in clients:
            self._send(c, make_reply(Reply.HEARTBEAT, None, busy=True))

    # --- requests -------------------------------------------------------------
    def _serve_requests(self) -> None:
        for _ in range(MAX_BATCH):
            try:
                parts = self.router.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            self.counters["requests"] += 1
            client = parts[0].bytes
            wire = parts[1:]
            del parts  # parse_request consumes ``wire``: each chunk is freed once joined
            try:
                req = parse_request(
                    wire, self.token, self.config.limits, consume=True, release=trim_heap
                )
            except ProtocolError as exc:
                self.counters["errors"] += 1
                self._send(client, error_reply(exc.code, exc.message, exc.request_id))
                continue
            except Exception as exc:  # a validator bug must not take the daemon down
                log.exception("validating a request failed")
                self.counters["errors"] += 1
                self._send(
                    client,
                    error_reply(E_BAD_HEADER, f"malformed request ({type(exc).__name__})", None),
                )
                continue
            self.last_activity = time.monotonic()
            try:
                self._dispatch(client, req)
            except Exception as exc:  # a bug here must not take the daemon down
                log.exception("handling %s failed", req.op)
                self.counters["errors"] += 1
                self._send(
                    client,
                    error_reply(
                        E_INTERNAL, f"{req.op} failed: {type(exc).__name__}: {exc}", req.id
                    ),
                )

    def _dispatch(self, client: bytes, req: Request) -> None:
        if req.op == Op.HELLO:
            self._send(client, make_reply(Reply.HELLO, req.id, **self._hello()))
        elif req.op == Op.STATUS:
            self._send(client, make_reply(Reply.STATUS, req.id, **self._status()))
        elif req.op == Op.SHUTDOWN:
            self._send(client, make_reply(Reply.OK, req.id))
            self.stopping.set()
        elif req.op == Op.ECHO:
            self._send(
                client,
                make_reply(Reply.RESULT, req.id, layer=req.image.to_json()),
                tuple(req.frames),
            )
        elif req.op == Op.CANCEL:
            self._cancel(client, req)
        elif req.op == Op.COLORIZE:
            self._enqueue(client, req, Lane.COLORIZE)
        elif req.op in (Op.RESCALE, Op.APPLY):
            if req.params["job"] not in self.cache:
                self._send(
                    client,
                    error_reply(
                        E_UNKNOWN_JOB,
                        f"job {req.params['job']!r} is not in the daemon's cache (unknown, or evicted); colorize again",
                        req.id,
                    ),
                )
                return
            self._enqueue(client, req, Lane.INTERACTIVE)
        else:  # parse_request only lets known ops through
            self._send(client, error_reply(E_BAD_FRAMES, f"op {req.op!r} is not served", req.id))

    def _enqueue(self, client: bytes, req: Request, lane: Lane) -> None:
        job = Job(client, req)
        try:
            ahead = self.queues[lane].put(job)  # the job its worker runs counts as ahead
        except QueueFull as exc:
            self._send(client, error_reply(E_QUEUE_FULL, str(exc), req.id))
            return
        self.counters["jobs"] += 1
        if lane is Lane.COLORIZE:
            self._send(client, make_reply(Reply.QUEUED, req.id, job=job.id, ahead=ahead))

    def _cancel(self, client: bytes, req: Request) -> None:
        job_id = req.params["job"]
        for q in self.queues.values():
            job = q.remove(job_id)
            if job is not None:
                self._send(
                    job.client,
                    error_reply(
                        E_CANCELLED,
                        f"job {job_id} was cancelled before it started",
                        job.request_id,
                        job=job_id,
                    ),
                )
                self._send(
                    client, make_reply(Reply.OK, req.id, job=job_id, state=CancelState.CANCELLED)
                )
                return
        for w in self.workers:
            job = w.current
            if job is not None and job.id == job_id:
                job.cancelled.set()
                self._send(
                    client, make_reply(Reply.OK, req.id, job=job_id, state=CancelState.CANCELLING)
                )
                return
        if job_id in self.cache:
            self._send(client, make_reply(Reply.OK, req.id, job=job_id, state=CancelState.FINISHED))
            return
        self._send(
            client,
            error_reply(E_UNKNOWN_JOB, f"no queued, running or finished job {job_id!r}", req.id),
        )

    def _hello(self) -> dict:
        from tinct.protocol import constants

        return {
            "protocol": PROTOCOL_VERSION,
            "server": _version(),
            "libraries": _library_versions(),
            "pid": os.getpid(),
            "device": self.device,
            "model": self.model_name,
            "ops": list(OPS),
            "features": list(constants.FEATURES)
            + (
                [constants.FEATURE_VARIATIONS]
                if getattr(self.compute.pipe, "draws_variations", False)
                else []
            ),
            "limits": {
                **self.config.limits.to_json(),
                "max_queue": self.config.max_queue,
                "wire_frame_bytes": WIRE_FRAME_BYTES,
            },
            "heartbeat_interval": self.config.heartbeat_interval,
            "defaults": {
                "steps": self.config.defaults.steps,
                "guidance": self.config.defaults.guidance,
                "preview_side": self.config.defaults.preview_side,
                "scale": constants.DEFAULT_SCALE,
            },
            "dtypes": list(constants.DTYPES),
        }

    def _status(self) -> dict:
        rss, peak = rss_bytes()
        return {
            "pid": os.getpid(),
            "uptime": round(time.monotonic() - self.started, 3),
            "queued": {lane.value: len(q) for lane, q in self.queues.items()},
            "running": [
                {"job": w.current.id, "op": w.current.op}
                for w in self.workers
                if w.current is not None
            ],
            "cache": self.cache.stats(),
            "rss_bytes": rss,
            "peak_rss_bytes": peak,
            **self.counters,
        }


def _library_versions() -> dict[str, str]:
    """The versions of torch, diffusers, transformers and pyzmq (for bug reports)."""
    from tinct.pipeline.about import library_versions

    return library_versions()


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("tinct")
    except Exception:
        return "0+unknown"


def serve(config: ServerConfig) -> int:
    """`tinct serve`: lock, load the model once, bind, publish the connection file, loop."""
    directory = runtime_dir(explicit=config.runtime_dir)
    lock = DaemonLock(directory)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        log.error("%s; not starting a second one", exc)
        return EXIT_ALREADY_RUNNING
    conn = None
    try:
        import torch

        from tinct.pipeline import load_pipeline

        if config.threads:
            torch.set_num_threads(config.threads)
        t0 = time.monotonic()
        pipe = load_pipeline(config.model, device=config.device)
        device = str(getattr(pipe, "device", config.device or "cpu"))
        log.info(
            "model %s loaded on %s in %.1f s",
            config.model or "default",
            device,
            time.monotonic() - t0,
        )
        fds = raise_fd_limit()
        server = Server(config, pipe, model_name=str(config.model or "default"), device=device)

        def on_signal(signum, frame):
            server.stopping.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        conn = ConnectionFile(directory, server.connection_info())
        server.connection_file = conn
        lock.serving(server.port)
        log.info(
            "serving protocol %d on %s (pid %d, up to %d open files); connection file %s",
            PROTOCOL_VERSION,
            server.endpoint,
            os.getpid(),
            fds,
            conn.path,
        )
        server.run()
        return 0
    finally:
        if conn is not None:
            conn.remove()
        lock.release()
        log.info("stopped")
