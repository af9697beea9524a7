#!/usr/bin/env python3
"""Collect the default model's training photos from packages we may use.

Training sources: matplotlib's sample data and the Debian packages
mate-backgrounds, opencv-doc, tuxpaint-stamps-default, stellarium-data and
gcompris-qt-data (the real photographs of its activities: animals, monuments,
objects, landscapes; read out of its Qt resource files). Packages are fetched
with `apt-get download` + `dpkg -x`, never installed. Diagrams, screenshots and
gray images are filtered out; cut-outs are put on a plain background; sky-less
landscape panoramas get a plain sky gradient.

Validation (`val/`): real full-scene photographs from sources never trained
on, held out by source package: scikit-image and scikit-learn's sample
photos, palapeli-data's puzzle photos, puzzle-jigsaw's sample photos and
imagemagick-6-doc's photos. Nothing is tuned on anything else.

Captions: the sources' object names (file names of GCompris and Tux Paint)
with the colours of the image's own regions (`colorwords.region_caption`:
"red parrot, blue sky, green foliage").

Writes DEST/{train,val}/NAME.png (long side <= 640) with optional NAME.txt
captions, and DEST/sources.json. Nothing here is committed: only this recipe.

    python scripts/fetch_training_images.py data/images
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
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
    "gcompris-qt-data": "GPL-3+, CC-BY-SA-4.0 or public domain per file (see its copyright file)",
}
VALIDATION_PACKAGES = {
    "palapeli-data": "GPL-2+ (see its copyright file)",
    "puzzle-jigsaw": "GPL-3+ (see its copyright file)",
    "imagemagick-6-doc": "ImageMagick licence (see its copyright file)",
}
# GCompris activities whose images are real photographs (others: drawings, planets).
GCOMPRIS_ACTIVITIES = (
    "categorization",
    "chronos",
    "clickgame",
    "details",
    "erase",
    "explore_farm_animals",
    "explore_monuments",
    "explore_world_animals",
    "explore_world_music",
    "lang",
    "leftright",
    "louis-braille",
)
MAX_SIDE = 640
EARTH_LANDSCAPES = {"garching", "geneva", "grossmugl", "guereins", "hurricane", "ocean", "trees"}


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


def validation_images(root: Path):
    """Real full-scene photos from packages that are never trained on."""
    import skimage.data as skd
    from sklearn.datasets import load_sample_images

    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        try:
            yield f"skimage_{name}", np.asarray(getattr(skd, name)())[..., :3], "scikit-image"
        except Exception as exc:  # noqa: BLE001 - some need a download; skip those
            print(f"  skip skimage {name}: {exc}", file=sys.stderr)
    for i, im in enumerate(load_sample_images().images):
        yield f"sklearn_{i}", im, "scikit-learn"
    # (folder, file pattern, package); imagemagick's bluebells come in three
    # tone versions of one photo: one counts.
    folders = (
        ("usr/share/palapeli/collection", "*.jpg", "palapeli-data"),
        ("usr/share/puzzle-jigsaw/samples", "*.jp*g", "puzzle-jigsaw"),
        (
            "usr/share/doc/imagemagick-6-common/html/images",
            "bluebells_lin.jpg",
            "imagemagick-6-doc",
        ),
    )
    for folder, pattern, package in folders:
        for p in sorted((root / folder).glob(pattern)):
            rgb = np.asarray(fit(Image.open(p).convert("RGB")))
            yield f"{package.split('-')[0]}_{p.stem}", rgb, package


def read_qt_resources(path: Path) -> dict[str, bytes]:
    """Files inside a Qt binary resource (.rcc, format versions 1-3): name -> bytes.
    Node: name offset (4), flags (2), then a directory's child count and first
    child (4 + 4) or a file's locale (4) and data offset (4); versions >= 2 add a
    modification time (8). Data: size (4) + bytes, zlib-compressed (qCompress:
    4-byte length first) when flags & 1; zstd (flags & 4) is skipped."""
    import struct
    import zlib

    b = path.read_bytes()
    if b[:4] != b"qres":
        raise ValueError(f"{path} is not a Qt resource file")
    version, tree, data, names = struct.unpack(">IIII", b[4:20])
    node = 14 if version == 1 else 22
    out: dict[str, bytes] = {}

    def name(off: int) -> str:
        (n,) = struct.unpack(">H", b[names + off : names + off + 2])
        return b[names + off + 6 : names + off + 6 + 2 * n].decode("utf-16-be")

    def walk(i: int, prefix: str) -> None:
        p = tree + i * node
        name_off, flags = struct.unpack(">IH", b[p : p + 6])
        here = prefix + (name(name_off) if i else "")
        if flags & 2:
            count, first = struct.unpack(">II", b[p + 6 : p + 14])
            for c in range(count):
                walk(first + c, here + "/")
            return
        (off,) = struct.unpack(">I", b[p + 10 : p + 14])
        (size,) = struct.unpack(">I", b[data + off : data + off + 4])
        raw = b[data + off + 4 : data + off + 4 + size]
        if flags & 4:
            return
        out[here] = zlib.decompress(raw[4:]) if flags & 1 else raw

    walk(0, "")
    return out


def gcompris_images(root: Path):
    from tinct.train.colorwords import region_caption

    rcc = root / "usr/share/gcompris-qt/rcc"
    for activity in GCOMPRIS_ACTIVITIES:
        files = read_qt_resources(rcc / f"{activity}.rcc")
        for name, raw in sorted(files.items()):
            if not name.endswith((".webp", ".jpg", ".png")):
                continue
            try:
                im = Image.open(io.BytesIO(raw)).convert("RGB")
            except OSError:
                continue
            if min(im.size) < 160:
                continue
            rgb = np.asarray(fit(im))
            if colorfulness(rgb.astype(np.float64)) < 10:  # all photos here; drop gray ones
                continue
            stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            subject = "".join(c if c.isalpha() else " " for c in stem).strip().lower()
            subject = " ".join(w for w in subject.split() if len(w) > 1)
            yield (
                f"gc_{activity}_{stem}",
                rgb,
                region_caption(rgb / 255.0, subject),
                "gcompris-qt-data",
            )


def library_images():
    import matplotlib

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


def save(dest: Path, name: str, rgb: np.ndarray, caption: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
    Image.fromarray(np.asarray(fit(Image.fromarray(rgb)))).save(dest / f"{safe}.png")
    if caption:
        (dest / f"{safe}.txt").write_text(caption + "\n")
    return safe


def copy_placing_check(dest: Path) -> None:
    """DEST/placing-check/: the training photos named in placing_check_captions.txt
    and that file as captions.txt (a check of the prompt placing, not a split)."""
    from tinct.evaluate.checks import CAPTIONS_FILE, read_captions

    folder = dest / "placing-check"
    folder.mkdir(parents=True, exist_ok=True)
    source = Path(__file__).with_name("placing_check_captions.txt")
    shutil.copyfile(source, folder / CAPTIONS_FILE)
    for name in read_captions(folder):  # the eval's own reading of the file
        shutil.copyfile(dest / "train" / f"{name}.png", folder / f"{name}.png")


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("dest", type=Path)
    ap.add_argument("--debs", type=Path, default=None, help="reuse an extracted package tree")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        (args.dest / split).mkdir(parents=True, exist_ok=True)
    root = args.debs
    if root is None:
        work = Path(tempfile.mkdtemp(prefix="tinct-debs-"))
        packages = [*DEBIAN_PACKAGES, *VALIDATION_PACKAGES]
        subprocess.run(["apt-get", "download", *packages], cwd=work, check=True)
        root = work / "tree"
        for deb in sorted(work.glob("*.deb")):
            subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    sources: dict[str, str] = {}
    counts: dict[str, int] = {}
    train = [*library_images(), *debian_images(root, rng), *gcompris_images(root)]
    for name, rgb, cap, source in train:
        if rgb.ndim != 3 or min(rgb.shape[:2]) < 96:
            continue
        if source.startswith(("opencv", "mate", "matplotlib")) and not looks_like_photo(rgb):
            continue
        sources[save(args.dest / "train", name, rgb, cap)] = source
        counts[source] = counts.get(source, 0) + 1
    for name, rgb, source in validation_images(root):
        sources[save(args.dest / "val", name, rgb, "")] = source
        counts[source] = counts.get(source, 0) + 1
    # True captions for `tinct eval --caption-check`, kept beside the photos (not as
    # NAME.txt, which the automatic evaluation would never read anyway).
    captions = Path(__file__).with_name("validation_captions.txt").read_text()
    (args.dest / "val" / "captions.txt").write_text(captions)
    copy_placing_check(args.dest)
    licenses = {
        "packages": DEBIAN_PACKAGES,
        "validation_packages": VALIDATION_PACKAGES,
        "counts": counts,
        "images": sources,
    }
    (args.dest / "sources.json").write_text(json.dumps(licenses, indent=1))
    n_val = len(list((args.dest / "val").glob("*.png")))
    n_train = len(list((args.dest / "train").glob("*.png")))
    print(f"{n_train} training images, {n_val} validation photos -> {args.dest}")
    print("  " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
