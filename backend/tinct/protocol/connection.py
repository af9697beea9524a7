"""The runtime directory and the daemon's connection file (standard library only).

The daemon writes ``daemon.json`` = {port, token, pid, protocol, host} with mode
0600 into the runtime directory; clients read it to find and authenticate to
the daemon. ``daemon.lock`` is held (flock) by the live daemon for its lifetime,
so a reader can tell a stale file from a live daemon without a round trip.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .constants import CONNECTION_FILE, ENV_RUNTIME_DIR, LOCK_FILE, PROTOCOL_VERSION

log = logging.getLogger("tinct.protocol")

# How long a client that found daemon.json readable by others waits for the daemon to
# publish a new token (the daemon looks at the file every 0.5 s).
TOKEN_ROTATION_WAIT = 5.0

try:  # POSIX
    import fcntl
except ImportError:  # Windows: fall back to the pid check
    fcntl = None


def runtime_dir(create: bool = True, explicit: str | Path | None = None) -> Path:
    """``explicit``, else $TINCT_RUNTIME_DIR, else $XDG_RUNTIME_DIR/tinct, else a per-user temp dir.

    Created mode 0700. Refused (RuntimeDirError) if it is a symbolic link, not a
    directory, or owned by another user: in a shared temp dir anyone can create
    ``tinct-<uid>`` first, to lock the user out or to redirect the daemon's files.
    """
    env = os.environ.get(ENV_RUNTIME_DIR)
    if explicit:
        path = Path(explicit)
    elif env:
        path = Path(env)
    elif os.environ.get("XDG_RUNTIME_DIR"):
        path = Path(os.environ["XDG_RUNTIME_DIR"]) / "tinct"
    else:
        user = str(os.getuid()) if hasattr(os, "getuid") else (os.environ.get("USERNAME") or "user")
        path = Path(tempfile.gettempdir()) / f"tinct-{user}"
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            pass
        if hasattr(os, "getuid"):
            _secure_dir(path)
    return path


class RuntimeDirError(PermissionError):
    """The runtime directory is not safe to use (a link, not a directory, not ours)."""


def _secure_dir(path: Path) -> None:
    """Check the directory itself (never what a link points to) and make it 0700."""
    fix = f"remove it, or set {ENV_RUNTIME_DIR} to a directory of your own"
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        raise RuntimeDirError(
            f"runtime dir {path} is a symbolic link; Tinct will not follow it ({fix})"
        )
    if not stat.S_ISDIR(st.st_mode):
        raise RuntimeDirError(f"runtime dir {path} is not a directory ({fix})")
    if st.st_uid != os.getuid():
        raise RuntimeDirError(
            f"runtime dir {path} belongs to uid {st.st_uid}, not to you (uid {os.getuid()}); {fix}"
        )
    if st.st_mode & 0o077:
        fd = os.open(
            path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
        )
        try:  # others must not read the token or swap the file
            if os.fstat(fd).st_ino == st.st_ino:
                os.fchmod(fd, 0o700)
        finally:
            os.close(fd)


@dataclass(frozen=True)
class ConnectionInfo:
    """What the connection file holds: the daemon's TCP port on `host` (loopback), the token every
    request must carry, its pid and protocol version.
    """

    port: int
    token: str
    pid: int
    protocol: int = PROTOCOL_VERSION
    host: str = "127.0.0.1"

    def to_json(self) -> dict:
        """The fields as the connection file's JSON object."""
        return {
            "port": self.port,
            "token": self.token,
            "pid": self.pid,
            "protocol": self.protocol,
            "host": self.host,
        }


def connection_path(directory: Path | None = None) -> Path:
    """Where the connection file lives: `directory`, or the user's runtime dir."""
    return (directory or runtime_dir()) / CONNECTION_FILE


def lock_path(directory: Path | None = None) -> Path:
    """Where the daemon's single-instance lock file lives: `directory`, or the user's runtime dir."""
    return (directory or runtime_dir()) / LOCK_FILE


def write_connection_file(info: ConnectionInfo, directory: Path | None = None) -> Path:
    """Atomically (re)place the connection file, created with mode 0600."""
    path = connection_path(directory)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600) if hasattr(os, "fchmod") else None
        os.write(fd, json.dumps(info.to_json()).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path


def read_connection_file(directory: Path | None = None) -> ConnectionInfo | None:
    """The connection file's contents, or None if missing, unreadable or not the user's.

    A file others could read (the token is in it) is tightened to 0600 with a warning
    (and the daemon, seeing that, rotates the token: see ``live_connection``); one owned
    by another user, or a symbolic link, is ignored."""
    return _read_connection_file(directory)[0]


def _read_connection_file(directory: Path | None) -> tuple[ConnectionInfo | None, bool]:
    """(the file's contents or None, whether others could read it)."""
    loose = False
    path = connection_path(directory)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None, False
    try:
        if hasattr(os, "getuid"):
            st = os.fstat(fd)
            if st.st_uid != os.getuid():
                log.warning("ignoring %s: it belongs to uid %d, not to you", path, st.st_uid)
                return None, False
            if st.st_mode & 0o077:
                log.warning(
                    "%s was readable by others (mode %o); tightened to 0600, and the daemon "
                    "rotates its token",
                    path,
                    st.st_mode & 0o777,
                )
                os.fchmod(fd, 0o600)
                loose = True
        with os.fdopen(fd, "rb", closefd=False) as f:
            obj = json.loads(f.read(1 << 16))
        info = ConnectionInfo(
            port=int(obj["port"]),
            token=str(obj["token"]),
            pid=int(obj["pid"]),
            protocol=int(obj.get("protocol", 0)),
            host=str(obj.get("host", "127.0.0.1")),
        )
        return info, loose
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None, loose
    finally:
        os.close(fd)


def remove_connection_file(info: ConnectionInfo, directory: Path | None = None) -> None:
    """Remove the file only if it is still ours (a newer daemon may have replaced it)."""
    current = read_connection_file(directory)
    if current is not None and current.pid == info.pid and current.token == info.token:
        try:
            connection_path(directory).unlink()
        except FileNotFoundError:
            pass


def pid_alive(pid: int) -> bool:
    """True when a process with this pid exists (also when it belongs to another user); False for
    pid <= 0.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    return True


def daemon_lock_held(directory: Path | None = None) -> bool | None:
    """True if some process holds the daemon lock, False if free, None if unknown (no fcntl)."""
    if fcntl is None:
        return None
    try:
        fd = os.open(lock_path(directory), os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def lock_holder(directory: Path | None = None) -> tuple[int, bool] | None:
    """(pid, serving) from the lock file of a held lock: ``serving`` once the daemon has
    published its connection file, False while it is still loading. None if not held."""
    if not daemon_lock_held(directory):
        return None
    try:
        words = lock_path(directory).read_text().split()
        return int(words[0]), words[1:2] == ["serving"]
    except (OSError, ValueError, IndexError):
        return None


def live_connection(directory: Path | None = None) -> ConnectionInfo | None:
    """The connection file if it plausibly belongs to a running daemon.

    When the file was readable by others, its token may be known: the daemon notices
    (within half a second) and publishes a new one, which this waits for (bounded by
    TOKEN_ROTATION_WAIT); the old one is refused from then on."""
    info, loose = _read_connection_file(directory)
    if info is None or info.protocol != PROTOCOL_VERSION or not pid_alive(info.pid):
        return None
    if daemon_lock_held(directory) is False:
        return None
    if loose:
        deadline = time.monotonic() + TOKEN_ROTATION_WAIT
        while time.monotonic() < deadline:
            time.sleep(0.05)
            newer = read_connection_file(directory)
            if newer is not None and newer.pid == info.pid and newer.token != info.token:
                return newer
            if not pid_alive(info.pid):
                return None
    return info
