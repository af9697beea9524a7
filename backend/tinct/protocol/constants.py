"""Versioned constants of the Tinct wire protocol (see docs/protocol.md).

Standard library only: plugins vendor this package into GIMP's and Krita's
embedded Pythons, which cannot install compiled wheels.
"""

from __future__ import annotations

from enum import Enum

# Bump on any incompatible change to headers, ops, frame layout or handshake.
# 2: the token authenticates the connection (ZMTP PLAIN), pixel frames travel in
#    wire frames of at most WIRE_FRAME_BYTES.
PROTOCOL_VERSION = 2


class WireName(str, Enum):
    """A name the wire carries as a JSON string. Members are str: they compare, hash,
    print and JSON-encode as their value, so headers stay byte for byte the same and
    ``event.kind == "result"`` holds (Python 3.11's StrEnum, written for 3.10)."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


# --- Requests: header field "op" ------------------------------------------
class Op(WireName):
    HELLO = "hello"
    COLORIZE = "colorize"
    RESCALE = "rescale"
    APPLY = "apply"
    CANCEL = "cancel"
    STATUS = "status"
    SHUTDOWN = "shutdown"
    ECHO = "echo"  # diagnostic: returns its pixel frame (used to measure transport cost)


# Optional parts of a colorize request, announced in hello's "features" (a client
# checks for one before using it; an older daemon lacks the entry).
FEATURE_HINTS = "hints"  # an RGBA frame of painted colour, the image's size
FEATURE_REFERENCE = "reference"  # a colour photo of any size that lends its colours
# Announced only by a daemon whose model draws variations (an encoder prior): a colorize
# "seed" other than 0 then gives another plausible colouring; without it, seeds are ignored.
FEATURE_VARIATIONS = "variations"
FEATURES = (FEATURE_HINTS, FEATURE_REFERENCE)  # what every daemon of this protocol offers
OPS = tuple(Op)


# --- Replies: header field "reply" -----------------------------------------
class Reply(WireName):
    # Interim replies: zero or more per request.
    QUEUED = "queued"  # colorize accepted: carries the job id and the jobs ahead of it
    # The job left the queue and runs (carries the job id). Added within protocol 2: a
    # client that does not know it ignores it (``client.reply_kind``), and a client of an
    # older daemon that never sends it takes the first "progress" as the same news.
    STARTED = "started"
    PROGRESS = "progress"  # step / total
    PREVIEW = "preview"  # a low-resolution look at the result (one pixel frame)
    HEARTBEAT = "heartbeat"  # liveness while a client has work in the daemon
    # Final replies: exactly one per request.
    HELLO = "hello"
    RESULT = "result"  # colorize / rescale / apply / echo: one pixel frame
    STATUS = "status"
    OK = "ok"  # cancel, shutdown
    ERROR = "error"  # code + human message


INTERIM_REPLIES = (
    Reply.QUEUED,
    Reply.STARTED,
    Reply.PROGRESS,
    Reply.PREVIEW,
    Reply.HEARTBEAT,
)
FINAL_REPLIES = (Reply.HELLO, Reply.RESULT, Reply.STATUS, Reply.OK, Reply.ERROR)


class CancelState(WireName):
    """Where a cancelled job was: the "state" field of cancel's "ok" reply."""

    CANCELLED = "cancelled"  # it was still queued: it never ran
    CANCELLING = "cancelling"  # it is running and stops at its next step
    FINISHED = "finished"  # it had finished already (its result stays cached)


# --- Error codes (reply "error", field "code") -----------------------------
E_BAD_JSON = "bad_json"  # frame 0 is not a UTF-8 JSON object
E_BAD_HEADER = "bad_header"  # a field is missing, of the wrong type or out of range
E_UNKNOWN_OP = "unknown_op"
E_UNAUTHORIZED = "unauthorized"  # missing or wrong token: nothing was done
E_VERSION = "version_mismatch"
E_BAD_FRAMES = "bad_frames"  # wrong number of frames for the op
E_BAD_PIXELS = "bad_pixels"  # frame length does not match width/height/stride
E_BAD_DTYPE = "bad_dtype"
E_TOO_LARGE = "too_large"  # over max pixels / max frame bytes / max header bytes
E_QUEUE_FULL = "queue_full"
E_UNKNOWN_JOB = "unknown_job"  # never existed, or evicted from the latent cache
E_CANCELLED = "cancelled"
E_SHUTTING_DOWN = "shutting_down"
E_INTERNAL = "internal"  # a bug or a model failure; the daemon keeps serving
# Raised on the client only, never sent by the daemon:
E_DAEMON_LOST = "daemon_lost"  # no traffic within the heartbeat timeout / connection closed
E_LAUNCH_FAILED = "launch_failed"

# --- Pixel frames -----------------------------------------------------------
# dtype name -> bytes per sample. All multi-byte samples are little-endian.
DTYPES = {"u8": 1, "u16": 2, "f32": 4}
# Channel counts: 1 gray, 2 gray+alpha, 3 color, 4 color+alpha.
CHANNELS = (1, 2, 3, 4)
# Channel order of color frames: "rgb" = R,G,B(,A); "bgr" = B,G,R(,A) (Krita's u8/u16 layout).
ORDERS = ("rgb", "bgr")

# --- Defaults and limits (the daemon may announce tighter ones in hello) ----
DEFAULT_MAX_PIXELS = 100_000_000
DEFAULT_MAX_HEADER_BYTES = 64 * 1024
# The largest legal pixel frame, and so the daemon's ZMQ_MAXMSGSIZE: libzmq buffers a
# frame in full before the token in its header can be checked, so this bounds what an
# unauthenticated connection can cost. 100 MP of RGBA 8-bit (50 MP of RGBA 16-bit,
# 25 MP of RGBA float).
DEFAULT_MAX_FRAME_BYTES = DEFAULT_MAX_PIXELS * 4
DEFAULT_MAX_QUEUE = 64  # jobs waiting in the daemon, all clients together
DEFAULT_MAX_QUEUE_PER_CLIENT = 16
DEFAULT_CACHE_BYTES = 1 << 30  # latents + sources of finished jobs
DEFAULT_CACHE_JOBS = 32
DEFAULT_HEARTBEAT_INTERVAL = 1.0  # seconds between daemon heartbeats to busy clients
DEFAULT_HEARTBEAT_TIMEOUT = 5.0  # client gives up after this long without any traffic
DEFAULT_IDLE_TIMEOUT = 1800.0  # daemon exits after this long without work (0 = never)
DEFAULT_START_TIMEOUT = 120.0  # launcher waits this long for a fresh daemon's hello
DEFAULT_PREVIEW_SIDE = 512  # longest side of the preview sent during colorize
MAX_PROMPT_CHARS = 2000
MAX_FILE_PIXELS = 400_000_000  # images read from files (CLI), checked from the header
# A peer that has not finished the ZMTP handshake after this long is dropped (its fd freed).
# A local client with the token finishes it in milliseconds; a peer without one never does.
HANDSHAKE_TIMEOUT = 3.0
# The ZMTP handshake: the PLAIN mechanism, this user name and the token as the password.
# The daemon's ZAP handler refuses a wrong password before any message is read.
PLAIN_USERNAME = "tinct"
# The largest ZeroMQ frame the daemon reads (its ZMQ_MAXMSGSIZE), handshake commands
# included: libzmq buffers a whole frame before anyone can look at it, so this is what a
# connection without the token can make the daemon hold. Requests send each pixel frame
# as consecutive wire frames of at most this many bytes (the header is one wire frame,
# at most max_header_bytes; this leaves room to answer a slightly bigger one "too_large").
WIRE_FRAME_BYTES = 1 << 17
MAX_PREVIEW_SIDE = 8192

# --- User-facing defaults and bounds ------------------------------------------
# The one place for them: `tinct colorize`, `tinct serve` (the daemon's defaults),
# the wire validation, the Krita docker and the GIMP procedure all read these, and
# tests/test_defaults_agree.py plus the host tests check that they do.
SCALE_WORD = "Colourfulness"  # the one name of the scale slider, in every UI
# Source: the low end of DESIGN's "4-20 steps", never measured (several act like one there).
DEFAULT_STEPS = 4
MIN_STEPS, MAX_STEPS = 1, 200
# Source: hand-picked with the first pipeline (16d2069), never measured; text prompts only.
DEFAULT_GUIDANCE = 1.5
MIN_GUIDANCE, MAX_GUIDANCE = 0.0, 20.0
# 1 = as the model predicts. An automatic pick (a ranker choosing among 0.6-1.0) was removed:
# on the 42-photo validation split it chose exactly 1.0 for every photo (docs/design.md).
DEFAULT_SCALE = 1.0
MIN_SCALE, MAX_SCALE = 0.0, 2.0  # 0 = gray
# Variations: N colourings of one image, variation k of seed s has seed s + k - 1
# (colorize_request.variation_seeds), so each result's own seed reproduces it alone.
DEFAULT_VARIATIONS = 1
MIN_VARIATIONS, MAX_VARIATIONS = 1, 4
DEFAULT_SEED = 0  # 0 = the model's own colouring (what Tinct gives without a seed)
MIN_SEED, MAX_SEED = 0, 2**31 - 1  # the range a Qt or GIMP integer box can hold


# --- Starting the daemon (reported by the launcher, not sent on the wire) ----------
class StartPhase(WireName):
    """Where a start of the backend is, as the launcher sees it from the runtime folder."""

    STARTING = "starting"  # the backend process runs; it does not hold the daemon lock yet
    LOADING = "loading"  # it holds the lock and loads the model (daemon.lock: "<pid>")


# --- Exit codes of `tinct serve` (read by the launcher) -----------------------
EXIT_ALREADY_RUNNING = 3  # another daemon already holds the runtime folder's lock

# --- Files and environment -------------------------------------------------
CONNECTION_FILE = "daemon.json"
LOCK_FILE = "daemon.lock"
LOG_FILE = "daemon.log"
ENV_RUNTIME_DIR = "TINCT_RUNTIME_DIR"
ENV_TRANSPORT = "TINCT_TRANSPORT"  # "zmq" | "pure" | unset (zmq when importable)
ENV_BACKEND_CMD = "TINCT_BACKEND_CMD"  # JSON list or a shell-style command line
ENV_CONFIG = "TINCT_CONFIG"  # path of a JSON config file
TRANSPORTS = ("zmq", "pure")
