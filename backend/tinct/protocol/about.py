"""What the plugins say about the backend they reached: one line from the daemon's hello.

The daemon's hello carries ``server`` (Tinct's version), ``device`` and ``libraries``
({torch, diffusers, transformers, pyzmq: version}); both plugins show this line in
their status / About text after connecting, so a bug report says what ran.
"""

from __future__ import annotations

SEPARATOR = " \u00b7 "  # a middle dot between the parts
UNKNOWN = "unknown"


def backend_line(hello: dict, libraries: tuple[str, ...] = ("torch",)) -> str:
    """``Backend tinct 0.1.0 · torch 2.13.0+cpu · cpu`` from a hello reply.

    LIBRARIES names the libraries shown (torch by default: the one whose build decides
    the device); a library the hello does not list is left out, a missing version or
    device reads "unknown". A hello without ``server`` (an older daemon) still gives a
    line, with its protocol version.
    """
    server = hello.get("server")
    if server:
        parts = [f"Backend tinct {server}"]
    else:
        parts = [f"Backend (protocol {hello.get('protocol', UNKNOWN)})"]
    versions = hello.get("libraries") or {}
    if isinstance(versions, dict):
        for name in libraries:
            if name in versions:
                parts.append(f"{name} {versions[name] or UNKNOWN}")
    parts.append(str(hello.get("device") or UNKNOWN))
    return " ".join(SEPARATOR.join(parts).split())  # one line, whatever the fields hold
