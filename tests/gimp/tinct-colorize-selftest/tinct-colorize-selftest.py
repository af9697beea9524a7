#!/usr/bin/env python3
"""A test-only GIMP 3 plug-in: Tinct Colorize with dialogs that answer themselves.

The host tests install it next to the tinct-colorize plug-in in the test's GIMP
profile (tests/test_gimp_host.py, ``install_selftest_plugin``); it is never shipped.
It declares PROCEDURE exactly as the shipped plug-in declares plug-in-tinct-colorize
(``tinct_gimp.plugin.colorize_procedure``) and runs the shipped ``run_colorize`` with
the shipped dialogs, each subclassed here to answer itself as the JSON file named by
$TINCT_GIMP_SELFTEST says, read at each run:

    {"set": {...}, "hint": NAME, "reference": LABEL, "cancel_at_step": N,
     "cancel_at_text": TEXT, "progress_screenshots": {TEXT: PATH},
     "scales": [...], "accept": bool, "screenshot": PATH, "screenshot_main": PATH}

"set" is typed into the first dialog (GIMP fills an interactive run's config from
the last-used values, not from the caller), "hint" picked in its hint list and
"reference" ("image / layer") in its reference list (what it opened with goes to
+ ".shown" first; "main_accept": false cancels it) (the list's labels are written
next to the file, + ".references"; its mnemonics, + ".mnemonics.main"), the screen
saved to "screenshot_main", OK; the
progress dialog's Cancel is pressed at step "cancel_at_step", or once its line starts
with "cancel_at_text"; every line it shows is appended to the file + ".progress" (JSON
lines: text, the bar's fraction), and the screen is saved when a line starts with a
key of "progress_screenshots"; whether the backend's log existed when the first dialog
was answered (the early start) goes to + ".early"; the Colourfulness
slider is moved through "scales", one every 400 ms or every "scale_ms" (each move
re-renders the layer, as a user's drag does: a preview, then the full resolution once
the knob rests; each render written to the layer has its value appended to the file +
".trace", and [value, final, started, daemon's layers in, shown, daemon's width,
height] as a JSON line to + ".renders", and each move the layer's saturation filter
showed instead (``Variations.preview_filter``) as [value, shown, called, returned,
the layer's filters' names] to + ".filters"; "scale_ms" sets the pace; "release": true lets
the knob go at the last value (a GDK button release on the dialog's GtkScale; the
shipped handler, reached, writes + ".released"); "rest_ms" sets the dialog's REST_MS
(huge: the full resolution comes from the release only); "before": {"scale": V,
"off": bool, "screenshot": PATH}, after those values, presses the "Before" toggle in, sets V
while it is in, and records what is visible (+ ".before", see ``press_before``), letting
it out again with "off" (else OK or Cancel is pressed with it in); after the last value,
with "layer_before_ok": PATH, the first layer's pixels (R'G'B'A u8) are saved to PATH
once the full-resolution render of that value is on it (or after 60 s), before OK (its
filters' names then, + ".filters_before_ok"); the
run's job ids go to + ".jobs"; its mnemonics and
backend line go to + ".mnemonics.scale" and + ".about"), the screen is saved to
"screenshot", and the dialog is accepted or cancelled.

For benchmarks/bench_hosts.py (times are this process's ``time.monotonic()``, written
next to the file as + ".timing": when the first dialog opened, when the backend was
seen serving and when OK was pressed; + ".marks": the progress's ``RunProgress.marks``):
"ok_when_serving": true presses OK only once the backend started early serves; "drag":
{"values": [...], "interval_ms": N} moves the Colourfulness slider through the values
on a schedule, one every N ms, as a hand does (a value that falls due while the dialog
is busy rendering is skipped for the newest), with "release": true lets the knob go as
the last one is set, then OK once the last one is on the layer at full resolution;
+ ".drag": when each value fell due, when it was set, when the knob was let go
("released"), each render as in + ".renders" and each filter move as in + ".filters".

    {"cancel_in_write": N, "hint_points": [[x, y], ...]}

"cancel_in_write" presses the progress dialog's Cancel at its Nth poll while the line
says "Writing the layer…" (the write asks between strips); when the progress dialog
closes, its last line and the polls it had while writing go to + ".closed". With
"hint_points", the hint layer each job sends (a spy around ``Session.colorize``: the
real call runs) is read at those points (R, G, B, A) and appended to + ".hints".
"""

import json
import os
import sys
import time
import traceback
import types

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
gi.require_version("GimpUi", "3.0")
gi.require_version("Gtk", "3.0")
from gi.repository import Gimp, GLib  # noqa: E402

# The shipped plug-in, installed next to this one in the same plug-ins folder.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tinct-colorize"))  # fmt: skip

from tinct_gimp import dialog, plugin, session  # noqa: E402
from tinct_protocol.connection import lock_holder, runtime_dir  # noqa: E402
from tinct_protocol.progress import Stage  # noqa: E402

PROCEDURE = "plug-in-tinct-colorize-selftest"
ENV_ANSWERS = "TINCT_GIMP_SELFTEST"
ANSWER_MS = 200  # the dialog is up by then
SLIDER_MS = 400  # one slider position every 400 ms, then the answer
SETTLE_MS = 300  # "Before" pressed: the dialog's frame and GIMP's canvas redrawn by then


def answers() -> dict:
    path = os.environ.get(ENV_ANSWERS)
    if not path or not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def answer_later(gtk_dialog, actions) -> None:
    """Run ACTIONS once the dialog is up; a broken answer must not leave the dialog up."""

    def later():
        try:
            actions()
        except Exception:
            traceback.print_exc()
            gtk_dialog.response(-6)  # Gtk.ResponseType.CANCEL
        return False  # run once

    GLib.timeout_add(ANSWER_MS, later)


def pump() -> None:
    from gi.repository import Gtk

    while Gtk.events_pending():
        Gtk.main_iteration_do(False)


def screenshot(path: str) -> None:
    """The whole screen (Xvfb in the tests) as a PNG: what a user would see."""
    from gi.repository import Gdk

    root = Gdk.get_default_root_window()
    shot = Gdk.pixbuf_get_from_window(root, 0, 0, root.get_width(), root.get_height())
    if shot is not None:
        shot.savev(path, "png", [], [])


def mnemonics(window) -> list:
    """[key, label text] of every mnemonic shown in WINDOW (labels and buttons), for the
    test to check that no key is bound twice."""
    from gi.repository import Gdk, Gtk

    found = []

    def walk(widget):
        if isinstance(widget, Gtk.Label) and widget.get_mapped():
            key = widget.get_mnemonic_keyval()
            if key != Gdk.KEY_VoidSymbol:
                found.append([Gdk.keyval_name(Gdk.keyval_to_lower(key)), widget.get_text()])
        if isinstance(widget, Gtk.Container):
            widget.forall(walk)

    walk(window)
    return found


_RELEASES = []  # the synthesized events, kept: the window in them is not referenced


def release_knob(scale) -> float:
    """A GDK button release of button 1 on SCALE (the dialog's GtkScale) at its middle, as
    when a hand lets the knob go, through GTK's own event handling (``gtk_widget_event``:
    the widget's button-release-event, then GtkRange's gestures); returns when it was
    delivered (time.monotonic())."""
    from gi.repository import Gdk, Gtk

    event = Gdk.Event.new(Gdk.EventType.BUTTON_RELEASE)
    event.window = scale.get_window()
    event.send_event = 1
    event.time = Gtk.get_current_event_time()
    event.button = 1  # (the override sets the GdkEventButton's own fields)
    box = scale.get_allocation()
    event.x, event.y = box.x + box.width / 2.0, box.y + box.height / 2.0
    event.set_device(Gdk.Display.get_default().get_default_seat().get_pointer())
    _RELEASES.append(event)
    at = time.monotonic()
    scale.event(event)
    return at


def record(suffix: str, value) -> None:
    """VALUE as JSON next to the answers file (+ SUFFIX), for the test."""
    path = os.environ.get(ENV_ANSWERS)
    if path:
        with open(path + suffix, "w") as f:
            json.dump(value, f)


def layer_pixels(layer) -> bytes:
    """LAYER's own pixels as R'G'B'A u8 (not the composite)."""
    from gi.repository import Gegl

    rect = Gegl.Rectangle.new(0, 0, layer.get_width(), layer.get_height())
    return bytes(layer.get_buffer().get(rect, 1.0, "R'G'B'A u8", Gegl.AbyssPolicy.CLAMP))


def labels(combo) -> list:
    model = combo.get_model()
    return [model[i][0] for i in range(len(model))]


def serving() -> bool:
    """Whether the backend (started early, as the dialog opened) serves now."""
    holder = lock_holder(runtime_dir(create=False))
    return holder is not None and bool(holder[1])


class MainDialog(dialog.MainDialog):
    def run(self):
        test = answers()
        timing = {"dialog": time.monotonic(), "serving": None}

        def act():
            from gi.repository import Gtk

            if test.get("ok_when_serving") and not serving():
                GLib.timeout_add(20, act_when_serving)
                return

            record(".shown", {  # what the dialog opened with (GIMP's last-used values)
                **{k: self.config.get_property(k) for k in ("prompt", "scale", "steps")},
                "hint": self.hints.get_active_text(),
                "reference": self.references.get_active_text(),
            })  # fmt: skip
            for key, value in test.get("set", {}).items():
                self.config.set_property(key, value)
            if "hint" in test:
                self.hints.set_active(labels(self.hints).index(test["hint"]))
            if "reference" in test:
                offered = labels(self.references)
                with open(os.environ[ENV_ANSWERS] + ".references", "w") as f:
                    json.dump(offered, f)  # what the list offered, for the test
                self.references.set_active(offered.index(test["reference"]))
            pump()
            runtime = os.environ.get("TINCT_RUNTIME_DIR", "")
            record(".early", {"log_exists": os.path.exists(os.path.join(runtime, "daemon.log"))})
            record(".mnemonics.main", mnemonics(self.dialog))
            if test.get("screenshot_main"):
                screenshot(test["screenshot_main"])
            ok = test.get("main_accept", True)
            timing["ok"] = time.monotonic()
            record(".timing", timing)
            self.dialog.response(Gtk.ResponseType.OK if ok else Gtk.ResponseType.CANCEL)

        def act_when_serving():
            if not serving():
                return True  # look again in 20 ms
            timing["serving"] = time.monotonic()
            try:
                act()
            except Exception:
                traceback.print_exc()
                self.dialog.response(-6)  # Gtk.ResponseType.CANCEL
            return False

        answer_later(self.dialog, act)
        return super().run()


class ProgressDialog(dialog.ProgressDialog):
    def __init__(self):
        test = answers()
        self.cancel_at_step = test.get("cancel_at_step")
        self.cancel_at_text = test.get("cancel_at_text")
        self.cancel_in_write = test.get("cancel_in_write")
        self.write_polls = 0
        self.shots = dict(test.get("progress_screenshots", {}))
        self.last_line = None
        super().__init__()

    def _update(self) -> None:
        super()._update()
        text = self.label.get_text()
        if text == self.last_line:
            return
        self.last_line = text
        path = os.environ.get(ENV_ANSWERS)
        if path:
            with open(path + ".progress", "a") as f:
                f.write(json.dumps([text, round(self.bar.get_fraction(), 3)]) + "\n")
        for prefix in [p for p in self.shots if text.startswith(p)]:
            pump()
            screenshot(self.shots.pop(prefix))
        if self.cancel_at_text and text.startswith(self.cancel_at_text) and not self.cancelled:
            self.dialog.response(self.Gtk.ResponseType.CANCEL)  # the user's click

    def show(self, ev) -> None:
        super().show(ev)
        if ev.kind == "progress" and ev.total and self.cancel_at_step is not None:
            if ev.step >= self.cancel_at_step:
                self.dialog.response(self.Gtk.ResponseType.CANCEL)  # the user's click

    def poll(self):
        if self.run.stage == Stage.WRITING:
            self.write_polls += 1
            if self.write_polls == self.cancel_in_write:
                self.dialog.response(self.Gtk.ResponseType.CANCEL)  # the user's click
        return super().poll()

    def close(self) -> None:
        record(".marks", self.run.marks)
        record(".closed", {"label": self.label.get_text(), "write_polls": self.write_polls})
        super().close()


def spy_on_hints() -> None:
    """Record the hint layer each job sends, at the answers' "hint_points"."""
    real = session.Session.colorize

    def colorize(self, image, hints, *args, **kwargs):
        points = answers().get("hint_points")
        path = os.environ.get(ENV_ANSWERS)
        if points and path:
            data = hints.tobytes() if hints is not None else None
            seen = None
            if data is not None:
                seen = [list(data[(y * hints.width + x) * 4 :][:4]) for x, y in points]
            with open(path + ".hints", "a") as f:
                f.write(json.dumps(seen) + "\n")
        return real(self, image, hints, *args, **kwargs)

    session.Session.colorize = colorize


class ScaleDialog(dialog.ScaleDialog):
    def __init__(self, procedure, config, colorizer):
        super().__init__(procedure, config, colorizer)
        show = colorizer.show
        path = os.environ.get(ENV_ANSWERS)

        # each render on the layer: [scale, final, started, the daemon's layers in (and
        # upscaled), written and shown, the daemon's width, height] (monotonic times)
        self.renders = []

        def traced(render):  # the test checks which values were rendered, and how
            show(render)
            shown = [render.scale, render.final, render.started, render.received,
                     time.monotonic(), *render.size]  # fmt: skip
            self.renders.append(shown)
            if path:
                with open(path + ".trace", "a") as f:
                    f.write(f"{render.scale}\n")
                with open(path + ".renders", "a") as f:
                    f.write(json.dumps(shown) + "\n")

        colorizer.show = traced
        # each move the layer's saturation filter showed (``preview_filter``): [value,
        # shown by the filter, called, returned (after GIMP's displays flush), the first
        # layer's filters' names then] (monotonic times)
        self.filters = []
        preview_filter = colorizer.preview_filter

        def filtered(value):
            called = time.monotonic()
            shown = preview_filter(value)
            returned = time.monotonic()
            names = [f.get_name() for f in colorizer.colorizers[0].layer.get_filters()]
            self.filters.append([value, shown, called, returned, names])
            if path:
                with open(path + ".filters", "a") as f:
                    f.write(json.dumps(self.filters[-1]) + "\n")
            return shown

        colorizer.preview_filter = filtered
        rest_ms = answers().get("rest_ms")
        if rest_ms is not None:  # e.g. huge: only the release may ask for the full render
            self.live.REST_MS = rest_ms
        self.released = None  # when the knob was let go (time.monotonic())

    def _released(self, widget, event) -> bool:
        record(".released", {"at": time.monotonic()})  # the shipped handler was reached
        return super()._released(widget, event)

    def release(self) -> float:
        self.released = release_knob(self.scale)
        return self.released

    def run(self):
        test = answers()

        def act():
            from gi.repository import Gtk

            values = list(test.get("scales", []))
            last = values[-1] if values else None

            def step():
                if values:
                    self.config.set_property("scale", values.pop(0))
                    if not values and test.get("release"):
                        self.release()  # the hand lets the knob go at the last value
                    return True
                if "before" in test:
                    self.press_before(test["before"], answer)
                    return False
                if test.get("layer_before_ok"):
                    GLib.timeout_add(20, wait_for_full, time.monotonic() + 60)
                    return False
                return answer()

            def wait_for_full(until):
                """Until the full-resolution render of the last value is on the layer."""
                if not any(r[1] and r[0] == last for r in self.renders):
                    if time.monotonic() < until:
                        return True
                layer = self.colorizer.colorizers[0].layer
                with open(test["layer_before_ok"], "wb") as f:
                    f.write(layer_pixels(layer))
                record(".filters_before_ok", [f.get_name() for f in layer.get_filters()])
                return answer()

            def answer():
                record(".jobs", [c.job for c in self.colorizer.colorizers])
                pump()
                record(".mnemonics.scale", mnemonics(self.dialog))
                record(".about", self.about.get_text())
                if test.get("screenshot"):
                    screenshot(test["screenshot"])
                ok = test.get("accept", True)
                self.dialog.response(Gtk.ResponseType.OK if ok else Gtk.ResponseType.CANCEL)
                return False

            if "drag" in test:
                self.drag(test["drag"], lambda: values.clear() or step())
            else:
                GLib.timeout_add(test.get("scale_ms", SLIDER_MS), step)

        answer_later(self.dialog, act)
        return super().run()

    def press_before(self, plan: dict, then) -> None:
        """Press "Before" in (a click), look, set PLAN's "scale" (if any) and wait for its
        full-resolution render on the layer (or 60 s), then SETTLE_MS; look, save the
        screen to PLAN's "screenshot" (if any), and with PLAN's "off" click it out again
        and look; THEN.
        What was seen goes to + ".before": per look, the toggle's state, the run's (first)
        layer's visibility and every layer of the image as [name, visible], top first."""
        seen = {}

        def look(when):
            pump()
            seen[when] = {
                "active": self.before.get_active(),
                "layer": self.colorizer.colorizers[0].layer.get_visible(),
                "layers": [[x.get_name(), x.get_visible()] for x in self.colorizer.image.get_layers()],
            }  # fmt: skip

        self.before.clicked()  # the user's click: pressed in
        look("on")
        value = plan.get("scale")
        if value is not None:
            self.config.set_property("scale", value)
        until = time.monotonic() + 60

        def wait():
            if value is not None and time.monotonic() < until:
                if not any(r[1] and r[0] == value for r in self.renders):
                    return True  # look again in 20 ms
            GLib.timeout_add(SETTLE_MS, settled)  # the dialog and the canvas redrawn
            return False

        def settled():
            look("rendered")
            if plan.get("screenshot"):
                screenshot(plan["screenshot"])
            if plan.get("off"):
                self.before.clicked()  # pressed again: out
                look("off")
            record(".before", seen)
            return then()

        GLib.timeout_add(20, wait)

    def drag(self, plan: dict, then) -> None:
        """Move the slider through PLAN's values on its schedule; THEN once the last
        value is rendered on the layer (or after 60 s)."""
        values, step = plan["values"], plan["interval_ms"] / 1000.0
        t0 = time.monotonic() + step
        moves = {"due": [t0 + i * step for i in range(len(values))], "set": []}
        state = {"i": -1}

        def tick():
            now = time.monotonic()
            due = max((i for i, t in enumerate(moves["due"]) if t <= now), default=-1)
            if due > state["i"]:  # the newest value due; older ones not yet set are skipped
                state["i"] = due
                self.config.set_property("scale", values[due])
                moves["set"].append([due, time.monotonic()])
                if due == len(values) - 1 and plan.get("release"):
                    moves["released"] = self.release()
            last = state["i"] == len(values) - 1
            rendered = any(r[1] and abs(r[0] - values[-1]) < 1e-3 for r in self.renders)
            if last and (rendered or now > moves["due"][-1] + 60):
                moves["renders"] = self.renders
                moves["filters"] = self.filters
                record(".drag", moves)
                then()
                return False
            return True

        GLib.timeout_add(5, tick)


ANSWERED = types.SimpleNamespace(
    MainDialog=MainDialog,
    ProgressDialog=ProgressDialog,
    ScaleDialog=ScaleDialog,
    StatusProgress=dialog.StatusProgress,
)


def run_answered(procedure, run_mode, image, drawables, config, data):
    spy_on_hints()
    return plugin.run_colorize(procedure, run_mode, image, drawables, config, data, ANSWERED)


class TinctColorizeSelftest(Gimp.PlugIn):
    def do_query_procedures(self):
        return [PROCEDURE]

    def do_set_i18n(self, name):
        return False

    def do_create_procedure(self, name):
        return plugin.colorize_procedure(self, name, run_answered)


if __name__ == "__main__":
    Gimp.main(TinctColorizeSelftest.__gtype__, sys.argv)
