"""Registration with Krita: the docker factory and an Extension with a "Tinct colorize" action.

If $TINCT_KRITA_SELFTEST names a Python file, it is run once the first main
window exists (used by the GUI host test; nothing happens without it).
"""

from __future__ import annotations

import json
import os
import traceback

from krita import DockWidgetFactory, DockWidgetFactoryBase, Extension, Krita
from PyQt5.QtCore import QTimer

from .docker import DOCKER_ID, TinctDocker

ENV_SELFTEST = "TINCT_KRITA_SELFTEST"


def find_docker() -> TinctDocker | None:
    for d in Krita.instance().dockers():
        if isinstance(d, TinctDocker) or d.objectName() == DOCKER_ID:
            return d
    return None


class TinctExtension(Extension):
    def __init__(self, parent):
        super().__init__(parent)

    def setup(self) -> None:
        if os.environ.get(ENV_SELFTEST):
            Krita.instance().notifier().windowCreated.connect(self._schedule_selftest)

    def createActions(self, window) -> None:  # noqa: N802 (Krita's name)
        action = window.createAction("tinct_colorize", "Tinct colorize", "tools/scripts")
        action.triggered.connect(self._colorize)

    def _colorize(self) -> None:
        docker = find_docker()
        if docker is not None:
            docker.colorize()

    def _schedule_selftest(self) -> None:
        QTimer.singleShot(1500, self._selftest)

    def _selftest(self) -> None:
        path = os.environ[ENV_SELFTEST]
        scope = {"__name__": "tinct_selftest", "__file__": path, "find_docker": find_docker}
        try:
            with open(path) as f:
                exec(compile(f.read(), path, "exec"), scope)
        except Exception:
            out = os.environ.get("TINCT_KRITA_RESULT")
            if out:
                with open(out, "w") as f:
                    json.dump({"ok": False, "error": traceback.format_exc()}, f)


def register() -> None:
    app = Krita.instance()
    app.addExtension(TinctExtension(app))
    app.addDockWidgetFactory(
        DockWidgetFactory(DOCKER_ID, DockWidgetFactoryBase.DockRight, TinctDocker)
    )
