"""Colour from a reference photo (tinct.color.reference): matching by lightness and local
texture, and the pipeline and CLI that carry it (painted hints first: the merge itself is
tested in test_precedence.py)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tinct import color
from tinct.cli.main import main
from tinct.color import reference
from tinct.imageio import read_image

SKY = (0.35, 0.6, 0.95)  # smooth and bright
GRASS = (0.2, 0.55, 0.1)  # textured and darker


def scene(h: int, w: int, sky_on_top: bool, seed: int) -> np.ndarray:
    """A smooth blue sky and a textured green field, one above the other."""
    rng = np.random.default_rng(seed)
    img = np.empty((h, w, 3), np.float32)
    top, bottom = (SKY, GRASS) if sky_on_top else (GRASS, SKY)
    img[: h // 2] = top
    img[h // 2 :] = bottom
    grass = slice(h // 2, h) if sky_on_top else slice(0, h // 2)
    noise = rng.uniform(0.6, 1.4, (grass.stop - grass.start, w, 1)).astype(np.float32)
    img[grass] = np.clip(img[grass] * noise, 0.0, 1.0)
    return img


def hue_ab(rgb) -> np.ndarray:
    return color.rgb_to_lab(np.array([[rgb]], np.float32))[0, 0, 1:]


def test_matches_carry_each_regions_colour_to_the_target_and_are_deterministic():
    ref = scene(150, 200, sky_on_top=True, seed=1)
    target = color.luminance_lstar(color.gray(scene(72, 96, sky_on_top=False, seed=2)))
    ab, mask = reference.reference_hints(ref, target)
    ab2, mask2 = reference.reference_hints(ref, target)
    assert np.array_equal(ab, ab2) and np.array_equal(mask, mask2)
    for rows, want in ((slice(2, 34), GRASS), (slice(38, 70), SKY)):
        kept = mask[rows] > 0
        assert kept.mean() > 0.05  # confident matches in both regions
        got = ab[rows][kept].mean(axis=0)
        assert np.linalg.norm(got - hue_ab(want)) < 12, (want, got)


def test_a_gray_reference_is_refused():
    gray = color.gray(scene(40, 40, True, 0))
    assert reference.is_gray(gray) and not reference.is_gray(scene(40, 40, True, 0))
    with pytest.raises(reference.GrayReferenceError, match="gray"):
        reference.reference_hints(gray, np.full((8, 8), 50.0, np.float32))


def test_pipeline_takes_the_references_colours_and_painted_hints_win(tiny_pipe):
    ref = scene(150, 200, sky_on_top=True, seed=1)
    gray = color.gray(scene(72, 96, sky_on_top=False, seed=2))
    plain = tiny_pipe(gray, num_inference_steps=1, scale=1.0).images[0]
    lent = tiny_pipe(gray, num_inference_steps=1, scale=1.0, reference=ref).images[0]
    assert np.abs(color.luminance_lstar(lent) - color.luminance_lstar(gray)).max() <= 1e-3
    lab = color.rgb_to_lab(lent)[..., 1:]
    for rows, want in ((slice(4, 32), GRASS), (slice(40, 68), SKY)):
        err = np.linalg.norm(lab[rows] - hue_ab(want), axis=-1).mean()
        err_plain = np.linalg.norm(color.rgb_to_lab(plain)[rows, :, 1:] - hue_ab(want), axis=-1)
        assert err < 0.5 * err_plain.mean(), (want, err, err_plain.mean())
    hints = np.zeros((72, 96, 4), np.float32)
    hints[48:56, 40:56] = [0.9, 0.1, 0.1, 1.0]  # a red stroke in the sky
    both = tiny_pipe(gray, hints=hints, num_inference_steps=1, scale=1.0, reference=ref)
    a = color.rgb_to_lab(both.images[0])[48:56, 40:56, 1]
    assert a.mean() > 30  # red (a* > 0) where painted, not the reference's blue


def test_cli_reference_colours_the_output(tmp_path, tiny_model_dir):
    src, ref, out = tmp_path / "old.png", tmp_path / "ref.jpg", tmp_path / "out.png"
    gray = color.gray(scene(72, 96, sky_on_top=False, seed=2))
    Image.fromarray(color.from_float(gray, np.uint8)).save(src)
    Image.fromarray(color.from_float(scene(300, 410, True, 1), np.uint8)).save(ref, quality=95)
    argv = ["colorize", str(src), "-o", str(out), "--reference", str(ref)]
    assert main([*argv, "--model", str(tiny_model_dir), "--scale", "1", "--quiet"]) == 0
    lab = color.rgb_to_lab(color.to_float(read_image(out)))
    assert np.linalg.norm(lab[40:68, :, 1:].mean(axis=(0, 1)) - hue_ab(SKY)) < 15


@pytest.mark.parametrize(
    "which, message",
    [
        ("missing", "reference image not found"),
        ("garbage", "reference image: cannot read"),
        ("gray", "is gray"),
    ],
)
def test_bad_reference_is_one_line_and_writes_nothing(which, message, tmp_path, capsys):
    src = tmp_path / "in.png"
    Image.fromarray(np.full((20, 30), 90, np.uint8)).save(src)
    refs = {"missing": tmp_path / "nope.png", "garbage": tmp_path / "bad.png", "gray": src}
    (tmp_path / "bad.png").write_bytes(b"not an image")
    before = set(tmp_path.rglob("*"))
    assert (
        main(["colorize", str(src), "-o", str(tmp_path / "o.png"), "--reference", str(refs[which])])
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tinct: error:") and message in err[0]
    assert set(tmp_path.rglob("*")) == before


def test_a_reference_and_a_prompt_together_the_reference_wins_where_it_reaches(tiny_pipe):
    """Prompt "red sky, blue grass" with a reference of a blue sky over green grass: the
    prompt alone reddens the sky; with the reference, its colours win where its matches
    reach (here everywhere) and the prompt's are under them (prior -> prompt -> hints and
    reference -> paste). Painted hints still win over both."""
    ref = scene(150, 200, sky_on_top=True, seed=1)
    gray = color.gray(scene(72, 96, sky_on_top=True, seed=2))
    prompt = "red sky, blue grass"
    told = tiny_pipe(gray, prompt=prompt, num_inference_steps=1, scale=1.0).images[0]
    assert color.rgb_to_lab(told)[4:32, :, 1].mean() > 15  # the prompt alone: a red sky
    out = tiny_pipe(gray, prompt=prompt, num_inference_steps=1, scale=1.0, reference=ref)
    assert out.latents.prompt_field is not None  # the prompt was placed all the same
    lab = color.rgb_to_lab(out.images[0])[..., 1:]
    for rows, want in ((slice(4, 32), SKY), (slice(40, 68), GRASS)):
        err = np.linalg.norm(lab[rows] - hue_ab(want), axis=-1).mean()
        assert err < 12, (want, err)
    hints = np.zeros((72, 96, 4), np.float32)
    hints[8:16, 40:56] = [0.9, 0.1, 0.1, 1.0]  # a red stroke in the sky
    both = tiny_pipe(
        gray, prompt=prompt, hints=hints, num_inference_steps=1, scale=1.0, reference=ref
    )
    assert color.rgb_to_lab(both.images[0])[8:16, 40:56, 1].mean() > 30  # painted red wins
