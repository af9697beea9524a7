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
    """No daemon could be found or started."""

    def __init__(self, message: str):
        super().__init__(E_LAUNCH_FAILED, message)


class Cancelled(TinctError):
    """The job was cancelled (by this or another client, or by a shutdown)."""
