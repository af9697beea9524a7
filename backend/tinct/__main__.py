"""`python -m tinct ...` = the `tinct` console script (the launcher's default backend command)."""

from tinct.cli import main

raise SystemExit(main())
