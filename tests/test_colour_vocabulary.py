"""One colour vocabulary and one sky finder, shared by the prompt parser and placer
(tinct.color) and training's captions (tinct.train.colorwords)."""

from __future__ import annotations

import numpy as np
import pytest

from tinct import color
from tinct.color import prompt_regions, prompt_words, regions, vocabulary
from tinct.train.colorwords import recoloured_caption, region_caption, strip_color_words


@pytest.mark.parametrize("word", ["scarlet", "lime", "maroon", "azure"])
def test_words_training_strips_are_words_the_parser_reads(word):
    """These four were stripped from hue-shifted captions but unknown to the parser."""
    assert strip_color_words(f"a {word} kite over the sea") == "a kite over the sea"
    (phrase,) = prompt_words.parse(f"a {word} kite")
    assert (phrase.colour, phrase.noun) == (word, "kite")
    assert np.hypot(*phrase.ab) > 20.0  # a real colour, not gray


def test_training_strips_exactly_the_parsers_words_that_carry_a_hue():
    for word, (a, b, _, _) in vocabulary.COLOURS.items():
        assert [p.colour for p in prompt_words.parse(f"a {word} kite")] == [word]
        stripped = strip_color_words(f"a dark {word} kite") == "a kite"
        # A hue rotation leaves white, black and gray true: those stay in the caption.
        assert stripped == (np.hypot(a, b) > 0.0), word
    assert set(vocabulary.HUE_NAMES) <= set(vocabulary.COLOURS)


def _scene(sky_rows: slice, rng: np.random.Generator) -> np.ndarray:
    """A 90x120 sRGB image: textured green everywhere but `sky_rows`, a smooth
    bright blue band there."""
    h, w = 90, 120
    lightness = 45.0 + rng.normal(0.0, 7.0, (h, w)).astype(np.float32)
    ab = np.zeros((h, w, 2), np.float32)
    ab[...] = (-25.0, 25.0)
    lightness[sky_rows] = 78.0
    ab[sky_rows] = (-2.0, -30.0)
    return color.merge_luma(lightness, ab).astype(np.float32)


@pytest.mark.parametrize("where, is_sky", [(slice(0, 35), True), (slice(55, 90), False)])
def test_captions_name_a_sky_where_the_prompt_would_place_one(where, is_sky):
    """The same bright smooth blue band at the top is a sky for both; low in the frame
    (a lake) it is a sky for neither."""
    rgb = _scene(where, np.random.default_rng(0))
    lightness = color.luminance_lstar(rgb)
    sky = regions.find_sky(lightness)
    assert bool(sky[where].mean() > 0.7) is is_sky
    assert ("blue sky" in region_caption(rgb)) is is_sky
    _, weight = prompt_regions.prompt_field(lightness, "blue sky")
    assert bool(weight[where].mean() > 0.5) is is_sky
    # Renaming after a hue turn: the sky part is renamed from the found sky, or
    # loses its stale colour word when there is none.
    turned = color.merge_luma(lightness, np.roll(color.rgb_to_lab(rgb)[..., 1:], 1, axis=-1))
    renamed = recoloured_caption("blue sky", rgb, turned.astype(np.float32))
    assert (renamed != "sky") is is_sky, renamed
