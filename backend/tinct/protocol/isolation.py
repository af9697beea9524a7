"""The environment a plugin starts the backend in: the host's Python settings left out.

GIMP and Krita run plugins in their own embedded Pythons and set variables for
them: Krita puts its pykrita folder on PYTHONPATH (where a plugin package named
``tinct`` once shadowed the backend: "No module named tinct.__main__"), AppImages
and macOS bundles set PYTHONHOME. A backend started with those would import the
host's modules, or fail to start, so they are dropped; the backend's own Python
(a venv, a system install or the PyInstaller bundle) finds its packages itself.
"""

from __future__ import annotations

from collections.abc import Mapping

# Variables that change which modules (or which standard library) a Python loads.
HOST_PYTHON_VARIABLES = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONEXECUTABLE",
    "PYTHONUSERBASE",
    "PYTHONPLATLIBDIR",
)


def backend_environment(base: Mapping[str, str]) -> dict[str, str]:
    """A copy of BASE without the host's Python variables (everything else is kept)."""
    return {k: v for k, v in base.items() if k not in HOST_PYTHON_VARIABLES}
