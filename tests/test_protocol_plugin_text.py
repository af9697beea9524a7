"""What both plugins show, made without a host: the backend's version line (about), the
result layer's name (naming, layers) and errors as one readable line (readable)."""

from __future__ import annotations

import sys

import pytest

from tinct.protocol.about import backend_line
from tinct.protocol.colorize_request import ColorizeRequest
from tinct.protocol.errors import DaemonLost, LaunchError, TinctError
from tinct.protocol.launcher import Launcher
from tinct.protocol.layers import is_result_name, result_layer_name, scale_text
from tinct.protocol.naming import image_stem, reference_name, result_name
from tinct.protocol.readable import backend_log_path, readable_error

HELLO = {
    "protocol": 2,
    "server": "0.1.0",
    "device": "cpu",
    "libraries": {
        "torch": "2.13.0+cpu",
        "diffusers": "0.42.1",
        "transformers": "5.25.0",
        "pyzmq": "27.3.0",
    },  # fmt: skip
}


def test_the_backend_line_names_tinct_torch_and_the_device():
    assert backend_line(HELLO) == "Backend tinct 0.1.0 \u00b7 torch 2.13.0+cpu \u00b7 cpu"
    every = backend_line(HELLO, ("torch", "diffusers", "transformers", "pyzmq"))
    assert every.count("\u00b7") == 5 and "pyzmq 27.3.0" in every


def test_the_backend_line_survives_an_older_or_odd_hello():
    assert backend_line({"protocol": 1, "device": "cuda"}) == "Backend (protocol 1) \u00b7 cuda"
    odd = backend_line({"server": "1.0\nrc", "libraries": "?", "device": None})
    assert odd == "Backend tinct 1.0 rc \u00b7 unknown" and "\n" not in odd


def test_result_names_say_hints_reference_prompt_and_scale_in_one_order():
    req = ColorizeRequest(prompt="blue sky", reference_document="beach.jpg",
                          reference_layer="colour photo")  # fmt: skip
    name = result_name(req, 1.2, hints=True, seed=7)
    assert name == 'Tinct \u2014 "blue sky" +hints ref "colour photo" x1.20 seed 7'
    assert result_name(ColorizeRequest(), 1.0, hints=True) == "Tinct +hints x1.00"
    assert result_name(ColorizeRequest(), 1.0, hints=False) == "Tinct x1.00"
    for n in (name, "Tinct +hints x1.00", 'Tinct +hints ref "a" x0.50 auto'):
        assert is_result_name(n), n
    assert not is_result_name("Tinct hints") and not is_result_name("Tinct +hintsx")


def test_a_background_reference_is_named_by_its_image():
    assert reference_name("beach.jpg", "Background") == "beach"
    assert reference_name("old scan.TIF", "background") == "old scan"
    assert reference_name("beach", "colour photo") == "colour photo"
    assert reference_name("notes.v2", "Background") == "notes.v2"  # not an image extension
    assert reference_name(None, None) is None
    req = ColorizeRequest(reference_document="beach.jpg", reference_layer="Background")
    assert result_name(req, 1.0, hints=False) == 'Tinct ref "beach" x1.00'
    assert image_stem(".png") == ".png"


@pytest.mark.parametrize(("scale", "text"), [(1.895, "1.90"), (1.0, "1.00"), (0.125, "0.13"),
                                             (2, "2.00"), (1.8949, "1.89")])  # fmt: skip
def test_the_scale_reads_as_the_slider_shows_it(scale, text):
    assert scale_text(scale) == text
    assert result_layer_name("", scale).endswith(f"x{text}")


def test_a_backend_that_fails_to_start_is_one_line_with_the_log(tmp_path):
    """A real Launcher on a backend command that prints a traceback and exits 1."""
    script = tmp_path / "fail.py"
    script.write_text("import sys\nprint('Traceback (most recent call last):', file=sys.stderr)"
                      "\nraise SystemExit('RuntimeError: no model here')\n")  # fmt: skip
    rt = tmp_path / "rt"
    launcher = Launcher(runtime_dir=rt, backend_cmd=[sys.executable, str(script)],
                        start_timeout=30)  # fmt: skip
    with pytest.raises(LaunchError) as info:
        launcher.connect()
    err = info.value
    assert "last lines of" in err.message and "RuntimeError" in err.message  # the CLI's
    r = readable_error(err)
    assert "\n" not in r.line and "Traceback" not in r.line
    assert r.line.startswith("The Tinct backend exited with code 1 while starting")
    assert r.line.endswith(f"Log: {rt / 'daemon.log'}") and "Colorize again" in r.line
    assert "RuntimeError: no model here" in r.details
    assert backend_log_path(rt) == str(rt / "daemon.log")


def test_other_errors_are_one_line_too():
    log = "/run/tinct/daemon.log"
    lost = readable_error(DaemonLost("no reply within 10 s"), log)
    assert lost.line == ("The Tinct backend stopped answering (no reply within 10 s); Colorize "
                         f"again to restart it. Log: {log}")  # fmt: skip
    internal = readable_error(TinctError("internal", "CUDA out of memory\n  at line 3"), log)
    assert internal.line.startswith("The Tinct backend failed (CUDA out of memory)")
    assert "\n" not in internal.line and internal.line.endswith(log)
    refusal = readable_error(TinctError("bad_pixels", "the reference is gray; pick a colour "
                                        "photo"), log)  # fmt: skip
    assert refusal == ("The reference is gray; pick a colour photo.", "")
    try:
        raise KeyError("layer")
    except KeyError as exc:
        import traceback

        bug = readable_error(exc, log, traceback.format_exc())
    assert bug.line.startswith("Tinct hit a bug (KeyError: 'layer')") and log in bug.line
    assert "Traceback" in bug.details and "\n" not in bug.line
    unconfigured = readable_error(LaunchError("no Tinct backend configured: run `tinct install`"
                                              "\nor set TINCT_BACKEND_CMD"), log)  # fmt: skip
    assert unconfigured.line == f"No Tinct backend configured: run `tinct install`. Log: {log}"
    assert readable_error("a\nb").line == "A."
    long = readable_error(TinctError("internal", "x" * 500), log).line
    assert long.endswith(log) and len(long) < 300
