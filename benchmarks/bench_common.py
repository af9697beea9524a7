"""What the benchmark scripts share: their two common options, timing, the sample photo."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from PIL import Image

from tinct import color

ROOT = Path(__file__).resolve().parents[1]


def model_and_repeats(doc: str, repeats: int = 3) -> argparse.Namespace:
    """Parse --model DIR (default: the bundled model) and --repeats N (best of N)."""
    ap = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", default=None)
    ap.add_argument("--repeats", type=int, default=repeats)
    return ap.parse_args()


def best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def photo(height: int, width: int) -> np.ndarray:
    """docs/sample-bw.png resized to (height, width), float32 sRGB."""
    gray = Image.open(ROOT / "docs" / "sample-bw.png").convert("RGB")
    return color.to_float(np.asarray(gray.resize((width, height), Image.BILINEAR)))
