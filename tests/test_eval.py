"""`tinct eval`: metrics against ground truth, contact sheet, scale plot,
prompt and hint checks (tiny random model, small generated photos)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from train_helpers import make_photos, one_thread

from tinct import color
from tinct.cli.main import main
from tinct.evaluate import checks, figures

__all__ = ["one_thread"]

# The result's L* against the gray input's: the render keeps it to float32 rounding
# (2e-5 L*, test_color.py).
DL_KEPT = 1e-3
PER_IMAGE = {
    "name",
    "scale",
    "colorfulness",
    "colorfulness_truth",
    "dcf",
    "ab_error",
    "ab_error_gray",
    "excess_over_gray",
    "chroma_psnr",
    "dl_mean",
    "dl_p99",
    "seconds",
}
SUMMARY = {
    "images",
    "worst_image",
    "worst_excess_over_gray",
    "worse_than_gray_by_6",
    "colorfulness",
    "colorfulness_truth",
    "colorfulness_ratio",
    "dcf_mean",
    "abs_dcf",
    "ab_error",
    "ab_error_gray",
    "ab_error_ratio_to_gray",
    "chroma_psnr",
    "dl_mean",
    "dl_worst",
    "seconds_per_image",
    "scale_mean",
}


def test_eval_writes_metrics_sheet_and_plot_with_prompt_hint_and_caption_checks(
    tmp_path, tiny_model_dir, one_thread, capsys
):
    photos = make_photos(tmp_path / "heldout", count=4)
    (photos / "captions.txt").write_text(
        "# true captions\nimg0: a red ball\nimg2: green grass, blue sky\n"
    )
    report = tmp_path / "report"
    argv = ["eval", str(photos), "-o", str(report), "--model", str(tiny_model_dir)]
    checks = ["--prompt-check", "--hint-check", "6", "--caption-check", "--quiet"]
    assert main([*argv, *checks]) == 0
    m = json.loads((report / "metrics.json").read_text())
    assert "auto" not in m  # one pass, at the default colourfulness
    key = "1.0"  # the report's only pass
    assert set(m[key]["summary"]) == SUMMARY and m[key]["summary"]["images"] == 4
    assert [r["name"] for r in m[key]["images"]] == ["img0", "img1", "img2", "img3"]
    for row in m[key]["images"]:
        assert set(row) == PER_IMAGE
        assert all(np.isfinite(v) for k, v in row.items() if k != "name")
        # The truth's colourfulness, read from the photo itself, not from the report.
        truth = color.to_float(np.asarray(Image.open(photos / f"{row['name']}.png")))
        assert row["colorfulness_truth"] == pytest.approx(color.colorfulness(truth), rel=1e-5)
        assert row["dl_mean"] < DL_KEPT  # lightness is the input's
        assert row["ab_error_gray"] > 10 and row["seconds"] > 0
    rows = m[key]["images"]
    worst = max(rows, key=lambda r: r["excess_over_gray"])
    assert m[key]["summary"]["worst_image"] == worst["name"]
    assert m[key]["summary"]["worse_than_gray_by_6"] == sum(r["excess_over_gray"] > 6 for r in rows)
    assert {r["scale"] for r in m["1.0"]["images"]} == {1.0}
    # The all-gray baseline is the photo's own mean chroma, independent of the model.
    truth = color.to_float(np.asarray(Image.open(photos / "img0.png")))
    gray_err = float(np.linalg.norm(color.rgb_to_lab(truth)[..., 1:], axis=-1).mean())
    assert m["1.0"]["images"][0]["ab_error_gray"] == pytest.approx(gray_err, rel=1e-5)
    curve = m["scale_curve"]
    assert curve["scales"][0] == 0.0 and curve["scales"][-1] == 2.0
    assert curve["default_scale"] == 1.0 and "auto_scale_mean" not in curve
    assert len(curve["colorfulness"]) == len(curve["scales"]) == len(curve["ab_error"])
    # The error curve holds the 1.0 render's error at scale 1.0 (same renders).
    at_one = curve["scales"].index(1.0)
    assert curve["ab_error"][at_one] == pytest.approx(m["1.0"]["summary"]["ab_error"], rel=1e-4)
    pc = m["prompt_check"]
    assert set(pc["words"]) == {"blue", "red", "green", "yellow"}
    assert 0.0 <= pc["toward_share"] <= 1.0 and len(pc["images"]) == 4
    assert all(np.isfinite(w["mean_shift_toward"]) for w in pc["words"].values())
    hc = m["hint_check"]
    assert hc["points"] == 6 and len(hc["images"]) == 4
    assert hc["ab_error"] > 0 and hc["ab_error_idw"] > 0
    assert hc["worst_image"] == max(hc["images"], key=lambda r: r["ratio_to_idw"])["name"]
    cc = m["caption_check"]
    assert cc["images"] == 2
    assert [r["name"] for r in cc["images_detail"]] == ["img0", "img2"]
    assert cc["images_detail"][1]["caption"] == "green grass, blue sky"
    assert cc["ab_error_gray"] > 10
    # Six patches of the true colour tell inverse distance most of the answer on
    # these smooth photos: far below the all-gray error.
    assert hc["ab_error_idw"] < 0.6 * m["1.0"]["summary"]["ab_error_gray"]
    sheet = Image.open(report / "contact_sheet.png")
    assert sheet.width == 3 * figures.THUMB + 4 * 6 and sheet.height > 4 * 100
    # gray | no prompt | true caption | original, one row per captioned photo
    captioned = Image.open(report / "caption_sheet.png")
    assert captioned.width == 4 * (figures.THUMB + 6) + 6 and captioned.height > 2 * 100
    assert m["files"]["caption_sheet"] == "caption_sheet.png"
    plot = Image.open(report / "scale_plot.png")
    assert plot.width >= 400 and plot.height >= 300
    out = capsys.readouterr().out
    assert "scale 1.0:" in out and "scale auto" not in out
    assert "prompt check:" in out and "hint check (6 points)" in out
    assert "caption check (2 photos)" in out and "excess" in out


def test_caption_check_without_a_captions_file_is_a_one_line_error(
    tmp_path, tiny_model_dir, one_thread, capsys
):
    photos = make_photos(tmp_path / "heldout", count=1)
    argv = ["eval", str(photos), "-o", str(tmp_path / "r"), "--model", str(tiny_model_dir)]
    assert main([*argv, "--caption-check", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "captions.txt" in err and "Traceback" not in err


def test_a_json_output_gets_just_the_metrics_file(tmp_path, tiny_model_dir, one_thread):
    photos = make_photos(tmp_path / "heldout", count=2)
    target = tmp_path / "heldout_metrics.json"
    argv = ["eval", str(photos), "--model", str(tiny_model_dir), "-o", str(target), "--quiet"]
    assert main(argv) == 0
    m = json.loads(target.read_text())
    assert m["1.0"]["summary"]["images"] == 2 and "colorfulness_ratio" in m["1.0"]["summary"]
    # Scripts point this into a model folder: nothing else is written there.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["heldout", "heldout_metrics.json"]


def test_inverse_distance_reproduces_the_hints_and_averages_between_them():
    centres = np.array([[2, 2], [2, 17]])
    ab = np.array([[40.0, 0.0], [0.0, -40.0]], np.float32)
    field = checks.inverse_distance((5, 20), centres, ab)
    assert field[2, 2] == pytest.approx(ab[0], abs=0.1) and field[2, 17] == pytest.approx(
        ab[1], abs=0.1
    )
    mid = field[2, 9:11].mean(axis=0)  # halfway: equal weights
    assert mid == pytest.approx([20.0, -20.0], abs=1.0)


def test_scale_plot_without_matplotlib_is_drawn_with_pillow(tmp_path):
    curve = {
        "scales": [0.0, 0.5, 1.0, 1.5, 2.0],
        "colorfulness": [3.0, 10.0, 20.0, 29.0, 37.0],
        "colorfulness_truth": 25.0,
        "default_scale": 1.0,
    }
    figures._scale_plot_pillow(curve, tmp_path / "plot.png")
    img = np.asarray(Image.open(tmp_path / "plot.png").convert("RGB"))
    assert img.shape == (400, 600, 3)
    blue = (img[..., 2] > 150) & (img[..., 0] < 80)
    assert blue.sum() > 200  # the curve is there


def test_reference_check_lends_the_left_part_to_the_gray_right_part(
    tmp_path, tiny_model_dir, one_thread, capsys
):
    # Sky over a textured field, across the whole width: the left 40 % shows both.
    photos = tmp_path / "scenes"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        img = np.empty((48, 80, 3))
        img[:24] = [0.35, 0.6, 0.95 - 0.1 * i]
        img[24:] = np.array([0.2, 0.55, 0.1 + 0.1 * i]) * rng.uniform(0.6, 1.4, (24, 80, 1))
        Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8)).save(photos / f"s{i}.png")
    # A gray photo lends nothing: skipped, and named as such.
    Image.fromarray(np.tile(np.arange(80, dtype=np.uint8) * 3, (48, 1))).save(photos / "g.png")
    report = tmp_path / "report"
    argv = ["eval", str(photos), "-o", str(report), "--model", str(tiny_model_dir)]
    assert main([*argv, "--reference-check", "--quiet"]) == 0
    rc = json.loads((report / "metrics.json").read_text())["reference_check"]
    assert rc["images"] == 2 and rc["reference_share"] == checks.REFERENCE_SHARE
    assert rc["skipped_gray_reference"] == ["g"]
    assert [r["name"] for r in rc["images_detail"]] == ["s0", "s1"]
    # The gray baseline is the right part's own chroma, independent of the model.
    truth = color.to_float(np.asarray(Image.open(photos / "s0.png")))[:, 32:]
    gray_err = float(np.linalg.norm(color.rgb_to_lab(truth)[..., 1:], axis=-1).mean())
    assert rc["images_detail"][0]["ab_error_gray"] == pytest.approx(gray_err, rel=1e-4)
    # The random tiny model knows nothing; the reference tells most of the answer.
    assert rc["ratio_to_gray"] < 0.5 and rc["ratio_to_no_reference"] < 0.5
    assert rc["dl_mean"] < DL_KEPT
    out = capsys.readouterr().out
    assert "reference check (2 photos" in out and "skipped (gray reference): g" in out
    sheet = Image.open(report / "reference_sheet.png")  # reference | gray | without | with | truth
    assert sheet.width == 5 * figures.THUMB + 6 * 6 and sheet.height > 2 * 100
