"""Colour words in a prompt placed where they belong (tinct.color.prompt_regions)."""

from __future__ import annotations

import numpy as np
import pytest

from tinct import color
from tinct.color import prompt_regions as pr
from tinct.color import prompt_words


def named(prompt: str) -> list[tuple[str, str, str]]:
    return [(p.colour, p.noun, p.role) for p in prompt_words.parse(prompt)]


@pytest.mark.parametrize(
    "prompt, expected",
    [
        ("blue sky, green grass", [("blue", "sky", "sky"), ("green", "grass", "grass")]),
        (
            "a red brick castle with gray roofs, blue sky with white clouds",
            [
                ("red", "castle", "subject"),
                ("gray", "roofs", "subject"),
                ("blue", "sky", "sky"),
                ("white", "clouds", "sky"),
            ],
        ),
        # A run of colours names the noun that ends it; "in front of" is the setting.
        (
            "an astronaut in front of a red, white and blue flag",
            [("red", "flag", "setting"), ("white", "flag", "setting"), ("blue", "flag", "setting")],
        ),
        # A colour after its noun names that noun.
        ("a bridge lit orange over a river", [("orange", "bridge", "subject")]),
        # A colour alone after "on" names the setting.
        ("slices of lemon on white", [("white", "", "setting")]),
        # Details are too small to place; clothes are on the subject.
        ("a gray cat with blue eyes", [("gray", "cat", "subject")]),
        ("a man in a red coat", [("red", "coat", "subject")]),
        # "and" ends a noun phrase: the clouds are white, the kite is not.
        ("white clouds and a kite", [("white", "clouds", "sky")]),
        ("a photo in blue tones", [("blue", "tones", "whole")]),
        ("sunset over the sea", []),
        ("", []),
    ],
)
def test_parse_finds_each_colour_and_the_thing_it_names(prompt, expected):
    assert named(prompt) == expected


def test_modifiers_move_the_lightness_range_and_pale_mutes_the_chroma():
    (blue,) = prompt_words.parse("blue sky")
    (dark,) = prompt_words.parse("dark blue sky")
    (pale,) = prompt_words.parse("pale blue sky")
    assert dark.lightness[1] < blue.lightness[1] and dark.ab == blue.ab
    assert pale.lightness[0] > blue.lightness[0]
    assert abs(pale.ab[1]) < abs(blue.ab[1])


def sky_over_grass(h: int = 120, w: int = 180, seed: int = 0):
    """A smooth bright sky (L* ~78) over grainy mid-gray grass from row 0.55 h."""
    rng = np.random.default_rng(seed)
    lightness = np.full((h, w), 78.0, np.float32) + np.linspace(0, 4, h, dtype=np.float32)[:, None]
    horizon = int(0.55 * h)
    lightness[horizon:] = 45.0 + rng.normal(0.0, 7.0, (h - horizon, w)).astype(np.float32)
    return lightness, horizon


def region_means(field, weight, horizon):
    sky, ground = slice(0, horizon - 4), slice(horizon + 6, None)
    tinted = field * weight[..., None]
    return tinted[sky].reshape(-1, 2).mean(0), tinted[ground].reshape(-1, 2).mean(0)


def test_blue_sky_green_grass_colours_each_its_own_region():
    lightness, horizon = sky_over_grass()
    field, weight = pr.prompt_field(lightness, "blue sky, green grass")
    sky, grass = region_means(field, weight, horizon)
    assert sky[1] < -15.0 and abs(sky[0]) < 5.0, sky  # blue, not green
    assert grass[0] < -10.0 and grass[1] > 8.0, grass  # green, not blue


def test_one_named_region_leaves_the_rest_to_the_model():
    lightness, horizon = sky_over_grass()
    field, weight = pr.prompt_field(lightness, "blue sky")
    assert weight[: horizon - 4].mean() > 0.6
    assert weight[horizon + 6 :].mean() < 0.1
    _, grass = region_means(field, weight, horizon)
    assert np.hypot(*grass) < 2.0


def test_lightness_picks_between_colours_of_one_thing():
    """A red, white and black flag hung in front of a grainy wall: the light
    stripe takes white, the dark one black, the middle one red (lightness cannot
    tell red from blue; it can tell white and black from either)."""
    h, w = 120, 160
    rng = np.random.default_rng(5)
    lightness = 40.0 + rng.normal(0.0, 6.0, (h, w)).astype(np.float32)
    lightness[24:48, 30:130], lightness[48:72, 30:130], lightness[72:96, 30:130] = 50.0, 95.0, 12.0
    field, _ = pr.prompt_field(lightness, "a red, white and black flag")
    stripes = (slice(28, 44), slice(52, 68), slice(76, 92))
    red, white, black = (field[r, 40:120].reshape(-1, 2).mean(0) for r in stripes)
    assert red[0] > 30.0, red
    assert np.hypot(*white) < 5.0 and np.hypot(*black) < 5.0, (white, black)


def test_no_colour_word_gives_no_field_and_tones_tint_everything():
    lightness, _ = sky_over_grass()
    assert pr.prompt_field(lightness, "sunset over the sea") is None
    field, weight = pr.prompt_field(lightness, "a photo in red tones")
    tint = (field * weight[..., None]).reshape(-1, 2)
    assert (tint[:, 0] > 5.0).mean() > 0.99


def test_the_pipeline_places_colour_words_and_the_slider_scales_them(tiny_pipe):
    """The U-Net does not read a prompt of colour words (its colour latent is the
    unprompted one); the render shows them where they belong, scaled by the slider."""
    lightness, horizon = sky_over_grass(72, 96)
    image = color.gray(color.lab_to_rgb(np.dstack([lightness, np.zeros((72, 96, 2), np.float32)])))
    plain = tiny_pipe.predict(image, num_inference_steps=1)
    told = tiny_pipe.predict(image, prompt="blue sky", num_inference_steps=1)
    assert np.allclose(told.color_latent.numpy(), plain.color_latent.numpy())
    h, w = told.work_size
    top = slice(0, int(h * horizon / 72) - 3)
    shift = tiny_pipe.chroma_at_work(told, 1.0) - tiny_pipe.chroma_at_work(plain, 1.0)
    assert shift[top, :, 1].mean() < -15.0
    half = tiny_pipe.chroma_at_work(told, 0.5) - tiny_pipe.chroma_at_work(plain, 0.5)
    assert 0.35 < half[top, :, 1].mean() / shift[top, :, 1].mean() < 0.65


def test_the_subject_takes_its_colour_and_the_setting_its_own():
    """A mid-gray ball on a lighter, grainy floor that fills the border: "a red
    ball on a gray floor" colours the ball red and leaves the floor neutral."""
    h, w = 120, 160
    rng = np.random.default_rng(4)
    lightness = 70.0 + rng.normal(0.0, 1.0, (h, w)).astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    ball = (yy - 60) ** 2 + (xx - 80) ** 2 < 30**2
    lightness[ball] = 48.0
    field, weight = pr.prompt_field(lightness, "a red ball on a gray floor")
    tint = field * weight[..., None]
    inner = (yy - 60) ** 2 + (xx - 80) ** 2 < 24**2
    outer = (yy - 60) ** 2 + (xx - 80) ** 2 > 40**2
    a, b = tint[inner].mean(0)
    assert a > 12.0 and 0.0 < b < a, (a, b)  # red (the gray floor competes a little)
    assert np.hypot(*tint[outer].mean(0)) < 3.0, tint[outer].mean(0)


def test_painted_hints_win_over_the_prompts_colours(tiny_pipe):
    """A "red sky" prompt and a blue stroke across that sky: the hints' blue wins."""
    lightness, horizon = sky_over_grass(72, 96)
    image = color.gray(color.lab_to_rgb(np.dstack([lightness, np.zeros((72, 96, 2), np.float32)])))
    hints = np.zeros((72, 96, 4), np.float32)
    hints[8:12, 10:86] = (0.35, 0.55, 0.9, 1.0)
    told = tiny_pipe.predict(image, prompt="red sky", num_inference_steps=1)
    both = tiny_pipe.predict(image, prompt="red sky", hints=hints, num_inference_steps=1)
    h, _ = told.work_size
    top = slice(0, int(h * horizon / 72) - 3)
    red, blue = tiny_pipe.chroma_at_work(told, 1.0), tiny_pipe.chroma_at_work(both, 1.0)
    assert red[top, :, 0].mean() > 15.0  # the prompt alone: a red sky
    painted = color.rgb_to_lab(hints[8:9, 10:11, :3])[0, 0, 1:]
    assert np.abs(blue[top].reshape(-1, 2).mean(0) - painted).max() < 5.0  # the hints' blue


def test_a_named_thing_stays_off_the_backdrop_behind_it():
    """ "a red car" on grainy ground under a smooth bright sky the prompt does not
    name: the car reddens, the sky (a backdrop reaching the top) stays neutral."""
    h, w = 120, 180
    rng = np.random.default_rng(6)
    lightness = np.full((h, w), 80.0, np.float32) + rng.normal(0.0, 0.4, (h, w)).astype(np.float32)
    lightness[60:] = 45.0 + rng.normal(0.0, 7.0, (h - 60, w)).astype(np.float32)
    lightness[50:85, 60:120] = 50.0  # the car, across the horizon
    field, weight = pr.prompt_field(lightness, "a red car")
    tint = field * weight[..., None]
    assert tint[55:80, 70:110, 0].mean() > 10.0, tint[55:80, 70:110].reshape(-1, 2).mean(0)
    assert np.hypot(*tint[:40].reshape(-1, 2).mean(0)) < 3.0, tint[:40].reshape(-1, 2).mean(0)
