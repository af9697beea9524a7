"""Registration with Krita: the docker factory and an Extension with a "Tinct colorize" action."""

from __future__ import annotations

from krita import DockWidgetFactory, DockWidgetFactoryBase, Extension, Krita

from .docker import DOCKER_ID, TinctDocker


def find_docker() -> TinctDocker | None:
    for d in Krita.instance().dockers():
        if isinstance(d, TinctDocker) or d.objectName() == DOCKER_ID:
            return d
    return None


class TinctExtension(Extension):
    def __init__(self, parent):
        super().__init__(parent)

    def setup(self) -> None:
        pass

    def createActions(self, window) -> None:  # noqa: N802 (Krita's name)
        action = window.createAction("tinct_colorize", "Tinct colorize", "tools/scripts")
        action.triggered.connect(self._colorize)

    def _colorize(self) -> None:
        docker = find_docker()
        if docker is not None:
            docker.colorize()


def register() -> None:
    app = Krita.instance()
    app.addExtension(TinctExtension(app))
    app.addDockWidgetFactory(
        DockWidgetFactory(DOCKER_ID, DockWidgetFactoryBase.DockRight, TinctDocker)
    )
