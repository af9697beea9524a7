"""Exceptions shared by the daemon and the clients (standard library only)."""

from __future__ import annotations

from .constants import E_DAEMON_LOST, E_LAUNCH_FAILED


class TinctError(Exception):
    """An error the daemon reported, or the client detected; ``code`` is from constants.E_*."""

    def __init__(self, code: str, message: str, request_id: str | None = None):
        super().__init__(f"{message} [{code}]")
        self.code = code
        self.message = message
        self.request_id = request_id


class ProtocolError(TinctError):
    """A request or reply that breaks the protocol (bad header, frames, sizes)."""


class DaemonLost(TinctError):
    """The daemon stopped answering (no traffic within the heartbeat timeout) or closed."""

    def __init__(self, message: str, request_id: str | None = None):
        super().__init__(E_DAEMON_LOST, message, request_id)


class LaunchError(TinctError):
    """No daemon could be found or started.

    ``message`` is the whole story (with the log's last lines, for the CLI); when the
    launcher knows them, ``summary`` is what failed in a few words, ``log_path`` the
    backend's log and ``details`` its last lines, so a plugin can show one line
    (``readable.readable_error``) and the rest behind a button.
    """

    def __init__(
        self,
        message: str,
        *,
        summary: str | None = None,
        log_path: str | None = None,
        details: str = "",
    ):
        super().__init__(E_LAUNCH_FAILED, message)
        self.summary = summary
        self.log_path = log_path
        self.details = details


class Cancelled(TinctError):
    """The job was cancelled (by this or another client, or by a shutdown)."""
