"""Image folders for training: photos (+ same-name .txt captions), held in memory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp"}


@dataclass
class Photo:
    name: str
    rgb: np.ndarray  # (H, W, 3) float32 in [0, 1]
    caption: str


def list_images(folder: str | Path) -> list[Path]:
    """Images under a folder (recursively, sorted), or listed in a text file: one
    path per line, relative to the list file's folder unless absolute; lines
    starting with # are comments."""
    folder = Path(folder)
    if folder.is_file():
        lines = (line.strip() for line in folder.read_text().splitlines())
        return [folder.parent / line for line in lines if line and not line.startswith("#")]
    if not folder.is_dir():
        raise FileNotFoundError(f"no such folder or list file: {folder}")
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def load_photos(folder: str | Path, max_side: int = 640) -> list[Photo]:
    photos = []
    for path in list_images(folder):
        im = Image.open(path).convert("RGB")
        f = max_side / max(im.size)
        if f < 1:
            im = im.resize((round(im.width * f), round(im.height * f)), Image.LANCZOS)
        txt = path.with_suffix(".txt")
        caption = txt.read_text().strip() if txt.exists() else ""
        photos.append(Photo(path.stem, np.asarray(im, dtype=np.float32) / 255.0, caption))
    if not photos:
        raise FileNotFoundError(f"no images found in {folder}")
    return photos
