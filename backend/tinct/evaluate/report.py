"""Held-out evaluation: `tinct eval DIR -o REPORT_DIR` (its command line is in `tinct.cli.evaluate`).

Each colour photo in DIR is turned gray (same L*), colorized, and compared
with the original. Per image and overall:

- colourfulness (Hasler & Suesstrunk 2003) of ours and of the original, and
  dCF = ours - original (at the ranker's auto scale and at scale 1.0);
- mean a*b* error against the original, and that of an all-gray result;
- chroma PSNR (CbCr), |L*| error against the gray input, seconds per image.

It writes REPORT_DIR/metrics.json, contact_sheet.png (gray | ours at auto
scale | original) and scale_plot.png (mean colourfulness against scale);
given `-o FILE.json` (the older usage) only the metrics, to that file.

Per image it also reports the excess over gray (our a*b* error minus the
all-gray result's: positive means worse than leaving the photo gray), and the
summary names the worst image and counts those worse than gray by more than
`WORSE_THAN_GRAY` a*b* units.

`--prompt-check` colorizes every image again with "a photo in X tones" for X
in blue, red, green, yellow and counts how often the mean a*b* moves toward
that colour's hue (a positive component of the shift along the hue's
direction). `--hint-check N` gives N small patches of the true colour at
random places and compares the a*b* error with inverse-distance
interpolation of the same patches (pasted the same way, on the same L*).
`--caption-check` reads true one-line captions from DIR/captions.txt
(`NAME: caption` per line) and compares the a*b* error with the caption as
the prompt against the same photo without a prompt and against all-gray.
`--reference-check` splits each photo: its left `REFERENCE_SHARE` in colour is
the reference for the rest turned gray; it compares the a*b* error of that
crop colorized with the reference, without it, and all-gray, and the mean
|dL*| of the result against the gray crop.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from tinct import color

CURVE_SCALES = tuple(round(0.2 * i, 1) for i in range(11))  # 0.0 .. 2.0
PROMPT_WORDS = ("blue", "red", "green", "yellow")
PROMPT_TEMPLATE = "a photo in {} tones"
WORSE_THAN_GRAY = 6.0  # a*b* units: a photo this much worse than gray is a failure
CAPTIONS_FILE = "captions.txt"
THUMB = 200  # contact-sheet cell width in pixels
REFERENCE_SHARE = 0.4  # --reference-check: the left share of each photo lends its colour


# ---------------------------------------------------------------- metrics ---


@dataclass
class ImageMetrics:
    name: str
    scale: float
    colorfulness: float
    colorfulness_truth: float
    dcf: float  # colorfulness - colorfulness_truth
    ab_error: float
    ab_error_gray: float
    excess_over_gray: float  # ab_error - ab_error_gray: > 0 is worse than no colour
    chroma_psnr: float
    dl_mean: float  # |L*| against the gray input
    dl_p99: float
    seconds: float


def ab_error(result: np.ndarray, truth: np.ndarray) -> float:
    """Mean Euclidean a*b* distance between two sRGB images."""
    d = color.rgb_to_lab(result)[..., 1:] - color.rgb_to_lab(truth)[..., 1:]
    return float(np.linalg.norm(d, axis=-1).mean())


def chroma_psnr(result: np.ndarray, truth: np.ndarray) -> float:
    """PSNR of the CbCr planes (peak-to-peak 1), in dB."""
    d = color.rgb_to_ycbcr(result)[..., 1:] - color.rgb_to_ycbcr(truth)[..., 1:]
    mse = float(np.mean(d.astype(np.float64) ** 2))
    return 10.0 * math.log10(1.0 / max(mse, 1e-12))


def image_metrics(
    name: str,
    result: np.ndarray,
    truth: np.ndarray,
    scale: float,
    seconds: float,
    gray_input: np.ndarray | None = None,
) -> ImageMetrics:
    gray_input = color.gray(truth) if gray_input is None else gray_input
    dl = np.abs(color.luminance_lstar(result) - color.luminance_lstar(gray_input))
    cf, cf_t = color.colorfulness(result), color.colorfulness(truth)
    err = ab_error(result, truth)
    err_gray = float(np.linalg.norm(color.rgb_to_lab(truth)[..., 1:], axis=-1).mean())
    return ImageMetrics(
        name=name,
        scale=float(scale),
        colorfulness=cf,
        colorfulness_truth=cf_t,
        dcf=cf - cf_t,
        ab_error=err,
        ab_error_gray=err_gray,
        excess_over_gray=err - err_gray,
        chroma_psnr=chroma_psnr(result, truth),
        dl_mean=float(dl.mean()),
        dl_p99=float(np.percentile(dl, 99)),
        seconds=float(seconds),
    )


def summarize(rows: list[ImageMetrics]) -> dict:
    n = max(len(rows), 1)

    def mean(key: str) -> float:
        return sum(getattr(r, key) for r in rows) / n

    cf, cf_t, ab, ab_g = (
        mean("colorfulness"),
        mean("colorfulness_truth"),
        mean("ab_error"),
        mean("ab_error_gray"),
    )
    worst = max(rows, key=lambda r: r.excess_over_gray, default=None)
    return {
        "images": len(rows),
        "worst_image": worst.name if worst else "",
        "worst_excess_over_gray": worst.excess_over_gray if worst else 0.0,
        "worse_than_gray_by_6": sum(r.excess_over_gray > WORSE_THAN_GRAY for r in rows),
        "colorfulness": cf,
        "colorfulness_truth": cf_t,
        "colorfulness_ratio": cf / max(cf_t, 1e-9),
        "dcf_mean": mean("dcf"),
        "abs_dcf": sum(abs(r.dcf) for r in rows) / n,
        "ab_error": ab,
        "ab_error_gray": ab_g,
        "ab_error_ratio_to_gray": ab / max(ab_g, 1e-9),
        "chroma_psnr": mean("chroma_psnr"),
        "dl_mean": mean("dl_mean"),
        "dl_worst": max((r.dl_mean for r in rows), default=0.0),
        "seconds_per_image": mean("seconds"),
        "scale_mean": mean("scale"),
    }


def read_truth(path: Path) -> np.ndarray:
    from tinct.imageio import read_image

    return color.to_float(color.split_alpha(read_image(path))[0])


# ----------------------------------------------------------- main pass ---


def evaluate_images(pipe, paths: list[Path], steps: int = 4, guidance: float = 1.5, bar=None):
    """-> (report with "auto", "1.0" and "scale_curve", contact-sheet rows)."""
    rows: dict[str, list[ImageMetrics]] = {"auto": [], "1.0": []}
    curve, curve_err = [], []
    sheet = []
    for path in paths:
        truth = read_truth(path)
        gray = color.gray(truth)
        # What a user waits for: predict, pick the scale, render at full size.
        t0 = time.perf_counter()
        latents = pipe.predict(gray, num_inference_steps=steps, guidance_scale=guidance)
        auto = pipe.pick_scale(latents)
        ours = pipe.render(gray, latents, auto)
        seconds = time.perf_counter() - t0
        rows["auto"].append(image_metrics(path.stem, ours, truth, auto, seconds, gray))
        ours_1 = pipe.render(gray, latents, 1.0)
        rows["1.0"].append(image_metrics(path.stem, ours_1, truth, 1.0, seconds, gray))
        renders = [pipe.render(gray, latents, s) for s in CURVE_SCALES]
        curve.append([color.colorfulness(r) for r in renders])
        curve_err.append([ab_error(r, truth) for r in renders])
        sheet.append((path.stem, _thumb(gray), _thumb(ours), _thumb(truth), auto))
        if bar is not None:
            bar.update(1)
    report = {
        key: {"summary": summarize(r), "images": [asdict(m) for m in r]} for key, r in rows.items()
    }
    report["scale_curve"] = {
        "scales": list(CURVE_SCALES),
        "colorfulness": np.mean(curve, axis=0).tolist() if curve else [],
        "colorfulness_truth": report["auto"]["summary"]["colorfulness_truth"],
        "auto_scale_mean": report["auto"]["summary"]["scale_mean"],
        "per_image": {p.stem: c for p, c in zip(paths, curve, strict=True)},
        # a*b* error against the photo at each scale: where the colour stops helping
        "ab_error": np.mean(curve_err, axis=0).tolist() if curve_err else [],
        "ab_error_per_image": {p.stem: e for p, e in zip(paths, curve_err, strict=True)},
    }
    return report, sheet


def evaluate_folder(
    pipe, folder: str | Path, scales=("auto", 1.0), steps: int = 4, limit: int | None = None
) -> dict:
    """The metrics part of the report (kept for scripts that call it)."""
    from tinct.train.data import list_images

    report, _ = evaluate_images(pipe, list_images(folder)[:limit], steps)
    return {str(s): report[str(s)] for s in scales if str(s) in report}


# ---------------------------------------------------------- prompt check ---


def mean_ab(pipe, latents, scale: float = 1.0) -> np.ndarray:
    return pipe.chroma_at_work(latents, scale).reshape(-1, 2).mean(axis=0)


def prompt_check(pipe, paths: list[Path], steps: int, guidance: float, bar=None) -> dict:
    from tinct.train.colorwords import hue_center

    per_image = []
    for path in paths:
        gray = color.gray(read_truth(path))
        base = mean_ab(pipe, pipe.predict(gray, num_inference_steps=steps))
        entry = {"name": path.stem, "words": {}}
        for word in PROMPT_WORDS:
            latents = pipe.predict(
                gray,
                prompt=PROMPT_TEMPLATE.format(word),
                num_inference_steps=steps,
                guidance_scale=guidance,
            )
            shift = mean_ab(pipe, latents) - base
            h = math.radians(hue_center(word))
            along = float(shift[0] * math.cos(h) + shift[1] * math.sin(h))
            entry["words"][word] = {"shift_toward": along, "toward": along > 0}
            if bar is not None:
                bar.update(1)
        per_image.append(entry)
    words = {}
    for word in PROMPT_WORDS:
        moves = [e["words"][word] for e in per_image]
        words[word] = {
            "toward_share": sum(m["toward"] for m in moves) / max(len(moves), 1),
            "mean_shift_toward": sum(m["shift_toward"] for m in moves) / max(len(moves), 1),
        }
    pairs = [e["words"][w]["toward"] for e in per_image for w in PROMPT_WORDS]
    return {
        "prompts": [PROMPT_TEMPLATE.format(w) for w in PROMPT_WORDS],
        "guidance": guidance,
        "toward_share": sum(pairs) / max(len(pairs), 1),
        "words": words,
        "images": per_image,
    }


# ------------------------------------------------------------ hint check ---


def hint_points(truth: np.ndarray, n: int, rng: np.random.Generator, radius: int):
    """n square patches of the true colour: (RGBA hints, centres (n, 2), patch a*b* (n, 2))."""
    h, w = truth.shape[:2]
    hints = np.zeros((h, w, 4), np.float32)
    lab = color.rgb_to_lab(truth)
    centres = np.stack([rng.integers(0, h, n), rng.integers(0, w, n)], axis=1)
    ab = np.empty((n, 2), np.float32)
    for k, (y, x) in enumerate(centres):
        ys, xs = (
            slice(max(0, y - radius), y + radius + 1),
            slice(max(0, x - radius), x + radius + 1),
        )
        hints[ys, xs, :3] = truth[ys, xs]
        hints[ys, xs, 3] = 1.0
        ab[k] = lab[ys, xs, 1:].reshape(-1, 2).mean(axis=0)
    return hints, centres, ab


def inverse_distance(
    shape: tuple[int, int], centres: np.ndarray, ab: np.ndarray, power: float = 2.0
) -> np.ndarray:
    """a*b* at every pixel: the hints' a*b* weighted by 1 / distance^power."""
    h, w = shape
    out = np.empty((h, w, 2), np.float32)
    xs = np.arange(w, dtype=np.float32)
    cy, cx = centres[:, 0].astype(np.float32), centres[:, 1].astype(np.float32)
    for y0 in range(0, h, 128):  # bounded memory for large photos
        ys = np.arange(y0, min(h, y0 + 128), dtype=np.float32)
        d2 = (ys[:, None, None] - cy) ** 2 + (xs[None, :, None] - cx) ** 2
        wgt = 1.0 / np.maximum(d2, 0.25) ** (power / 2.0)
        out[y0 : y0 + len(ys)] = (wgt @ ab) / wgt.sum(axis=-1, keepdims=True)
    return out


def hint_check(pipe, paths: list[Path], n: int, steps: int, seed: int, bar=None) -> dict:
    per_image = []
    for i, path in enumerate(paths):
        truth = read_truth(path)
        gray = color.gray(truth)
        h, w = truth.shape[:2]
        radius = max(1, min(h, w) // 128)
        hints, centres, ab = hint_points(truth, n, np.random.default_rng([seed, i]), radius)
        latents = pipe.predict(gray, hints=hints, num_inference_steps=steps)
        ours = pipe.render(gray, latents, 1.0)
        # The baseline gets the same information, pasted the same way, on the same L*.
        field = inverse_distance((h, w), centres, ab)
        painted = hints[..., 3:] > 0
        field = np.where(painted, color.rgb_to_lab(truth)[..., 1:], field)
        idw = color.merge_luma(color.luminance_lstar(gray), field)
        err, err_idw = ab_error(ours, truth), ab_error(idw, truth)
        per_image.append(
            {
                "name": path.stem,
                "ab_error": err,
                "ab_error_idw": err_idw,
                "ratio_to_idw": err / max(err_idw, 1e-9),
            }
        )
        if bar is not None:
            bar.update(1)
    ours_err = sum(r["ab_error"] for r in per_image) / max(len(per_image), 1)
    idw_err = sum(r["ab_error_idw"] for r in per_image) / max(len(per_image), 1)
    worst = max(per_image, key=lambda r: r["ratio_to_idw"], default={"name": ""})
    return {
        "points": n,
        "scale": 1.0,
        "ab_error": ours_err,
        "ab_error_idw": idw_err,
        "ratio_to_idw": ours_err / max(idw_err, 1e-9),
        "worst_image": worst["name"],
        "images": per_image,
    }


# --------------------------------------------------------- caption check ---


def read_captions(folder: Path) -> dict[str, str]:
    """NAME: caption lines of folder/captions.txt (# comments, blank lines skipped)."""
    path = folder / CAPTIONS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"--caption-check needs {path}: one 'NAME: caption' line per photo")
    captions = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, sep, caption = line.partition(":")
            if not sep or not caption.strip():
                raise ValueError(f"{path}: expected 'NAME: caption', got {line!r}")
            captions[name.strip()] = caption.strip()
    return captions


def caption_check(
    pipe, paths: list[Path], captions: dict[str, str], steps: int, guidance: float, bar=None
) -> dict:
    """a*b* error with the true caption as prompt, without a prompt, and all-gray
    (scale 1.0, so the prompt's own effect is measured, not the ranker's)."""
    per_image = []
    for path in paths:
        if path.stem not in captions:
            continue
        truth = read_truth(path)
        gray = color.gray(truth)
        plain = pipe.predict(gray, num_inference_steps=steps)
        told = pipe.predict(
            gray, prompt=captions[path.stem], num_inference_steps=steps, guidance_scale=guidance
        )
        per_image.append(
            {
                "name": path.stem,
                "caption": captions[path.stem],
                "ab_error": ab_error(pipe.render(gray, told, 1.0), truth),
                "ab_error_no_prompt": ab_error(pipe.render(gray, plain, 1.0), truth),
                "ab_error_gray": ab_error(gray, truth),
            }
        )
        if bar is not None:
            bar.update(1)
    n = max(len(per_image), 1)
    err, plain, gray = (
        sum(r[k] for r in per_image) / n
        for k in ("ab_error", "ab_error_no_prompt", "ab_error_gray")
    )
    return {
        "images": len(per_image),
        "ab_error": err,
        "ab_error_no_prompt": plain,
        "ab_error_gray": gray,
        "ratio_to_gray": err / max(gray, 1e-9),
        "ratio_to_no_prompt": err / max(plain, 1e-9),
        "images_detail": per_image,
    }


# ------------------------------------------------------- reference check ---


def reference_check(
    pipe, paths: list[Path], steps: int, guidance: float, bar=None, sheet: list | None = None
) -> dict:
    """The left REFERENCE_SHARE of each photo in colour is the reference for the
    rest turned gray: a*b* error with the reference, without it, and all-gray
    (scale 1.0), and the mean |dL*| of the result against the gray crop.
    Appends (name, reference, gray, without, with, original) thumbnails to `sheet`.
    A photo whose left part is gray (nothing to lend) is listed as skipped."""
    from tinct.color.reference import is_gray

    per_image, skipped = [], []
    for path in paths:
        truth = read_truth(path)
        cut = max(1, min(truth.shape[1] - 1, round(truth.shape[1] * REFERENCE_SHARE)))
        ref, target = np.ascontiguousarray(truth[:, :cut]), np.ascontiguousarray(truth[:, cut:])
        gray = color.gray(target)
        if is_gray(ref):
            skipped.append(path.stem)
            if bar is not None:
                bar.update(1)
            continue
        plain = pipe.predict(gray, num_inference_steps=steps, guidance_scale=guidance)
        lent = pipe.predict(gray, num_inference_steps=steps, guidance_scale=guidance, reference=ref)
        ours, theirs = pipe.render(gray, lent, 1.0), pipe.render(gray, plain, 1.0)
        dl = np.abs(color.luminance_lstar(ours) - color.luminance_lstar(gray))
        if sheet is not None:
            sheet.append((path.stem, *(_thumb(x) for x in (ref, gray, theirs, ours, target))))
        per_image.append(
            {
                "name": path.stem,
                "ab_error": ab_error(ours, target),
                "ab_error_no_reference": ab_error(theirs, target),
                "ab_error_gray": ab_error(gray, target),
                "dl_mean": float(dl.mean()),
            }
        )
        if bar is not None:
            bar.update(1)
    n = max(len(per_image), 1)
    err, plain, gray_err, dl_mean = (
        sum(r[k] for r in per_image) / n
        for k in ("ab_error", "ab_error_no_reference", "ab_error_gray", "dl_mean")
    )
    return {
        "images": len(per_image),
        "skipped_gray_reference": skipped,
        "reference_share": REFERENCE_SHARE,
        "ab_error": err,
        "ab_error_no_reference": plain,
        "ab_error_gray": gray_err,
        "ratio_to_gray": err / max(gray_err, 1e-9),
        "ratio_to_no_reference": err / max(plain, 1e-9),
        "dl_mean": dl_mean,
        "images_detail": per_image,
    }


# --------------------------------------------------------------- figures ---


def _thumb(rgb: np.ndarray, width: int = THUMB) -> np.ndarray:
    h, w = rgb.shape[:2]
    height = max(1, round(h * width / w))
    small = (
        color.resize_area(rgb, height, width)
        if w > width
        else color.resize_linear(rgb, height, width)
    )
    return color.from_float(small, np.uint8)


def contact_sheet(rows, path: Path) -> None:
    """One row per image: gray | ours at auto scale | original, with a caption."""
    from PIL import Image, ImageDraw

    pad, label = 6, 16
    heads = ("gray input", "ours (auto scale)", "original")
    heights = [max(r[1].shape[0], r[2].shape[0], r[3].shape[0]) for r in rows]
    width = 3 * THUMB + 4 * pad
    sheet = Image.new("RGB", (width, label + pad + sum(h + label + pad for h in heights)), "white")
    draw = ImageDraw.Draw(sheet)
    for c, head in enumerate(heads):
        draw.text((pad + c * (THUMB + pad), 2), head, fill=(0, 0, 0))
    y = label + pad
    for (name, gray, ours, truth, scale), h in zip(rows, heights, strict=True):
        draw.text((pad, y), f"{name}   scale {scale:.2f}", fill=(60, 60, 60))
        for c, img in enumerate((gray, ours, truth)):
            sheet.paste(Image.fromarray(img), (pad + c * (THUMB + pad), y + label))
        y += h + label + pad
    sheet.save(path)


def reference_sheet(rows, path: Path) -> None:
    """One row per photo: the reference (its left part) | the rest in gray | without
    the reference | with it | the original."""
    from PIL import Image, ImageDraw

    pad, label = 6, 16
    heads = ("reference", "gray input", "no reference", "with reference", "original")
    heights = [max(img.shape[0] for img in r[1:]) for r in rows]
    sheet = Image.new(
        "RGB",
        (len(heads) * (THUMB + pad) + pad, label + pad + sum(h + label + pad for h in heights)),
        "white",
    )
    draw = ImageDraw.Draw(sheet)
    for c, head in enumerate(heads):
        draw.text((pad + c * (THUMB + pad), 2), head, fill=(0, 0, 0))
    y = label + pad
    for (name, *images), h in zip(rows, heights, strict=True):
        draw.text((pad, y), name, fill=(60, 60, 60))
        for c, img in enumerate(images):
            sheet.paste(Image.fromarray(img), (pad + c * (THUMB + pad), y + label))
        y += h + label + pad
    sheet.save(path)


def scale_plot(curve: dict, path: Path) -> None:
    """Mean colourfulness against scale; matplotlib when installed, else Pillow."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        _scale_plot_pillow(curve, path)
        return
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.plot(curve["scales"], curve["colorfulness"], "o-", label="ours")
    ax.axhline(curve["colorfulness_truth"], color="gray", ls="--", label="originals")
    ax.axvline(curve["auto_scale_mean"], color="tab:orange", ls=":", label="mean auto scale")
    ax.set_xlabel("scale (colour latent multiplier)")
    ax.set_ylabel("colourfulness (Hasler & Suesstrunk)")
    ax.set_title("Colourfulness against scale")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _scale_plot_pillow(curve: dict, path: Path) -> None:
    from PIL import Image, ImageDraw

    w, h, m = 600, 400, 50
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    xs, ys = curve["scales"], curve["colorfulness"]
    top = max(max(ys, default=1.0), curve["colorfulness_truth"], 1e-6) * 1.1
    x0, x1 = min(xs, default=0.0), max(xs, default=1.0)

    def px(x: float, y: float) -> tuple[float, float]:
        return (m + (x - x0) / max(x1 - x0, 1e-9) * (w - 2 * m), h - m - y / top * (h - 2 * m))

    d.line([px(x0, 0), px(x1, 0)], fill="black")
    d.line([px(x0, 0), px(x0, top)], fill="black")
    for x in xs:
        d.text((px(x, 0)[0] - 8, h - m + 6), f"{x:.1f}", fill="black")
    for k in range(5):
        y = top * k / 4
        d.text((4, px(x0, y)[1] - 6), f"{y:.0f}", fill="black")
    truth = curve["colorfulness_truth"]
    d.line([px(x0, truth), px(x1, truth)], fill=(150, 150, 150))
    if len(xs) > 1:
        d.line([px(x, y) for x, y in zip(xs, ys, strict=True)], fill=(31, 119, 180), width=2)
    for x, y in zip(xs, ys, strict=True):
        cx, cy = px(x, y)
        d.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], fill=(31, 119, 180))
    d.text((m, 10), "colourfulness against scale (blue: ours, gray: originals)", fill="black")
    img.save(path)


# ------------------------------------------------------------------- run ---


def report_paths(output: Path) -> tuple[Path, Path | None, Path | None]:
    """metrics, contact sheet, plot. A .json OUTPUT (the older `-o FILE.json`,
    which scripts point into a model folder) gets the metrics only."""
    if output.suffix.lower() == ".json":
        return output, None, None
    return output / "metrics.json", output / "contact_sheet.png", output / "scale_plot.png"


def run_report(args) -> int:
    from tqdm import tqdm

    from tinct.pipeline import load_pipeline
    from tinct.train.data import list_images

    paths = list_images(args.folder)[: args.limit]
    if not paths:
        raise ValueError(f"no images in {args.folder}")
    metrics_path, sheet_path, plot_path = report_paths(Path(args.output))
    metrics_path.parent.mkdir(parents=True, exist_ok=True)
    import torch

    torch.manual_seed(args.seed)
    pipe = load_pipeline(args.model, device=args.device)
    captions = read_captions(Path(args.folder)) if args.caption_check else {}
    total = len(paths) * (
        1 + (len(PROMPT_WORDS) if args.prompt_check else 0) + (1 if args.hint_check else 0)
    ) + sum(p.stem in captions for p in paths)
    total += len(paths) if args.reference_check else 0
    bar = tqdm(total=total, disable=args.quiet, unit="image", file=sys.stderr)
    report, sheet = evaluate_images(pipe, paths, args.steps, args.guidance, bar)
    report = {
        "model": str(args.model) if args.model else "bundled default",
        "folder": str(args.folder),
        "steps": args.steps,
        "guidance": args.guidance,
        **report,
    }
    if args.prompt_check:
        report["prompt_check"] = prompt_check(pipe, paths, args.steps, args.guidance, bar)
    if args.hint_check:
        report["hint_check"] = hint_check(pipe, paths, args.hint_check, args.steps, args.seed, bar)
    if args.caption_check:
        report["caption_check"] = caption_check(
            pipe, paths, captions, args.steps, args.guidance, bar
        )
    ref_sheet: list = []
    if args.reference_check:
        report["reference_check"] = reference_check(
            pipe, paths, args.steps, args.guidance, bar, ref_sheet
        )
    bar.close()
    written = [metrics_path]
    if sheet_path is not None and plot_path is not None:
        contact_sheet(sheet, sheet_path)
        scale_plot(report["scale_curve"], plot_path)
        report["files"] = {"contact_sheet": sheet_path.name, "scale_plot": plot_path.name}
        written += [sheet_path, plot_path]
        if ref_sheet:
            ref_path = sheet_path.with_name("reference_sheet.png")
            reference_sheet(ref_sheet, ref_path)
            report["files"]["reference_sheet"] = ref_path.name
            written.append(ref_path)
    metrics_path.write_text(json.dumps(report, indent=1) + "\n")
    for key in ("auto", "1.0"):
        short = {k: _rounded(v) for k, v in report[key]["summary"].items()}
        print(f"scale {key}: {json.dumps(short)}")
        for m in report[key]["images"]:
            print(
                f"  {m['name']:40s} a*b* error {m['ab_error']:6.2f}  gray {m['ab_error_gray']:6.2f}"
                f"  excess {m['excess_over_gray']:+6.2f}  scale {m['scale']:.2f}"
            )
    sc = report["scale_curve"]
    print(
        "a*b* error by scale: "
        + ", ".join(f"{s:.1f}: {e:.2f}" for s, e in zip(sc["scales"], sc["ab_error"], strict=True))
    )
    if args.prompt_check:
        pc = report["prompt_check"]
        words = {w: round(v["toward_share"], 2) for w, v in pc["words"].items()}
        print(f"prompt check: toward the named hue {pc['toward_share']:.2f} {json.dumps(words)}")
    if args.hint_check:
        hc = report["hint_check"]
        print(
            f"hint check ({hc['points']} points): a*b* error {hc['ab_error']:.2f}, "
            f"inverse distance {hc['ab_error_idw']:.2f} (ratio {hc['ratio_to_idw']:.3f}, "
            f"worst {hc['worst_image']})"
        )
        for r in hc["images"]:
            print(f"  {r['name']:40s} ratio to inverse distance {r['ratio_to_idw']:.3f}")
    if args.caption_check:
        cc = report["caption_check"]
        print(
            f"caption check ({cc['images']} photos): a*b* error {cc['ab_error']:.2f}, "
            f"no prompt {cc['ab_error_no_prompt']:.2f}, gray {cc['ab_error_gray']:.2f} "
            f"(ratio to gray {cc['ratio_to_gray']:.3f}, to no prompt {cc['ratio_to_no_prompt']:.3f})"
        )
    if args.reference_check:
        rc = report["reference_check"]
        print(
            f"reference check ({rc['images']} photos, left {rc['reference_share']:.0%} lends "
            f"its colour): a*b* error {rc['ab_error']:.2f}, no reference "
            f"{rc['ab_error_no_reference']:.2f}, gray {rc['ab_error_gray']:.2f} (ratio to gray "
            f"{rc['ratio_to_gray']:.3f}, to no reference {rc['ratio_to_no_reference']:.3f}), "
            f"mean |dL*| {rc['dl_mean']:.3f}"
            + (
                f"; skipped (gray reference): {', '.join(rc['skipped_gray_reference'])}"
                if rc["skipped_gray_reference"]
                else ""
            )
        )
        for r in rc["images_detail"]:
            print(
                f"  {r['name']:40s} a*b* error {r['ab_error']:6.2f}  no reference "
                f"{r['ab_error_no_reference']:6.2f}  gray {r['ab_error_gray']:6.2f}"
                f"  |dL*| {r['dl_mean']:.3f}"
            )
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _rounded(value):
    return round(value, 3) if isinstance(value, float) else value
