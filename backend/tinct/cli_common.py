"""What every `tinct` command module shares (argument types, the user-error type).

Imported by `tinct.cli` and by the command modules it loads (`cli_serve`,
`cli_train`, `install.command`); it imports none of them back.
"""

from __future__ import annotations

import argparse


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


def bounded(kind: type, low: float, high: float, name: str, allow_auto: bool = False):
    """An argparse type: a `kind` number within [low, high] (or 'auto')."""

    def parse(text: str):
        if allow_auto and text == "auto":
            return "auto"
        try:
            value = kind(text)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            extra = " or 'auto'" if allow_auto else ""
            raise argparse.ArgumentTypeError(f"expected {what}{extra}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{name} must be within {low:g}..{high:g}, got {value}"
            )
        return value

    return parse


def check_text(value: str, name: str) -> str:
    """Command-line text must be real UTF-8 (undecodable bytes arrive as lone surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise CliError(f"{name} is not valid UTF-8 text") from None
    return value
