"""The figures `tinct eval` reports for one colorized photo, and their summary.

- colourfulness (Hasler & Suesstrunk 2003) of ours and of the original, and
  dCF = ours - original;
- mean a*b* error against the original, and that of an all-gray result; the
  excess over gray (positive: worse than leaving the photo gray);
- chroma PSNR (CbCr), |L*| error against the gray input, seconds per image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinct import color

WORSE_THAN_GRAY = 6.0  # a*b* units: a photo this much worse than gray is a failure


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
