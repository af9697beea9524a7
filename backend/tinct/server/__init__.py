"""The Tinct daemon: a ZeroMQ ROUTER on 127.0.0.1 serving docs/protocol.md.

- ``loop``: the socket loop (validate, authenticate, queue, heartbeat, forward
  replies) and ``serve``, which `tinct serve` runs;
- ``worker``: the worker threads and the colorize / rescale / apply jobs;
- ``jobs``: a job and the fair, bounded job queue;
- ``cache``: the bounded LRU cache of finished jobs' latents;
- ``frames``: pixel frames <-> numpy arrays (the one map of wire dtypes to numpy's);
- ``render``: the full-resolution colour layer, straight from the received frame;
- ``runtime``: the per-user lock, the connection file, open-file limit and memory.

Nothing here is imported by ``tinct.protocol`` (the plugins' side).
"""
