"""Tinct's wire protocol, clients and daemon launcher — standard library only.

Plugins vendor a copy of this package, so it imports nothing from the rest of
``tinct`` and nothing outside the standard library at module level (pyzmq is
imported lazily, only when the "zmq" transport is chosen). See docs/protocol.md.
"""

from __future__ import annotations

from .client import Client, Event
from .connection import ConnectionInfo, live_connection, read_connection_file, runtime_dir
from .constants import PROTOCOL_VERSION
from .errors import Cancelled, DaemonLost, LaunchError, ProtocolError, TinctError
from .launcher import Launcher, backend_command, connect
from .messages import Limits, Request, parse_request
from .pixels import Layer, PixelFormat
from .transport import choose_transport

__all__ = [
    "PROTOCOL_VERSION",
    "Cancelled",
    "Client",
    "ConnectionInfo",
    "DaemonLost",
    "Event",
    "LaunchError",
    "Launcher",
    "Layer",
    "Limits",
    "PixelFormat",
    "ProtocolError",
    "Request",
    "TinctError",
    "backend_command",
    "choose_transport",
    "connect",
    "live_connection",
    "parse_request",
    "read_connection_file",
    "runtime_dir",
]
