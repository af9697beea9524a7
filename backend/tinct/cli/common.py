"""What the `tinct` command modules share: the user-error type and argument types.

Imported by every module of `tinct.cli`; it imports none of them back (an
import-linter contract in pyproject.toml says so).
"""

from __future__ import annotations

import argparse
import sys

from tinct.protocol import constants as C


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr (exit code 2, like every
    user error), naming the command and pointing at --help instead of the usage."""

    def error(self, message: str):
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def bounded(kind: type, low: float, high: float, name: str):
    """An argparse type: a `kind` number within [low, high]."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not low <= value <= high:  # NaN fails this too
            span = f"{low}..{high}" if kind is int else f"{low:g}..{high:g}"
            raise argparse.ArgumentTypeError(f"{name} must be within {span}, got {value}")
        return value

    return parse


_scale_in_bounds = bounded(float, C.MIN_SCALE, C.MAX_SCALE, "scale")


def scale_number(text: str) -> float:
    """An argparse type for --scale: a colourfulness within [MIN_SCALE, MAX_SCALE]. 'auto',
    which earlier versions took, gets a message saying what replaced it."""
    if text.strip().lower() == "auto":
        raise argparse.ArgumentTypeError(
            "'auto' is no longer supported (the automatic pick chose 1.0 on every validation "
            f"photo); give a number, {C.MIN_SCALE:g} (gray) to {C.MAX_SCALE:g}, default "
            f"{C.DEFAULT_SCALE:g}"
        )
    return _scale_in_bounds(text)


def check_text(value: str, name: str) -> str:
    """Command-line text must be real UTF-8 (undecodable bytes arrive as lone surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise CliError(f"{name} is not valid UTF-8 text") from None
    return value


def check_prompt(value: str, name: str = "--prompt") -> str:
    """A prompt is UTF-8 text of at most the daemon's length (tinct.protocol's
    MAX_PROMPT_CHARS: one bound for every way in)."""
    check_text(value, name)
    if len(value) > C.MAX_PROMPT_CHARS:
        raise CliError(f"{name} is {len(value)} characters long; the limit is {C.MAX_PROMPT_CHARS}")
    return value


def training_extra(exc: ImportError) -> CliError:
    """The CliError for a training or evaluation command whose modules or extra are missing."""
    if (exc.name or "").startswith("tinct"):
        return CliError(
            "the training and evaluation tools are not in this installation (the standalone "
            "backend leaves them out); use a Python install: pip install 'tinct[train]'"
        )
    return CliError(
        f"this command needs Tinct's training extra (missing: {exc.name or exc}); "
        "install it with: pip install 'tinct[train]'"
    )
