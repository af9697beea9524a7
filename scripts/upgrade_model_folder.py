"""Rewrite a Tinct model folder in the current model format, in place.

    python scripts/upgrade_model_folder.py backend/tinct/models/default

Loading brings an older folder up to date (tinct.pipeline.model_format: a
format-1 U-Net loses its hint input channels, which only ever saw zeros); this
saves that result, so the folder no longer carries them. Only unet/ and the
`model_format` key of model_index.json change; every other file is left as it is.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path


def upgrade(folder: Path) -> int:
    """Rewrite `folder`'s U-Net and model_index.json in the current format; returns the
    format it had (1 when model_index.json has no `model_format`)."""
    from tinct.pipeline import load_pipeline
    from tinct.pipeline.model_format import FORMAT_WITHOUT_KEY, MODEL_FORMAT

    index_path = folder / "model_index.json"
    index = json.loads(index_path.read_text(encoding="utf-8"))
    old = int(index.get("model_format", FORMAT_WITHOUT_KEY))
    if old == MODEL_FORMAT:
        return old
    pipe = load_pipeline(folder, device="cpu", dtype="float32")
    tmp = folder / "unet.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    pipe.unet.save_pretrained(tmp)
    shutil.rmtree(folder / "unet")
    tmp.rename(folder / "unet")
    index["model_format"] = MODEL_FORMAT
    index_path.write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
    return old


def main(argv: list[str] | None = None) -> int:
    """Command line: one or more model folders, each upgraded in place."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="+", type=Path, help="Tinct model folders")
    args = ap.parse_args(argv)
    for folder in args.folders:
        old = upgrade(folder)
        print(f"{folder}: model format {old} -> current")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
