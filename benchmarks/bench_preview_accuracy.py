"""How far the hosts' slider previews are from the exact render: GIMP's saturation filter
on the held result (``gegl:saturation`` in CIE Lab), Krita's filter mask (its "HSV
Adjustment" in HSY mode) and the daemon's 384-pixel render upscaled.

    python benchmarks/bench_preview_accuracy.py [--model DIR | --tiny] [--photos N]
                                                [--every K] [--size WxH] [--step S]

For every K-th validation photo (--photos-dir, default data/images/val; gray, resized
to --size, ~4 MP, as GIMP's slider benchmark is), a plain run at 1.0 (no prompt, hints
or reference: the bundled model's own colouring), then for s on a --step grid over
0-2, the exact 8-bit layer the daemon's ``apply`` writes at s (``render_layer``) against

- filter: the held 1.0 layer with its a*b* scaled by s / 1.0 at constant L*, back to
  8-bit sRGB with clipping. This is what ``gegl:saturation`` with colorspace "CIE-Lab"
  does (its Lab is babl's "CIE Lab", D50 with Bradford-adapted sRGB primaries, which is
  what ``--white d50``, the default, models; ``--white d65`` uses the backend's Lab);
- mask: the held 1.0 layer through Krita's filter mask: each R'G'B' channel to
  Y' + k (channel - Y'), Y' the Rec. 709 luma of the 8-bit values (Krita's sRGB
  coefficients), k = 1 + s / 100 with s the filter's integer percent for the ratio
  (``tinct.protocol.preview.hsy_percent``: 1 % steps, ratios 0..2), clipped, 8-bit
  (the model ``bench_krita_mask.py`` checks against Krita);
- upscale: today's preview, the daemon's ``rescale`` at the preview size (longest side
  384, the halved preview decode) upscaled nearest-neighbour to the layer
  (``tinct.protocol.preview.upscale_nearest``).

Distance: CIELAB (D65, the backend's) between the two 8-bit layers' colours, per pixel;
per s the mean and the 99th percentile over the photos' pixels, and the worst photo's
mean. Note: the photos are small and upscaled to 4 MP, so they are smoother than a real
4 MP photo; that flatters the nearest-neighbour upscale (fewer sharp edges to block),
not the filter. Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from tinct import color  # noqa: E402
from tinct.protocol.pixels import PixelFormat  # noqa: E402
from tinct.protocol.preview import PREVIEW_SIDE, hsy_percent, upscale_nearest  # noqa: E402
from tinct.server.frames import fit_size, small_source  # noqa: E402
from tinct.server.render import render_layer  # noqa: E402
from tinct.server.worker import PREVIEW_DECODE_REDUCE  # noqa: E402
from tinct.testing import save_tiny_model  # noqa: E402

HELD = 1.0  # the run's colourfulness: the layer the filter scales
# babl's "CIE Lab": D50 white, sRGB primaries adapted to D50 (Bradford), as ICC does
D50_RGB2XYZ = np.array(
    [[0.4360747, 0.3850649, 0.1430804],
     [0.2225045, 0.7168786, 0.0606169],
     [0.0139322, 0.0971045, 0.7141733]], np.float64,
)  # fmt: skip
D50_WHITE = np.array([0.96422, 1.0, 0.82521], np.float64)
REC709_LUMA = np.array([0.2126, 0.7152, 0.0722], np.float64)  # Krita's sRGB luma weights
EPS, KAPPA = 216 / 24389, 24389 / 27


def _f(t):
    return np.where(t > EPS, np.cbrt(t), (KAPPA * t + 16.0) / 116.0)


def _f_inv(f):
    f3 = f * f * f
    return np.where(f3 > EPS, f3, (116.0 * f - 16.0) / KAPPA)


def scaled_d50(rgb8: np.ndarray, k: float) -> np.ndarray:
    """8-bit sRGB -> D50 Lab (babl's), a*b* x K, -> 8-bit sRGB, clipped (the filter)."""
    lin = color.srgb_to_linear(rgb8.astype(np.float32) / 255.0).astype(np.float64)
    f = _f(lin @ (D50_RGB2XYZ / D50_WHITE[:, None]).T)
    L = 116.0 * f[..., 1] - 16.0
    a = 500.0 * (f[..., 0] - f[..., 1]) * k
    b = 200.0 * (f[..., 1] - f[..., 2]) * k
    fy = (L + 16.0) / 116.0
    xyz = _f_inv(np.stack([fy + a / 500.0, fy, fy - b / 200.0], axis=-1)) * D50_WHITE
    lin2 = xyz @ np.linalg.inv(D50_RGB2XYZ).T
    return to8(color.linear_to_srgb(np.clip(lin2, 0.0, 1.0).astype(np.float32)))


def scaled_d65(rgb8: np.ndarray, k: float) -> np.ndarray:
    """The same with the backend's (D65) Lab."""
    lab = color.rgb_to_lab(rgb8.astype(np.float32) / 255.0)
    lab[..., 1:] *= k
    return to8(color.lab_to_rgb(lab))


def scaled_hsy(rgb8: np.ndarray, percent: int) -> np.ndarray:
    """8-bit sRGB through Krita's "HSV Adjustment" in HSY mode at s = PERCENT
    (compatibility mode): chroma x (1 + PERCENT / 100) at constant Rec. 709 luma,
    in the gamma-encoded values, clipped, 8-bit."""
    rgb = rgb8.astype(np.float64) / 255.0
    y = (rgb @ REC709_LUMA)[..., None]
    return to8(y + (1.0 + percent / 100.0) * (rgb - y))


def to8(rgb: np.ndarray) -> np.ndarray:
    return np.round(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8)


def lab8(rgb8: np.ndarray) -> np.ndarray:
    return color.rgb_to_lab(rgb8.astype(np.float32) / 255.0)


def photos(folder: Path, every: int, count: int, size: tuple[int, int]) -> list:
    paths = sorted(folder.glob("*.png"))[::every][:count]
    if not paths:
        paths = [ROOT / "docs" / "sample-bw.png"]
    out = []
    for q in paths:
        gray = Image.open(q).convert("L")
        k = max(size) / max(gray.width, gray.height)  # up (or down) to the longest side
        w, h = round(gray.width * k), round(gray.height * k)
        gray = gray.resize((w, h), Image.BICUBIC).convert("RGB")
        out.append((q.name, np.asarray(gray)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--tiny", action="store_true", help="the tiny test model (not representative)")
    ap.add_argument("--photos-dir", type=Path, default=ROOT / "data" / "images" / "val")
    ap.add_argument("--photos", type=int, default=6)
    ap.add_argument("--every", type=int, default=7)
    ap.add_argument("--size", default="2450x1630", help="the longest side is fitted to 2450")
    ap.add_argument("--step", type=float, default=0.125)
    ap.add_argument("--white", choices=("d50", "d65"), default="d50")
    args = ap.parse_args()
    torch.set_num_threads(1)
    from tinct.pipeline.loading import load_pipeline

    if args.tiny:
        model, note = save_tiny_model(Path(tempfile.mkdtemp()) / "tiny"), "tiny random model"
    else:
        model, note = args.model, str(args.model or "bundled default")
    pipe = load_pipeline(model, device="cpu")
    size = tuple(int(v) for v in args.size.split("x"))
    scales = [round(float(s), 4) for s in np.arange(0.0, 2.0 + 1e-9, args.step)]
    scaled = scaled_d50 if args.white == "d50" else scaled_d65
    imgs = photos(args.photos_dir, args.every, args.photos, size)
    print(f"model: {note}; {len(imgs)} photos, every {args.every}th of {args.photos_dir}, "
          f"longest side {max(size)}; held {HELD}; filter Lab white {args.white}")  # fmt: skip
    # per s: per method, the distances' sums for the mean, a sample for the p99
    methods = ("filter", "mask", "upscale")
    stats = {s: {m: [] for m in methods} for s in scales}
    t0 = time.monotonic()
    for name, rgb in imgs:
        h, w = rgb.shape[:2]
        frame = np.dstack([rgb, np.full((h, w), 255, np.uint8)])
        fmt = PixelFormat.packed(w, h, 4, "u8")
        source = frame.tobytes()
        pw, ph = fit_size(w, h, PREVIEW_SIDE)
        small = small_source(source, fmt, pw, ph)
        with torch.inference_mode():
            latents = pipe.predict(color.to_float(rgb))
            held, _ = render_layer(pipe, source, fmt, latents, HELD)
            held = held[..., :3].copy()
            for s in scales:
                exact, _ = render_layer(pipe, source, fmt, latents, s)
                ref = lab8(exact[..., :3])
                filt = scaled(held, s / HELD)
                mask = scaled_hsy(held, hsy_percent(s, HELD))  # s <= 2: always in reach
                tiny, _ = render_layer(
                    pipe, *small, latents, s, dtype="u8", reduce=PREVIEW_DECODE_REDUCE
                )
                up = upscale_nearest(tiny.tobytes(), pw, ph, w, h, 4)
                up = np.frombuffer(bytes(up), np.uint8).reshape(h, w, 4)[..., :3]
                for method, out in (("filter", filt), ("mask", mask), ("upscale", up)):
                    d = np.linalg.norm(lab8(out) - ref, axis=-1).ravel()
                    # kept as float16 for the p99 over all photos (3 methods x 17 values x
                    # 6 photos of 4 MP: 2.4 GB), the mean taken before
                    stats[s][method].append((name, float(d.mean()), d.astype(np.float16)))
        print(f"  {name} {w}x{h} done ({time.monotonic() - t0:.0f} s)", flush=True)
    print("\nCIELAB distance to the exact render at s (8-bit layers), over all photos' pixels:")
    print(f"{'s':>6} | " + " | ".join(f"{m + ' mean':>13} {'p99':>6} {'worst':>6}"
                                      for m in methods))  # fmt: skip
    summary = {m: [] for m in methods}
    for s in scales:
        cells = []
        for method in methods:
            runs = stats[s][method]
            sizes = [r[2].size for r in runs]
            mean = float(np.average([r[1] for r in runs], weights=sizes))
            p99 = float(np.percentile(np.concatenate([r[2] for r in runs]), 99))
            worst = max(r[1] for r in runs)
            summary[method].append((mean, p99))
            cells.append(f"{mean:13.2f} {p99:6.2f} {worst:6.2f}")
        print(f"{s:6.3f} | " + " | ".join(cells))
    print("(worst: the worst photo's mean)")
    for method, rows in summary.items():
        means = [m for m, _ in rows]
        p99s = [p for _, p in rows]
        print(f"{method}: mean over s {np.mean(means):.2f} (max {max(means):.2f}), "
              f"p99 max {max(p99s):.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
