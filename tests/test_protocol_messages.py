"""The header schema and pixel-frame validation shared by daemon and clients (no sockets)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinct.protocol import Limits, PixelFormat, ProtocolError, parse_request
from tinct.protocol import constants as C
from tinct.protocol.messages import encode_header, make_request

TOKEN = "secret-token"


def _colorize(w=4, h=3, channels=4, dtype="u8", stride=None, frame_len=None, **extra):
    fmt = PixelFormat.packed(w, h, channels, dtype)
    if stride is not None:
        fmt = PixelFormat(w, h, channels, dtype, stride)
    header = make_request("colorize", "r1", TOKEN, image=fmt.to_json(), **extra)
    return [encode_header(header), b"\0" * (fmt.nbytes if frame_len is None else frame_len)]


def _code(frames, limits=None):
    with pytest.raises(ProtocolError) as info:
        parse_request(frames, TOKEN, limits or Limits())
    return info.value.code


def test_valid_colorize_with_hints_and_padding():
    fmt = PixelFormat(5, 2, 3, "u16", 32)  # 30 bytes of samples + 2 of padding per row
    hints = PixelFormat.packed(5, 2, 4, "f32")
    header = make_request(
        "colorize", "r1", TOKEN, image=fmt.to_json(), hints=hints.to_json(), prompt="red", scale=1.2
    )
    req = parse_request([encode_header(header), bytes(64), bytes(hints.nbytes)], TOKEN)
    assert req.op == "colorize" and req.image == fmt and req.hints == hints
    assert (
        req.params["scale"] == 1.2 and req.params["prompt"] == "red" and req.params["steps"] is None
    )


@pytest.mark.parametrize(
    "frames, code",
    [
        ([], C.E_BAD_FRAMES),
        ([b"\xff\xfe not json"], C.E_BAD_JSON),
        ([b"[1, 2]"], C.E_BAD_JSON),
        ([b'{"v": 2, "op": "hello", "id": "x", "token": NaN}'], C.E_BAD_JSON),
        ([b"[" * 5000 + b"]" * 5000], C.E_BAD_JSON),
        ([encode_header({"v": C.PROTOCOL_VERSION, "op": "hello", "id": "x"})], C.E_UNAUTHORIZED),
        (
            [encode_header({"v": C.PROTOCOL_VERSION, "op": "hello", "id": "x", "token": "wrong"})],
            C.E_UNAUTHORIZED,
        ),
        (
            [encode_header({"v": C.PROTOCOL_VERSION, "op": "hello", "id": "x", "token": 7})],
            C.E_UNAUTHORIZED,
        ),
        (
            [
                encode_header(
                    {"v": C.PROTOCOL_VERSION + 1, "op": "hello", "id": "x", "token": TOKEN}
                )
            ],
            C.E_VERSION,
        ),
        (
            [encode_header({"v": C.PROTOCOL_VERSION, "op": "dance", "id": "x", "token": TOKEN})],
            C.E_UNKNOWN_OP,
        ),
        ([encode_header({"v": C.PROTOCOL_VERSION, "op": "hello", "token": TOKEN})], C.E_BAD_HEADER),
        (
            [
                encode_header({"v": C.PROTOCOL_VERSION, "op": "hello", "id": "x", "token": TOKEN}),
                b"extra",
            ],
            C.E_BAD_FRAMES,
        ),
        (_colorize(frame_len=10), C.E_BAD_PIXELS),
        (_colorize()[:1], C.E_BAD_FRAMES),
        (_colorize() + [b"extra"], C.E_BAD_FRAMES),
        (_colorize(stride=5), C.E_BAD_PIXELS),
        (_colorize(dtype="u16", stride=25), C.E_BAD_PIXELS),
        (_colorize(scale="loud"), C.E_BAD_HEADER),
        (_colorize(steps=0), C.E_BAD_HEADER),
        (_colorize(steps=True), C.E_BAD_HEADER),
        (_colorize(prompt=["x"]), C.E_BAD_HEADER),
        (
            [encode_header(make_request("rescale", "x", TOKEN, job="j", size=[0, 5]))],
            C.E_BAD_HEADER,
        ),
        ([encode_header(make_request("apply", "x", TOKEN))], C.E_BAD_HEADER),
    ],
)
def test_bad_requests_get_specific_codes(frames, code):
    assert _code(frames) == code


def test_scale_left_out_is_the_default_and_auto_is_refused_as_an_old_plugin():
    """The automatic pick is gone: a request without a scale gets DEFAULT_SCALE, and "auto"
    (what plugins before the change send) is a version error whose one line says what to do."""
    assert parse_request(_colorize(), TOKEN).params["scale"] == C.DEFAULT_SCALE == 1.0
    no_scale = encode_header(make_request("apply", "x", TOKEN, job="j"))
    assert parse_request([no_scale], TOKEN).params["scale"] == C.DEFAULT_SCALE
    for frames in (
        _colorize(scale="auto"),
        [encode_header(make_request("rescale", "x", TOKEN, job="j", scale="auto"))],
        [encode_header(make_request("apply", "x", TOKEN, job="j", scale="auto"))],
    ):
        with pytest.raises(ProtocolError) as info:
            parse_request(frames, TOKEN)
        assert info.value.code == C.E_VERSION
        assert "update the Tinct plugin" in info.value.message and "\n" not in info.value.message
    assert _code(_colorize(scale="Auto")) == C.E_BAD_HEADER  # any other text: a bad field


def test_unknown_dtype_and_size_limits():
    header = json.loads(_colorize()[0])
    header["image"]["dtype"] = "f64"
    assert _code([encode_header(header), b""]) == C.E_BAD_DTYPE
    assert _code(_colorize(w=1000, h=1000), Limits(max_pixels=999_999)) == C.E_TOO_LARGE
    assert _code(_colorize(w=100, h=100), Limits(max_frame_bytes=1000)) == C.E_TOO_LARGE
    assert _code([b" " * 70_000], Limits()) == C.E_TOO_LARGE


def test_token_is_checked_before_anything_else():
    """A wrong token never reaches op validation: it gets 'unauthorized', whatever else is wrong."""
    header = json.loads(_colorize()[0])
    header["token"] = "nope"
    header["op"] = "nonsense"
    assert _code([encode_header(header), b"x"]) == C.E_UNAUTHORIZED


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=200), min_size=0, max_size=4))
def test_random_frames_raise_protocol_error_or_parse(frames):
    try:
        parse_request(frames, TOKEN)
    except ProtocolError as exc:
        assert exc.code in {
            C.E_BAD_JSON,
            C.E_BAD_HEADER,
            C.E_BAD_FRAMES,
            C.E_UNAUTHORIZED,
            C.E_TOO_LARGE,
        }


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(C.OPS),
    st.dictionaries(
        st.sampled_from(
            [
                "image",
                "hints",
                "scale",
                "steps",
                "job",
                "size",
                "prompt",
                "seed",
                "dtype",
                "preview_side",
            ]
        ),
        json_values,
        max_size=5,
    ),
    st.lists(st.binary(max_size=64), max_size=3),
)
def test_authorised_garbage_fields_only_raise_protocol_errors(op, fields, frames):
    header = {"v": C.PROTOCOL_VERSION, "op": op, "id": "r", "token": TOKEN, **fields}
    try:
        req = parse_request([encode_header(header), *frames], TOKEN)
    except ProtocolError as exc:
        assert exc.request_id == "r"
        assert exc.code in {
            C.E_BAD_HEADER,
            C.E_BAD_FRAMES,
            C.E_BAD_PIXELS,
            C.E_BAD_DTYPE,
            C.E_TOO_LARGE,
        } or (exc.code == C.E_VERSION and fields.get("scale") == "auto")
    else:
        assert req.op == op


@given(
    st.integers(1, 50),
    st.integers(1, 50),
    st.sampled_from(C.CHANNELS),
    st.sampled_from(list(C.DTYPES)),
    st.integers(0, 3),
    st.sampled_from(C.ORDERS),
)
def test_pixel_format_json_round_trip(w, h, c, dtype, pad_items, order):
    item = C.DTYPES[dtype]
    fmt = PixelFormat(w, h, c, dtype, (w * c + pad_items) * item, order)
    assert PixelFormat.from_json(json.loads(json.dumps(fmt.to_json()))) == fmt
    fmt.check_frame(fmt.nbytes)
    with pytest.raises(ProtocolError):
        fmt.check_frame(fmt.nbytes + 1)


def test_pixel_frames_travel_in_wire_frames_of_at_most_the_limit_and_are_joined():
    """A request's pixel frames are split into wire frames of at most WIRE_FRAME_BYTES
    (the daemon's ZMQ_MAXMSGSIZE) and joined back byte for byte; one that fits stays
    one wire frame and is not copied."""
    from tinct.protocol.messages import request_frames

    fmt = PixelFormat.packed(300, 200, 4, "f32")  # 960,000 bytes: 8 wire frames
    hints = PixelFormat.packed(300, 200, 4, "u8")
    ref = PixelFormat.packed(16, 8, 3, "u8")  # 384 bytes: one
    image = bytes(range(256)) * (fmt.nbytes // 256) + bytes(fmt.nbytes % 256)
    hint_bytes = bytes(hints.nbytes)
    ref_bytes = bytes(range(fmt.nbytes % 256, fmt.nbytes % 256 + 1)) * ref.nbytes
    header = make_request(
        "colorize", "r", TOKEN, image=fmt.to_json(), hints=hints.to_json(), reference=ref.to_json()
    )
    wire = request_frames(header, [image, hint_bytes, ref_bytes])
    assert all(memoryview(w).nbytes <= C.WIRE_FRAME_BYTES for w in wire)
    assert len(wire) == 1 + 8 + 2 + 1
    req = parse_request(wire, TOKEN, consume=True)
    assert bytes(req.frames[0]) == image and bytes(req.frames[1]) == hint_bytes
    assert req.frames[2] is ref_bytes  # one wire frame: kept as it came
    assert len(wire) == 1  # consumed: the caller holds no chunk any more

    def code(frames):
        return _code([encode_header(header), *frames])

    chunks = request_frames(header, [image, hint_bytes, ref_bytes])[1:]
    assert code(chunks[:-1]) == C.E_BAD_FRAMES  # the reference never came
    assert code([*chunks, b"x"]) == C.E_BAD_FRAMES  # a wire frame too many
    assert code([*chunks[:7], *chunks[8:]]) == C.E_BAD_PIXELS  # image short: straddles hints
    assert code([*chunks[:-2], chunks[-2][:-1], chunks[-1]]) == C.E_BAD_PIXELS  # hints short
    whole = parse_request([encode_header(header), image, hint_bytes, ref_bytes], TOKEN)
    assert bytes(whole.frames[0]) == image
