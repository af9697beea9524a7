"""The daemon's footprint on the machine: the per-user lock, the connection file,
its open-file limit and its memory.

`fcntl` and `resource` are POSIX modules, imported where they are used, so the
module itself imports on Windows too.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

from tinct.protocol.connection import (
    ConnectionInfo,
    lock_path,
    remove_connection_file,
    write_connection_file,
)


class AlreadyRunning(RuntimeError):
    """Another Tinct daemon of this user holds the lock."""

    pass


class DaemonLock:
    """One daemon per user: an exclusive flock on daemon.lock, released by the kernel on death."""

    def __init__(self, directory: Path):
        self.path = lock_path(directory)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock without waiting and write this pid into it; raises AlreadyRunning when
        another daemon holds it.
        """
        import fcntl

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
        """Release the lock (the kernel also does on exit or crash)."""
        if self._fd is not None:
            import fcntl

            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class ConnectionFile:
    """The connection file, written (mode 0600) when made: how clients find this daemon.
    It also watches the file: the token in it must be rotated once others may have read it."""

    def __init__(self, directory: Path, info: ConnectionInfo):
        self.directory = directory
        self.info = info
        self.path = write_connection_file(info, directory)
        self._seen = self._stat()

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path, follow_symlinks=False)
        except OSError:
            return None
        return st.st_ino, st.st_ctime_ns, st.st_mode

    def exposed(self) -> str | None:
        """Why the token in the file may have been read by others since the last look, or
        None: the file is readable by group or others now, or the mode of the file this
        daemon wrote was changed (a client that finds it loose tightens it, and chmod
        changes the inode's ctime). A file replaced by another (e.g. restored by hand)
        with mode 0600 is left alone."""
        now = self._stat()
        before, self._seen = self._seen, now
        if now is None or now == before:
            return None
        ino, _, mode = now
        if mode & 0o077:
            return f"is readable by others (mode {mode & 0o777:o})"
        if before is not None and ino == before[0]:  # chmod (or a link, touch) since written
            return "was changed (a client found it readable by others and tightened it)"
        return None

    def rotate(self, token: str) -> None:
        """Publish a new token: a new file, mode 0600, written atomically."""
        self.info = dataclasses.replace(self.info, token=token)
        self.path = write_connection_file(self.info, self.directory)
        self._seen = self._stat()

    def remove(self) -> None:
        """Remove the connection file, unless a newer daemon has replaced it."""
        remove_connection_file(self.info, self.directory)


def raise_fd_limit() -> int:
    """Raise the soft open-file limit to the hard one: every TCP connection holds an fd,
    and a local process holding ~1,000 idle connections must not lock real clients out.
    Returns the limit now in force (-1 where unknown)."""
    try:
        import resource
    except ImportError:  # Windows
        return -1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft == resource.RLIM_INFINITY or soft >= target:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        return soft
    return target


def rss_bytes(pid: int | None = None) -> tuple[int, int]:
    """(current, peak) resident set size in bytes of process ``pid`` (default: this one).

    Read from /proc (Linux). Elsewhere, for this process only, the peak from
    getrusage stands for both; another process's is an error there.
    """
    try:
        fields = dict(
            line.split(":", 1)
            for line in Path(f"/proc/{pid or 'self'}/status").read_text().splitlines()
            if ":" in line
        )
        return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        if pid is not None:
            raise
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (
            1 if sys.platform == "darwin" else 1024
        )
        return peak, peak


_MALLOC_TRIM: list = []  # [libc.malloc_trim or None], looked up once


def trim_heap() -> None:
    """Give freed heap memory back to the system (glibc's malloc_trim; a no-op elsewhere).

    libzmq allocates each 128 KiB wire frame of a request on the heap; joined into one
    pixel frame and freed, they would stay resident until reused, and a 400 MB image
    would make the daemon peak at twice its size."""
    if not _MALLOC_TRIM:
        fn = None
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                fn = ctypes.CDLL("libc.so.6").malloc_trim
                fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
            except (OSError, AttributeError):
                fn = None
        _MALLOC_TRIM.append(fn)
    if _MALLOC_TRIM[0] is not None:
        _MALLOC_TRIM[0](0)
