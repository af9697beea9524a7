"""What ran: Tinct's version, the versions of the libraries that shape a result,
and the device a colorize would use. `tinct --version` prints it, the daemon
writes it at the top of its log and sends it in its hello, so a bug report says
what ran."""

from __future__ import annotations

from importlib import metadata

# The distributions whose versions change results or start-up (in this order).
LIBRARIES = ("torch", "diffusers", "transformers", "pyzmq")


def library_versions() -> dict[str, str]:
    """{distribution: version} for LIBRARIES ("missing" where one is not installed)."""
    out = {}
    for dist in LIBRARIES:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "missing"
    return out


def version_line(device: str | None = None) -> str:
    """One line: "tinct 0.1.0 (torch 2.13.0+cpu, diffusers ..., pyzmq ...; device cpu)".
    `device` defaults to the one a colorize would pick (CUDA > MPS > CPU)."""
    from tinct import __version__

    if device is None:
        from tinct.pipeline.devices import pick_device

        device = str(pick_device())
    libs = ", ".join(f"{k} {v}" for k, v in library_versions().items())
    return f"tinct {__version__} ({libs}; device {device})"
