"""What the `tinct` command modules share: the user-error type and argument types.

Imported by every module of `tinct.cli`; it imports none of them back (an
import-linter contract in pyproject.toml says so). The option groups and the
bounded number type live in tinct.options (the training recipe uses them too).
"""

from __future__ import annotations

import argparse
import sys

from tinct.options import bounded
from tinct.protocol import constants as C

__all__ = ["CliError", "OneLineParser", "bounded", "check_prompt", "check_text", "training_extra"]


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr (exit code 2, like every
    user error), naming the command and pointing at --help instead of the usage."""

    def error(self, message: str):
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


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
