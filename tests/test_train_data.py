"""Training data: colour words, hue shifts, the sample stream and its sharding,
latents equal to the pipeline's encodes, and the one U-Net objective."""

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
        assert x["rgb"].shape == (3, 32, 32)
        # gray is the sample's own L*, as the pipeline computes it
        assert np.allclose(x["gray"], color.gray(x["rgb"].transpose(1, 2, 0)).transpose(2, 0, 1))
    # every epoch shows every image once, in a new order
    first = [a.image_index(p) for p in range(5)]
    second = [a.image_index(p) for p in range(5, 10)]
    assert sorted(first) == sorted(second) == [0, 1, 2, 3, 4] and first != second


def test_hue_shifted_samples_name_their_new_colour(tmp_path):
    photos = make_photos(tmp_path / "p", count=4)
    stream = ImageStream(photos, Augment(resolution=32, hue_shift=1.0, caption_dropout=0.0))
    for position in range(8):
        s = stream[position]
        word = dominant_color_word(s["rgb"].transpose(1, 2, 0))
        assert word is not None and s["caption"].split(",")[0] == word
        assert "red thing" not in s["caption"]  # the old colour word is gone
    plain = ImageStream(photos, Augment(resolution=32, hue_shift=0.0, color_word=0.0))
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


def test_timesteps_put_their_share_at_t_max_and_the_rest_uniform():
    from tinct.train.unet_objective import T_MAX_SHARE, sample_timesteps

    t = sample_timesteps(20_000, 1000, generator=torch.Generator().manual_seed(0))
    assert int(t.min()) >= 0 and int(t.max()) == 1000
    assert abs(float((t == 1000).float().mean()) - T_MAX_SHARE) < 0.02
    below = t[t < 1000].float()
    assert abs(float(below.mean()) - 500.0) < 15.0  # uniform over 0..T


def test_streamed_training_uses_the_pipelines_latents_and_the_one_objective(
    tmp_path, tiny_model_dir, one_thread, fresh_accelerate_state
):
    """`tinct train` encodes as the pipeline does, and its loss is unet_objective's
    (MSE on the colour latent + CHROMA_WEIGHT x the decoded a*b* L1), the function
    the bundled recipe calls with no chroma term."""
    from accelerate import Accelerator

    from tinct.train.colorizer import ColorizerOptions, ColorizerTask
    from tinct.train.unet_objective import (
        CHROMA_WEIGHT,
        T_MAX_SHARE,
        sample_timesteps,
        unet_objective,
    )

    photos = make_photos(tmp_path / "p", count=2)
    task = ColorizerTask(
        ColorizerOptions(data=str(photos), model=str(tiny_model_dir)), Augment(resolution=32)
    )
    task.build(Accelerator(cpu=True))
    batch = torch.utils.data.default_collate([task.dataset[0], task.dataset[1]])
    z_x, z_g = task.condition(batch)
    pipe = task.pipe
    for i in range(2):  # the latents are the pipeline's own encodes
        rgb = batch["rgb"][i].numpy().transpose(1, 2, 0)
        assert torch.allclose(z_x[i], pipe.encode_image(rgb)[0], atol=1e-5)
        assert torch.allclose(z_g[i], pipe.encode_image(color.gray(rgb))[0], atol=1e-5)
    assert pipe.unet.config.in_channels == 8  # z_t and z_g: no hint channels

    pipe.unet.eval()  # no dropout: the same batch gives the same loss twice
    losses = task.loss(pipe.unet, batch, torch.Generator().manual_seed(7))
    T = pipe.scheduler.config.num_train_timesteps
    t = sample_timesteps(2, T, T_MAX_SHARE, torch.Generator().manual_seed(7))
    cond = pipe.encode_prompt(list(batch["caption"]))
    with torch.no_grad():
        ours = unet_objective(pipe, pipe.unet, z_x, z_g, cond, t, CHROMA_WEIGHT, batch["rgb"])
        bare = unet_objective(pipe, pipe.unet, z_x, z_g, cond, t)
    assert torch.allclose(losses["loss"], ours["loss"], atol=1e-6)
    assert torch.allclose(ours["loss"], ours["mse"] + CHROMA_WEIGHT * ours["chroma"], atol=1e-6)
    assert float(ours["chroma"]) > 0.0 and "chroma" not in bare
    assert torch.allclose(bare["loss"], ours["mse"], atol=1e-6)
    with pytest.raises(ValueError, match="needs the photos"):
        unet_objective(pipe, pipe.unet, z_x, z_g, cond, t, chroma_weight=0.5)
