"""Training samples streamed from an image folder or a list file.

The stream is endless: sample p is image `perm_e[p mod n]` of epoch
e = p div n (a fresh permutation per epoch), augmented with a random
generator seeded by (seed, p). A sample is therefore the same whichever
process or data worker makes it, and after a resume: a checkpoint only has to
remember how many samples were used. Each process reads its own share of
every global batch (see `StreamBatches`); images are read from disk on demand.

Augmentation: random scale and crop, horizontal flip, hue rotation at
constant L* with a colour word put into the caption, and caption dropout (for
classifier-free guidance). No hints: the U-Net takes none (they join at render
time; tinct.pipeline.model_format).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from tinct import color
from tinct.train.colorwords import dominant_color_word, rotate_hue, with_color_word
from tinct.train.data import list_images

_JPEG = {".jpg", ".jpeg"}


@dataclass
class Augment:
    resolution: int = 256  # square crops; a multiple of the model's total stride
    flip: bool = True
    hue_shift: float = 0.5  # share of samples whose hue is rotated (caption gets the new word)
    color_word: float = 0.5  # share of unrotated samples whose caption gets their colour word
    caption_dropout: float = 0.1  # share of empty captions (classifier-free guidance)


def load_rgb(path: Path, min_side: int) -> np.ndarray:
    """(H, W, 3) float32 sRGB; JPEGs are decoded at reduced size when large."""
    if path.suffix.lower() in _JPEG:
        with Image.open(path) as im:
            im.draft("RGB", (2 * min_side, 2 * min_side))  # keeps each side >= requested
            return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    from tinct.imageio import read_image

    rgb, _ = color.split_alpha(read_image(path))
    return color.to_float(rgb)


def random_crop(rgb: np.ndarray, size: int, rng: np.random.Generator, flip: bool) -> np.ndarray:
    """Scale so the short side is in [size, 2 * size] (never up unless it must), crop, flip."""
    h, w = rgb.shape[:2]
    short = min(h, w)
    target = size if short <= size else rng.uniform(size, min(short, 2 * size))
    f = target / short
    hh, ww = max(size, math.ceil(h * f)), max(size, math.ceil(w * f))
    if (hh, ww) != (h, w):
        rgb = color.resize_area(rgb, hh, ww) if f < 1 else color.resize_linear(rgb, hh, ww)
    y, x = int(rng.integers(0, hh - size + 1)), int(rng.integers(0, ww - size + 1))
    crop = rgb[y : y + size, x : x + size]
    if flip and rng.random() < 0.5:
        crop = crop[:, ::-1]
    return np.ascontiguousarray(crop, dtype=np.float32)


class ImageStream(torch.utils.data.Dataset):
    """Sample p of the endless training stream (see the module docstring)."""

    def __init__(self, source: str | Path, augment: Augment, seed: int = 0, captions: bool = True):
        self.paths = list_images(source)
        if not self.paths:
            raise FileNotFoundError(f"no training images in {source}")
        self.augment = augment
        self.seed = int(seed)
        self.captions = captions
        self._perm: tuple[int, np.ndarray] | None = None

    @property
    def num_images(self) -> int:
        return len(self.paths)

    def image_index(self, position: int) -> int:
        epoch, i = divmod(int(position), len(self.paths))
        if self._perm is None or self._perm[0] != epoch:
            self._perm = (epoch, np.random.default_rng([self.seed, epoch]).permutation(len(self)))
        return int(self._perm[1][i])

    def __len__(self) -> int:
        return len(self.paths)

    def caption(self, path: Path) -> str:
        txt = path.with_suffix(".txt")
        return txt.read_text(encoding="utf-8").strip() if self.captions and txt.exists() else ""

    def __getitem__(self, position: int) -> dict:
        a = self.augment
        path = self.paths[self.image_index(position)]
        rng = np.random.default_rng([self.seed, 1, int(position)])
        rgb = random_crop(load_rgb(path, a.resolution), a.resolution, rng, a.flip)
        caption = self.caption(path)
        # Hue rotation keeps L*, so the gray input is unchanged and only the caption
        # can tell the model which colour is wanted: "blue car" becomes learnable.
        shifted = rng.random() < a.hue_shift
        if shifted:
            rgb = rotate_hue(rgb, rng.uniform(0.0, 360.0))
        name = rng.random() < a.color_word
        word = dominant_color_word(rgb) if (shifted or name) else None
        caption = with_color_word(caption, word, stale=shifted)
        if rng.random() < a.caption_dropout:
            caption = ""
        gray = color.gray(rgb)
        return {
            "position": int(position),
            "rgb": rgb.transpose(2, 0, 1).copy(),
            "gray": gray.transpose(2, 0, 1).astype(np.float32),
            "caption": caption,
        }


class StreamBatches(torch.utils.data.Sampler):
    """This process's batches of the stream, from global sample `start` on.

    Global batch k holds samples start + k*B*W ... + (k+1)*B*W - 1 (B per
    process, W processes); process r takes the r-th slice of B.
    """

    def __init__(self, batch_size: int, rank: int = 0, world: int = 1, start: int = 0):
        self.batch_size, self.rank, self.world, self.start = batch_size, rank, world, start

    def __iter__(self) -> Iterator[list[int]]:
        k = 0
        while True:
            base = self.start + (k * self.world + self.rank) * self.batch_size
            yield list(range(base, base + self.batch_size))
            k += 1


def stream_loader(
    dataset: ImageStream,
    batch_size: int,
    rank: int = 0,
    world: int = 1,
    start: int = 0,
    workers: int = 0,
) -> torch.utils.data.DataLoader:
    return torch.utils.data.DataLoader(
        dataset,
        batch_sampler=StreamBatches(batch_size, rank, world, start),
        num_workers=workers,
        persistent_workers=False,
        prefetch_factor=2 if workers > 0 else None,
    )
