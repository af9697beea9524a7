"""One set of user-facing defaults and bounds: the CLI, the daemon, the wire and both plugins.

Everything is read from where the user meets it (the parsers, a real daemon's hello,
the staged plugins' own modules) and compared with tinct.protocol.constants. The
real hosts show the same numbers in their widgets: tests/test_krita_gui.py and
tests/test_gimp_host.py check those.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from tinct.cli.main import build_parser
from tinct.install.gimp import PLUGIN_NAME, stage_gimp
from tinct.install.krita import stage_krita
from tinct.protocol import constants as C
from tinct.protocol.errors import ProtocolError
from tinct.protocol.messages import encode_header, make_request, parse_request
from tinct.testing import DaemonHarness, serve_command


def test_the_constants_are_consistent():
    assert C.MIN_STEPS <= C.DEFAULT_STEPS <= C.MAX_STEPS
    assert C.MIN_GUIDANCE <= C.DEFAULT_GUIDANCE <= C.MAX_GUIDANCE
    assert C.MIN_SCALE <= C.DEFAULT_SCALE <= C.MAX_SCALE


def test_cli_colorize_defaults_and_bounds():
    parser = build_parser()
    args = parser.parse_args(["colorize", "in.png", "-o", "out.png"])
    assert (args.steps, args.guidance, args.scale) == (
        C.DEFAULT_STEPS, C.DEFAULT_GUIDANCE, C.DEFAULT_SCALE)  # fmt: skip
    ok = parser.parse_args(["colorize", "a", "-o", "b", "--scale", str(C.MAX_SCALE),
                            "--steps", str(C.MAX_STEPS)])  # fmt: skip
    assert ok.scale == C.MAX_SCALE and ok.steps == C.MAX_STEPS
    for flag, value in (("--scale", C.MAX_SCALE + 0.01), ("--scale", C.MIN_SCALE - 0.01),
                        ("--steps", C.MAX_STEPS + 1), ("--guidance", C.MAX_GUIDANCE + 1)):  # fmt: skip
        proc = subprocess.run(
            [sys.executable, "-m", "tinct", "colorize", "a.png", "-o", "b.png", flag, str(value)],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 2 and "must be within" in proc.stderr, (flag, proc.stderr)
    serve = parser.parse_args(["serve"])
    assert (serve.steps, serve.guidance) == (C.DEFAULT_STEPS, C.DEFAULT_GUIDANCE)
    for command in (["client", "colorize", "a", "-o", "b"], ["client", "apply", "j", "-o", "b"],
                    ["client", "rescale", "j", "-o", "b"]):  # fmt: skip
        assert parser.parse_args(command).scale == C.DEFAULT_SCALE, command


def test_scale_auto_is_refused_by_every_command_with_the_reason():
    """The automatic pick is gone; `--scale auto` (what earlier versions took) says why and what
    to give instead, in one line, exit code 2."""
    for command in (["colorize", "a.png", "-o", "b.png"], ["client", "colorize", "a", "-o", "b"],
                    ["client", "rescale", "j", "-o", "b"], ["client", "apply", "j", "-o", "b"]):  # fmt: skip
        proc = subprocess.run(
            [sys.executable, "-m", "tinct", *command, "--scale", "auto"],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 2, (command, proc.stderr)
        assert "'auto' is no longer supported" in proc.stderr and "default 1" in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_the_wire_takes_the_same_bounds():
    def colorize(**fields):
        header = encode_header(make_request("colorize", "r1", "t", image={
            "width": 1, "height": 1, "channels": 4, "dtype": "u8", "stride": 4}, **fields))  # fmt: skip
        return parse_request([header, b"\0" * 4], "t")

    assert colorize(scale=C.MAX_SCALE).params["scale"] == C.MAX_SCALE
    for bad in ({"scale": C.MAX_SCALE + 0.01}, {"steps": C.MAX_STEPS + 1},
                {"guidance": C.MAX_GUIDANCE + 0.5}):  # fmt: skip
        with pytest.raises(ProtocolError):
            colorize(**bad)


def test_a_real_daemon_announces_the_defaults(tmp_path, tiny_model_dir):
    harness = DaemonHarness(tmp_path / "rt", serve_command(tiny_model_dir))
    try:
        client = harness.connect("pure")
        try:
            defaults = client.hello()["defaults"]
        finally:
            client.close()
    finally:
        harness.close()
    assert defaults["steps"] == C.DEFAULT_STEPS and defaults["guidance"] == C.DEFAULT_GUIDANCE
    assert defaults["scale"] == C.DEFAULT_SCALE


def test_the_krita_plugin_uses_them(tmp_path):
    pkg = stage_krita(tmp_path)[1]
    spec = importlib.util.spec_from_file_location(
        "tinct_krita_defaults", pkg / "__init__.py", submodule_search_locations=[str(pkg)]
    )
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    try:
        spec.loader.exec_module(mod)
        request = importlib.import_module(f"{spec.name}.request")
        assert (request.SCALE_MIN, request.SCALE_MAX) == (C.MIN_SCALE, C.MAX_SCALE)
        assert request.slider_to_scale(request.SLIDER_MAX) == C.MAX_SCALE
        assert request.slider_to_scale(request.SLIDER_MIN) == C.MIN_SCALE
        assert request.ColorizeRequest().steps == C.DEFAULT_STEPS
        assert request.ColorizeRequest().scale == C.DEFAULT_SCALE
    finally:
        for name in [n for n in sys.modules if n.startswith(spec.name)]:
            del sys.modules[name]


def test_the_gimp_plugin_uses_them(tmp_path):
    stage_gimp(tmp_path)
    code = (
        "import sys, json; sys.path.insert(0, sys.argv[1]); from tinct_gimp import request; "
        "print(json.dumps({a.name: [a.nick, a.default, a.minimum, a.maximum] "
        "for a in request.ARGUMENTS}))"
    )
    out = subprocess.run([sys.executable, "-S", "-c", code, str(tmp_path / PLUGIN_NAME)],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    import json

    args = json.loads(out)
    assert "auto" not in args, "the automatic colourfulness chose 1.0 on every photo"
    assert args["variations"][1:] == [C.DEFAULT_VARIATIONS, C.MIN_VARIATIONS, C.MAX_VARIATIONS]
    assert args["seed"][1:] == [C.DEFAULT_SEED, C.MIN_SEED, C.MAX_SEED]
    assert args["steps"][1:] == [C.DEFAULT_STEPS, C.MIN_STEPS, C.MAX_STEPS]
    label, *bounds = args["scale"]
    assert label.replace("_", "") == C.SCALE_WORD and label.count("_") == 1, label
    assert bounds == [C.DEFAULT_SCALE, C.MIN_SCALE, C.MAX_SCALE]
