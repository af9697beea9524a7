"""`tinct install`: put the GIMP and Krita plugins where the hosts look, and record the backend.

- ``sources``: where the plugins' sources are (a checkout, a frozen bundle, a wheel);
- ``vendor``: the plugins' copy of the wire protocol (``tinct_protocol/``), always
  generated from ``tinct.protocol``;
- ``gimp``, ``krita``: staging each plugin into a plug-ins / pykrita folder
  (the host tests use them too), and Krita's kritarc switch;
- ``locations``: the user plugin folders of GIMP 3 and Krita on Linux (also Flatpak),
  Windows and macOS, and the launcher config each host's plugins read;
- ``record``: the manifest of what an install wrote, so ``--uninstall`` takes back
  exactly that (files, folders it created, the kritarc line, the config key);
- ``actions``: install and uninstall themselves.

The command line is ``tinct.cli.install``.
"""

from __future__ import annotations

from tinct.install.actions import InstallError, install, uninstall
from tinct.install.locations import Target, find_targets

__all__ = ["InstallError", "Target", "find_targets", "install", "uninstall"]
