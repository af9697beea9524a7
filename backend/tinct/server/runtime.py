"""The daemon's footprint on disk: the per-user lock and the connection file."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from tinct.protocol.connection import (
    ConnectionInfo,
    lock_path,
    remove_connection_file,
    write_connection_file,
)


class AlreadyRunning(RuntimeError):
    pass


class DaemonLock:
    """One daemon per user: an exclusive flock on daemon.lock, released by the kernel on death."""

    def __init__(self, directory: Path):
        self.path = lock_path(directory)
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AlreadyRunning(f"another Tinct daemon holds {self.path}") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def serving(self, port: int) -> None:
        """Say in the lock file that this daemon is up (see connection.lock_holder)."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, f"{os.getpid()} serving {port}\n".encode(), 0)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class ConnectionFile:
    def __init__(self, directory: Path, info: ConnectionInfo):
        self.directory = directory
        self.info = info
        self.path = write_connection_file(info, directory)

    def remove(self) -> None:
        remove_connection_file(self.info, self.directory)
