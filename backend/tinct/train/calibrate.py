"""Calibrate a model's decoder chroma gain on training photos.

A small autoencoder trained briefly reproduces chroma too weakly: true colour
latents decode paler than the photo. The least-squares gain k that best maps
decoded a*b* onto the photo's a*b* (k = <ab_true, ab_dec> / <ab_dec, ab_dec>,
over training photos only) is stored as the pipeline's `chroma_gain`.

    python -m tinct.train.calibrate MODEL_DIR data/images/train
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from tinct import color
from tinct.train.data import load_photos


@torch.no_grad()
def chroma_gain(pipe, photos) -> float:
    num = den = 0.0
    for p in photos:
        h, w = pipe.work_size_for(*p.rgb.shape[:2])
        rgb = color.resize_area(p.rgb, h, w)
        dec = pipe.decode_latent(pipe.encode_image(rgb))[0].permute(1, 2, 0).numpy()
        ab_true = color.rgb_to_lab(rgb)[..., 1:]
        ab_dec = color.rgb_to_lab(dec)[..., 1:]
        num += float((ab_true * ab_dec).sum())
        den += float((ab_dec * ab_dec).sum())
    return num / max(den, 1e-9)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("model")
    ap.add_argument("data", help="training photos (never the held-out split)")
    ap.add_argument("--limit", type=int, default=80)
    args = ap.parse_args(argv)
    from tinct.pipeline import load_pipeline

    pipe = load_pipeline(args.model, device="cpu")
    photos = load_photos(args.data)
    photos = photos[:: max(1, len(photos) // args.limit)]
    k = chroma_gain(pipe, photos)
    index_path = Path(args.model) / "model_index.json"
    index = json.loads(index_path.read_text())
    index["chroma_gain"] = round(k, 4)
    index_path.write_text(json.dumps(index, indent=2) + "\n")
    print(f"chroma_gain = {k:.4f} from {len(photos)} training photos -> {index_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
