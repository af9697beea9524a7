"""A test-only Krita plugin that drives the installed Tinct docker like a user.

tests/test_krita_gui.py installs it next to ``tinct_krita`` in the test's pykrita
folder (``install_selftest_plugin``) and enables it in the test's kritarc; it is
never shipped. Once the first main window exists it imports the driver module
named by $TINCT_KRITA_SELFTEST (``gui`` or ``reference``, in this package) and
calls its ``run()``; a driver that fails to start still writes $TINCT_KRITA_RESULT.
"""

from __future__ import annotations

import importlib
import json
import os
import traceback

try:
    from krita import Extension, Krita
    from PyQt5.QtCore import QTimer
except ImportError:  # not inside Krita: nothing to register
    Krita = None

ENV_DRIVER = "TINCT_KRITA_SELFTEST"
ENV_RESULT = "TINCT_KRITA_RESULT"
START_MS = 1500  # after the window exists: the docker and the views settle first


def run_driver() -> None:
    try:
        importlib.import_module(f"{__name__}.{os.environ[ENV_DRIVER]}").run()
    except Exception:
        out = os.environ.get(ENV_RESULT)
        if out:
            with open(out, "w") as f:
                json.dump({"ok": False, "error": traceback.format_exc()}, f)


if Krita is not None:

    class SelftestExtension(Extension):
        def setup(self) -> None:
            if os.environ.get(ENV_DRIVER):
                Krita.instance().notifier().windowCreated.connect(
                    lambda: QTimer.singleShot(START_MS, run_driver)
                )

        def createActions(self, window) -> None:  # noqa: N802 (Krita's name)
            pass

    Krita.instance().addExtension(SelftestExtension(Krita.instance()))
