"""Host-free logic of the Tinct GIMP plug-in (no `gi` imports: unit tested without GIMP).

The plug-in file `tinct-colorize.py` is the only module that talks to GIMP; it turns
GIMP objects into the plain values these modules take (names, rectangles, strings).
"""
