"""What both plugins share through the protocol, without a host: layer names and the
hint and reference choices (layers), rectangles and preview sizes (geometry), the request."""

from __future__ import annotations

from tinct.protocol.colorize_request import ColorizeRequest
from tinct.protocol.constants import DEFAULT_SCALE, DEFAULT_STEPS
from tinct.protocol.geometry import Rect, fit_size
from tinct.protocol.layers import (
    HINT_LAYER_NAME,
    NO_HINTS,
    NO_REFERENCE,
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
    assert (req.steps, req.scale, req.auto) == (DEFAULT_STEPS, DEFAULT_SCALE, True)
    assert req.colorize_kwargs() == {"prompt": "", "scale": "auto", "steps": DEFAULT_STEPS}
    fixed = ColorizeRequest("red car", 3, auto=False, scale=5.0, reference_layer="beach")
    assert fixed.wire_scale() == 2.0 and fixed.colorize_kwargs()["scale"] == 2.0
    assert fixed.to_json()["reference_layer"] == "beach"
