"""Held-out evaluation (`tinct eval`): each colour photo turned gray, colorized and
compared with the original (``report``).

Needs the `train` extra (matplotlib is optional) and is left out of the
standalone backend.
"""
