"""Metrics for colourisation against ground truth, and a small report.

Per image: colourfulness (Hasler & Suesstrunk 2003) of ours and of the
original, mean a*b* error against the original and that of an all-gray
result, and |dL*| against the input. `evaluate_folder` runs a model over
held-out photos (turned gray first) and aggregates.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from tinct import color


@dataclass
class ImageMetrics:
    name: str
    scale: float
    colorfulness: float
    colorfulness_truth: float
    ab_error: float
    ab_error_gray: float
    dl_mean: float
    dl_p99: float
    seconds: float


def image_metrics(
    name: str, result: np.ndarray, truth: np.ndarray, scale: float, seconds: float
) -> ImageMetrics:
    lab_r, lab_t = color.rgb_to_lab(result), color.rgb_to_lab(truth)
    dl = np.abs(lab_r[..., 0] - lab_t[..., 0])
    return ImageMetrics(
        name=name,
        scale=float(scale),
        colorfulness=color.colorfulness(result),
        colorfulness_truth=color.colorfulness(truth),
        ab_error=float(np.linalg.norm(lab_r[..., 1:] - lab_t[..., 1:], axis=-1).mean()),
        ab_error_gray=float(np.linalg.norm(lab_t[..., 1:], axis=-1).mean()),
        dl_mean=float(dl.mean()),
        dl_p99=float(np.percentile(dl, 99)),
        seconds=seconds,
    )


def summarize(rows: list[ImageMetrics]) -> dict:
    cf = sum(r.colorfulness for r in rows) / max(len(rows), 1)
    cf_t = sum(r.colorfulness_truth for r in rows) / max(len(rows), 1)
    ab = sum(r.ab_error for r in rows) / max(len(rows), 1)
    ab_g = sum(r.ab_error_gray for r in rows) / max(len(rows), 1)
    return {
        "images": len(rows),
        "colorfulness_ratio": cf / max(cf_t, 1e-9),
        "ab_error": ab,
        "ab_error_gray": ab_g,
        "ab_error_ratio_to_gray": ab / max(ab_g, 1e-9),
        "abs_dcf": sum(abs(r.colorfulness - r.colorfulness_truth) for r in rows)
        / max(len(rows), 1),
        "dl_mean": max((r.dl_mean for r in rows), default=0.0),
        "seconds_per_image": sum(r.seconds for r in rows) / max(len(rows), 1),
    }


def evaluate_folder(
    pipe, folder: str | Path, scales=("auto", 1.0), steps: int = 4, limit: int | None = None
) -> dict:
    from tinct.imageio import read_image
    from tinct.train.data import list_images

    paths = list_images(folder)[:limit]
    report: dict = {}
    for scale in scales:
        rows = []
        for p in paths:
            truth = color.to_float(color.split_alpha(read_image(p))[0])
            gray = color.gray(truth)
            t0 = time.perf_counter()
            out = pipe(gray, num_inference_steps=steps, scale=scale)
            rows.append(
                image_metrics(p.stem, out.images[0], truth, out.scale, time.perf_counter() - t0)
            )
        report[str(scale)] = {"summary": summarize(rows), "images": [asdict(r) for r in rows]}
    return report


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Evaluate a Tinct model on held-out colour photos.")
    ap.add_argument("folder")
    ap.add_argument("--model", default=None)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("-o", "--output", default=None, help="write the full report as JSON")
    args = ap.parse_args(argv)
    from tinct.pipeline import load_pipeline

    report = evaluate_folder(load_pipeline(args.model), args.folder, steps=args.steps)
    for scale, part in report.items():
        print(f"scale {scale}: " + json.dumps({k: round(v, 3) for k, v in part["summary"].items()}))
    if args.output:
        Path(args.output).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
