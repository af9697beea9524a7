"""Held-out evaluation (`tinct eval`): each colour photo turned gray, colorized and
compared with the original.

- ``metrics``: the per-photo figures (colourfulness, a*b* error, chroma PSNR, L*
  error, time) and their summary;
- ``checks``: the optional prompt, hint, caption and reference checks;
- ``figures``: the contact sheets and the colourfulness-against-scale plot;
- ``report``: the main pass, the report files and what `tinct eval` prints.

Needs the `train` extra (matplotlib is optional) and is left out of the
standalone backend.
"""
