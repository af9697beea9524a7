"""What the frozen backend runs: the `tinct` command line (serve, colorize, install, ...).

PyInstaller starts this file as ``__main__`` inside dist/tinct-backend/.
"""

from __future__ import annotations

import sys

from tinct.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
