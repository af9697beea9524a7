"""The `tinct` command: colorize | serve | client | install | train | train-vae |
train-ranker | eval."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tinct import __version__


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


def _bounded(kind: type, low: float, high: float, name: str, allow_auto: bool = False):
    """An argparse type: a `kind` number within [low, high] (or 'auto')."""

    def parse(text: str):
        if allow_auto and text == "auto":
            return "auto"
        try:
            value = kind(text)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            extra = " or 'auto'" if allow_auto else ""
            raise argparse.ArgumentTypeError(f"expected {what}{extra}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{name} must be within {low:g}..{high:g}, got {value}"
            )
        return value

    return parse


_scale = _bounded(float, 0.0, 4.0, "scale", allow_auto=True)
_steps = _bounded(int, 1, 200, "steps")
_guidance = _bounded(float, 0.0, 20.0, "guidance")


def add_colorize_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "colorize",
        help="colorize images (black-and-white, faded or colour) with the local model",
        description="Colorize images. The result keeps each input's own lightness (L*) and "
        "alpha; only the colour is new. OUT is a file for one input, a directory for several.",
    )
    p.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="images Pillow can read (16-bit PNG/TIFF too)"
    )
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output file or directory")
    p.add_argument("--prompt", default="", help='text to steer colours, e.g. "red car, blue sky"')
    p.add_argument(
        "--hints", metavar="RGBA_IMAGE", help="colour hints: painted colour where alpha > 0"
    )
    p.add_argument(
        "--scale",
        type=_scale,
        default="auto",
        help="colourfulness, a number (1 = as predicted) or 'auto' (default)",
    )
    p.add_argument("--steps", type=_steps, default=4, help="sampling steps (default 4)")
    p.add_argument(
        "--guidance", type=_guidance, default=1.5, help="prompt guidance weight (default 1.5)"
    )
    p.add_argument("--model", help="model folder (default: the bundled model)")
    p.add_argument("--device", help="cpu, cuda, cuda:1, mps (default: best available)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_colorize)


def _plan_outputs(inputs: list[Path], output: Path) -> list[Path]:
    if len(inputs) == 1 and not output.is_dir():
        if not output.parent.exists():
            raise CliError(f"output folder does not exist: {output.parent}")
        if not output.suffix:
            raise CliError(f"output {output} has no file extension; use e.g. {output}.png")
        return [output]
    if output.exists() and not output.is_dir():
        raise CliError(f"several inputs need an output directory, but {output} is a file")
    names = [output / (p.stem + ".png") for p in inputs]
    dupes = {n.name for n in names if names.count(n) > 1}
    if dupes:
        raise CliError(f"inputs would overwrite each other's output: {', '.join(sorted(dupes))}")
    return names


def colorize_file(pipe, src: Path, dst: Path, args, hints) -> float:
    """Colorize one file; returns the scale used."""
    import numpy as np

    from tinct import color
    from tinct.imageio import read_image, write_image

    pixels = read_image(src)
    rgb, alpha = color.split_alpha(pixels)
    image = color.to_float(rgb)
    if hints is not None and hints.shape[:2] != image.shape[:2]:
        raise CliError(
            f"hints image is {hints.shape[1]}x{hints.shape[0]} but {src.name} is "
            f"{image.shape[1]}x{image.shape[0]}; they must match"
        )
    out = pipe(
        image,
        prompt=args.prompt,
        hints=hints,
        num_inference_steps=args.steps,
        guidance_scale=args.guidance,
        scale=args.scale,
    )
    dtype = pixels.dtype if pixels.dtype != np.float32 else np.dtype(np.uint16)
    if dtype == np.uint16 and dst.suffix.lower() != ".png":
        dtype = np.dtype(np.uint8)
    result = color.from_float(out.images[0], dtype)
    if alpha is not None:
        a = alpha if alpha.dtype == dtype else color.from_float(color.to_float(alpha), dtype)
        result = np.concatenate([result, a[..., None]], axis=-1)
    write_image(dst, result)
    return out.scale


def run_colorize(args) -> int:
    from tinct.imageio import ImageReadError

    inputs = [Path(p) for p in args.inputs]
    missing = [str(p) for p in inputs if not p.is_file()]
    if missing:
        raise CliError(f"input not found: {', '.join(missing)}")
    outputs = _plan_outputs(inputs, Path(args.output))
    from tinct.imageio import check_readable

    for p in inputs:
        check_readable(p)
    hints = None
    if args.hints:
        from tinct import color
        from tinct.imageio import read_image

        h = read_image(args.hints)
        if h.shape[2] != 4:
            raise CliError(
                f"hints image {args.hints} has no alpha channel; paint hints on a transparent layer"
            )
        hints = color.to_float(h)
    import torch

    from tinct.pipeline import load_pipeline

    torch.manual_seed(args.seed)
    try:
        pipe = load_pipeline(args.model, device=args.device)
    except (FileNotFoundError, ValueError, OSError) as exc:
        raise CliError(str(exc)) from exc
    if len(outputs) > 1:
        outputs[0].parent.mkdir(parents=True, exist_ok=True)
    from tqdm import tqdm

    failures = 0
    bar = tqdm(
        list(zip(inputs, outputs, strict=True)),
        disable=args.quiet or len(inputs) == 1,
        unit="image",
    )
    for src, dst in bar:
        try:
            s = colorize_file(pipe, src, dst, args, hints)
            if len(inputs) == 1 and not args.quiet:
                print(f"{src} -> {dst} (scale {s:.2f})", file=sys.stderr)
        except (ImageReadError, CliError, FileNotFoundError, ValueError, OSError) as exc:
            failures += 1
            tqdm.write(f"tinct: error: {exc}", file=sys.stderr)
    return 1 if failures else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinct", description="Tinct: AI colorization on your own machine."
    )
    parser.add_argument("--version", action="version", version=f"tinct {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_colorize_parser(sub)
    from tinct.cli_serve import add_client_parser, add_serve_parser

    add_serve_parser(sub)
    add_client_parser(sub)
    from tinct.install.command import add_install_parser

    add_install_parser(sub)
    from tinct.cli_train import add_eval_parser, add_train_parsers

    add_train_parsers(sub)
    add_eval_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (CliError, ValueError, FileNotFoundError) as exc:
        print(f"tinct: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tinct: interrupted", file=sys.stderr)
        return 130
