"""What both plugins share through the protocol, without a host: layer names and the
hint and reference choices (layers), rectangles and preview sizes (geometry), the request."""

from __future__ import annotations

import unicodedata

from tinct.protocol.colorize_request import ColorizeRequest
from tinct.protocol.constants import DEFAULT_SCALE, DEFAULT_STEPS
from tinct.protocol.geometry import Rect, fit_size
from tinct.protocol.layers import (
    HINT_LAYER_NAME,
    NO_HINTS,
    NO_REFERENCE,
    clean_name_text,
    hint_choices,
    is_result_name,
    reference_choices,
    reference_label,
    result_layer_name,
)


def test_result_names_say_how_the_layer_was_made():
    assert result_layer_name("blue sky", 1.1) == 'Tinct \u2014 "blue sky" x1.10'
    assert result_layer_name("", 0.9, auto=True) == "Tinct x0.90 auto"
    assert result_layer_name("  red\n car ", 2) == 'Tinct \u2014 "red car" x2.00'
    long = result_layer_name("a " * 60, 1.0)
    assert len(long) < 70 and long.endswith('\u2026" x1.00')


def test_results_are_recognised_and_nothing_else():
    for name in (result_layer_name("sky", 1.0), "Tinct x1.00 auto #1", "Tinct color",
                 "Tinct color #2"):  # fmt: skip
        assert is_result_name(name), name
    for name in (HINT_LAYER_NAME, "photo", "Tinct", "Tinctures", "Tinct notes"):
        assert not is_result_name(name), name


def test_a_reference_is_named_in_the_result_and_still_recognised():
    name = result_layer_name("blue sky", 1.1, reference="beach")
    assert name == 'Tinct \u2014 "blue sky" ref "beach" x1.10'
    bare = result_layer_name("", 0.8, auto=True, reference="  a\nlong   reference layer name here ")
    assert bare.startswith('Tinct ref "a long reference layer name')  # cut to 30 characters
    assert bare.endswith('\u2026" x0.80 auto') and len(bare) == len('Tinct ref "" x0.80 auto') + 30
    assert is_result_name(name) and is_result_name(bare)
    assert reference_label("scan.png", "Background") == "scan.png / Background"
    assert not is_result_name(NO_REFERENCE)


def test_hint_choices_never_offer_the_source_or_results():
    names = ["Tinct hints", 'Tinct \u2014 "sky" x1.00', "Photo", "Tinct x0.90 auto", "Strokes"]
    assert hint_choices(names, "Photo") == [NO_HINTS, "Tinct hints", "Strokes"]
    assert hint_choices(["Photo"], None) == [NO_HINTS, "Photo"]  # no layer to colorize yet


def test_reference_choices_list_every_image_but_never_the_source_or_helpers():
    layers = [("scan.png", "Photo", 1), ("scan.png", "Tinct hints", 2),
              ("scan.png", "Tinct x1.00", 3), ("beach.jpg", "Background", 4),
              ("beach.jpg", "Photo", 5)]  # fmt: skip
    assert reference_choices(layers, source=1) == [
        (NO_REFERENCE, None), ("beach.jpg / Background", 4), ("beach.jpg / Photo", 5)]  # fmt: skip


def test_rect_intersection():
    assert Rect(0, 0, 10, 10).intersect(Rect(5, 5, 10, 10)) == Rect(5, 5, 5, 5)
    assert Rect(0, 0, 10, 10).intersect(Rect(20, 0, 5, 5)).empty
    assert Rect(0, 0, 10, 10).intersect(Rect(5, -3, 10, 6)) == Rect(5, 0, 5, 3)


def test_fit_size_scales_down_never_up():
    assert fit_size(6000, 4000, 384) == (384, 256)
    assert fit_size(100, 50, 384) == (100, 50)
    assert fit_size(4000, 1, 384) == (384, 1)


def test_the_request_says_what_goes_on_the_wire():
    req = ColorizeRequest()
    assert (req.steps, req.scale, req.variations, req.seed) == (DEFAULT_STEPS, DEFAULT_SCALE, 1, 0)
    # the slider's number is always sent, never "auto"
    assert req.colorize_kwargs() == {
        "prompt": "",
        "scale": DEFAULT_SCALE,
        "steps": DEFAULT_STEPS,
        "seed": 0,
    }
    fixed = ColorizeRequest("red car", 3, scale=5.0, reference_layer="beach")
    assert fixed.wire_scale() == 2.0 and fixed.colorize_kwargs()["scale"] == 2.0
    assert fixed.to_json()["reference_layer"] == "beach"


def test_names_carry_no_control_format_or_bidi_characters():
    """NUL, escapes, newlines and bidi overrides in a prompt never reach a layer name."""
    name = result_layer_name(
        "red\x00car\u202e\u2066 sky\x1b[31m\u2028x", 1.0, reference="be\u200fach"
    )
    assert name == 'Tinct \u2014 "red car sky [31m x" ref "beach" x1.00'
    assert all(unicodedata.category(ch)[0] != "C" for ch in name)
    assert is_result_name(name)
    # joiners that words and emoji need stay
    assert clean_name_text("\u0645\u06cc\u200c\u062e\u0648\u0627\u0645") == (
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0645"
    )
    assert clean_name_text("\U0001f468\u200d\U0001f469") == "\U0001f468\u200d\U0001f469"


def test_only_whole_result_names_are_results():
    """A layer merely starting like a result ("Tinct x...") is the user's, not Tinct's."""
    for name in ("Tinct xylophone", "Tinct x", "Tinct x1", "Tinct x1.00 extra", 'Tinct \u2014 "a"',
                 "Tinct colorful", "Tinct color #x", 'Tinct ref "b"'):  # fmt: skip
        assert not is_result_name(name), name
    for name in (result_layer_name('say "hi"', 1.0), result_layer_name("", 1.25, auto=True) + " #3",
                 result_layer_name("sky", 0.5, reference="b"), "Tinct color #12"):  # fmt: skip
        assert is_result_name(name), name
