#!/usr/bin/env python3
"""Collect the default model's training photos from packages we may use.

Sources: images shipped by scikit-image, scikit-learn and matplotlib, and the
Debian packages mate-backgrounds, opencv-doc, tuxpaint-stamps-default and
stellarium-data (fetched with `apt-get download` + `dpkg -x`, never installed).
Diagrams, screenshots and gray images are filtered out; cut-outs are put on a
plain background; sky-less landscape panoramas get a plain sky gradient.

Writes DEST/{train,heldout}/NAME.png (long side <= 640) with optional
NAME.txt captions, and DEST/sources.json. The split is a hash of the name,
so it is stable between runs. Nothing here is committed: only this recipe.

    python scripts/fetch_training_images.py data/images
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

DEBIAN_PACKAGES = {
    "mate-backgrounds": "GPL-2+ / CC-BY-SA (see its copyright file)",
    "opencv-doc": "Apache-2.0 / BSD-3-Clause sample data (see its copyright file)",
    "tuxpaint-stamps-default": "GPL-2+ (see its copyright file)",
    "stellarium-data": "GPL-2+ (see its copyright file)",
}
MAX_SIDE = 640
EARTH_LANDSCAPES = {"garching", "geneva", "grossmugl", "guereins", "hurricane", "ocean", "trees"}
HELDOUT_PERCENT = 12


def colorfulness(rgb: np.ndarray) -> float:
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def looks_like_photo(rgb: np.ndarray, mask: np.ndarray | None = None) -> bool:
    """Enough colour, many distinct colours, few flat pixels: not a diagram."""
    small = np.asarray(Image.fromarray(rgb).resize((96, 96)), dtype=np.int32)
    pix = small.reshape(-1, 3)
    if mask is not None:
        m = np.asarray(Image.fromarray((mask * 255).astype(np.uint8)).resize((96, 96))) > 127
        pix = pix[m.reshape(-1)]
        if len(pix) < 800:
            return False
    if colorfulness(pix[None].astype(np.float64)) < 12:
        return False
    q = pix // 8
    keys = q[:, 0] * 1024 + q[:, 1] * 32 + q[:, 2]
    uniq, counts = np.unique(keys, return_counts=True)
    return len(uniq) > 0.08 * len(pix) and counts.max() < 0.35 * len(pix)


def fit(img: Image.Image) -> Image.Image:
    f = MAX_SIDE / max(img.size)
    if f < 1:
        img = img.resize(
            (max(1, round(img.width * f)), max(1, round(img.height * f))), Image.LANCZOS
        )
    return img


def on_background(rgba: Image.Image, rng: np.random.Generator) -> np.ndarray:
    a = np.asarray(rgba, dtype=np.float32) / 255.0
    level = rng.uniform(0.35, 0.95)
    bg = np.full(a.shape[:2] + (3,), level, np.float32)
    out = a[..., :3] * a[..., 3:] + bg * (1 - a[..., 3:])
    return (out * 255 + 0.5).astype(np.uint8)


def with_sky(rgba: Image.Image, rng: np.random.Generator) -> np.ndarray:
    a = np.asarray(rgba, dtype=np.float32) / 255.0
    h = a.shape[0]
    top = np.array([0.25, 0.45, 0.80]) * rng.uniform(0.85, 1.1)
    bottom = np.array([0.70, 0.82, 0.95])
    ramp = np.linspace(0, 1, h)[:, None, None]
    sky = (top * (1 - ramp) + bottom * ramp).astype(np.float32) * np.ones_like(a[..., :3])
    out = a[..., :3] * a[..., 3:] + np.clip(sky, 0, 1) * (1 - a[..., 3:])
    return (out * 255 + 0.5).astype(np.uint8)


def caption_of(txt: Path) -> str:
    try:
        first = txt.read_text(errors="ignore").splitlines()[0].strip()
    except (OSError, IndexError):
        return ""
    return first if "=" not in first else ""


def library_images():
    import matplotlib
    import skimage.data as skd
    from sklearn.datasets import load_sample_images

    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        try:
            yield (
                f"skimage_{name}",
                np.asarray(getattr(skd, name)())[..., :3],
                "",
                "scikit-image (BSD-3-Clause)",
            )
        except Exception as exc:  # noqa: BLE001 - some need a download; skip those
            print(f"  skip skimage {name}: {exc}", file=sys.stderr)
    for i, im in enumerate(load_sample_images().images):
        yield f"sklearn_{i}", im, "", "scikit-learn sample images (CC-BY 2.0)"
    mpl = Path(matplotlib.get_data_path()) / "sample_data"
    for p in sorted(mpl.rglob("*")):
        if p.suffix.lower() in (".jpg", ".png"):
            try:
                yield (
                    f"mpl_{p.stem}",
                    np.asarray(Image.open(p).convert("RGB")),
                    "",
                    "matplotlib sample data",
                )
            except OSError:
                pass


def debian_images(root: Path, rng: np.random.Generator):
    for p in sorted((root / "usr/share/backgrounds").rglob("*")):
        if p.suffix.lower() in (".jpg", ".png", ".jpeg"):
            yield (
                f"mate_{p.stem}",
                np.asarray(fit(Image.open(p).convert("RGB"))),
                "",
                "mate-backgrounds",
            )
    for p in sorted((root / "usr/share/doc/opencv-doc").rglob("*")):
        if p.suffix.lower() in (".jpg", ".png", ".jpeg") and "/html/" not in str(p):
            try:
                im = Image.open(p).convert("RGB")
            except OSError:
                continue
            if min(im.size) >= 160:
                yield f"opencv_{p.stem}", np.asarray(fit(im)), "", "opencv-doc"
    for p in sorted((root / "usr/share/tuxpaint/stamps").rglob("*.png")):
        im = fit(Image.open(p).convert("RGBA"))
        if min(im.size) < 96:
            continue
        alpha = np.asarray(im)[..., 3] / 255.0
        rgb = np.asarray(im)[..., :3]
        if not looks_like_photo(rgb, alpha):
            continue
        cap = caption_of(p.with_suffix(".txt")) or p.stem.replace("_", " ")
        yield (
            f"tux_{p.parent.name}_{p.stem}",
            on_background(im, rng),
            cap,
            "tuxpaint-stamps-default",
        )
    for p in sorted((root / "usr/share/stellarium/landscapes").rglob("*.png")):
        if p.parent.name not in EARTH_LANDSCAPES:
            continue
        im = Image.open(p).convert("RGBA")
        if min(im.size) < 200:
            continue
        im = fit(im)
        yield f"stel_{p.parent.name}_{p.stem}", with_sky(im, rng), "landscape", "stellarium-data"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("dest", type=Path)
    ap.add_argument("--debs", type=Path, default=None, help="reuse an extracted package tree")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    for split in ("train", "heldout"):
        (args.dest / split).mkdir(parents=True, exist_ok=True)
    root = args.debs
    if root is None:
        work = Path(tempfile.mkdtemp(prefix="tinct-debs-"))
        subprocess.run(["apt-get", "download", *DEBIAN_PACKAGES], cwd=work, check=True)
        root = work / "tree"
        for deb in sorted(work.glob("*.deb")):
            subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    sources: dict[str, str] = {}
    kept = 0
    for name, rgb, cap, source in [*library_images(), *debian_images(root, rng)]:
        if rgb.ndim != 3 or min(rgb.shape[:2]) < 96:
            continue
        if source.startswith(("opencv", "mate", "matplotlib")) and not looks_like_photo(rgb):
            continue
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
        digest = int(hashlib.sha1(safe.encode()).hexdigest(), 16) % 100
        split = "heldout" if digest < HELDOUT_PERCENT else "train"
        Image.fromarray(np.asarray(fit(Image.fromarray(rgb)))).save(
            args.dest / split / f"{safe}.png"
        )
        if cap:
            (args.dest / split / f"{safe}.txt").write_text(cap + "\n")
        sources[safe] = source
        kept += 1
    licenses = {"packages": DEBIAN_PACKAGES, "images": sources}
    (args.dest / "sources.json").write_text(json.dumps(licenses, indent=1))
    n_held = len(list((args.dest / "heldout").glob("*.png")))
    print(f"kept {kept} images: {kept - n_held} train, {n_held} held out -> {args.dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
