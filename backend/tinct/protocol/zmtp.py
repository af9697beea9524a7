"""A standard-library ZMTP 3.1 DEALER socket (NULL security mechanism).

Enough of https://rfc.zeromq.org/spec/23/ (ZMTP 3.1) to talk to a libzmq
ROUTER: the 64-byte greeting, the NULL mechanism (READY with Socket-Type
DEALER) or the PLAIN one (https://rfc.zeromq.org/spec/24/: HELLO with a user
name and password, WELCOME, INITIATE, READY), multipart messages with short
(1-byte size) and long (8-byte size) frames, and PING -> PONG so a peer's
heartbeats are answered. GIMP's and Krita's embedded Pythons cannot install
pyzmq, so plugins fall back to this.

One TCP connection, no reconnects: when the peer goes away the socket raises
ConnectionError and the caller decides (the client reports the daemon lost).
"""

from __future__ import annotations

import math
import select
import socket
import struct
import time

# Greeting: signature (10) | version (2) | mechanism (20) | as-server (1) | filler (31)
SIGNATURE = b"\xff" + b"\x00" * 8 + b"\x7f"
VERSION = b"\x03\x01"
MECHANISM = b"NULL".ljust(20, b"\x00")


def greeting(mechanism: bytes = b"NULL") -> bytes:
    """A client's 64-byte greeting for ``mechanism`` (as-server = 0)."""
    return SIGNATURE + VERSION + mechanism.ljust(20, b"\x00") + b"\x00" + b"\x00" * 31


GREETING = greeting(b"NULL")
assert len(GREETING) == 64

FLAG_MORE = 0x01
FLAG_LONG = 0x02
FLAG_COMMAND = 0x04

MAX_SHORT = 255
DEFAULT_MAX_FRAME = 1 << 32  # refuse to allocate more than this for one incoming frame


def encode_frame_header(size: int, more: bool = False, command: bool = False) -> bytes:
    flags = (FLAG_MORE if more else 0) | (FLAG_COMMAND if command else 0)
    if size <= MAX_SHORT:
        return struct.pack("!BB", flags, size)
    return struct.pack("!BQ", flags | FLAG_LONG, size)


def encode_command(name: bytes, body: bytes = b"") -> bytes:
    payload = bytes([len(name)]) + name + body
    return encode_frame_header(len(payload), command=True) + payload


def encode_properties(props: dict[str, bytes]) -> bytes:
    out = bytearray()
    for name, value in props.items():
        n = name.encode("ascii")
        out += bytes([len(n)]) + n + struct.pack("!I", len(value)) + value
    return bytes(out)


def decode_properties(data: bytes) -> dict[str, bytes]:
    props: dict[str, bytes] = {}
    i = 0
    while i < len(data):
        n = data[i]
        name = data[i + 1 : i + 1 + n].decode("ascii", "replace")
        i += 1 + n
        if i + 4 > len(data):
            raise ConnectionError("ZMTP: truncated property in READY")
        (vlen,) = struct.unpack("!I", data[i : i + 4])
        i += 4
        if i + vlen > len(data):
            raise ConnectionError("ZMTP: truncated property value in READY")
        props[name] = data[i : i + vlen]
        i += vlen
    return props


def _readable(sock: socket.socket, timeout: float | None) -> bool:
    """Wait for ``sock`` to be readable. poll() where there is one: select() refuses
    fds above 1023, which a host application with many files open reaches."""
    if hasattr(select, "poll"):
        p = select.poll()
        p.register(sock, select.POLLIN)
        return bool(p.poll(None if timeout is None else max(0, math.ceil(timeout * 1000))))
    r, _, _ = select.select([sock], [], [], timeout)
    return bool(r)


class FrameReader:
    """Incremental ZMTP frame parser over a socket: survives timeouts mid-frame.

    Large frame bodies are read straight into one preallocated bytearray with
    ``recv_into`` (no concatenation copies).
    """

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME):
        self.max_frame = max_frame
        self._head = bytearray()  # flags + size bytes of the frame being read
        self._body: bytearray | None = None
        self._filled = 0
        self._flags = 0
        self.bytes_in = 0  # progress counter: a long frame arriving is liveness too

    def feed(self, sock: socket.socket) -> tuple[int, bytearray] | None:
        """Read what is available; return (flags, body) when a whole frame is in, else None.

        Raises BlockingIOError-free: the socket must be readable (checked by _readable).
        """
        if self._body is None:
            need = 2 if not self._head else (9 if self._head[0] & FLAG_LONG else 2)
            chunk = sock.recv(need - len(self._head))
            if not chunk:
                raise ConnectionError("ZMTP: connection closed by the daemon")
            self.bytes_in += len(chunk)
            self._head += chunk
            if len(self._head) == 2 and self._head[0] & FLAG_LONG:
                return None  # need the rest of the 8-byte size
            if len(self._head) < need:
                return None
            flags = self._head[0]
            if flags & ~(FLAG_MORE | FLAG_LONG | FLAG_COMMAND):
                raise ConnectionError(f"ZMTP: invalid frame flags 0x{flags:02x}")
            size = (
                struct.unpack("!Q", bytes(self._head[1:9]))[0]
                if flags & FLAG_LONG
                else self._head[1]
            )
            if size > self.max_frame:
                raise ConnectionError(
                    f"ZMTP: incoming frame of {size} bytes exceeds {self.max_frame}"
                )
            self._flags = flags
            self._body = bytearray(size)
            self._filled = 0
            self._head = bytearray()
            if size == 0:
                return self._take()
            return None
        view = memoryview(self._body)
        while self._filled < len(self._body):
            try:
                n = sock.recv_into(view[self._filled :])
            except (BlockingIOError, InterruptedError):
                return None
            if n == 0:
                raise ConnectionError("ZMTP: connection closed by the daemon")
            self._filled += n
            self.bytes_in += n
        return self._take()

    def _take(self) -> tuple[int, bytearray]:
        body, self._body = self._body, None
        return self._flags, body


class ZmtpDealer:
    """A DEALER socket speaking ZMTP 3.1 over one TCP connection."""

    socket_type = b"DEALER"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float = 5.0,
        max_frame: int = DEFAULT_MAX_FRAME,
        plain: tuple[bytes, bytes] | None = None,
    ):
        """``plain``: (user name, password) for the PLAIN mechanism; None = NULL."""
        self._plain = plain
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._reader = FrameReader(max_frame)
        self._parts: list[bytearray] = []
        self.peer_properties: dict[str, bytes] = {}
        try:
            self._handshake(timeout)
        except BaseException:
            self.close()
            raise
        self._sock.settimeout(None)
        self._sock.setblocking(False)

    # --- handshake ---------------------------------------------------------
    def _handshake(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        ours = b"PLAIN" if self._plain is not None else b"NULL"
        self._sock.sendall(greeting(ours))
        peer = self._recv_exact(64, deadline)
        if peer[0] != 0xFF or peer[9] != 0x7F:
            raise ConnectionError("ZMTP: peer did not send a ZMTP greeting")
        if peer[10] < 3:
            raise ConnectionError(f"ZMTP: peer speaks ZMTP {peer[10]}.{peer[11]}; 3.x needed")
        mech = bytes(peer[12:32]).rstrip(b"\x00")
        if mech != ours:
            raise ConnectionError(
                f"ZMTP: peer wants security mechanism {mech!r}; this client offers {ours!r}"
            )
        props = encode_properties({"Socket-Type": self.socket_type})
        self._sock.setblocking(False)
        if self._plain is not None:
            user, password = self._plain
            if len(user) > 255 or len(password) > 255:
                raise ValueError("PLAIN user name and password are at most 255 bytes each")
            hello = bytes([len(user)]) + user + bytes([len(password)]) + password
            self._send_raw(encode_command(b"HELLO", hello))
            self._expect_command(b"WELCOME", deadline)
            self._send_raw(encode_command(b"INITIATE", props))
        else:
            self._send_raw(encode_command(b"READY", props))
        data = self._expect_command(b"READY", deadline)
        self.peer_properties = decode_properties(data)
        peer_type = self.peer_properties.get("Socket-Type", b"")
        if peer_type not in (b"ROUTER", b"DEALER"):
            raise ConnectionError(f"ZMTP: peer socket type {peer_type!r} cannot talk to a DEALER")

    def _send_raw(self, data: bytes) -> None:
        """Send bytes as they are (a handshake command), blocking until all are out."""
        self._sock.setblocking(True)
        try:
            self._sock.sendall(data)
        finally:
            self._sock.setblocking(False)

    def _expect_command(self, want: bytes, deadline: float) -> bytes:
        """The body of the peer's next handshake command, which must be ``want``."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"ZMTP: no {want.decode()} from the peer")
            got = self._read_frame(left)
            if got is None:
                continue
            flags, body = got
            if not flags & FLAG_COMMAND:
                raise ConnectionError(f"ZMTP: expected {want.decode()}, got a message frame")
            name, data = _split_command(body)
            if name == b"ERROR":
                raise ConnectionError(
                    f"ZMTP: peer refused the handshake: {bytes(data[1:]).decode(errors='replace')}"
                )
            if name != want:
                raise ConnectionError(f"ZMTP: expected {want.decode()}, got {name!r}")
            return bytes(data)

    def _recv_exact(self, n: int, deadline: float) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            self._sock.settimeout(max(0.001, deadline - time.monotonic()))
            try:
                chunk = self._sock.recv(n - len(buf))
            except TimeoutError:
                raise TimeoutError("ZMTP: handshake timed out") from None
            if not chunk:
                raise ConnectionError("ZMTP: connection closed during the handshake")
            buf += chunk
        return bytes(buf)

    # --- I/O ---------------------------------------------------------------
    def _read_frame(self, timeout: float | None) -> tuple[int, bytearray] | None:
        """Wait up to ``timeout`` for readability, then feed; None if nothing complete yet."""
        if not _readable(self._sock, timeout):
            return None
        try:
            return self._reader.feed(self._sock)
        except (BlockingIOError, InterruptedError):
            return None

    def send_multipart(self, frames: list) -> None:
        """Send one message; each frame is any bytes-like object (sent without joining)."""
        views = [memoryview(f).cast("B") for f in frames]
        self._sock.setblocking(True)
        try:
            for i, v in enumerate(views):
                more = i < len(views) - 1
                head = encode_frame_header(v.nbytes, more=more)
                if v.nbytes <= 65536:
                    self._sock.sendall(head + v.tobytes())
                else:
                    self._sock.sendall(head)
                    self._sock.sendall(v)
        except OSError as exc:
            raise ConnectionError(f"ZMTP: send failed: {exc}") from exc
        finally:
            self._sock.setblocking(False)

    def recv_multipart(self, timeout: float | None) -> list[bytearray] | None:
        """One message, or None if none completed within ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            got = self._read_frame(left)
            if got is not None:
                flags, body = got
                if flags & FLAG_COMMAND:
                    self._on_command(body)
                else:
                    self._parts.append(body)
                    if not flags & FLAG_MORE:
                        parts, self._parts = self._parts, []
                        return parts
            if deadline is not None and time.monotonic() >= deadline:
                return None

    def _on_command(self, body: bytes) -> None:
        name, data = _split_command(body)
        if name == b"PING":
            # PING: ttl (2 bytes) + context; answer PONG with the same context.
            self._sock.setblocking(True)
            try:
                self._sock.sendall(encode_command(b"PONG", bytes(data[2:18])))
            finally:
                self._sock.setblocking(False)
        elif name == b"ERROR":
            raise ConnectionError(
                f"ZMTP: peer sent ERROR: {bytes(data[1:]).decode(errors='replace')}"
            )
        # Other commands (PONG, SUBSCRIBE...) carry nothing for a DEALER.

    @property
    def bytes_in(self) -> int:
        return self._reader.bytes_in

    def close(self) -> None:
        try:
            self._sock.close()
        except OSError:
            pass


def _split_command(body: bytes) -> tuple[bytes, bytes]:
    if not body:
        raise ConnectionError("ZMTP: empty command frame")
    if bytes(body[1:5]) == b"RROR":  # libzmq 4.3.5 garbles its ERROR command's name:
        return b"ERROR", body[5:]  # b"^RROR" + reason, one byte short
    n = body[0]
    return bytes(body[1 : 1 + n]), body[1 + n :]
