"""Measure a slider rescale in the daemon's render path: where the time goes, the decode at
the asked scale (before) against the decodes kept at scale nodes (after), and how far
the interpolated colour is from the decoded one.

    python benchmarks/bench_rescale.py [--model DIR | --tiny] [--photos N] [--moves N]

In process, one torch thread (run with OMP_NUM_THREADS=1), the daemon's own
`render_layer` on a 2450x1630 (4 MP) RGBA8 frame: the Krita preview (the longer side 384,
the daemon's halved preview decode) and the full-resolution layer (apply, GIMP's moves).
"Before" is `exact=True` (one VAE decode at the asked scale per move, what every rescale
did); "after" is the default, the decoded colour interpolated between scale nodes kept
with the result. The interpolation error is measured on the first N validation photos
(--photos-dir, default data/images/val; docs/sample-bw.png without them) at the model's own `unet_share` and
at 0.2, at scales halfway and a quarter of the way between nodes.
"""

from __future__ import annotations

import argparse
import statistics
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
from tinct.color import precedence  # noqa: E402
from tinct.color.compose import ChromaField, compose  # noqa: E402
from tinct.pipeline.pipeline_tinct import LATENT_NODE_STEP  # noqa: E402
from tinct.protocol.pixels import PixelFormat  # noqa: E402
from tinct.server.cache import CachedJob, JobCache  # noqa: E402
from tinct.server.frames import fit_size, small_source  # noqa: E402
from tinct.server.render import render_layer  # noqa: E402
from tinct.server.worker import PREVIEW_DECODE_REDUCE, Compute, Defaults  # noqa: E402
from tinct.testing import make_image, save_tiny_model  # noqa: E402

FULL = (2450, 1630)  # (width, height): 4 MP, the size
PREVIEW_SIDE = 384  # Krita's slider preview


def ms(seconds: float) -> str:
    return f"{1000 * seconds:7.1f} ms"


def clock(fn, repeat: int = 3) -> float:
    """The median of `repeat` runs of fn(), seconds."""
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def profile(pipe, latents, source, fmt, reduce: int, scale: float, repeat: int) -> dict:
    """Seconds of each phase of one exact rescale (the path before this change)."""
    z = pipe.latent_at(latents, scale)
    if reduce > 1:
        z = torch.nn.functional.interpolate(
            z, size=(z.shape[-2] // reduce, z.shape[-1] // reduce), mode="area"
        )
    rgb = np.ascontiguousarray(pipe.decode_latent(z)[0].permute(1, 2, 0).numpy())
    ab = color.rgb_to_lab(rgb)[..., 1:]
    combined = pipe.chroma_at_work(latents, scale, reduce, exact=True)
    light = color.resize_area(latents.work_lightness, *combined.shape[:2])
    field = ChromaField(combined, light, fmt.height, fmt.width)
    arr = np.frombuffer(source, np.uint8).reshape(fmt.height, fmt.width, -1)
    out = np.empty((fmt.height, fmt.width, 4), np.uint8)
    phases = {
        "VAE decode": lambda: pipe.decode_latent(z),
        "rgb -> Lab": lambda: color.rgb_to_lab(rgb),
        "combine (prior, prompt, hints)": lambda: precedence.combine_chroma(
            ab,
            scale,
            prior_field=latents.prior_field,
            prompt_field=latents.prompt_field,
            prompt_weight=latents.prompt_weight,
            hint_field=latents.hint_field,
            hint_weight=latents.hint_confidence,
            painted_ab=latents.hint_ab,
            painted_alpha=latents.hint_alpha,
        ),
        "guided coefficients": lambda: ChromaField(combined, light, fmt.height, fmt.width),
        "compose (luma + chroma -> u8)": lambda: compose(arr[..., :3], field, out[..., :3]),
        "whole render_layer": lambda: render_layer(
            pipe, source, fmt, latents, scale, reduce=reduce, exact=True
        ),
    }
    return {name: clock(fn, repeat) for name, fn in phases.items()}


def moves(pipe, latents, source, fmt, reduce: int, count: int, exact: bool) -> list[float]:
    """Seconds per slider move, 0.6 -> 1.4 in `count` steps (bench_daemon's drag)."""
    out = []
    for i in range(count):
        s = 0.6 + 0.8 * i / max(count - 1, 1)
        t0 = time.perf_counter()
        render_layer(pipe, source, fmt, latents, s, dtype="u8", reduce=reduce, exact=exact)
        out.append(time.perf_counter() - t0)
    return out


def p(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * q))]


def photos(folder: Path, count: int) -> list[np.ndarray]:
    paths = sorted(folder.glob("*.png"))[:count] or [ROOT / "docs" / "sample-bw.png"]
    return [color.to_float(np.asarray(Image.open(q).convert("L").convert("RGB"))) for q in paths]


def interpolation_error(pipe, images: list[np.ndarray], shares: list[float]) -> list[tuple]:
    """Per (share, reduce): the worst and the average over photos and scales of the mean
    a*b* distance, and the worst 99th percentile and maximum, interpolated vs decoded."""
    rows = []
    kept = float(getattr(pipe.config, "unet_share", 1.0))
    lats = [pipe.predict(im) for im in images]
    for share in shares:
        pipe.register_to_config(unet_share=share)
        step = LATENT_NODE_STEP / share
        # halfway and a quarter of the way between nodes, over the slider's 0-2
        scales = [s for s in np.arange(0.0, 2.0, step / 4) if round(s / step * 4) % 4 in (1, 2)]
        for reduce in (1, PREVIEW_DECODE_REDUCE):
            means, p99s, maxes = [], [], []
            for lat in lats:
                lat.decoded.clear()
                for s in scales:
                    fast = pipe.model_chroma(lat, float(s), reduce)
                    exact = pipe.model_chroma(lat, float(s), reduce, exact=True)
                    d = np.linalg.norm(fast - exact, axis=-1)
                    means.append(float(d.mean()))
                    p99s.append(float(np.percentile(d, 99)))
                    maxes.append(float(d.max()))
            rows.append(
                (share, reduce, len(scales), max(means), np.mean(means), max(p99s), max(maxes))
            )
    pipe.register_to_config(unet_share=kept)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--tiny", action="store_true", help="the tiny test model (not representative)")
    ap.add_argument(
        "--photos", type=int, default=4, help="validation photos for the error (0: skip it)"
    )
    ap.add_argument("--photos-dir", type=Path, default=ROOT / "data" / "images" / "val")
    ap.add_argument("--moves", type=int, default=20)
    ap.add_argument("--share", type=float, default=None, help="unet_share for this run")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)

    from tinct.pipeline.loading import load_pipeline

    if args.tiny:
        model, note = save_tiny_model(Path(tempfile.mkdtemp()) / "tiny"), "tiny random model"
    else:
        model, note = args.model, str(args.model or "bundled default")
    pipe = load_pipeline(model, device="cpu")
    if args.share is not None:
        pipe.register_to_config(unet_share=args.share)
    share = float(getattr(pipe.config, "unet_share", 1.0))
    print(
        f"model: {note}, unet_share {share}, node step {LATENT_NODE_STEP / share:.3g} on the slider"
    )

    W, H = FULL
    frame = make_image(W, H, 4, "u8", seed=2)
    fmt = PixelFormat.packed(W, H, 4, "u8")
    source = frame.tobytes()
    small, sfmt = small_source(source, fmt, *fit_size(W, H, PREVIEW_SIDE))
    with torch.inference_mode():
        latents = pipe.predict(color.to_float(frame[..., :3]))
        print(f"work size {latents.work_size}, preview {sfmt.width}x{sfmt.height}\n")

        # 1. Where one rescale's time goes (the exact path, as before).
        cases = [
            (f"preview {sfmt.width}x{sfmt.height}", small, sfmt, PREVIEW_DECODE_REDUCE),
            (f"full {W}x{H}", source, fmt, 1),
        ]
        for name, src, f, reduce in cases:
            prof = profile(pipe, latents, src, f, reduce, 1.3, args.repeat)
            whole = prof.pop("whole render_layer")
            print(f"one exact rescale, {name} (decode reduce {reduce}): {ms(whole)}")
            for phase, t in prof.items():
                print(f"  {phase:<32} {ms(t)}  {100 * t / whole:5.1f} %")
        print()

        # 2. Before / after: a drag of `moves` values, exact decode vs scale nodes.
        print(f"slider drag, {args.moves} moves 0.6 -> 1.4 (p50 / p90 / max):")
        for name, src, f, reduce in cases:
            before = moves(pipe, latents, src, f, reduce, args.moves, exact=True)
            latents.decoded.clear()
            t0 = time.perf_counter()
            first = moves(pipe, latents, src, f, reduce, args.moves, exact=False)
            cold = time.perf_counter() - t0
            after = moves(pipe, latents, src, f, reduce, args.moves, exact=False)
            nodes = sum(1 for k in latents.decoded if k[0] == reduce)
            print(
                f"  {name:<18} before {ms(p(before, 0.5))} / {ms(p(before, 0.9))} / "
                f"{ms(max(before))}\n"
                f"  {'':<18} after, first drag ({nodes} nodes decoded) "
                f"{ms(p(first, 0.5))} / {ms(p(first, 0.9))} / {ms(max(first))}"
                f" (whole drag {cold:.2f} s vs {sum(before):.2f} s)\n"
                f"  {'':<18} after, nodes kept {ms(p(after, 0.5))} / {ms(p(after, 0.9))} / "
                f"{ms(max(after))}\n"
                f"  {'':<18} ratio before / after (nodes kept): p50 "
                f"{p(before, 0.5) / p(after, 0.5):.1f}x, p90 {p(before, 0.9) / p(after, 0.9):.1f}x"
            )
        held = latents.decoded_nbytes
        print(f"  decoded nodes kept with the result: {held / 2**20:.1f} MB")
        # What an idle daemon does after a colorize at 1.0 (Compute.warm_one until done).
        latents.decoded.clear()
        cache = JobCache(max_bytes=1 << 30, max_jobs=4)
        cache.put(CachedJob("bench", latents, source, fmt))
        compute = Compute(pipe, cache, Defaults())
        compute.slider_at("bench", 1.0)
        t0 = time.perf_counter()
        warmed = 0
        while compute.warm_one():
            warmed += 1
        print(
            f"  idle warming after a colorize at 1.0: {warmed} decodes in "
            f"{time.perf_counter() - t0:.2f} s (preview nodes over 0-2, full-size pair)\n"
        )

        # 3. What the layer loses: the full-resolution u8 layer, interpolated vs decoded.
        worst = 0
        differ = 0.0
        for s in (0.65, 1.05, 1.3, 1.75):
            a, _ = render_layer(pipe, source, fmt, latents, s)
            b, _ = render_layer(pipe, source, fmt, latents, s, exact=True)
            d = np.abs(a.astype(np.int16) - b.astype(np.int16))
            worst = max(worst, int(d.max()))
            differ = max(differ, float((d.max(axis=-1) > 0).mean()))
        print(
            f"full 4 MP u8 layer at 0.65/1.05/1.3/1.75, nodes vs exact: max {worst} codes, "
            f"at most {100 * differ:.2f} % of pixels differ (synthetic frame)\n"
        )

        # 4. The interpolation error on photos, at the model's share and at 0.2.
        if args.photos <= 0:
            return 0
        images = photos(args.photos_dir, args.photos)
        shares = sorted({share, 0.2}, reverse=True)
        print(f"a*b* interpolated vs decoded, {len(images)} photos (distance in a*b*):")
        print("  share  reduce  scales  worst mean  avg mean  worst p99  worst max")
        for row in interpolation_error(pipe, images, shares):
            sh, red, n, wmean, amean, wp99, wmax = row
            print(
                f"  {sh:5.2f}  {red:6d}  {n:6d}  {wmean:10.3f}  {amean:8.3f}  "
                f"{wp99:9.2f}  {wmax:9.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
