"""Tinct for Krita: an Extension plus a docker (Settings > Dockers > Tinct).

Only ``extension``, ``docker`` and ``document`` touch Krita's API; ``pixels``,
``state`` and ``session`` are host-free and tested without Krita. Importing
this package outside Krita registers nothing.
"""

try:
    from krita import Krita
except ImportError:  # imported by the host-free tests
    Krita = None

if Krita is not None:
    from .extension import register

    register()
