"""`tinct colorize`: images, or folders of them, to colour files with the local model.

Inputs, the output names, `--hints` and `--device` are checked before the
model (5-9 s) is loaded; under `accelerate launch` each process takes every
N-th input.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tinct.cli.common import CliError, bounded, check_text
from tinct.protocol import constants as C

_scale = bounded(float, C.MIN_SCALE, C.MAX_SCALE, "scale", allow_auto=True)
# What a folder given to `colorize` contributes (the same list as tinct.train.data's).
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp"}
_steps = bounded(int, C.MIN_STEPS, C.MAX_STEPS, "steps")
_guidance = bounded(float, C.MIN_GUIDANCE, C.MAX_GUIDANCE, "guidance")


def add_colorize_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "colorize",
        help="colorize images (black-and-white, faded or colour) with the local model",
        description="Colorize images. The result keeps each input's own lightness (L*) and "
        "alpha; only the colour is new. OUT is a file for one input, a directory for several.",
    )
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="images Pillow can read (16-bit PNG/TIFF too), or folders of them",
    )
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output file or directory")
    p.add_argument(
        "--prompt",
        default="",
        help='colours and what they name, e.g. "red car, blue sky, green grass": each colour '
        "goes where its thing is likely to be; a prompt without colour words steers the "
        "model as text",
    )
    p.add_argument(
        "--hints", metavar="RGBA_IMAGE", help="colour hints: painted colour where alpha > 0"
    )
    p.add_argument(
        "--reference",
        metavar="IMAGE",
        help="a colour photo of a similar scene (any size) that lends its colours; "
        "painted --hints win where both speak",
    )
    p.add_argument(
        "--scale",
        type=_scale,
        default="auto",
        help=f"{C.SCALE_WORD.lower()}: {C.MIN_SCALE:g} (gray) to {C.MAX_SCALE:g}, "
        "1 = as predicted, or 'auto' (default)",
    )
    p.add_argument(
        "--steps", type=_steps, default=C.DEFAULT_STEPS, help="sampling steps (default %(default)s)"
    )
    p.add_argument(
        "--guidance",
        type=_guidance,
        default=C.DEFAULT_GUIDANCE,
        help="prompt guidance weight (default %(default)s)",
    )
    p.add_argument("--model", help="model folder (default: the bundled model)")
    p.add_argument("--device", help="cpu, cuda, cuda:1, mps (default: best available)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--skip-existing",
        action="store_true",
        help="leave inputs whose output exists alone (an interrupted batch resumes)",
    )
    p.add_argument(
        "--record",
        metavar="FILE",
        help="append one JSON line per input (process, input, output, status) to FILE",
    )
    p.set_defaults(func=run_colorize)


def _expand_inputs(inputs: list[Path]) -> list[Path]:
    """Folders stand for the images directly inside them (sorted by name)."""
    out: list[Path] = []
    for p in inputs:
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.suffix.lower() in _IMAGE_SUFFIXES)
            if not found:
                raise CliError(f"no images in folder {p}")
            out += found
        else:
            out.append(p)
    return out


def process_share() -> tuple[int, int]:
    """(rank, world size) when launched as one of several processes
    (`accelerate launch`, torchrun, mpirun), else (0, 1)."""
    for rank_var, size_var in (
        ("RANK", "WORLD_SIZE"),
        ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
        ("PMI_RANK", "PMI_SIZE"),
    ):
        if rank_var in os.environ and size_var in os.environ:
            rank, world = int(os.environ[rank_var]), int(os.environ[size_var])
            if not 0 <= rank < world:
                raise CliError(f"{rank_var}={rank} is outside {size_var}={world}")
            return rank, world
    return 0, 1


def _plan_outputs(inputs: list[Path], output: Path, several: bool) -> list[Path]:
    if not several and not output.is_dir():
        if not output.parent.exists():
            raise CliError(f"output folder does not exist: {output.parent}")
        if not output.suffix:
            raise CliError(f"output {output} has no file extension; use e.g. {output}.png")
        from tinct.imageio import check_output_name

        check_output_name(output)
        return [output]
    if output.exists() and not output.is_dir():
        raise CliError(f"several inputs need an output directory, but {output} is a file")
    names = [output / (p.stem + ".png") for p in inputs]
    dupes = {n.name for n in names if names.count(n) > 1}
    if dupes:
        raise CliError(f"inputs would overwrite each other's output: {', '.join(sorted(dupes))}")
    return names


def colorize_file(pipe, src: Path, dst: Path, args, hints, pixels=None, reference=None) -> float:
    """Colorize one file (``pixels``: its decoded contents, if read already); returns the scale used."""
    import numpy as np

    from tinct import color
    from tinct.imageio import read_image, write_image

    if pixels is None:
        pixels = read_image(src)
    rgb, alpha = color.split_alpha(pixels)
    _check_hints_size(hints, src, rgb.shape[1], rgb.shape[0])
    image = color.to_float(rgb)
    out = pipe(
        image,
        prompt=args.prompt,
        hints=hints,
        num_inference_steps=args.steps,
        guidance_scale=args.guidance,
        scale=args.scale,
        reference=reference,
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


def _check_hints_size(hints, src: Path, width: int, height: int) -> None:
    if hints is not None and hints.shape[:2] != (height, width):
        raise CliError(
            f"hints image is {hints.shape[1]}x{hints.shape[0]} but {src.name} is "
            f"{width}x{height}; they must match"
        )


def _record(path: str | None, **fields) -> None:
    """One JSON line per input; each line is one append, so processes can share the file."""
    if path:
        import json

        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(fields) + "\n")


def _load_hints(path: str):
    from tinct import color
    from tinct.imageio import read_image

    h = read_image(path)
    if h.shape[2] != 4:
        raise CliError(
            f"hints image {path} has no alpha channel; paint hints on a transparent layer"
        )
    return color.to_float(h)


def read_reference(path: str):
    """The --reference photo as float32 sRGB; a clear error when missing, unreadable
    or gray (it would have no colour to lend)."""
    from tinct import color
    from tinct.color import reference as reference_match
    from tinct.imageio import ImageReadError, check_readable, read_image

    try:
        check_readable(path)
        rgb = color.to_float(color.split_alpha(read_image(path))[0])
    except FileNotFoundError as exc:
        raise CliError(f"reference image not found: {path}") from exc
    except ImageReadError as exc:
        raise CliError(f"reference image: {exc}") from exc
    rgb = reference_match.reduce(rgb)  # once for all inputs
    if reference_match.is_gray(rgb):
        raise CliError(f"reference image {path} is gray: it has no colour to lend")
    return rgb


def run_colorize(args) -> int:
    from tinct.imageio import ImageReadError, check_readable, read_image

    check_text(args.prompt, "--prompt")
    inputs = [Path(p) for p in args.inputs]
    missing = [str(p) for p in inputs if not p.exists()]
    if missing:
        raise CliError(f"input not found: {', '.join(missing)}")
    several = len(inputs) > 1 or any(p.is_dir() for p in inputs)
    inputs = _expand_inputs(inputs)
    outputs = _plan_outputs(inputs, Path(args.output), several)
    # Under `accelerate launch` (or torchrun, mpirun) each process takes every
    # world-th input: no two processes write the same file, no coordination needed.
    rank, world = process_share()
    jobs = list(zip(inputs, outputs, strict=True))[rank::world]
    skipped = [(src, dst) for src, dst in jobs if args.skip_existing and dst.exists()]
    for src, dst in skipped:
        _record(args.record, rank=rank, input=str(src), output=str(dst), status="skipped")
    jobs = [job for job in jobs if job not in skipped]
    hints = _load_hints(args.hints) if args.hints else None
    reference = read_reference(args.reference) if args.reference else None
    failures = 0

    def fail(src: Path, dst: Path, exc: Exception) -> None:
        nonlocal failures
        if isinstance(exc, CliError) and not several:
            raise exc
        if not several:
            raise CliError(str(exc)) from exc
        failures += 1
        from tqdm import tqdm

        tqdm.write(f"tinct: error: {exc}", file=sys.stderr)  # under the progress bar
        _record(
            args.record, rank=rank, input=str(src), output=str(dst), status="failed", error=str(exc)
        )

    # Everything that can be checked without the model is checked before loading it
    # (5-9 s): headers, sizes, hints, and a single input is decoded in full.
    first_pixels = None
    checked = []
    for src, dst in jobs:
        try:
            w, h = check_readable(src)
            _check_hints_size(hints, src, w, h)
            if not several:
                first_pixels = read_image(src)
        except (ImageReadError, CliError, OSError) as exc:
            fail(src, dst, exc)
            continue
        checked.append((src, dst))
    jobs = checked
    if not jobs:
        return 1 if failures else 0
    import time

    from tinct.pipeline.devices import pick_device

    device = args.device
    if device is not None:
        pick_device(device)  # a bad --device is one line, before the model load
    import torch

    from tinct.pipeline import load_pipeline

    torch.manual_seed(args.seed)
    if device is None and world > 1 and torch.cuda.is_available():
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', rank)) % torch.cuda.device_count()}"
    try:
        pipe = load_pipeline(args.model, device=device)
    except (FileNotFoundError, ValueError, OSError) as exc:
        raise CliError(str(exc)) from exc
    if several:
        outputs[0].parent.mkdir(parents=True, exist_ok=True)
    from tqdm import tqdm

    bar = tqdm(
        jobs,
        disable=args.quiet or not several or rank > 0,
        unit="image",
    )
    for src, dst in bar:
        t0 = time.perf_counter()
        try:
            s = colorize_file(pipe, src, dst, args, hints, pixels=first_pixels, reference=reference)
            first_pixels = None
            if not several and not args.quiet:
                print(f"{src} -> {dst} (scale {s:.2f})", file=sys.stderr)
            _record(
                args.record,
                rank=rank,
                input=str(src),
                output=str(dst),
                status="written",
                scale=round(s, 4),
                seconds=round(time.perf_counter() - t0, 3),
            )
        except (ImageReadError, CliError, FileNotFoundError, ValueError, OSError) as exc:
            fail(src, dst, exc)
        except MemoryError:
            fail(src, dst, CliError(f"not enough memory to colorize {src}"))
    return 1 if failures else 0
