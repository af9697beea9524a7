"""Message headers: encode, decode and validate (standard library only).

A message is a list of frames. Frame 0 is a UTF-8 JSON object (the header);
frames 1.. are raw pixel buffers described by the header. The schema of every
op lives here, used by the daemon to validate requests and by the clients to
build them, so the two cannot drift apart.
"""

from __future__ import annotations

import hmac
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from .constants import (
    DEFAULT_MAX_FRAME_BYTES,
    DEFAULT_MAX_HEADER_BYTES,
    DEFAULT_MAX_PIXELS,
    DEFAULT_SCALE,
    DTYPES,
    E_BAD_FRAMES,
    E_BAD_HEADER,
    E_BAD_JSON,
    E_TOO_LARGE,
    E_UNAUTHORIZED,
    E_UNKNOWN_OP,
    E_VERSION,
    MAX_GUIDANCE,
    MAX_PREVIEW_SIDE,
    MAX_PROMPT_CHARS,
    MAX_SCALE,
    MAX_SEED,
    MAX_STEPS,
    MIN_GUIDANCE,
    MIN_SCALE,
    MIN_SEED,
    MIN_STEPS,
    OPS,
    PROTOCOL_VERSION,
    WIRE_FRAME_BYTES,
    Op,
    Reply,
)
from .errors import ProtocolError
from .pixels import PixelFormat

MAX_ID_CHARS = 128


def default_max_frame_bytes(max_pixels: int) -> int:
    """The largest legal frame (and the daemon's ZMQ_MAXMSGSIZE) for a pixel limit: RGBA
    8-bit at ``max_pixels``, at least DEFAULT_MAX_FRAME_BYTES, never more than RGBA float
    needs. A small --max-pixels keeps room to answer 'too many pixels' instead of
    dropping the connection."""
    return min(max_pixels * 16, max(DEFAULT_MAX_FRAME_BYTES, max_pixels * 4))


@dataclass(frozen=True)
class Limits:
    """What a daemon accepts: at most `max_pixels` per image, `max_frame_bytes` per frame and
    `max_header_bytes` per JSON header (sent in hello).
    """

    max_pixels: int = DEFAULT_MAX_PIXELS
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES

    def to_json(self) -> dict:
        """The limits as hello's JSON object."""
        return {
            "max_pixels": self.max_pixels,
            "max_frame_bytes": self.max_frame_bytes,
            "max_header_bytes": self.max_header_bytes,
        }


@dataclass
class Request:
    """A validated request: ``params`` holds the op's fields with defaults filled in."""

    op: Op
    id: str
    params: dict = field(default_factory=dict)
    image: PixelFormat | None = None
    hints: PixelFormat | None = None
    reference: PixelFormat | None = None  # colorize: a colour photo of any size
    frames: list = field(default_factory=list)  # pixel frames (frame 1..), unchanged


def encode_header(header: dict) -> bytes:
    """A header dict -> frame 0: compact UTF-8 JSON; NaN and infinities are refused (ValueError)."""
    return json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not allowed in a Tinct header")


def decode_header(frame: object, max_bytes: int = DEFAULT_MAX_HEADER_BYTES) -> dict:
    """Frame 0 -> dict, or ProtocolError(bad_json / too_large)."""
    buf = memoryview(frame).cast("B")
    if buf.nbytes > max_bytes:
        raise ProtocolError(
            E_TOO_LARGE, f"header is {buf.nbytes} bytes; at most {max_bytes} allowed"
        )
    try:
        obj = json.loads(bytes(buf).decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError(
            E_BAD_JSON, f"header frame is not UTF-8 JSON: {str(exc)[:120]}"
        ) from None
    if not isinstance(obj, dict):
        raise ProtocolError(E_BAD_JSON, f"header must be a JSON object, got {type(obj).__name__}")
    return obj


def request_id_of(header: dict) -> str | None:
    """The header's request id when it is a string of at most MAX_ID_CHARS, else None (so an error
    reply can still name a valid id).
    """
    rid = header.get("id")
    return rid if isinstance(rid, str) and len(rid) <= MAX_ID_CHARS else None


def make_request(op: Op, request_id: str, token: str, **fields) -> dict:
    """A request header: protocol version, op, id, token and the fields that are not None."""
    header = {"v": PROTOCOL_VERSION, "op": op, "id": request_id, "token": token}
    header.update({k: v for k, v in fields.items() if v is not None})
    return header


def make_reply(kind: Reply, request_id: str | None, **fields) -> dict:
    """A reply header of `kind` for request `request_id`, with `fields`."""
    header = {"v": PROTOCOL_VERSION, "reply": kind, "id": request_id}
    header.update(fields)
    return header


def error_reply(code: str, message: str, request_id: str | None, **fields) -> dict:
    """An error reply: machine-readable `code` (the protocol's E_* constants) and a message for the
    user.
    """
    return make_reply(Reply.ERROR, request_id, code=code, message=message, **fields)


# --- Request validation ---------------------------------------------------


def parse_request(
    frames: list,
    token: str,
    limits: Limits = Limits(),
    *,
    consume: bool = False,
    release: Callable[[], None] | None = None,
) -> Request:
    """Validate a request (wire frames without the ROUTER identity); a pixel frame sent
    as several wire frames (see ``split_frame``) is joined into one buffer.

    Order matters: the token is checked right after the header is decoded, so a
    request without the right token costs nothing more than a JSON parse. With
    ``consume`` the wire frames after the header are taken out of ``frames``, so a
    400 MB image is not held twice while its chunks are joined.
    """
    if not frames:
        raise ProtocolError(E_BAD_FRAMES, "empty message: frame 0 must be a JSON header")
    header = decode_header(frames[0], limits.max_header_bytes)
    rid = request_id_of(header)
    sent = header.get("token")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), token.encode()):
        raise ProtocolError(
            E_UNAUTHORIZED, "missing or wrong token; read it from the connection file", rid
        )
    if header.get("v") != PROTOCOL_VERSION:
        raise ProtocolError(
            E_VERSION,
            f"protocol version {header.get('v')!r} is not supported; this daemon speaks {PROTOCOL_VERSION}",
            rid,
        )
    if rid is None:
        raise ProtocolError(
            E_BAD_HEADER, f"'id' must be a string of at most {MAX_ID_CHARS} characters"
        )
    name = header.get("op")
    if name not in OPS:
        raise ProtocolError(
            E_UNKNOWN_OP, f"unknown op {name!r}; expected one of {', '.join(OPS)}", rid
        )
    op = Op(name)
    for n, f in enumerate(frames[1:], start=1):
        if memoryview(f).nbytes > limits.max_frame_bytes:
            raise ProtocolError(
                E_TOO_LARGE,
                f"frame {n} exceeds the daemon's max frame size of {limits.max_frame_bytes} bytes",
                rid,
            )
    wire = frames[1:]
    if consume:  # the caller keeps no reference: joining frees each chunk once copied
        del frames[1:]
    try:
        return _PARSERS[op](header, rid, wire, limits, release)
    except ProtocolError as exc:
        exc.request_id = rid
        raise


RELEASE_EVERY = 128  # wire frames (16 MiB) joined between calls of parse_request's release


def split_frame(frame: object, limit: int = WIRE_FRAME_BYTES) -> list:
    """One pixel frame as the wire frames a request carries it in: consecutive slices of
    at most ``limit`` bytes (views, no copies; an empty frame stays one empty frame)."""
    view = memoryview(frame).cast("B")
    if view.nbytes <= limit:
        return [frame]
    return [view[i : i + limit] for i in range(0, view.nbytes, limit)]


def request_frames(header: dict, pixel_frames: list, limit: int = WIRE_FRAME_BYTES) -> list:
    """The wire frames of a request: the encoded header, then each pixel frame split."""
    return [encode_header(header), *(w for f in pixel_frames for w in split_frame(f, limit))]


def _untouched_buffer(n: int):
    """A writable zeroed buffer of ``n`` bytes whose pages become resident only when
    written (an anonymous mmap; ``bytearray(n)`` would zero-fill, touching them all)."""
    import mmap

    return mmap.mmap(-1, n) if n else bytearray()


def _gather(op: Op, wire: list, described: list, limits: Limits, release=None) -> list:
    """Join the wire frames after the header into the described pixel frames, in order.

    ``described`` is [(name, PixelFormat)]. Each pixel frame is the next wire frames whose
    lengths add up to its ``stride * height``; a frame that is one wire frame is kept as
    it came (no copy). Consumed entries of ``wire`` are set to None as they are copied,
    so a caller that holds no other reference frees each chunk as soon as it is joined;
    ``release`` (if given) is called after every RELEASE_EVERY of them (the daemon
    hands freed heap memory back to the system there, so a 400 MB frame does not
    peak at twice its size).
    """
    what = ", ".join(name for name, _ in described)
    out = []
    i = 0
    for name, fmt in described:
        need = fmt.nbytes
        if need > limits.max_frame_bytes:
            raise ProtocolError(
                E_TOO_LARGE,
                f"the {name} frame is {need} bytes; the daemon's max frame size is "
                f"{limits.max_frame_bytes} bytes",
            )
        if i >= len(wire):
            raise ProtocolError(
                E_BAD_FRAMES,
                f"'{op}' describes {len(described)} pixel frame(s) ({what}); "
                f"the message ended before the {name} frame",
            )
        start, got = i, 0
        while i < len(wire) and got < need:
            got += memoryview(wire[i]).nbytes
            i += 1
        fmt.check_frame(got, field=name)  # bad_pixels: too short, or overshoots
        if i - start == 1:
            out.append(wire[start])
            continue
        buf = _untouched_buffer(need)
        pos = 0
        for k in range(start, i):
            chunk = memoryview(wire[k]).cast("B")
            buf[pos : pos + chunk.nbytes] = chunk
            pos += chunk.nbytes
            del chunk
            wire[k] = None
            if release is not None and (k - start) % RELEASE_EVERY == RELEASE_EVERY - 1:
                release()
        out.append(buf)
    if i < len(wire):
        raise ProtocolError(
            E_BAD_FRAMES,
            f"'{op}' carries {len(wire) - i} wire frame(s) after its described pixel frames "
            f"({what})",
        )
    return out


def _expect_frames(op: Op, pixel_frames: list, n: int, what: str) -> None:
    if len(pixel_frames) != n:
        raise ProtocolError(
            E_BAD_FRAMES,
            f"'{op}' expects {n} pixel frame(s) ({what}) after the header, got {len(pixel_frames)}",
        )


def _opt_number(header: dict, key: str, lo: float, hi: float) -> float | None:
    v = header.get(key)
    if v is None:
        return None
    if (
        isinstance(v, bool)
        or not isinstance(v, (int, float))
        or not math.isfinite(v)
        or not lo <= v <= hi
    ):
        raise ProtocolError(E_BAD_HEADER, f"'{key}' must be a number in [{lo}, {hi}], got {v!r}")
    return float(v)


def _opt_int(header: dict, key: str, lo: int, hi: int) -> int | None:
    v = header.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ProtocolError(E_BAD_HEADER, f"'{key}' must be an integer in [{lo}, {hi}], got {v!r}")
    return v


def _scale(header: dict) -> float:
    """The colourfulness: a number in [MIN_SCALE, MAX_SCALE], DEFAULT_SCALE when left out.
    "auto" (the automatic pick, which plugins before it was removed still send) is refused
    with a message that says what to do."""
    if header.get("scale") == "auto":
        raise ProtocolError(
            E_VERSION,
            "'scale' \"auto\" is no longer supported (the automatic colourfulness pick was "
            f"removed; the default is {DEFAULT_SCALE}): update the Tinct plugin, or send a number "
            f"in [{MIN_SCALE}, {MAX_SCALE}]",
        )
    s = _opt_number(header, "scale", MIN_SCALE, MAX_SCALE)
    return DEFAULT_SCALE if s is None else s


def _job(header: dict) -> str:
    job = header.get("job")
    if not isinstance(job, str) or not 0 < len(job) <= MAX_ID_CHARS:
        raise ProtocolError(
            E_BAD_HEADER, f"'job' must be the job id from a 'queued' or 'result' reply, got {job!r}"
        )
    return job


def _size(header: dict) -> tuple[int, int] | None:
    v = header.get("size")
    if v is None:
        return None
    if (
        not isinstance(v, list)
        or len(v) != 2
        or not all(
            isinstance(x, int) and not isinstance(x, bool) and 0 < x <= MAX_PREVIEW_SIDE for x in v
        )
    ):
        raise ProtocolError(
            E_BAD_HEADER,
            f"'size' must be [width, height] with each in 1..{MAX_PREVIEW_SIDE}, got {v!r}",
        )
    return v[0], v[1]


def _parse_plain(header, rid, pixel_frames, limits, release=None):
    op = Op(header["op"])
    _expect_frames(op, pixel_frames, 0, "none")
    return Request(op, rid)


def _parse_colorize(header, rid, pixel_frames, limits, release=None):
    image = PixelFormat.from_json(header.get("image"), field="image", max_pixels=limits.max_pixels)
    hints = None
    if header.get("hints") is not None:
        hints = PixelFormat.from_json(header["hints"], field="hints", max_pixels=limits.max_pixels)
        if (hints.width, hints.height) != (image.width, image.height) or hints.channels != 4:
            raise ProtocolError(
                E_BAD_HEADER,
                f"'hints' must be RGBA (4 channels) of the image's size {image.width}x{image.height}, "
                f"got {hints.width}x{hints.height}x{hints.channels}",
            )
    reference = None
    if header.get("reference") is not None:
        reference = PixelFormat.from_json(
            header["reference"], field="reference", max_pixels=limits.max_pixels
        )
        if reference.channels < 3:
            raise ProtocolError(
                E_BAD_HEADER,
                f"'reference' must be a colour photo (3 or 4 channels), got {reference.channels}",
            )
    described = [("image", image), ("hints", hints), ("reference", reference)]
    described = [(name, fmt) for name, fmt in described if fmt is not None]
    prompt = header.get("prompt", "")
    if not isinstance(prompt, str) or len(prompt) > MAX_PROMPT_CHARS:
        raise ProtocolError(
            E_BAD_HEADER, f"'prompt' must be a string of at most {MAX_PROMPT_CHARS} characters"
        )
    params = {
        "prompt": prompt,
        "steps": _opt_int(header, "steps", MIN_STEPS, MAX_STEPS),
        "guidance": _opt_number(header, "guidance", MIN_GUIDANCE, MAX_GUIDANCE),
        "scale": _scale(header),
        "seed": _opt_int(header, "seed", MIN_SEED, MAX_SEED),
        "preview_side": _opt_int(header, "preview_side", 0, MAX_PREVIEW_SIDE),
    }
    # Last: joining big frames copies them, so every cheaper check comes first.
    frames = _gather(Op.COLORIZE, pixel_frames, described, limits, release)
    return Request(Op.COLORIZE, rid, params, image, hints, reference, frames)


def _parse_rescale(header, rid, pixel_frames, limits, release=None):
    _expect_frames(Op.RESCALE, pixel_frames, 0, "none")
    dtype = header.get("dtype", "u8")
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise ProtocolError(
            E_BAD_HEADER, f"'dtype' is {dtype!r}; expected one of {', '.join(DTYPES)}"
        )
    params = {"job": _job(header), "scale": _scale(header), "size": _size(header), "dtype": dtype}
    return Request(Op.RESCALE, rid, params)


def _parse_apply(header, rid, pixel_frames, limits, release=None):
    _expect_frames(Op.APPLY, pixel_frames, 0, "none")
    return Request(Op.APPLY, rid, {"job": _job(header), "scale": _scale(header)})


def _parse_cancel(header, rid, pixel_frames, limits, release=None):
    _expect_frames(Op.CANCEL, pixel_frames, 0, "none")
    return Request(Op.CANCEL, rid, {"job": _job(header)})


def _parse_echo(header, rid, pixel_frames, limits, release=None):
    image = PixelFormat.from_json(header.get("image"), field="image", max_pixels=limits.max_pixels)
    frames = _gather(Op.ECHO, pixel_frames, [("image", image)], limits, release)
    return Request(Op.ECHO, rid, {}, image, frames=frames)


_PARSERS = {
    Op.HELLO: _parse_plain,
    Op.STATUS: _parse_plain,
    Op.SHUTDOWN: _parse_plain,
    Op.COLORIZE: _parse_colorize,
    Op.RESCALE: _parse_rescale,
    Op.APPLY: _parse_apply,
    Op.CANCEL: _parse_cancel,
    Op.ECHO: _parse_echo,
}
