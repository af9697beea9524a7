"""Layer names both plugins use (tinct.protocol.layers), without a host."""

from __future__ import annotations

from tinct.protocol.layers import (
    HINT_LAYER_NAME,
    NO_REFERENCE,
    is_result_name,
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
