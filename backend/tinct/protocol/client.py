"""The client plugins use: one interface over either transport (standard library only).

    client = Launcher().connect()            # finds or starts the daemon
    for ev in client.colorize(layer, prompt="blue car"):
        if ev.kind == Reply.PROGRESS: ...    # ev.step, ev.total
        elif ev.kind == Reply.PREVIEW: ...   # ev.layer (u8 RGBA, small)
        elif ev.kind == Reply.RESULT: ...    # ev.layer (full resolution RGBA), ev.scale, ev.job
    small = client.rescale(ev.job, 1.2, size=(800, 600))
    full = client.apply(ev.job, 1.2)

``Reply`` members are str, so ``ev.kind == "result"`` holds as well.

Replies are routed by request id, so several requests may be in flight on one
connection (``enqueue_colorize`` + ``events``). Every wait is bounded by the
heartbeat timeout: the daemon sends heartbeats while it holds work for us, so
silence longer than that means it is gone (DaemonLost). After that, the next
request reconnects through the launcher, which restarts the daemon if needed.
Methods are safe to call from two threads (e.g. ``cancel`` from a UI thread
while a worker thread iterates ``events``).
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .connection import ConnectionInfo, live_connection
from .constants import (
    DEFAULT_HEARTBEAT_TIMEOUT,
    DEFAULT_SCALE,
    E_BAD_HEADER,
    E_CANCELLED,
    E_TOO_LARGE,
    FINAL_REPLIES,
    Op,
    Reply,
)
from .errors import Cancelled, DaemonLost, ProtocolError, TinctError
from .messages import decode_header, make_request, request_frames
from .pixels import Layer, PixelFormat
from .transport import open_transport


class Restarter(Protocol):
    """What a client needs of its launcher (`tinct.protocol.launcher.Launcher`, which
    imports this module): where the daemon's runtime folder is, and a way to make sure
    a daemon runs there and to learn how to reach it."""

    runtime_dir: Path

    def ensure(self) -> ConnectionInfo: ...


_FINAL = frozenset(FINAL_REPLIES)
_SLICE = 0.05  # seconds one thread holds the socket while waiting


@dataclass
class Event:
    """One reply: ``kind`` is Reply.QUEUED | PROGRESS | PREVIEW | RESULT (errors raise);
    a reply this version does not know keeps its wire name (a str)."""

    kind: Reply | str
    request_id: str
    header: dict
    layer: Layer | None = None

    @property
    def job(self) -> str | None:
        """The job id the daemon gave the request (in queued, progress and final replies)."""
        return self.header.get("job")

    @property
    def step(self) -> int | None:
        """The denoising step just finished (progress replies), counted from 1."""
        return self.header.get("step")

    @property
    def total(self) -> int | None:
        """The number of denoising steps (progress replies)."""
        return self.header.get("total")

    @property
    def scale(self) -> float | None:
        """The colourfulness the layer was rendered at (result, rescale and apply replies)."""
        return self.header.get("scale")


@dataclass
class _Inbox:
    messages: deque = field(default_factory=deque)


class Client:
    """One connection to the daemon (pyzmq's DEALER, or the stdlib ZMTP client when pyzmq is
    missing).

    Thread-safe: requests carry ids, each request's replies go to its own inbox, and any traffic
    counts as liveness; with no traffic for `heartbeat_timeout` seconds the daemon counts as lost
    (DaemonLost), and a client made by a `launcher` reconnects to a restarted daemon. Errors the
    daemon sends raise TinctError with its code and message.
    """

    def __init__(
        self,
        info: ConnectionInfo,
        transport: str | None = None,
        *,
        heartbeat_timeout: float = DEFAULT_HEARTBEAT_TIMEOUT,
        connect_timeout: float = 5.0,
        launcher: Restarter | None = None,
    ):
        self.info = info
        self.transport_name = transport
        self.heartbeat_timeout = heartbeat_timeout
        self.connect_timeout = connect_timeout
        self.launcher = launcher
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._prefix = f"{os.getpid():x}-{id(self) & 0xFFFFFF:x}"
        self._inboxes: dict[str, _Inbox] = {}
        self._last_traffic = time.monotonic()
        self._transport = None
        self._lost: DaemonLost | None = None
        self._open()

    # --- connection --------------------------------------------------------
    def _open(self) -> None:
        try:
            self._transport = open_transport(
                self.info.host,
                self.info.port,
                self.transport_name,
                self.connect_timeout,
                token=self.info.token,
            )
        except (OSError, TimeoutError) as exc:
            raise DaemonLost(
                f"cannot connect to the Tinct daemon on port {self.info.port}: {exc}"
            ) from exc
        self.transport_name = self._transport.name
        self._max_frame_bytes: int | None = None  # the daemon's, asked for when needed
        self._lost = None
        self._last_traffic = time.monotonic()
        self._activity = 0

    def _ensure_connected(self) -> None:
        """After a lost daemon: reconnect through the launcher (which restarts it)."""
        if self._lost is None:
            return
        if self.launcher is None:
            raise self._lost
        self._close_transport()
        self._inboxes.clear()
        self.info = self.launcher.ensure()
        self._open()

    def _mark_lost(self, message: str, rid: str | None) -> DaemonLost:
        self._lost = DaemonLost(message, rid)
        return self._lost

    def _close_transport(self) -> None:
        if self._transport is not None:
            try:
                self._transport.close()
            except Exception:
                pass
            self._transport = None

    def close(self) -> None:
        """Close the connection; the daemon keeps running."""
        with self._lock:
            self._close_transport()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- requests ----------------------------------------------------------
    def _check_idle_connection(self) -> None:
        """Before a request on a quiet connection: is the daemon we know still the live one?

        A daemon that exited while we were idle (idle shutdown, crash, replaced) sent
        nothing we could notice, and a DEALER would queue our request forever. The
        connection file and the daemon lock tell us cheaply, without a round trip.
        """
        if self.launcher is None or self._lost is not None or self._inboxes:
            return
        if time.monotonic() - self._last_traffic < 1.0:
            return
        current = live_connection(self.launcher.runtime_dir)
        if current is None or (current.pid, current.token) != (self.info.pid, self.info.token):
            self._lost = DaemonLost("the Tinct daemon went away while idle; reconnecting")

    def _send(self, op: Op, fields: dict, frames: list = ()) -> str:
        with self._lock:
            self._check_idle_connection()
            self._ensure_connected()
            rid = f"{self._prefix}-{next(self._ids)}"
            self._check_frame_sizes(frames, rid)
            header = make_request(op, rid, self.info.token, **fields)
            self._inboxes[rid] = _Inbox()
            try:
                self._transport.send(request_frames(header, list(frames)))
            except (ConnectionError, OSError) as exc:
                self._inboxes.pop(rid, None)
                raise self._mark_lost(f"lost the Tinct daemon while sending: {exc}", rid) from exc
            self._last_traffic = time.monotonic()
            return rid

    def _check_frame_sizes(self, frames, rid: str) -> None:
        """libzmq drops a connection that sends a frame over the daemon's max frame size
        (its MAXMSGSIZE): refuse such a frame here, saying why, instead of losing the daemon."""
        if not frames:
            return
        biggest = max(memoryview(f).nbytes for f in frames)
        if self._max_frame_bytes is None:  # once per connection: the daemon's own limit
            self._max_frame_bytes = int(self.hello()["limits"]["max_frame_bytes"])
        if biggest > self._max_frame_bytes:
            raise ProtocolError(
                E_TOO_LARGE,
                f"a pixel frame of {biggest / 1e6:.0f} MB is over the daemon's limit of "
                f"{self._max_frame_bytes / 1e6:.0f} MB; use a smaller image or fewer bits "
                "per channel",
                rid,
            )

    def _next(self, rid: str) -> tuple[dict, list]:
        """The next reply for ``rid`` (heartbeats are consumed here, never returned)."""
        while True:
            with self._lock:
                box = self._inboxes.get(rid)
                if box is None:
                    raise TinctError(
                        E_BAD_HEADER, f"request {rid} is not pending on this client", rid
                    )
                if box.messages:
                    return box.messages.popleft()
                if self._lost is not None:
                    raise DaemonLost(self._lost.message, rid)
                try:
                    frames = self._transport.recv(_SLICE)
                except (ConnectionError, OSError) as exc:
                    raise self._mark_lost(f"lost the Tinct daemon: {exc}", rid) from exc
                now = time.monotonic()
                if frames is None:
                    seen = self._transport.activity()
                    if seen != self._activity:  # part of a big message arrived: alive
                        self._activity, self._last_traffic = seen, now
                    elif now - self._last_traffic > self.heartbeat_timeout:
                        raise self._mark_lost(
                            f"the Tinct daemon sent nothing for {self.heartbeat_timeout:.1f} s "
                            "(crashed or stuck); the next request tries to restart it",
                            rid,
                        )
                    continue
                self._last_traffic = now
                self._route(frames)

    def _route(self, frames: list) -> None:
        try:
            header = decode_header(frames[0], max_bytes=1 << 24)
        except ProtocolError:
            return  # not from a Tinct daemon; any traffic still counted as liveness
        if header.get("reply") == Reply.HEARTBEAT:
            return
        box = self._inboxes.get(header.get("id"))
        if box is not None:
            box.messages.append((header, frames[1:]))

    def _finish(self, rid: str) -> None:
        with self._lock:
            self._inboxes.pop(rid, None)

    def _call(self, op: Op, fields: dict | None = None, frames: list = ()) -> tuple[dict, list]:
        """Send one request and wait for its final reply (interim replies skipped)."""
        rid = self._send(op, fields or {}, frames)
        try:
            while True:
                header, rest = self._next(rid)
                if header.get("reply") in _FINAL:
                    _raise_if_error(header, rid)
                    return header, rest
        finally:
            self._finish(rid)

    # --- public API ---------------------------------------------------------
    def hello(self) -> dict:
        """The daemon's hello: protocol version, device, model, defaults and limits."""
        return self._call(Op.HELLO)[0]

    def status(self) -> dict:
        """The daemon's status: queue length, running job, cache use, uptime."""
        return self._call(Op.STATUS)[0]

    def shutdown(self) -> None:
        """Ask the daemon to exit; a daemon that is already gone counts as done."""
        try:
            self._call(Op.SHUTDOWN)
        except DaemonLost:
            pass

    def enqueue_colorize(
        self,
        image: Layer,
        *,
        prompt: str = "",
        hints: Layer | None = None,
        steps: int | None = None,
        guidance: float | None = None,
        scale: float = DEFAULT_SCALE,
        seed: int | None = None,
        preview_side: int | None = None,
        reference: Layer | None = None,
    ) -> str:
        """Send a colorize request; returns its request id for ``events``.
        ``reference``: a colour photo of any size whose colours the result borrows."""
        fields = {
            "image": image.format.to_json(),
            "prompt": prompt,
            "steps": steps,
            "guidance": guidance,
            "scale": scale,
            "seed": seed,
            "preview_side": preview_side,
        }
        frames = [image.data]
        if hints is not None:
            fields["hints"] = hints.format.to_json()
            frames.append(hints.data)
        if reference is not None:
            fields["reference"] = reference.format.to_json()
            frames.append(reference.data)
        return self._send(Op.COLORIZE, fields, frames)

    def events(self, rid: str) -> Iterator[Event]:
        """Replies to one request until its final one: queued, progress..., preview, result."""
        try:
            while True:
                header, rest = self._next(rid)
                _raise_if_error(header, rid)
                kind = reply_kind(header.get("reply"))
                yield Event(kind, rid, header, _layer(header, rest))
                if kind in _FINAL:
                    return
        finally:
            self._finish(rid)

    def colorize(self, image: Layer, **kwargs) -> Iterator[Event]:
        """`enqueue_colorize(image, **kwargs)` and its replies (`events`): queued, progress...,
        preview, result.
        """
        return self.events(self.enqueue_colorize(image, **kwargs))

    def rescale(
        self, job: str, scale: float, size: tuple[int, int] | None = None, dtype: str = "u8"
    ) -> Event:
        """The job's color layer at ``scale``, resized to ``size`` = (width, height)."""
        fields = {"job": job, "scale": scale, "size": list(size) if size else None, "dtype": dtype}
        header, rest = self._call(Op.RESCALE, fields)
        return Event(reply_kind(header["reply"]), header["id"], header, _layer(header, rest))

    def apply(self, job: str, scale: float) -> Event:
        """The job's full-resolution color layer at ``scale`` (the source's dtype and order)."""
        header, rest = self._call(Op.APPLY, {"job": job, "scale": scale})
        return Event(reply_kind(header["reply"]), header["id"], header, _layer(header, rest))

    def cancel(self, job: str) -> None:
        """Cancel job `job` (queued or running); an unknown or finished job is not an error."""
        self._call(Op.CANCEL, {"job": job})

    def echo(self, layer: Layer) -> Layer:
        """Send a layer and get it back unchanged: a check of the pixel path, used by tests."""
        header, rest = self._call(Op.ECHO, {"image": layer.format.to_json()}, [layer.data])
        return _layer(header, rest)


def reply_kind(name: object) -> Reply | str:
    """The Reply member of a reply's wire name; a name this version does not know stays
    as it came (a newer daemon's interim reply must not break an older client)."""
    try:
        return Reply(name)
    except ValueError:
        return name


def _raise_if_error(header: dict, rid: str) -> None:
    if header.get("reply") != Reply.ERROR:
        return
    code = str(header.get("code", "error"))
    message = str(header.get("message", "the daemon reported an error"))
    cls = Cancelled if code == E_CANCELLED else TinctError
    raise cls(code, message, rid)


def _layer(header: dict, frames: list) -> Layer | None:
    desc = header.get("layer")
    if desc is None:
        return None
    fmt = PixelFormat.from_json(desc, field="layer")
    if len(frames) != 1:
        raise ProtocolError(
            E_BAD_HEADER, f"reply describes a layer but carries {len(frames)} frames"
        )
    fmt.check_frame(memoryview(frames[0]).nbytes, field="layer")
    return Layer(fmt, frames[0])
