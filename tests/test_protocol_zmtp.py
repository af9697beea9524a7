"""The stdlib ZMTP 3.1 DEALER against a real libzmq ROUTER (pyzmq), over real sockets."""

from __future__ import annotations

import socket
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinct.protocol import zmtp

zmq = pytest.importorskip("zmq")


@pytest.fixture()
def router():
    ctx = zmq.Context()
    sock = ctx.socket(zmq.ROUTER)
    sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, 5000)
    sock.setsockopt(zmq.HEARTBEAT_IVL, 50)  # libzmq sends ZMTP PINGs the client must answer
    sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, 400)
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    yield sock, port
    sock.close(0)
    ctx.term()


def test_greeting_layout():
    g = zmtp.GREETING
    assert len(g) == 64 and g[0] == 0xFF and g[9] == 0x7F and g[10:12] == b"\x03\x01"
    assert g[12:32].rstrip(b"\0") == b"NULL" and g[32] == 0


@pytest.mark.parametrize("size", [0, 1, 255, 256, 70_000, 3_000_000])
def test_short_and_long_frames_both_ways(router, size):
    sock, port = router
    dealer = zmtp.ZmtpDealer("127.0.0.1", port)
    try:
        payload = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
        dealer.send_multipart([b"head", payload, b""])
        ident, *parts = sock.recv_multipart()
        assert parts == [b"head", payload, b""]
        sock.send_multipart([ident, b"reply", payload])
        got = dealer.recv_multipart(5)
        assert [bytes(p) for p in got] == [b"reply", payload]
    finally:
        dealer.close()


def test_pings_are_answered_and_connection_stays_up(router):
    sock, port = router
    dealer = zmtp.ZmtpDealer("127.0.0.1", port)
    try:
        dealer.send_multipart([b"hi"])
        ident, _ = sock.recv_multipart()
        # Several heartbeat timeouts pass; libzmq would drop us if PONGs were missing.
        assert dealer.recv_multipart(1.0) is None
        sock.send_multipart([ident, b"still here"])
        assert [bytes(p) for p in dealer.recv_multipart(2)] == [b"still here"]
    finally:
        dealer.close()


def test_recv_times_out_and_reports_closed_peer(router):
    sock, port = router
    dealer = zmtp.ZmtpDealer("127.0.0.1", port)
    assert dealer.recv_multipart(0.05) is None
    sock.close(0)
    with pytest.raises(ConnectionError):
        for _ in range(100):
            dealer.recv_multipart(0.05)
    dealer.close()


def test_handshake_rejects_a_non_zmtp_peer():
    srv = socket.create_server(("127.0.0.1", 0))
    port = srv.getsockname()[1]
    import threading

    def serve():
        conn, _ = srv.accept()
        conn.recv(64)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n" + b"\0" * 40)
        conn.close()

    t = threading.Thread(target=serve)
    t.start()
    with pytest.raises((ConnectionError, TimeoutError)):
        zmtp.ZmtpDealer("127.0.0.1", port, timeout=2)
    t.join(5)
    srv.close()


class _Feed:
    """A fake socket handing out a byte string in given chunk sizes (tests the incremental reader)."""

    def __init__(self, data: bytes, chunks: list[int]):
        self.data, self.chunks, self.pos = data, chunks, 0

    def _n(self, want):
        n = min(want, self.chunks.pop(0) if self.chunks else want, len(self.data) - self.pos)
        if n <= 0 and self.pos < len(self.data):
            raise BlockingIOError
        return n

    def recv(self, want):
        n = self._n(want)
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def recv_into(self, view, nbytes=0):
        n = self._n(len(view))
        view[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.binary(max_size=600), min_size=1, max_size=4),
    st.lists(st.integers(1, 300), max_size=50),
)
def test_frame_reader_reassembles_any_chunking(frames, chunks):
    wire = b"".join(
        zmtp.encode_frame_header(len(f), more=i < len(frames) - 1) + f for i, f in enumerate(frames)
    )
    reader = zmtp.FrameReader()
    feed = _Feed(wire, list(chunks))
    got = []
    while feed.pos < len(wire) or reader._body is not None:
        try:
            r = reader.feed(feed)
        except BlockingIOError:
            continue
        if r is not None:
            got.append(r)
        if feed.pos >= len(wire) and r is None and reader._body is None and not reader._head:
            break
    assert [bytes(b) for _, b in got] == frames
    assert [bool(fl & zmtp.FLAG_MORE) for fl, _ in got] == [
        i < len(frames) - 1 for i in range(len(frames))
    ]


def test_oversized_incoming_frame_is_refused():
    wire = struct.pack("!BQ", zmtp.FLAG_LONG, 1 << 40)
    reader = zmtp.FrameReader(max_frame=1 << 20)
    feed = _Feed(wire, [])
    with pytest.raises(ConnectionError):
        while True:
            reader.feed(feed)


def test_plain_handshake_against_libzmq_and_the_daemons_zap_handler():
    """The PLAIN mechanism (protocol 2): the right password gets through and messages flow
    both ways; a wrong one is refused in the handshake with a clear error (libzmq 4.3.5
    garbles the ERROR command's name; the client still reads it as a refusal)."""
    from tinct.protocol.constants import PLAIN_USERNAME
    from tinct.server.auth import ZapHandler

    ctx = zmq.Context()
    zap = ZapHandler(ctx, lambda: "s3cret")
    zap.start()
    sock = ctx.socket(zmq.ROUTER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, 5000)
    sock.setsockopt(zmq.PLAIN_SERVER, 1)
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    user = PLAIN_USERNAME.encode()
    try:
        dealer = zmtp.ZmtpDealer("127.0.0.1", port, plain=(user, b"s3cret"))
        try:
            dealer.send_multipart([b"head", bytes(70_000)])
            ident, *parts = sock.recv_multipart()
            assert parts == [b"head", bytes(70_000)]
            sock.send_multipart([ident, b"reply"])
            assert [bytes(p) for p in dealer.recv_multipart(5)] == [b"reply"]
        finally:
            dealer.close()
        for creds in ((user, b"wrong"), (b"root", b"s3cret"), (user, b"")):
            with pytest.raises(ConnectionError, match="refused the handshake: 400"):
                zmtp.ZmtpDealer("127.0.0.1", port, plain=creds, timeout=5)
        with pytest.raises(ConnectionError):  # NULL against a PLAIN server
            zmtp.ZmtpDealer("127.0.0.1", port, timeout=5)
        assert zap.admitted == 1 and zap.refused == 3
    finally:
        zap.stopping.set()
        zap.join(5)
        sock.close(0)
        ctx.term()
