"""Tinct for Krita: an Extension plus a docker (Settings > Dockers > Tinct).

Modules, by role (the GIMP plug-in's ``tinct_gimp`` has the same names):
``plugin`` registers with Krita; ``docker`` is the UI; ``adapter`` is the only code
that touches documents and layers; ``pixels``, ``request``, ``state``, ``session``,
``results`` and ``slider`` are host-free (no krita, no Qt) and tested without Krita.
Importing this package outside Krita registers nothing.
"""

try:
    from krita import Krita
except ImportError:  # imported by the host-free tests
    Krita = None

if Krita is not None:
    from .plugin import register

    register()
