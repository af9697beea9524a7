"""`tinct eval DIR -o REPORT_DIR` (its command line is in `tinct.cli.evaluate`): the
main pass over the photos, the optional checks, and the report files.

Each colour photo in DIR is turned gray (same L*), colorized, and compared
with the original (tinct.evaluate.metrics) at the default colourfulness
(`DEFAULT_SCALE`, 1.0) and at each scale of `CURVE_SCALES`.

It writes REPORT_DIR/metrics.json, contact_sheet.png (gray | ours at 1.0 |
original) and scale_plot.png (mean colourfulness and a*b* error against scale);
given `-o FILE.json` (the older usage) only the metrics, to that file. The
summary names the worst image and counts those worse than gray by more than
`WORSE_THAN_GRAY` a*b* units.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from tinct import color
from tinct.evaluate.checks import (
    PROMPT_WORDS,
    caption_check,
    hint_check,
    prompt_check,
    read_captions,
    reference_check,
)
from tinct.evaluate.figures import (
    CAPTION_HEADS,
    REFERENCE_HEADS,
    contact_sheet,
    scale_plot,
    strip_sheet,
    thumb,
)
from tinct.evaluate.metrics import ImageMetrics, ab_error, image_metrics, read_truth, summarize
from tinct.protocol.constants import DEFAULT_SCALE

DEFAULT_KEY = f"{DEFAULT_SCALE:.1f}"  # the report's key for the default scale: "1.0"
CURVE_SCALES = tuple(round(0.2 * i, 1) for i in range(11))  # 0.0 .. 2.0


# ----------------------------------------------------------- main pass ---


def evaluate_images(pipe, paths: list[Path], steps: int = 4, guidance: float = 1.5, bar=None):
    """-> (report with DEFAULT_KEY ("1.0": per-image metrics and their summary) and
    "scale_curve", contact-sheet rows (name, gray, ours, original, scale))."""
    rows: list[ImageMetrics] = []
    curve, curve_err = [], []
    sheet = []
    for path in paths:
        truth = read_truth(path)
        gray = color.gray(truth)
        # What a user waits for: predict and render at full size.
        t0 = time.perf_counter()
        latents = pipe.predict(gray, num_inference_steps=steps, guidance_scale=guidance)
        ours = pipe.render(gray, latents, DEFAULT_SCALE)
        seconds = time.perf_counter() - t0
        rows.append(image_metrics(path.stem, ours, truth, DEFAULT_SCALE, seconds, gray))
        renders = [pipe.render(gray, latents, s) for s in CURVE_SCALES]
        curve.append([color.colorfulness(r) for r in renders])
        curve_err.append([ab_error(r, truth) for r in renders])
        sheet.append((path.stem, thumb(gray), thumb(ours), thumb(truth), DEFAULT_SCALE))
        if bar is not None:
            bar.update(1)
    report = {DEFAULT_KEY: {"summary": summarize(rows), "images": [asdict(m) for m in rows]}}
    report["scale_curve"] = {
        "scales": list(CURVE_SCALES),
        "colorfulness": np.mean(curve, axis=0).tolist() if curve else [],
        "colorfulness_truth": report[DEFAULT_KEY]["summary"]["colorfulness_truth"],
        "default_scale": DEFAULT_SCALE,
        "per_image": {p.stem: c for p, c in zip(paths, curve, strict=True)},
        # a*b* error against the photo at each scale: where the colour stops helping
        "ab_error": np.mean(curve_err, axis=0).tolist() if curve_err else [],
        "ab_error_per_image": {p.stem: e for p, e in zip(paths, curve_err, strict=True)},
    }
    return report, sheet


def evaluate_folder(pipe, folder: str | Path, steps: int = 4, limit: int | None = None) -> dict:
    """The metrics part of the report at the default scale, {"1.0": {"summary", "images"}}
    (kept for scripts that call it)."""
    from tinct.train.data import list_images

    report, _ = evaluate_images(pipe, list_images(folder)[:limit], steps)
    return {DEFAULT_KEY: report[DEFAULT_KEY]}


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
    total += len(paths) if args.region_hint_check else 0
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
    if args.region_hint_check:
        from tinct.evaluate.region_hints import region_hint_check

        report["region_hint_check"] = region_hint_check(pipe, paths, args.steps, args.seed, bar)
    cap_sheet: list = []
    if args.caption_check:
        report["caption_check"] = caption_check(
            pipe, paths, captions, args.steps, args.guidance, bar, cap_sheet
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
        for key, rows, heads in (
            ("caption_sheet", cap_sheet, CAPTION_HEADS),
            ("reference_sheet", ref_sheet, REFERENCE_HEADS),
        ):
            if rows:
                extra_path = sheet_path.with_name(f"{key}.png")
                strip_sheet(rows, heads, extra_path)
                report["files"][key] = extra_path.name
                written.append(extra_path)
    metrics_path.write_text(json.dumps(report, indent=1) + "\n")
    short = {k: _rounded(v) for k, v in report[DEFAULT_KEY]["summary"].items()}
    print(f"scale {DEFAULT_KEY}: {json.dumps(short)}")
    for m in report[DEFAULT_KEY]["images"]:
        print(
            f"  {m['name']:40s} a*b* error {m['ab_error']:6.2f}  gray {m['ab_error_gray']:6.2f}"
            f"  excess {m['excess_over_gray']:+6.2f}"
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
    if args.region_hint_check:
        rh = report["region_hint_check"]
        print(
            f"region hint check ({rh['patches']} patches in one colour region): in-region "
            f"error {rh['in_region_ratio']:.3f}x no hints, flood {rh['flood_share']:.1%} of "
            f"the pixels of other colours pulled toward the hints"
        )
        for r in rh["images"]:
            print(
                f"  {r['name']:40s} in-region {r['in_region_ratio']:.3f}  flood "
                f"{r['flood_share']:.1%}  region {r['region_share']:.0%}"
            )
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
