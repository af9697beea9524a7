#!/usr/bin/env python3
"""Tinct for GIMP 3: the file GIMP runs (GIMP wants a plug-in's folder and file to share
a name). The plug-in is the ``tinct_gimp`` package next to it: ``plugin`` declares the
procedures and runs them, ``dialog`` is the UI, ``adapter`` the only code that touches
images and layers; ``pixels``, ``request`` and ``session`` are host-free. The vendored
protocol copy (``tinct_protocol``) sits next to it too.
"""

import os
import sys

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
gi.require_version("GimpUi", "3.0")  # imported only for interactive runs
gi.require_version("Gtk", "3.0")
from gi.repository import Gimp  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tinct_gimp.plugin import TinctColorize  # noqa: E402

if __name__ == "__main__":
    Gimp.main(TinctColorize.__gtype__, sys.argv)
