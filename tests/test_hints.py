"""Edge-aware hint propagation (tinct.color.hints): hints win where they reach."""

from __future__ import annotations

import numpy as np
import pytest

from tinct.color import hints

SKY_BLUE = (-2.0, -32.0)


def sky_over_ground(h: int = 200, w: int = 320, seed: int = 0):
    """A smooth bright sky (L* 78, a soft vertical gradient and noise) over a
    darker textured ground from row 0.6 h; returns L* and the ground's first row."""
    rng = np.random.default_rng(seed)
    rows = np.linspace(0.0, 6.0, h, dtype=np.float32)[:, None]
    lightness = np.broadcast_to(76.0 + rows, (h, w)).astype(np.float32).copy()
    horizon = int(0.6 * h)
    lightness[horizon:] = 35.0 + 6.0 * rng.random((h - horizon, w), dtype=np.float32)
    lightness += rng.normal(0.0, 0.5, (h, w)).astype(np.float32)
    return lightness, horizon


def blue_dots(lightness: np.ndarray, horizon: int, count: int, seed: int = 1):
    h, w = lightness.shape
    rng = np.random.default_rng(seed)
    ab = np.zeros((h, w, 2), np.float32)
    mask = np.zeros((h, w), np.float32)
    for _ in range(count):
        y, x = int(rng.integers(2, horizon - 12)), int(rng.integers(2, w - 3))
        ab[y - 1 : y + 2, x - 1 : x + 2] = SKY_BLUE
        mask[y - 1 : y + 2, x - 1 : x + 2] = 1.0
    return ab, mask


@pytest.mark.parametrize("count", [3, 16])
def test_a_few_blue_dots_make_the_whole_sky_blue_and_leave_the_ground_alone(count):
    lightness, horizon = sky_over_ground()
    ab, mask = blue_dots(lightness, horizon, count)
    field, reach = hints.propagate(lightness, ab, mask)
    conf = hints.render_weight(reach)
    sky, ground = slice(0, horizon - 4), slice(horizon + 4, None)
    # The whole sky: trusted and blue, far from every dot as well.
    assert conf[sky].min() > 0.95
    assert np.abs(field[sky] - SKY_BLUE).max() < 2.0
    # The ground (darker, across the horizon's edge): the model keeps it.
    assert conf[ground].mean() < 0.05
    assert np.percentile(conf[ground], 99) < 0.3


def test_a_sky_hint_stays_out_of_textured_ground_of_like_lightness():
    """A soft horizon (the sky fades into the ground over 30 rows) and a grainy ground
    of about the sky's lightness: the solve alone passes the sky's colour down; the
    texture likeness keeps the ground the model's, and the sky stays trusted: fully
    within ~45 px of the patch, at least 0.7 at the sky's far corners (the price
    of LIKENESS_FULL 2.0, which halved the hints' flood on the validation photos)."""
    h, w = 200, 320
    rng = np.random.default_rng(3)
    lightness = np.full((h, w), 64.0, np.float32)
    ground = rng.normal(0.0, 6.0, (h, w)).astype(np.float32)
    fade = np.clip((np.arange(h, dtype=np.float32) - 100.0) / 30.0, 0.0, 1.0)[:, None]
    lightness = lightness - 4.0 * fade + fade * ground
    ab = np.zeros((h, w, 2), np.float32)
    mask = np.zeros((h, w), np.float32)
    ab[20:27, 150:157], mask[20:27, 150:157] = SKY_BLUE, 1.0
    field, reach = hints.propagate(lightness, ab, mask)
    conf = hints.render_weight(reach)
    assert conf[:90].min() > 0.7, conf[:90].min()
    assert conf[:50, 110:200].min() > 0.95, conf[:50, 110:200].min()
    assert np.abs(field[:90] - SKY_BLUE).max() < 2.0
    assert conf[140:].mean() < 0.05, conf[140:].mean()


def test_two_hinted_regions_keep_their_own_colours():
    lightness = np.full((60, 90), 70.0, np.float32)
    lightness[:, 45:] = 30.0  # two flat regions split by a vertical edge
    ab = np.zeros((60, 90, 2), np.float32)
    mask = np.zeros((60, 90), np.float32)
    mask[28:31, 5:8], ab[28:31, 5:8] = 1.0, (50.0, 30.0)
    mask[28:31, 80:83], ab[28:31, 80:83] = 1.0, (-40.0, 20.0)
    field, reach = hints.propagate(lightness, ab, mask)
    conf = hints.render_weight(reach)
    assert field[:, :40] == pytest.approx(np.broadcast_to((50.0, 30.0), (60, 40, 2)), abs=3)
    assert field[:, 50:] == pytest.approx(np.broadcast_to((-40.0, 20.0), (60, 40, 2)), abs=3)
    assert conf.min() > 0.95


def test_like_lightness_takes_like_colour_across_a_reached_region():
    """Stripes of two lightnesses (close enough to pass colour), a red hint on a dark
    stripe at the left and a blue one on a light stripe at the right: in the middle,
    the non-local estimate gives each stripe more of the colour of its own lightness
    than the solve alone, and both leave the region fully reached."""
    lightness = np.full((40, 120), 50.0, np.float32)
    lightness[:, (np.arange(120) // 4) % 2 == 1] = 56.0
    ab = np.zeros((40, 120, 2), np.float32)
    mask = np.zeros((40, 120), np.float32)
    mask[18:22, 0:4], ab[18:22, 0:4] = 1.0, (60.0, 40.0)  # red on a dark stripe
    mask[18:22, 116:120], ab[18:22, 116:120] = 1.0, (0.0, -40.0)  # blue on a light one
    middle = slice(48, 72)
    dark = lightness[:, middle] < 53.0
    gaps = {}
    for share in (0.0, hints.NONLOCAL_SHARE):
        field, reach = hints.propagate(lightness, ab, mask, nonlocal_share=share)
        a = field[:, middle, 0]
        gaps[share] = float(a[dark].mean() - a[~dark].mean())
        assert hints.render_weight(reach).min() > 0.95
    assert gaps[hints.NONLOCAL_SHARE] > 2.0 * gaps[0.0] + 1.0, gaps


def test_cost_is_bounded_by_the_grid_whatever_the_input_size():
    lightness, horizon = sky_over_ground(h=1200, w=1900)
    ab, mask = blue_dots(lightness, horizon, 8)
    field, reach = hints.propagate(lightness, ab, mask, max_pixels=64 * 64)
    conf = hints.render_weight(reach)
    assert field.shape == (1200, 1900, 2) and conf.shape == (1200, 1900)
    assert conf[: horizon - 20].min() > 0.9


def test_no_hints_give_an_empty_field():
    lightness, _ = sky_over_ground(h=40, w=60)
    field, reach = hints.propagate(lightness, np.zeros((40, 60, 2)), np.zeros((40, 60)))
    assert not field.any() and not reach.any()


def test_image_features_stop_a_hint_at_a_region_of_the_same_lightness():
    """Trees and a meadow of the same lightness and texture: on L* alone a green
    stroke on the trees floods the meadow; with features that tell them apart
    (as the encoder prior's do) it stays on the trees."""
    rng = np.random.default_rng(3)
    h, w = 120, 160
    lightness = (45.0 + 4.0 * rng.random((h, w))).astype(np.float32)
    trees = np.zeros((h, w), bool)
    trees[:, : w // 2] = True
    features = np.zeros((h // 4, w // 4, 8), np.float32)  # stride 4, like the prior's
    features[:, : w // 8, 0] = 1.0
    features[:, w // 8 :, 1] = 1.0
    ab = np.zeros((h, w, 2), np.float32)
    mask = np.zeros((h, w), np.float32)
    for y, x in ((30, 20), (60, 50), (90, 30), (100, 60)):
        ab[y - 2 : y + 3, x - 2 : x + 3] = (-40.0, 35.0)
        mask[y - 2 : y + 3, x - 2 : x + 3] = 1.0
    meadow = ~trees
    meadow[:, w // 2 : w // 2 + 8] = False  # the seam's own pixels may belong to both
    plain_field, plain_reach = hints.propagate(lightness, ab, mask)
    field, reach = hints.propagate(lightness, ab, mask, features=features)
    plain_pull = (hints.render_weight(plain_reach)[meadow]).mean()
    pull = (hints.render_weight(reach)[meadow]).mean()
    assert plain_pull > 0.5, "the fixture must flood without features"
    assert pull < 0.1, pull
    assert hints.render_weight(reach)[trees].mean() > 0.8  # still reaches the trees
    assert np.abs(field[trees & (hints.render_weight(reach) > 0.5)] - (-40.0, 35.0)).max() < 10
