"""Hostile input over real sockets while a legitimate job runs: >= 500 messages, all answered or dropped."""

from __future__ import annotations

import json
import random
import socket
import struct
import threading

import numpy as np
import pytest

from tinct.protocol import constants as C
from tinct.protocol.messages import encode_header
from tinct.protocol.zmtp import (
    GREETING,
    ZmtpDealer,
    encode_command,
    encode_frame_header,
    encode_properties,
    greeting,
)
from tinct.testing import (
    DaemonHarness,
    as_layer,
    layer_to_array,
    lstar,
    make_image,
    rss_bytes,
    serve_command,
)

zmq = pytest.importorskip("zmq")

MAX_PIXELS = 1_000_000
MAX_FRAME = 8 * 2**20


@pytest.fixture(scope="module")
def daemon(tmp_path_factory, model):
    rt = tmp_path_factory.mktemp("rt")
    cmd = serve_command(
        model,
        "--heartbeat",
        "0.25",
        "--idle-timeout",
        "0",
        "--max-pixels",
        str(MAX_PIXELS),
        "--max-frame-bytes",
        str(MAX_FRAME),
        "--max-queue-per-client",
        "4",
    )
    harness = DaemonHarness(rt, cmd)
    harness.connect().close()
    yield harness
    harness.close()


def _hostile_messages(token: str, rng: random.Random) -> list[tuple[str, list[bytes]]]:
    """(expected error code or None if any error will do, frames) — every one must be answered."""

    def hdr(**kw):
        base = {
            "v": C.PROTOCOL_VERSION,
            "op": "colorize",
            "id": f"evil-{rng.randrange(1 << 30)}",
            "token": token,
        }
        base.update(kw)
        return encode_header({k: v for k, v in base.items() if v is not ...})

    img = {"width": 8, "height": 8, "channels": 4, "dtype": "u8", "stride": 32}
    ok_frame = bytes(256)
    out: list[tuple[str | None, list[bytes]]] = [
        (C.E_BAD_JSON, [b"{not json"]),
        (C.E_BAD_JSON, [b"\xff\xfe\xfd"]),
        (C.E_BAD_JSON, [b"[1,2,3]"]),
        (C.E_BAD_JSON, [b"[" * 20000 + b"]" * 20000]),
        (
            C.E_BAD_JSON,
            [b'{"v":1,"op":"hello","id":"x","token":"' + token.encode() + b'","n":NaN}'],
        ),
        (C.E_TOO_LARGE, [b"{" + b" " * 70000 + b"}"]),
        (C.E_UNAUTHORIZED, [hdr(token=..., op="hello")]),
        (C.E_UNAUTHORIZED, [hdr(token="wrong", image=img), ok_frame]),
        (C.E_UNAUTHORIZED, [hdr(token=None, op="shutdown")]),
        (C.E_UNAUTHORIZED, [hdr(token="x" * 10000, op="status")]),
        (C.E_VERSION, [hdr(v=99, op="hello")]),
        (C.E_UNKNOWN_OP, [hdr(op="rm -rf /")]),
        (C.E_UNKNOWN_OP, [hdr(op=None)]),
        (C.E_BAD_HEADER, [hdr(id=..., op="hello")]),
        (C.E_BAD_HEADER, [hdr(id="i" * 1000, op="hello")]),
        (C.E_BAD_PIXELS, [hdr(image=img), bytes(255)]),  # truncated frame
        (C.E_BAD_PIXELS, [hdr(image=img), bytes(257)]),
        (C.E_BAD_PIXELS, [hdr(image={**img, "stride": 31}), ok_frame]),
        (C.E_BAD_PIXELS, [hdr(image={**img, "stride": 33, "dtype": "u16"}), bytes(33 * 8)]),
        (C.E_BAD_DTYPE, [hdr(image={**img, "dtype": "f64"}), ok_frame]),
        (C.E_BAD_DTYPE, [hdr(image={**img, "dtype": ["u8"]}), ok_frame]),
        (C.E_BAD_HEADER, [hdr(image={**img, "channels": 5}), ok_frame]),
        (C.E_BAD_HEADER, [hdr(image={**img, "width": -8}), ok_frame]),
        (C.E_BAD_HEADER, [hdr(image={**img, "width": 8.0}), ok_frame]),
        (C.E_BAD_HEADER, [hdr(image="8x8"), ok_frame]),
        (
            C.E_TOO_LARGE,
            [hdr(image={**img, "width": 100000, "height": 100000, "stride": 400000}), ok_frame],
        ),
        (
            C.E_TOO_LARGE,
            [hdr(image={**img, "width": 2**62, "height": 2**62, "stride": 2**64}), ok_frame],
        ),
        (C.E_BAD_FRAMES, [hdr(image=img)]),  # missing frame
        (C.E_BAD_FRAMES, [hdr(image=img), ok_frame, ok_frame]),  # extra frame without hints
        (C.E_BAD_FRAMES, [hdr(image=img, hints=img), ok_frame]),  # hints described, not sent
        (
            C.E_BAD_HEADER,
            [hdr(image=img, hints={**img, "width": 4, "stride": 16}), ok_frame, bytes(128)],
        ),
        # the reference frame: any size, but described truthfully, colour, within limits
        (C.E_BAD_FRAMES, [hdr(image=img, reference=img), ok_frame]),  # described, not sent
        (C.E_BAD_FRAMES, [hdr(image=img, hints=img, reference=img), ok_frame, ok_frame]),
        (C.E_BAD_PIXELS, [hdr(image=img, reference={**img, "width": 16}), ok_frame, ok_frame]),
        (C.E_BAD_PIXELS, [hdr(image=img, reference=img), ok_frame, bytes(255)]),
        (C.E_BAD_DTYPE, [hdr(image=img, reference={**img, "dtype": "f64"}), ok_frame, ok_frame]),
        (C.E_BAD_DTYPE, [hdr(image=img, reference={**img, "dtype": None}), ok_frame, ok_frame]),
        (
            C.E_BAD_HEADER,
            [hdr(image=img, reference={**img, "channels": 1, "stride": 8}), ok_frame, bytes(64)],
        ),
        (C.E_BAD_HEADER, [hdr(image=img, reference="photo.jpg"), ok_frame, ok_frame]),
        (
            C.E_TOO_LARGE,
            [
                hdr(
                    image=img, reference={**img, "width": 50000, "height": 50000, "stride": 200000}
                ),
                ok_frame,
                ok_frame,
            ],
        ),
        (
            C.E_TOO_LARGE,
            [
                hdr(image=img, reference={**img, "width": 2**40, "height": 2**40, "stride": 2**42}),
                ok_frame,
                ok_frame,
            ],
        ),
        (C.E_BAD_FRAMES, [hdr(op="hello"), b"surprise"]),
        (C.E_BAD_HEADER, [hdr(image=img, steps=10**9), ok_frame]),
        (C.E_BAD_HEADER, [hdr(image=img, scale="max"), ok_frame]),
        (C.E_BAD_HEADER, [hdr(image=img, scale=1e308), ok_frame]),
        (C.E_BAD_HEADER, [hdr(image=img, prompt="p" * 5000), ok_frame]),
        (C.E_BAD_HEADER, [hdr(op="rescale", job=None)]),
        (C.E_BAD_HEADER, [hdr(op="rescale", job="x", size=[1, 10**9])]),
        (C.E_UNKNOWN_JOB, [hdr(op="rescale", job="not-a-job")]),
        (C.E_UNKNOWN_JOB, [hdr(op="apply", job="../../etc/passwd")]),
        (C.E_UNKNOWN_JOB, [hdr(op="cancel", job="nobody")]),
        (C.E_BAD_JSON, [b""]),
    ]
    # Random bytes and random JSON-ish garbage fill the rest.
    while len(out) < 560:
        kind = rng.randrange(4)
        if kind == 0:
            frames = [
                bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
                for _ in range(rng.randrange(1, 4))
            ]
        elif kind == 1:
            # never a valid request: no shutdown, and the frame is never the 256 bytes img needs
            op = rng.choice([o for o in C.OPS if o != "shutdown"])
            size = rng.choice([rng.randrange(256), rng.randrange(257, 400)])
            frames = [
                json.dumps(
                    {
                        "v": C.PROTOCOL_VERSION,
                        "op": op,
                        "id": "r",
                        "token": rng.choice([token, "bad"]),
                        "image": rng.choice([img, {}, None, 7]),
                    }
                ).encode(),
                bytes(size),
            ]
        elif kind == 2:
            frames = [hdr(token="guess" + str(rng.randrange(10**6)), op=rng.choice(C.OPS))]
        else:
            h = rng.randrange(1, 20)
            frames = [hdr(image={**img, "height": h}), bytes(32 * h + rng.choice([-7, -1, 1, 32]))]
        out.append((None, frames))
    return out


def _run_legit_job(client, src, box):
    try:
        box["events"] = list(client.colorize(as_layer(src), steps=120, seed=1))
    except Exception as exc:  # reported by the test thread
        box["error"] = exc


def test_hostile_traffic_while_a_job_runs(daemon, zctx):
    info = daemon.info
    legit = daemon.connect("pure")
    pid = info.pid
    warm = list(
        legit.colorize(as_layer(make_image(64, 64)), steps=1)
    )  # warm-up: model paths, caches
    assert warm[-1].kind == "result"
    rss_before, _ = rss_bytes(pid)

    src = make_image(192, 160, seed=9)
    box: dict = {}
    job_thread = threading.Thread(target=_run_legit_job, args=(legit, src, box))
    job_thread.start()

    rng = random.Random(1234)
    messages = _hostile_messages(info.token, rng)
    ctx = zctx
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.plain_username = C.PLAIN_USERNAME.encode()  # past the handshake: the header is hostile
    sock.plain_password = info.token.encode()
    sock.connect(f"tcp://127.0.0.1:{info.port}")
    answered, codes_ok = 0, 0
    poller = zmq.Poller()
    poller.register(sock, zmq.POLLIN)
    for expected, frames in messages:
        sock.send_multipart(frames)
        while True:  # one final reply per message (skip heartbeats)
            assert poller.poll(5000), f"no reply to {frames[0][:80]!r}"
            reply = json.loads(sock.recv_multipart()[0])
            if reply["reply"] != "heartbeat":
                break
        assert reply["reply"] == "error" and reply["code"] in C.__dict__.values(), reply
        answered += 1
        if expected is not None:
            assert reply["reply"] == "error" and reply["code"] == expected, (frames[0][:120], reply)
            assert reply["message"]
            codes_ok += 1
    sock.close(0)

    dropped = _unanswerable_connections(info.port, info.token, rng)

    job_thread.join(60)
    assert "error" not in box, box.get("error")
    result = box["events"][-1]
    assert result.kind == "result"
    out = layer_to_array(result.layer)
    assert np.array_equal(out[..., 3], src[..., 3])
    assert np.abs(lstar(out[..., :3]) - lstar(src[..., :3])).mean() < 0.5

    assert answered == len(messages) >= 500 and codes_ok >= 40 and dropped >= 20
    rss_after, _ = rss_bytes(pid)
    assert rss_after - rss_before < 150 * 2**20, (rss_before, rss_after)

    # still serving, same process
    again = daemon.connect("zmq")
    assert again.hello()["pid"] == pid
    assert list(again.colorize(as_layer(make_image(32, 32)), steps=1))[-1].kind == "result"
    status = again.status()
    assert status["errors"] >= 500
    again.close()
    legit.close()


def _unanswerable_connections(port: int, token: str, rng: random.Random) -> int:
    """Connections that cannot be answered: the daemon must drop them and live on."""
    plain_hello = encode_command(b"HELLO", b"\x05tinct\x05guess")
    n = 0
    for i in range(28):
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        try:
            if i % 7 == 0:  # random bytes instead of a greeting
                s.sendall(bytes(rng.randrange(256) for _ in range(200)))
            elif i % 7 == 1:  # the NULL mechanism: the daemon wants PLAIN
                s.sendall(
                    GREETING
                    + encode_command(b"READY", encode_properties({"Socket-Type": b"DEALER"}))
                )
                s.sendall(b"\xf0\x05hello")
            elif i % 7 == 2:  # PLAIN with a wrong password, then a message anyway
                s.sendall(greeting(b"PLAIN") + plain_hello)
                s.sendall(encode_frame_header(1000, more=True) + bytes(10))
            elif i % 7 == 3:  # PLAIN, garbage frame flags instead of HELLO
                s.sendall(greeting(b"PLAIN") + b"\xf0\x05hello")
            elif i % 7 == 4:  # a handshake command larger than the wire frame limit
                s.sendall(greeting(b"PLAIN"))
                s.sendall(struct.pack("!BQ", 0x06, MAX_FRAME * 4) + bytes(4096))
            elif i % 7 == 5:  # a data frame before any handshake command
                s.sendall(greeting(b"PLAIN"))
                s.sendall(encode_frame_header(1000, more=True) + bytes(10))
            else:  # a HELLO then hang up mid-frame
                s.sendall(greeting(b"PLAIN") + plain_hello[:5])
        except OSError:
            pass
        s.close()
        n += 1
    # a well-formed ZMTP client that disconnects right after asking for work
    d = ZmtpDealer("127.0.0.1", port, plain=(C.PLAIN_USERNAME.encode(), token.encode()))
    d.send_multipart(
        [encode_header({"v": C.PROTOCOL_VERSION, "op": "status", "id": "gone", "token": token})]
    )
    d.close()
    return n + 1
