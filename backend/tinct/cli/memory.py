"""What a `tinct colorize` of one file costs in memory, and what the machine has.

The estimate is checked from the file's header before anything is decoded or
the model is loaded, so an image the machine cannot hold (a 390 KB black PNG of
400 MP, say) is one line of error instead of minutes of swapping or a kill.
The figures are measured (benchmarks/bench_memory_shape.py prints the peaks):
the decoded pixels, their float copy for the model's input (12 bytes a pixel),
the box reduction's transient copies, the output in the file's own depth; the
model and libraries on top. None of it depends on height or width alone.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Bytes per pixel on top of the decoded pixels (which count twice: Pillow's buffer
# and numpy's copy while reading): the float32 RGB input of the model (12) and the box
# reduction's copy of one channel and its Pillow image (8); the output in the file's
# depth comes after the float input is gone. Hints add their RGBA float32 copy (16) and
# its reduction (8). Measured with the bundled model, 30 MP (5477x5477) PNGs: gray 1.27 GB
# (estimate 1.46), RGB 1.32 GB (estimate 1.58); 5 MP 0.80 GB.
PER_PIXEL = 20
PER_HINT_PIXEL = 24
# The model, torch and the libraries (~0.7 GB resident with the bundled model).
BASE_BYTES = 800_000_000


def colorize_bytes(
    width: int, height: int, channels: int, itemsize: int, hints: bool = False
) -> int:
    """Peak resident bytes a `tinct colorize` of such a file needs, estimated."""
    pixels = width * height
    per_pixel = PER_PIXEL + 2 * channels * itemsize + (PER_HINT_PIXEL if hints else 0)
    return BASE_BYTES + pixels * per_pixel


def available_bytes() -> int | None:
    """Memory this process can still take: the least of the system's available memory,
    its cgroup's room (containers) and its address-space / data limits (ulimit -v, -d).
    None where none of them can be read."""
    found: list[int] = []
    meminfo = _meminfo_available()
    if meminfo is not None:
        found.append(meminfo)
    elif hasattr(os, "sysconf"):
        try:  # macOS and other POSIX: the physical memory, for want of better
            found.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError):
            pass
    cgroup = _cgroup_room()
    if cgroup is not None:
        found.append(cgroup)
    limit = _rlimit_room()
    if limit is not None:
        found.append(limit)
    return min(found) if found else None


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_room() -> int | None:
    """memory.max - memory.current of this process's cgroup (v2), if it has a limit."""
    try:
        rel = Path("/proc/self/cgroup").read_text().splitlines()[0].split(":", 2)[2]
        base = Path("/sys/fs/cgroup") / rel.lstrip("/")
        limit = (base / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(0, int(limit) - int((base / "memory.current").read_text()))
    except (OSError, ValueError, IndexError):
        return None


def _rlimit_room() -> int | None:
    if sys.platform == "win32":
        return None
    import resource

    rooms = []
    for name, used in (("RLIMIT_AS", "VmSize"), ("RLIMIT_DATA", "VmData")):
        soft, _ = resource.getrlimit(getattr(resource, name))
        if soft == resource.RLIM_INFINITY:
            continue
        rooms.append(max(0, soft - _status_bytes(used)))
    return min(rooms) if rooms else None


def _status_bytes(field: str) -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB"
