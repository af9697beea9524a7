"""Training data: colour words, hue shifts, the sample stream and its sharding,
and hint inputs equal to what the pipeline builds at inference."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from train_helpers import fresh_accelerate_state, make_photos, one_thread

from tinct import color
from tinct.train.colorwords import (
    dominant_color_word,
    hue_center,
    recoloured_caption,
    rotate_hue,
    strip_color_words,
    with_color_word,
)
from tinct.train.dataset import Augment, ImageStream, StreamBatches
from tinct.train.hints import hint_field, simulate_hints

__all__ = ["fresh_accelerate_state", "one_thread"]


def _flat(rgb255):
    return np.full((8, 8, 3), np.array(rgb255, np.float32) / 255.0, np.float32)


@pytest.mark.parametrize(
    "rgb, word",
    [
        ((220, 30, 30), "red"),
        ((255, 165, 0), "orange"),
        ((250, 240, 20), "yellow"),
        ((30, 140, 40), "green"),
        ((0, 230, 230), "cyan"),
        ((100, 150, 220), "blue"),  # sky
        ((0, 0, 255), "blue"),
        ((128, 0, 128), "purple"),
        ((255, 105, 180), "pink"),
    ],
)
def test_the_dominant_hue_gets_the_usual_colour_word(rgb, word):
    assert dominant_color_word(_flat(rgb)) == word


def test_gray_has_no_colour_word_and_a_mostly_gray_image_is_named_by_its_colour():
    assert dominant_color_word(_flat((128, 128, 128))) is None
    img = _flat((128, 128, 128)).repeat(4, axis=0)
    img[:6] = [0.1, 0.3, 0.9]  # a blue band, 6 of 32 rows
    assert dominant_color_word(img) == "blue"


def test_hue_rotation_keeps_lightness_and_the_caption_follows_the_new_hue():
    red = _flat((220, 30, 30))
    for degrees in (60, 120, 240):
        turned = rotate_hue(red, degrees)
        dl = np.abs(color.luminance_lstar(turned) - color.luminance_lstar(red))
        assert dl.max() < 0.05  # the gray input is unchanged: only the caption can tell
        lab = color.rgb_to_lab(turned)[0, 0]
        hue = np.degrees(np.arctan2(lab[2], lab[1])) % 360
        assert dominant_color_word(turned) not in (None, "red")
        assert abs(((hue - (40 + degrees)) + 180) % 360 - 180) < 25
    assert (
        strip_color_words("a red car on a dark blue road, green trees") == "a car on a road, trees"
    )
    assert with_color_word("a red car", "blue", stale=True) == "blue, a car"
    assert with_color_word("a red car", "red", stale=False) == "red, a red car"
    assert with_color_word("", None, stale=True) == ""
    assert hue_center("blue") == pytest.approx(270.0)


def test_a_recoloured_caption_names_each_region_by_its_own_new_colour():
    """A blue sky over green foliage with a red barn in the middle, hue-rotated:
    the sky, the foliage and the subject each get their own region's new word."""
    img = np.empty((60, 60, 3), np.float32)
    img[:20] = np.float32([100, 150, 220]) / 255  # blue sky
    img[20:] = np.float32([30, 140, 40]) / 255  # green foliage
    img[17:43, 17:43] = np.float32([200, 30, 30]) / 255  # a red barn filling the centre
    caption = "red barn, blue sky, green foliage"
    assert recoloured_caption(caption, img, img) == caption  # unturned: unchanged
    turned = rotate_hue(img, 120.0)
    words = {
        region: dominant_color_word(part)
        for region, part in (
            ("sky", turned[:12]),
            ("foliage", turned[45:]),
            ("barn", turned[24:36, 24:36]),
        )
    }
    assert len(set(words.values())) == 3, words  # three different new colours
    assert recoloured_caption(caption, img, turned) == (
        f"{words['barn']} barn, {words['sky']} sky, {words['foliage']} foliage"
    )
    # A part it cannot place keeps its noun and loses its (now stale) colour word.
    assert recoloured_caption("red barn, a yellow kite", img, turned).endswith(", a kite")


def test_samples_are_a_function_of_their_position(tmp_path):
    photos = make_photos(tmp_path / "p", count=5)
    a = ImageStream(photos, Augment(resolution=32), seed=3)
    b = ImageStream(photos, Augment(resolution=32), seed=3)
    for position in (0, 7, 23):
        x, y = a[position], b[position]
        assert np.array_equal(x["rgb"], y["rgb"]) and x["caption"] == y["caption"]
        assert np.array_equal(x["hint_rgb"], y["hint_rgb"])
        assert x["rgb"].shape == (3, 32, 32) and x["hint_conf"].shape == (32, 32)
        # gray is the sample's own L*, as the pipeline computes it
        assert np.allclose(x["gray"], color.gray(x["rgb"].transpose(1, 2, 0)).transpose(2, 0, 1))
    # every epoch shows every image once, in a new order
    first = [a.image_index(p) for p in range(5)]
    second = [a.image_index(p) for p in range(5, 10)]
    assert sorted(first) == sorted(second) == [0, 1, 2, 3, 4] and first != second


def test_hue_shifted_samples_name_their_new_colour(tmp_path):
    photos = make_photos(tmp_path / "p", count=4)
    stream = ImageStream(
        photos, Augment(resolution=32, hue_shift=1.0, caption_dropout=0.0, hints=0.0)
    )
    for position in range(8):
        s = stream[position]
        word = dominant_color_word(s["rgb"].transpose(1, 2, 0))
        assert word is not None and s["caption"].split(",")[0] == word
        assert "red thing" not in s["caption"]  # the old colour word is gone
    plain = ImageStream(photos, Augment(resolution=32, hue_shift=0.0, color_word=0.0, hints=0.0))
    captions = {plain[p]["caption"] for p in range(8)}
    assert "" in captions and any(c.startswith("a red thing") for c in captions)


def test_processes_read_disjoint_shares_that_tile_the_stream():
    world, batch = 3, 2
    seen = []
    for rank in range(world):
        it = iter(StreamBatches(batch, rank, world, start=10))
        for _ in range(4):
            seen += next(it)
    assert sorted(seen) == list(range(10, 10 + 4 * world * batch))


@pytest.mark.parametrize("unet_sees_hints", [True, False])
def test_hint_inputs_match_the_pipeline_at_inference(
    tmp_path, tiny_model_dir, one_thread, fresh_accelerate_state, monkeypatch, unet_sees_hints
):
    """Training's U-Net hint input equals the pipeline's, with the channels in use and
    with them left empty (tinct.color.hints.UNET_SEES_HINTS, the default now)."""
    from accelerate import Accelerator

    from tinct.color import hints as hint_propagation

    monkeypatch.setattr(hint_propagation, "UNET_SEES_HINTS", unet_sees_hints)

    from tinct.train.colorizer import ColorizerOptions, ColorizerTask

    photos = make_photos(tmp_path / "p", count=2)
    task = ColorizerTask(
        ColorizerOptions(data=str(photos), model=str(tiny_model_dir)),
        Augment(resolution=32, hints=1.0),
    )
    task.build(Accelerator(cpu=True))
    batch = torch.utils.data.default_collate([task.dataset[0], task.dataset[1]])
    z_x, z_g, hint_in = task.condition(batch)
    pipe = task.pipe
    assert bool(batch["has_hints"].all()) and hint_in.shape == (2, 5, 16, 16)
    for i in range(2):  # the latents are the pipeline's own encodes
        rgb = batch["rgb"][i].numpy().transpose(1, 2, 0)
        assert torch.allclose(z_x[i], pipe.encode_image(rgb)[0], atol=1e-5)
        assert torch.allclose(z_g[i], pipe.encode_image(color.gray(rgb))[0], atol=1e-5)
    # Simulated hints on a crop: training's U-Net input equals prepare_hints'.
    rgb = batch["rgb"][0].numpy().transpose(1, 2, 0)
    hints = simulate_hints(rgb, np.random.default_rng(5))
    hint_rgb, conf = hint_field(hints, color.luminance_lstar(rgb))
    one = {
        "rgb": batch["rgb"][:1],
        "gray": torch.from_numpy(color.gray(rgb).transpose(2, 0, 1)[None].copy()),
        "hint_rgb": torch.from_numpy(hint_rgb.transpose(2, 0, 1)[None].copy()),
        "hint_conf": torch.from_numpy(conf[None]),
        "has_hints": torch.tensor([True]),
    }
    _, z_g1, ours = task.condition(one)
    theirs, _, _ = pipe.prepare_hints(hints, color.luminance_lstar(rgb), z_g1)
    assert ours.shape == theirs.shape == (1, 5, 16, 16)
    assert torch.allclose(ours, theirs, atol=1e-5)
    if unet_sees_hints:
        assert float(theirs[:, 4].max()) > 0  # real hints, not the all-zero case
    else:
        assert not theirs.any()
