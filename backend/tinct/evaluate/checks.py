"""The optional checks of `tinct eval`: does the model follow a prompt, hints,
a true caption, a reference photo?

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

import math
from pathlib import Path

import numpy as np

from tinct import color
from tinct.evaluate.figures import thumb
from tinct.evaluate.metrics import ab_error, read_truth

PROMPT_WORDS = ("blue", "red", "green", "yellow")
PROMPT_TEMPLATE = "a photo in {} tones"
CAPTIONS_FILE = "captions.txt"
REFERENCE_SHARE = 0.4  # --reference-check: the left share of each photo lends its colour


# ---------------------------------------------------------- prompt check ---


def _means(rows: list[dict], *keys: str) -> list[float]:
    """The mean of each of `keys` over the per-image `rows` (0.0 when there are none)."""
    n = max(len(rows), 1)
    return [sum(r[k] for r in rows) / n for k in keys]


def _errors_against(rows: list[dict], without: str) -> dict:
    """The mean a*b* errors of the per-image `rows`: with the check's input
    ("ab_error"), without it ("ab_error_no_" + `without`) and all-gray, and the
    ratios of the first to the other two."""
    err, plain, gray = _means(rows, "ab_error", f"ab_error_no_{without}", "ab_error_gray")
    return {
        "ab_error": err,
        f"ab_error_no_{without}": plain,
        "ab_error_gray": gray,
        "ratio_to_gray": err / max(gray, 1e-9),
        f"ratio_to_no_{without}": err / max(plain, 1e-9),
    }


def mean_ab(pipe, latents, scale: float = 1.0) -> np.ndarray:
    return pipe.chroma_at_work(latents, scale).reshape(-1, 2).mean(axis=0)


def prompt_check(pipe, paths: list[Path], steps: int, guidance: float, bar=None) -> dict:
    from tinct.color.vocabulary import hue_center

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
    ours_err, idw_err = _means(per_image, "ab_error", "ab_error_idw")
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
    pipe,
    paths: list[Path],
    captions: dict[str, str],
    steps: int,
    guidance: float,
    bar=None,
    sheet: list | None = None,
) -> dict:
    """a*b* error with the true caption as prompt, without a prompt, and all-gray
    (scale 1.0, the default).
    Appends ("name: caption", gray, no prompt, caption, original) thumbnails to `sheet`."""
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
        ours, theirs = pipe.render(gray, told, 1.0), pipe.render(gray, plain, 1.0)
        if sheet is not None:
            label = f"{path.stem}: {captions[path.stem]}"
            sheet.append((label, *(thumb(x) for x in (gray, theirs, ours, truth))))
        per_image.append(
            {
                "name": path.stem,
                "caption": captions[path.stem],
                "ab_error": ab_error(ours, truth),
                "ab_error_no_prompt": ab_error(theirs, truth),
                "ab_error_gray": ab_error(gray, truth),
            }
        )
        if bar is not None:
            bar.update(1)
    return {
        "images": len(per_image),
        **_errors_against(per_image, "prompt"),
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
            sheet.append((path.stem, *(thumb(x) for x in (ref, gray, theirs, ours, target))))
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
    (dl_mean,) = _means(per_image, "dl_mean")
    return {
        "images": len(per_image),
        "skipped_gray_reference": skipped,
        "reference_share": REFERENCE_SHARE,
        **_errors_against(per_image, "reference"),
        "dl_mean": dl_mean,
        "images_detail": per_image,
    }
