"""Errors a person can read: one line saying what failed and what to do, with the log.

Both plugins show ``readable_error(...).line`` in their status line or error message,
never a traceback; ``details`` (the backend log's last lines, or a bug's traceback)
goes behind a "Details" button or to stderr. The backend's own refusals (a gray
reference, an image too large) already say what to do and are kept as they are.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from .constants import E_DAEMON_LOST, E_INTERNAL, E_LAUNCH_FAILED, LOG_FILE
from .errors import LaunchError, TinctError

MAX_CAUSE_CHARS = 160  # of the cause, before what to do and the log's path are added


class Readable(NamedTuple):
    """An error as a plugin shows it."""

    line: str  # one line: what failed, what to do, where the log is
    details: str  # the rest, for a "Details" button ("" when there is nothing more)


def backend_log_path(runtime_dir: str | Path | None = None) -> str | None:
    """The daemon's log (``RUNTIME_DIR/daemon.log``; the launcher's runtime dir by
    default), or None when the runtime dir cannot be named."""
    if runtime_dir is None:
        from .connection import runtime_dir as find_runtime_dir

        try:
            runtime_dir = find_runtime_dir(create=False)
        except Exception:  # an unusable runtime dir: the launch error says why
            return None
    return str(Path(runtime_dir) / LOG_FILE)


def _one_line(text: str, chars: int = MAX_CAUSE_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "\u2026"


def _first_line(text: str) -> str:
    lines = [line for line in str(text).splitlines() if line.strip()]
    return _one_line(lines[0] if lines else "")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sentence(text: str) -> str:
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."


def readable_error(
    error: BaseException | str, log_path: str | None = None, trace: str = ""
) -> Readable:
    """ERROR as one line and its details. LOG_PATH is the backend's log (a launch error
    carries its own); TRACE is the traceback of an unexpected exception (a bug)."""
    if isinstance(error, str):
        return Readable(_sentence(_capital(_first_line(error))), "")
    log = getattr(error, "log_path", None) or log_path
    where = f" Log: {log}" if log else ""
    if isinstance(error, LaunchError) or (
        isinstance(error, TinctError) and error.code == E_LAUNCH_FAILED
    ):
        summary = getattr(error, "summary", None)
        if summary:
            line = (
                f"{_capital(_one_line(summary))}: see the log for why, fix it (or run "
                f"`tinct install` again) and Colorize again.{where}"
            )
            return Readable(line, getattr(error, "details", "") or error.message)
        return Readable(_sentence(_capital(_first_line(error.message))) + where, error.message)
    if isinstance(error, TinctError):
        cause = _first_line(error.message)
        if error.code == E_DAEMON_LOST:
            line = f"The Tinct backend stopped answering ({cause}); Colorize again to restart it."
            return Readable(line + where, error.message)
        if error.code == E_INTERNAL:
            line = f"The Tinct backend failed ({cause}); Colorize again, or report it with the log."
            return Readable(line + where, error.message)
        more = error.message if "\n" in error.message.strip() else ""
        return Readable(_sentence(_capital(cause)), more)
    cause = _one_line(f"{type(error).__name__}: {error}")
    line = f"Tinct hit a bug ({cause}); press Details and report it."
    return Readable(line + where, trace or cause)
