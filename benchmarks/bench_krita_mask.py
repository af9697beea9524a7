"""What the Krita slider's filter mask does, in real Krita (kritarunner, no window): its
pixels against the model ``bench_preview_accuracy.py`` measures with, and its cost.

    python benchmarks/bench_krita_mask.py

Runs benchmarks/krita/mask_checks.py with the plugin staged as the installer does:
- the plugin's mask (Krita's "HSV Adjustment", HSY, compatibility mode) at each percent
  on 343 colours at U8, U16 and F32, against ``bench_preview_accuracy.scaled_hsy``
  (chroma x (1 + s / 100) at constant Rec. 709 luma, clipped): the largest difference,
  in 8-bit codes;
- why not the other settings (U8): type 4 (YCbCr) against the same scaling of Cb and Cr
  centred on 0 and on 0.5 (Krita's), and type 3 without the compatibility mode;
- headless timings at 2450x1630 (no canvas): the mask put on, changed and taken off,
  each with Krita's ``refreshProjection``, against a whole-layer write + refresh.
Prints; asserts nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from bench_common import ROOT
from bench_preview_accuracy import REC709_LUMA, scaled_hsy

sys.path.insert(0, str(ROOT / "tests"))  # the real-host tests' helpers

from tinct.install.krita import stage_krita  # noqa: E402


def run() -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="tinct-bench-kmask-"))
    try:
        (tmp / "home").mkdir()
        stage_krita(tmp / "pykrita")
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env.update(
            HOME=str(tmp / "home"),
            QT_QPA_PLATFORM="offscreen",
            PYTHONPATH=os.pathsep.join([str(tmp / "pykrita"), str(ROOT / "benchmarks" / "krita")]),
        )
        out = tmp / "result.json"
        subprocess.run(
            ["timeout", "-k", "5", "300", "kritarunner", "-s", "mask_checks", "-f", "main",
             str(out)],
            env=env, capture_output=True, text=True, cwd=tmp,
        )  # fmt: skip
        if not out.exists():
            raise SystemExit("kritarunner wrote no result (it crashed?)")
        return json.loads(out.read_text())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ycbcr(rgb8: np.ndarray, k: float, centre: float) -> np.ndarray:
    """Cb, Cr (Rec. 709, 0..1 scale) times K, centred on CENTRE, back to 8-bit RGB."""
    kr, kg, kb = REC709_LUMA
    rgb = rgb8.astype(np.float64) / 255.0
    y = rgb @ REC709_LUMA
    cb = ((rgb[..., 2] - y) / (2 * (1 - kb)) + centre) * k
    cr = ((rgb[..., 0] - y) / (2 * (1 - kr)) + centre) * k
    r = y + 2 * (1 - kr) * (cr - centre)
    b = y + 2 * (1 - kb) * (cb - centre)
    g = (y - kr * r - kb * b) / kg
    return np.round(np.clip(np.stack([r, g, b], -1), 0, 1) * 255).astype(np.uint8)


def codes(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.abs(a.astype(int) - b.astype(int)).max())


def main() -> int:
    if shutil.which("kritarunner") is None:
        print("Krita is not installed: `bash scripts/install_host_krita.sh` as root")
        return 0
    print(f"load average: {' '.join(open('/proc/loadavg').read().split()[:3])}")
    found = run()
    if "error" in found:
        raise SystemExit(found["error"])
    rgb8 = np.asarray(found["colours"], np.uint8)
    print(f"Krita {found['version']}: the plugin's filter mask on {len(rgb8)} colours "
          "against the HSY model (chroma x (1 + s/100), constant Rec. 709 luma, clipped)")  # fmt: skip
    for depth, by_percent in found["pixels"].items():
        worst = []
        for percent, got in by_percent.items():
            model = scaled_hsy(rgb8, int(percent)).astype(np.float64) / 255.0
            worst.append(f"{percent}: {255 * np.abs(np.asarray(got) - model).max():.2f}")
        print(f"  {depth}: largest difference (8-bit codes) at s = " + ", ".join(worst))
    print("other settings (U8, largest difference in codes):")
    for key, got in found["other"].items():
        name, p = key.split()
        got = np.round(np.asarray(got) * 255).astype(np.uint8)
        k = 1 + int(p) / 100
        if name == "ycbcr":
            print(f"  type 4 (YCbCr) at {p}: Cb, Cr x {k:g} centred on 0: "
                  f"{codes(got, ycbcr(rgb8, k, 0.0))}, on 0.5: {codes(got, ycbcr(rgb8, k, 0.5))}"
                  f"; gray 128 becomes {got[len(rgb8) // 2].tolist()}")  # fmt: skip
        else:
            print(f"  type 3 (HSY) without compatibility mode at {p}: against the model "
                  f"{codes(got, scaled_hsy(rgb8, int(p)))}")  # fmt: skip
    t = found["timings"]
    print("headless, 2450x1630 RGBA U8 Color layer over gray (median, ms; refreshProjection "
          "included in each):")  # fmt: skip
    for key in ("add", "change", "drop", "write"):
        print(f"  {key:<7} {1000 * np.median(t[key]):6.0f}  (of {len(t[key])})")
    print(f"  children left on the layer: {t['children_after']}")
    print(f"load average after: {' '.join(open('/proc/loadavg').read().split()[:3])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
