"""Tinct for GIMP 3, next to its entry file ``tinct-colorize.py``.

Modules, by role (the Krita plugin's ``tinct_krita`` has the same names):
``plugin`` declares and runs the procedures; ``dialog`` is the UI; ``adapter`` is the
only code that touches images and layers (GIMP objects become plain values there);
``pixels``, ``request`` and ``session`` are host-free (no ``gi``) and unit tested
without GIMP.
"""
