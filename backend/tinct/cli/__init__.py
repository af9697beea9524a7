"""The `tinct` command line, one module per command.

- ``main``: the parser of every command and the exit codes (the console script
  `tinct` and `python -m tinct` run ``tinct.cli.main.main``);
- ``colorize``, ``serve``, ``client``, ``install``, ``train`` (train,
  train-vae) and ``evaluate`` (eval): each registers its sub-parser and runs
  its command, importing the heavy modules (torch, the model, zmq, accelerate)
  only then;
- ``common``: the user-error type and argument types they share; it imports
  nothing of the other modules here.
"""
