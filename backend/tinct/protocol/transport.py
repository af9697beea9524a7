"""Two transports behind one interface: pyzmq when importable, else stdlib ZMTP.

``open_transport(endpoint)`` picks by $TINCT_TRANSPORT ("zmq" | "pure"); unset
means pyzmq if it imports, else the pure-Python DEALER. Both send a message as
a list of bytes-like frames and receive one as a list of buffers. With a
``token`` both authenticate with the ZMTP PLAIN mechanism (user name
PLAIN_USERNAME, the token as the password), as the daemon requires.
"""

from __future__ import annotations

import os

from .constants import ENV_TRANSPORT, PLAIN_USERNAME, TRANSPORTS, WIRE_FRAME_BYTES

# pyzmq copies frames below this size; above it, zero-copy is cheaper.
ZERO_COPY_MIN = 64 * 1024


def zmq_available() -> bool:
    """True when pyzmq can be imported in this Python."""
    try:
        import zmq  # noqa: F401
    except ImportError:
        return False
    return True


def choose_transport(name: str | None = None) -> str:
    """Resolve a transport name: explicit > $TINCT_TRANSPORT > zmq if importable > pure."""
    name = name or os.environ.get(ENV_TRANSPORT) or ""
    if name:
        if name not in TRANSPORTS:
            raise ValueError(f"transport is {name!r}; expected one of {', '.join(TRANSPORTS)}")
        if name == "zmq" and not zmq_available():
            raise ValueError("transport 'zmq' was requested but pyzmq is not importable")
        return name
    return "zmq" if zmq_available() else "pure"


class PureTransport:
    """Multipart messages over the standard-library ZMTP 3.1 DEALER (`tinct.protocol.zmtp`): what
    plugins use inside a host whose Python has no pyzmq.
    """

    name = "pure"

    def __init__(
        self, host: str, port: int, connect_timeout: float = 5.0, token: str | None = None
    ):
        from .zmtp import ZmtpDealer

        plain = None if token is None else (PLAIN_USERNAME.encode(), token.encode())
        self._sock = ZmtpDealer(host, port, timeout=connect_timeout, plain=plain)

    def send(self, frames: list) -> None:
        """Send one multipart message (a list of bytes-like frames)."""
        self._sock.send_multipart(frames)

    def recv(self, timeout: float) -> list | None:
        """The next multipart message as a list of frames, or None after `timeout` seconds."""
        return self._sock.recv_multipart(timeout)

    def activity(self) -> int:
        """Bytes received so far, including a message still arriving."""
        return self._sock.bytes_in

    def close(self) -> None:
        """Close the socket."""
        self._sock.close()


class ZmqTransport:
    """Multipart messages over a pyzmq DEALER socket; frames of 64 KiB or more are sent and
    received without copying.
    """

    name = "zmq"

    def __init__(
        self, host: str, port: int, connect_timeout: float = 5.0, token: str | None = None
    ):
        import zmq

        self._zmq = zmq
        # The process-wide context: a private one would be terminated when garbage
        # collected, and zmq_ctx_term blocks while any of its sockets is still open.
        self._sock = zmq.Context.instance().socket(zmq.DEALER)
        self._sock.setsockopt(zmq.LINGER, 0)
        # Do not reconnect behind our back to a new daemon on the same port:
        # a lost daemon is reported, and the launcher makes a fresh connection.
        self._sock.setsockopt(zmq.RECONNECT_IVL, -1)
        # With its peer gone a DEALER blocks on send: bound it, and report the daemon lost.
        self._sock.setsockopt(zmq.SNDTIMEO, max(1, int(connect_timeout * 1000)))
        if token is not None:
            self._sock.setsockopt(zmq.PLAIN_USERNAME, PLAIN_USERNAME.encode())
            self._sock.setsockopt(zmq.PLAIN_PASSWORD, token.encode())
        self._sock.connect(f"tcp://{host}:{port}")
        self._poller = zmq.Poller()
        self._poller.register(self._sock, zmq.POLLIN)

    def send(self, frames: list) -> None:
        """Send one multipart message; raises ConnectionError when the daemon does not take it
        within the connect timeout (gone).
        """
        zmq = self._zmq
        last = len(frames) - 1
        try:
            for i, f in enumerate(frames):
                big = memoryview(f).nbytes > WIRE_FRAME_BYTES  # chunks: a copy is cheaper
                self._sock.send(f, zmq.SNDMORE if i < last else 0, copy=not big)
        except zmq.Again:
            raise ConnectionError("the daemon is not accepting messages (gone?)") from None

    def recv(self, timeout: float) -> list | None:
        """The next multipart message as a list of frames (big ones as zero-copy buffers), or None
        after `timeout` seconds.
        """
        if not self._poller.poll(max(0, int(timeout * 1000))):
            return None
        return [
            f.buffer if len(f) >= ZERO_COPY_MIN else f.bytes
            for f in self._sock.recv_multipart(copy=False)
        ]

    def activity(self) -> int:
        """Bytes received so far: always 0 (libzmq hands over whole messages only)."""
        return 0  # libzmq hands over whole messages only

    def close(self) -> None:
        """Close the socket at once (no linger)."""
        self._sock.close(0)


def open_transport(
    host: str,
    port: int,
    name: str | None = None,
    connect_timeout: float = 5.0,
    token: str | None = None,
):
    """A connected transport to host:port: `name` ("zmq" or "pure") or the `choose_transport`
    default.
    """
    kind = choose_transport(name)
    cls = ZmqTransport if kind == "zmq" else PureTransport
    return cls(host, port, connect_timeout, token)
