"""`tinct serve`: run the colorizer daemon (tinct.server) with its limits and defaults."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from tinct.cli.common import bounded
from tinct.options import add_sampling_options
from tinct.protocol import constants as C

# Every option is bounded here, so a bad value is one line and exit code 2 before the
# daemon starts (never a traceback, or a daemon that spins: --heartbeat 0 took 80 % CPU).
# Busy clients give up after DEFAULT_HEARTBEAT_TIMEOUT without traffic: heartbeats come
# at least twice within it.
MIN_HEARTBEAT, MAX_HEARTBEAT = 0.05, C.DEFAULT_HEARTBEAT_TIMEOUT / 2
_DAY = 86400.0
_BIG = 1 << 40


def add_serve_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "serve",
        help="run the colorizer daemon (ZeroMQ on 127.0.0.1; plugins start it themselves)",
        description="Run the Tinct daemon: one per user, found by plugins through "
        f"{C.CONNECTION_FILE} in the runtime dir. Exits {3} if one is already running.",
    )
    p.add_argument("--model", default=None, help="model folder (default: the bundled model)")
    p.add_argument("--device", default=None, help="cpu, cuda, mps (default: best available)")
    p.add_argument(
        "--runtime-dir",
        type=Path,
        default=None,
        help=f"default: ${C.ENV_RUNTIME_DIR}, else $XDG_RUNTIME_DIR/tinct, else a per-user temp dir",
    )
    p.add_argument(
        "--idle-timeout",
        type=bounded(float, 0.0, 365 * _DAY, "idle timeout"),
        default=C.DEFAULT_IDLE_TIMEOUT,
        help="seconds without work before exiting; 0 = never (default %(default)s)",
    )
    p.add_argument(
        "--heartbeat",
        type=bounded(float, MIN_HEARTBEAT, MAX_HEARTBEAT, "heartbeat"),
        default=C.DEFAULT_HEARTBEAT_INTERVAL,
        help="seconds between heartbeats to busy clients (default %(default)s)",
    )
    p.add_argument(
        "--max-pixels",
        type=bounded(int, 1, _BIG, "max pixels"),
        default=C.DEFAULT_MAX_PIXELS,
        help="largest image accepted (default %(default)s)",
    )
    p.add_argument(
        "--max-frame-bytes",
        type=bounded(int, 1, _BIG, "max frame bytes"),
        default=None,
        help="largest frame accepted (default: max pixels of RGBA 8-bit, at least 400 MB)",
    )
    p.add_argument(
        "--max-queue",
        type=bounded(int, 1, 1 << 20, "max queue"),
        default=C.DEFAULT_MAX_QUEUE,
        help="jobs waiting, all clients (default %(default)s)",
    )
    p.add_argument(
        "--max-queue-per-client",
        type=bounded(int, 1, 1 << 20, "max queue per client"),
        default=C.DEFAULT_MAX_QUEUE_PER_CLIENT,
    )
    p.add_argument(
        "--cache-mb",
        type=bounded(float, 0.0, float(1 << 30), "cache MiB"),
        default=C.DEFAULT_CACHE_BYTES / 2**20,
        help="latent cache budget in MiB (default %(default)s)",
    )
    p.add_argument(
        "--cache-jobs", type=bounded(int, 1, 1 << 20, "cache jobs"), default=C.DEFAULT_CACHE_JOBS
    )
    # The defaults of requests that leave them out; a bad one would fail every such job.
    add_sampling_options(p)
    p.add_argument(
        "--preview-side",
        type=bounded(int, 0, C.MAX_PREVIEW_SIDE, "preview side"),
        default=C.DEFAULT_PREVIEW_SIDE,
        help="longest side of previews; 0 = none",
    )
    p.add_argument(
        "--threads",
        type=bounded(int, 1, 4096, "threads"),
        default=None,
        help="torch CPU threads (default: torch's choice; 1 is far faster on a busy machine)",
    )
    p.add_argument(
        "--log-level",
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
        default="INFO",
    )
    p.set_defaults(func=run_serve)
    return p


def run_serve(args: argparse.Namespace) -> int:
    from tinct.protocol.messages import Limits, default_max_frame_bytes
    from tinct.server.loop import ServerConfig, serve
    from tinct.server.worker import Defaults

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    from tinct.pipeline.about import version_line

    # First line of the log: what runs, so a bug report says it.
    logging.getLogger("tinct.serve").info("%s", version_line(args.device))
    max_frame = args.max_frame_bytes or default_max_frame_bytes(args.max_pixels)
    config = ServerConfig(
        model=args.model,
        device=args.device,
        runtime_dir=args.runtime_dir,
        idle_timeout=args.idle_timeout,
        heartbeat_interval=args.heartbeat,
        limits=Limits(max_pixels=args.max_pixels, max_frame_bytes=max_frame),
        max_queue=args.max_queue,
        max_queue_per_client=args.max_queue_per_client,
        cache_bytes=int(args.cache_mb * 2**20),
        cache_jobs=args.cache_jobs,
        threads=args.threads,
        defaults=Defaults(steps=args.steps, guidance=args.guidance, preview_side=args.preview_side),
    )
    return serve(config)
