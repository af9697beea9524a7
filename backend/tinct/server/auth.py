"""Authentication at the ZMTP handshake: a ZAP handler that admits the token only.

The daemon's ROUTER is a PLAIN server (``zmq.PLAIN_SERVER``): before a peer may
send a single message, libzmq asks the ZAP handler of its context
(``inproc://zeromq.zap.01``, RFC 27) whether the user name and password from the
peer's HELLO are good. This handler answers 200 for PLAIN_USERNAME with the
current token and 400 for anything else, so a peer without the token is refused
(and disconnected) in the handshake: it never reaches the message phase, where
libzmq would buffer a many-frame message of any length for it.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable

import zmq

from tinct.protocol.constants import PLAIN_USERNAME

log = logging.getLogger("tinct.server")

ZAP_ENDPOINT = "inproc://zeromq.zap.01"
ZAP_VERSION = b"1.0"


class ZapHandler(threading.Thread):
    """Answers libzmq's authentication requests for one context, on its own thread (the
    socket loop may be busy joining a big request; handshakes must not wait for it)."""

    def __init__(self, ctx: zmq.Context, token: Callable[[], str]):
        super().__init__(name="tinct-zap", daemon=True)
        self.token = token  # read at every request: the daemon may rotate it
        self.stopping = threading.Event()
        self.admitted = 0
        self.refused = 0
        self._sock = ctx.socket(zmq.REP)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.bind(ZAP_ENDPOINT)  # before the ROUTER binds: no handshake goes unanswered

    def run(self) -> None:
        """Answer ZAP requests until ``stopping`` is set; the socket is closed on the way out."""
        poller = zmq.Poller()
        poller.register(self._sock, zmq.POLLIN)
        try:
            while not self.stopping.is_set():
                if not poller.poll(100):
                    continue
                request = self._sock.recv_multipart()
                self._sock.send_multipart(self._answer(request))
        finally:
            self._sock.close(0)

    def _answer(self, request: list[bytes]) -> list[bytes]:
        """The ZAP reply to one request: 200 for PLAIN with our user name and token, else 400."""
        if len(request) < 6:  # not a ZAP request: answer in its shape anyway (REP must reply)
            return [ZAP_VERSION, b"", b"500", b"malformed ZAP request", b"", b""]
        version, request_id, _domain, _address, _identity, mechanism = request[:6]
        credentials = request[6:]
        ok = (
            version == ZAP_VERSION
            and mechanism == b"PLAIN"
            and len(credentials) == 2
            and hmac.compare_digest(credentials[0], PLAIN_USERNAME.encode())
            and hmac.compare_digest(credentials[1], self.token().encode())
        )
        if ok:
            self.admitted += 1
            return [ZAP_VERSION, request_id, b"200", b"OK", PLAIN_USERNAME.encode(), b""]
        self.refused += 1
        return [ZAP_VERSION, request_id, b"400", b"wrong token", b"", b""]
