#!/usr/bin/env python3
"""Write backend/tinct/pipeline/imagenet_classes.npz: the 1,000 ImageNet class names in
the order of EfficientNet-Lite0's classifier, and each name's sentence embedding from the
bundled text encoder (all-MiniLM-L6-v2, mean-pooled, unit length, float16).

The names come from the PyPI wheel of `timm` (Apache-2.0; its data/_info lists:
the sorted WordNet ids, which is the classifier's order, and each id's lemmas, from
WordNet, whose licence allows copying with its notice); the wheel is fetched with
`pip download` into a temporary folder and only those two text files are read. Tinct
matches a prompt's noun against the embeddings to pick the classes whose activation
maps place it (tinct.pipeline.noun_maps).

    python scripts/make_imagenet_classes.py [--timm-version 1.0.31]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "backend" / "tinct" / "pipeline" / "imagenet_classes.npz"
INFO = "timm/data/_info/"


def class_names(version: str) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp,
             f"timm=={version}"],
            check=True,
        )  # fmt: skip
        wheel = next(Path(tmp).glob("timm-*.whl"))
        with zipfile.ZipFile(wheel) as z:
            synsets = z.read(INFO + "imagenet_synsets.txt").decode().split()
            lemmas = dict(
                line.split("\t", 1)
                for line in z.read(INFO + "imagenet_synset_to_lemma.txt").decode().splitlines()
                if "\t" in line
            )
    if len(synsets) != 1000 or synsets != sorted(synsets):
        raise SystemExit(f"expected the 1,000 sorted ImageNet ids, got {len(synsets)}")
    return [lemmas[s].strip() for s in synsets]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timm-version", default="1.0.31")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "backend"))
    from tinct.pipeline.loading import load_minilm
    from tinct.pipeline.noun_maps import embed_texts

    names = class_names(args.timm_version)
    encoder, tokenizer = load_minilm()
    with torch.inference_mode():
        emb = embed_texts(tokenizer, encoder, names)
    np.savez_compressed(
        OUT,
        names=np.array(names),
        embeddings=emb.numpy().astype(np.float16),
        source=np.array(f"timm {args.timm_version} (PyPI), data/_info: WordNet lemmas"),
    )
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KiB): {len(names)} classes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
