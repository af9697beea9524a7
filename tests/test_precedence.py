"""The composition policy (tinct.color.precedence): which colour source wins where.

The order is model -> prior -> prompt -> hints and reference -> paste. Each test here
fails if two steps trade places in `combine_chroma`.
"""

from __future__ import annotations

import numpy as np

from tinct import color
from tinct.color import hints as hint_propagation
from tinct.color import precedence, prompt_regions

MODEL, PRIOR, PROMPT, HINT, PAINT = (
    (1.0, 2.0),
    (10.0, 0.0),
    (40.0, 30.0),
    (-30.0, -40.0),
    (-50.0, 60.0),
)


def constant(h: int, w: int, ab) -> np.ndarray:
    return np.zeros((h, w, 2), np.float32) + np.asarray(ab, np.float32)


def staircase(h: int = 4, w: int = 5) -> dict[str, np.ndarray]:
    """Five columns: column k has sources 1..k at full weight (0: the model alone,
    1: + prior, 2: + prompt, 3: + hints, 4: + a painted pixel)."""
    cols = np.arange(w)[None, :].repeat(h, axis=0)
    return dict(
        model_ab=constant(h, w, MODEL),
        prior_field=np.where((cols >= 1)[..., None], constant(h, w, PRIOR), 0.0),
        prompt_field=constant(h, w, PROMPT),
        prompt_weight=(cols >= 2).astype(np.float32),
        hint_field=constant(h, w, HINT),
        hint_weight=(cols >= 3).astype(np.float32),
        painted_ab=constant(h, w, PAINT),
        painted_alpha=(cols >= 4).astype(np.float32),
    )


def test_each_source_wins_over_the_ones_before_it():
    sources = staircase()
    model_ab = sources.pop("model_ab")
    s = 0.5
    ab = precedence.combine_chroma(model_ab, s, **sources)
    expected = [
        MODEL,  # nothing else speaks
        np.add(MODEL, np.multiply(s, PRIOR)),  # the prior is added, at the slider's scale
        np.multiply(s, PROMPT),  # the prompt replaces model + prior where it is sure
        HINT,  # hints replace the prompt, and do not follow the slider
        PAINT,  # a painted pixel wins over everything
    ]
    for col, want in enumerate(expected):
        assert np.allclose(ab[:, col], want, atol=1e-5), (col, ab[0, col], want)


def test_half_weights_mix_in_order():
    """At weight 0.5 each blend goes halfway from what lies under it: swapping the
    prompt and hint blends gives another colour."""
    h, w = 2, 2
    half = np.full((h, w), 0.5, np.float32)
    ab = precedence.combine_chroma(
        constant(h, w, (0.0, 0.0)),
        1.0,
        prompt_field=constant(h, w, PROMPT),
        prompt_weight=half,
        hint_field=constant(h, w, HINT),
        hint_weight=half,
    )
    # prompt then hints: 0.5 * (0.5 * PROMPT) + 0.5 * HINT
    want = 0.25 * np.asarray(PROMPT) + 0.5 * np.asarray(HINT)
    assert np.allclose(ab, want, atol=1e-5)
    # The check above tells the two orders apart: hints then prompt gives this.
    swapped = 0.25 * np.asarray(HINT) + 0.5 * np.asarray(PROMPT)
    assert not np.allclose(want, swapped, atol=1.0)


def test_absent_sources_leave_the_models_colour_alone():
    model_ab = np.random.default_rng(0).normal(0, 20, (6, 7, 2)).astype(np.float32)
    assert np.array_equal(precedence.combine_chroma(model_ab, 1.3), model_ab)
    # A weight of 0 and an alpha of 0 change nothing either.
    zero = np.zeros((6, 7), np.float32)
    out = precedence.combine_chroma(
        model_ab,
        1.3,
        prompt_field=constant(6, 7, PROMPT),
        prompt_weight=zero,
        hint_field=constant(6, 7, HINT),
        hint_weight=zero,
        painted_ab=constant(6, 7, PAINT),
        painted_alpha=zero,
    )
    assert np.allclose(out, model_ab, atol=1e-5)


def test_a_reduced_decode_keeps_the_order_and_the_painted_colour():
    """Sources at the work size laid over a model colour at half of it (a live preview)."""
    sources = staircase(h=8, w=10)
    del sources["model_ab"]
    sources["painted_alpha"] = np.zeros((8, 10), np.float32)
    sources["painted_alpha"][:, 8:] = 1.0  # whole 2x2 blocks painted
    sources["hint_weight"][:, :6] = 0.0  # whole blocks: no hints in the first three
    ab = precedence.combine_chroma(constant(4, 5, MODEL), 1.0, **sources)
    assert ab.shape == (4, 5, 2)
    assert np.allclose(ab[:, 4], PAINT, atol=1e-4)
    assert np.allclose(ab[:, 3], HINT, atol=1e-4)


def sky_over_grass(h: int = 72, w: int = 96, seed: int = 0):
    """A smooth bright sky (L* ~78) over grainy mid-gray grass from row 0.55 h."""
    rng = np.random.default_rng(seed)
    lightness = np.full((h, w), 78.0, np.float32) + np.linspace(0, 4, h, dtype=np.float32)[:, None]
    horizon = int(0.55 * h)
    lightness[horizon:] = 45.0 + rng.normal(0.0, 7.0, (h - horizon, w)).astype(np.float32)
    return lightness, horizon


def test_a_painted_stroke_overrides_the_prompt_where_it_reaches():
    """Real fields: "red sky" placed by prompt_regions, a blue stroke across the sky
    spread by the hints solve. The sky turns the stroke's blue; the grass, which the
    stroke does not reach, keeps what lay under it."""
    lightness, horizon = sky_over_grass()
    h, w = lightness.shape
    placed = prompt_regions.prompt_field(lightness, "red sky")
    assert placed is not None
    prompt_field, prompt_weight = placed
    rgb = np.zeros((h, w, 3), np.float32)
    alpha = np.zeros((h, w), np.float32)
    rgb[6:9, 10:86] = (0.35, 0.55, 0.9)
    alpha[6:9, 10:86] = 1.0
    painted_ab, painted_alpha, field, reach = hint_propagation.hint_chroma(rgb, alpha, lightness)
    weight = hint_propagation.render_weight(reach)
    model_ab = np.zeros((h, w, 2), np.float32)

    told = precedence.combine_chroma(
        model_ab, 1.0, prompt_field=prompt_field, prompt_weight=prompt_weight
    )
    both = precedence.combine_chroma(
        model_ab,
        1.0,
        prompt_field=prompt_field,
        prompt_weight=prompt_weight,
        hint_field=field,
        hint_weight=weight,
        painted_ab=painted_ab,
        painted_alpha=painted_alpha,
    )
    sky = (slice(12, horizon - 4), slice(None))
    assert told[sky][..., 0].mean() > 15.0  # the prompt alone: a red sky
    blue = color.rgb_to_lab(rgb[6:7, 10:11])[0, 0, 1:]
    assert np.abs(both[sky].reshape(-1, 2).mean(0) - blue).max() < 5.0  # the stroke's blue
    # The painted pixels themselves are exactly the painted colour.
    assert np.allclose(both[6:9, 10:86], blue, atol=1e-3)
    # Where the stroke does not reach, what lay under it stays.
    far = weight < 1e-4
    assert far.mean() > 0.3, far.mean()  # the grass, at least
    assert np.allclose(both[far], told[far], atol=1e-2)  # at most 1e-4 of ~60 a*b* apart


def test_painted_hints_win_over_a_reference_where_they_reach():
    painted = constant(4, 4, (40.0, 0.0))
    ref = constant(4, 4, (0.0, -40.0))
    cp = np.array([[1.0, 0.5, 0.0, 0.0]] * 4, np.float32)
    field, conf = precedence.prefer_painted(painted, cp, ref, np.ones((4, 4), np.float32))
    assert np.allclose(field[:, 0], [40.0, 0.0]) and np.allclose(field[:, 2], [0.0, -40.0])
    assert np.allclose(field[:, 1], [20.0, -20.0]) and np.allclose(conf, 1.0)
    alone, conf_r = precedence.prefer_painted(None, None, ref, np.full((4, 4), 0.5, np.float32))
    assert alone is ref and np.allclose(conf_r, 0.5)


def test_colour_words_go_to_the_image_and_other_text_to_the_unet():
    lightness, _ = sky_over_grass()
    assert prompt_regions.prompt_field(lightness, "red sky") is not None
    assert precedence.unet_text("red sky", colours_placed=True) == ""
    assert prompt_regions.prompt_field(lightness, "sunset over the sea") is None
    assert precedence.unet_text("sunset over the sea", colours_placed=False) == (
        "sunset over the sea"
    )
