"""The `tinct` command line: the parser of every command, and the exit codes.

Each command lives in a module of its own (colorize, serve, client, install,
train, evaluate) that registers its sub-parser; what a command needs beyond
argparse (torch, the model, zmq, accelerate) is imported only when it runs.
Errors a user can fix are one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from tinct import __version__
from tinct.cli.check import add_check_parser
from tinct.cli.client import add_client_parser
from tinct.cli.colorize import add_colorize_parser
from tinct.cli.common import CliError, OneLineParser
from tinct.cli.evaluate import add_eval_parser
from tinct.cli.install import add_install_parser
from tinct.cli.serve import add_serve_parser
from tinct.cli.train import add_train_parsers


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="tinct", description="Tinct: AI colorization on your own machine.")
    parser.add_argument(
        "--version",
        action=_VersionAction,
        help="show Tinct's version, its libraries' versions and the device, and exit",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_colorize_parser(sub)
    add_serve_parser(sub)
    add_client_parser(sub)
    add_install_parser(sub)
    add_train_parsers(sub)
    add_eval_parser(sub)
    add_check_parser(sub)
    return parser


class _VersionAction(argparse.Action):
    """--version: the versions of what would run (imports torch, so only when asked)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        try:
            from tinct.pipeline.about import version_line

            line = version_line()
        except ImportError as exc:  # a broken install still says which Tinct it is
            line = f"tinct {__version__} (libraries unavailable: {exc})"
        print(line)
        parser.exit()


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
    parser = build_parser()
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so a write in progress removes its temporary file.
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return args.func(args)
    except (CliError, ValueError, FileNotFoundError) as exc:
        print(f"tinct: error: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print("tinct: error: out of memory", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. an unsafe runtime dir, a full disk: one line, no traceback
        print(f"tinct: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tinct: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("tinct: terminated", file=sys.stderr)
        return 128 + signal.SIGTERM


class Terminated(BaseException):
    """SIGTERM arrived (a BaseException, so `except Exception` cleanups do not swallow it)."""


def _terminate(signum, frame) -> None:
    raise Terminated()
