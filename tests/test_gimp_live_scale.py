"""GIMP's slider logic (``tinct_gimp.dialog.LiveScale``) without GIMP: gi is stubbed, the
colorizer is a fake that says whether its saturation filter can show a value. The real
filter, in real GIMP, is tests/test_gimp_gui.py's slider test."""

from __future__ import annotations

import importlib
import sys
import tempfile
import threading
import types
from pathlib import Path
from typing import NamedTuple
from unittest import mock

import pytest

from tinct.install.gimp import PLUGIN_NAME, stage_gimp


class Render(NamedTuple):
    scale: float
    final: bool


class FakeGLib:
    """GLib's timers and idle calls, run when the test says (``run_idle``)."""

    PRIORITY_DEFAULT = 0

    def __init__(self):
        self.idle: list = []
        self.lock = threading.Lock()
        self.timers: dict[int, object] = {}

    def idle_add(self, fn, priority=0):
        with self.lock:
            self.idle.append(fn)
        return 1

    def timeout_add(self, _ms, fn):
        self.timers[len(self.timers) + 1] = fn
        return len(self.timers)

    def source_remove(self, key):
        self.timers.pop(key, None)

    def run_idle(self):
        with self.lock:
            calls, self.idle = self.idle, []
        for fn in calls:
            fn()


class FakeColorizer:
    """A run whose layer holds SCALE; ``filter_ok``: the saturation filter can show a move."""

    def __init__(self, scale=1.0, filter_ok=True):
        self.scale = scale
        self.preview = None
        self.filter_ok = filter_ok
        self.filtered = None  # the value the filter shows
        self.shown: list = []
        self.rendered: list = []
        self.gate = threading.Event()  # cleared: a render waits for it (a slow render)
        self.gate.set()
        self.started = threading.Event()  # a render began

    def preview_filter(self, value):
        if not self.filter_ok:
            self.filtered = None
            return False
        self.filtered = None if value == self.scale else value
        return True

    def filtering(self):
        return self.filtered is not None

    def render(self, value, preview):
        self.started.set()
        self.gate.wait(5)
        self.rendered.append((value, preview))
        return Render(value, not preview)

    def show(self, render):
        self.shown.append(render)
        self.filtered = None  # the pixels are in: the filter goes
        if render.final:
            self.scale, self.preview = render.scale, None
        else:
            self.preview = render.scale

    def holds(self, value):
        return self.preview is None and self.scale == value


@pytest.fixture
def dialog(monkeypatch):
    staged = Path(tempfile.mkdtemp(prefix="tinct-gimp-live-")) / PLUGIN_NAME
    stage_gimp(staged.parent)
    glib = FakeGLib()
    repo = types.ModuleType("gi.repository")
    repo.Gimp, repo.Gegl, repo.GLib = mock.MagicMock(), mock.MagicMock(), glib
    gi = types.ModuleType("gi")
    gi.repository = repo
    monkeypatch.setitem(sys.modules, "gi", gi)
    monkeypatch.setitem(sys.modules, "gi.repository", repo)
    monkeypatch.syspath_prepend(str(staged))
    for name in [n for n in sys.modules if n.startswith(("tinct_gimp", "tinct_protocol"))]:
        monkeypatch.delitem(sys.modules, name)
    module = importlib.import_module("tinct_gimp.dialog")
    yield module, glib
    for name in [n for n in sys.modules if n.startswith(("tinct_gimp", "tinct_protocol"))]:
        del sys.modules[name]


def settle(live, glib):
    """Let the render thread finish and GIMP's thread write what came in."""
    assert live.worker.wait_idle(5)
    glib.run_idle()


def test_moves_are_shown_by_the_filter_and_the_release_renders_the_last_in_full(dialog):
    module, glib = dialog
    c = FakeColorizer()
    live = module.LiveScale(c)
    for v in (1.2, 1.4, 1.6):
        live.request(v)
        assert c.filtered == v  # on the canvas at once, no render asked
    settle(live, glib)
    assert c.rendered == [] and c.shown == []
    live.release()
    settle(live, glib)
    assert c.rendered == [(1.6, False)]  # the full resolution of the last value
    assert c.shown == [Render(1.6, True)] and c.filtered is None and c.holds(1.6)
    live.flush()  # OK: the layer holds it already, nothing rendered again
    assert c.rendered == [(1.6, False)]


def test_without_the_filter_each_move_asks_the_daemon_for_a_preview(dialog):
    module, glib = dialog
    c = FakeColorizer(filter_ok=False)
    live = module.LiveScale(c)
    live.request(1.3)
    settle(live, glib)
    assert c.rendered == [(1.3, True)] and c.shown == [Render(1.3, False)]
    live.flush()
    assert c.shown[-1] == Render(1.3, True)  # what OK keeps is the full resolution


def test_a_full_render_of_an_older_value_is_written_then_the_filter_shows_the_newest(dialog):
    module, glib = dialog
    c = FakeColorizer()
    live = module.LiveScale(c)
    live.request(1.2)
    c.gate.clear()  # the full render of 1.2 is slow
    live.release()
    assert c.started.wait(5)  # (under way: a move drops only a render not yet begun)
    live.request(1.5)  # the knob moves again meanwhile: the filter shows 1.5
    assert c.filtered == 1.5
    c.gate.set()
    settle(live, glib)
    assert c.shown == [Render(1.2, True)]  # the exact pixels of 1.2 are in ...
    assert c.filtered == 1.5  # ... and the filter shows the newest value again over them
    live.flush()
    assert c.shown[-1] == Render(1.5, True) and c.holds(1.5)


def test_a_preview_older_than_the_filter_is_not_written(dialog):
    module, glib = dialog
    c = FakeColorizer(filter_ok=False)
    live = module.LiveScale(c)
    c.gate.clear()
    live.request(1.2)  # no filter yet (say, a result at 0): the daemon's preview
    assert c.started.wait(5)
    c.filter_ok = True
    live.request(1.4)  # now the filter can: it shows 1.4
    c.gate.set()
    settle(live, glib)
    assert c.rendered == [(1.2, True)] and c.shown == [] and c.filtered == 1.4
    live.cancel()
    assert c.shown == []
