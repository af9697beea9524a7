"""`tinct colorize`: images, or folders of them, to colour files with the local model.

Everything that can be checked without the model is checked before it (5-9 s)
is loaded, in this order: the arguments (prompt length, seed, --device), the
files (headers, sizes, the memory a file would need, hints, the reference),
the output (names, formats, a folder that can be written, --record), then the
model. Under `accelerate launch` each process takes every N-th input.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tinct.cli.common import CliError, bounded, check_prompt
from tinct.options import add_sampling_options, add_scale_option
from tinct.protocol import constants as C

# What a folder given to `colorize` contributes (the same list as tinct.train.data's).
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp"}
# The protocol's bounds (its "seed" field), so the CLI, the daemon and the plugins agree.
MAX_SEED = C.MAX_SEED
_seed = bounded(int, C.MIN_SEED, C.MAX_SEED, "seed")
_variations = bounded(int, C.MIN_VARIATIONS, C.MAX_VARIATIONS, "variations")


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
        f"model as text (at most {C.MAX_PROMPT_CHARS} characters)",
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
    add_scale_option(p)
    add_sampling_options(p)
    p.add_argument("--model", help="model folder (default: the bundled model)")
    p.add_argument("--device", help="cpu, cuda, cuda:1, mps (default: best available)")
    p.add_argument(
        "--seed",
        type=_seed,
        default=C.DEFAULT_SEED,
        help=f"{C.MIN_SEED}-{C.MAX_SEED}: 0 (default) is the model's own colouring; any other "
        "seed draws another plausible one (needs a model with an encoder prior); the same "
        "seed gives the same result",
    )
    p.add_argument(
        "--variations",
        type=_variations,
        default=C.DEFAULT_VARIATIONS,
        metavar="N",
        help=f"{C.MIN_VARIATIONS}-{C.MAX_VARIATIONS} colourings of each input, with seeds SEED, "
        "SEED+1, ...: OUT.png becomes OUT-1.png ... OUT-N.png (in a folder, NAME-1.png ...); "
        "more than 1 needs a model with an encoder prior (default %(default)s)",
    )
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


def _output_names(inputs: list[Path], output: Path, several: bool) -> list[Path]:
    """Where each input's result goes (checked later, by _check_outputs)."""
    if not several and not output.is_dir():
        return [output]
    return [output / (p.stem + ".png") for p in inputs]


def variation_names(dst: Path, variations: int) -> list[Path]:
    """The files of one input's variations: ``dst`` itself for one, else
    ``NAME-1.png`` ... ``NAME-N.png`` beside it."""
    if variations == 1:
        return [dst]
    return [dst.with_name(f"{dst.stem}-{k}{dst.suffix}") for k in range(1, variations + 1)]


def _writable_folder(folder: Path) -> Path:
    """``folder``, or the nearest folder above it that exists, if it can take new files
    (the output folder of a batch is made when the first result is written)."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise CliError(f"cannot write into {folder}: {probe} is not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise CliError(f"cannot write into {probe}: permission denied (a read-only folder?)")
    return probe


def _check_outputs(outputs: list[Path], output: Path, several: bool) -> None:
    """The output names, formats and folder, before any work: a result that cannot be
    written must not cost a model load and a colorize first."""
    if not several and not output.is_dir():
        if not output.parent.exists():
            raise CliError(f"output folder does not exist: {output.parent}")
        if not output.suffix:
            raise CliError(f"output {output} has no file extension; use e.g. {output}.png")
        from tinct.imageio import check_output_name

        check_output_name(output)
        _writable_folder(output.parent)
        if output.exists() and not output.is_file():
            raise CliError(f"output {output} exists and is not a file")
        return
    if output.exists() and not output.is_dir():
        raise CliError(f"several inputs need an output directory, but {output} is a file")
    dupes = {n.name for n in outputs if outputs.count(n) > 1}
    if dupes:
        raise CliError(f"inputs would overwrite each other's output: {', '.join(sorted(dupes))}")
    _writable_folder(output)


def _check_record(path: str | None) -> None:
    """--record FILE must be a file that can be appended to (it is created if missing)."""
    if not path:
        return
    record = Path(path)
    if record.is_dir():
        raise CliError(
            f"--record {path} is a folder; give a file name, e.g. {record / 'record.jsonl'}"
        )
    if not record.parent.is_dir():
        raise CliError(f"--record {path}: folder {record.parent} does not exist")
    try:
        with open(record, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise CliError(f"--record {path}: cannot append to it ({exc.strerror or exc})") from exc


def _variations_asked(args) -> str | None:
    """The option that asks for variations ("--variations 3", "--seed 7"), or None."""
    if args.variations > 1:
        return f"--variations {args.variations}"
    return f"--seed {args.seed}" if args.seed != 0 else None


def _check_variations(args) -> None:
    """Variations and seeds need a model whose chroma prior has a distribution (an encoder
    prior): read from its model_index.json before the model is loaded (the loaded
    pipeline is asked again, `draws_variations`)."""
    asked = _variations_asked(args)
    if asked is None:
        return
    import json

    folder = Path(args.model) if args.model else None
    if folder is None:
        from tinct.pipeline.loading import DEFAULT_MODEL_DIR

        folder = DEFAULT_MODEL_DIR
    try:
        prior = json.loads((folder / "model_index.json").read_text()).get("prior")
    except (OSError, ValueError, AttributeError):
        return  # the model's own check names what is wrong with the folder
    if not (isinstance(prior, list) and len(prior) == 2 and prior[1] == "EncoderPrior"):
        _refuse_variations(asked, args)


def _refuse_variations(asked: str, args) -> None:
    raise CliError(
        f"{asked}: this model ({args.model or 'the bundled model'}) cannot draw variations: "
        "its chroma prior has no colour distribution; use a model with an encoder prior"
    )


def _check_memory(src: Path, hints: bool) -> None:
    """Refuse, from the header, a file the machine has not the memory to colorize."""
    from tinct.cli import memory
    from tinct.imageio import image_header

    w, h, channels, itemsize = image_header(src)
    need = memory.colorize_bytes(w, h, channels, itemsize, hints)
    have = memory.available_bytes()
    if have is not None and need > have:
        raise CliError(
            f"cannot colorize {src}: {w}x{h} ({w * h / 1e6:.0f} MP) needs about "
            f"{memory.gb(need)} of memory and {memory.gb(have)} is available; "
            "scale it down or free memory"
        )


def _rgb_view(pixels):
    """(H, W, 3) colour of (H, W, 1-4) pixels without copying (gray is broadcast),
    and the alpha plane or None."""
    import numpy as np

    channels = pixels.shape[2]
    alpha = pixels[..., channels - 1] if channels in (2, 4) else None
    if channels >= 3:
        return pixels[..., :3], alpha
    return np.broadcast_to(pixels[..., :1], pixels.shape[:2] + (3,)), alpha


def _model_input(rgb):
    """float32 sRGB in [0, 1] for the model, made with one full-size buffer (what
    tinct.color.to_float gives, without its temporary copy)."""
    import numpy as np

    from tinct import color

    if rgb.dtype == np.float32:
        return color.to_float(rgb)
    image = rgb.astype(np.float32)
    image *= np.float32(1.0 / (255.0 if rgb.dtype == np.uint8 else 65535.0))
    return image


def colorize_file(
    pipe, src: Path, dst: Path, args, hints, pixels=None, reference=None
) -> list[tuple[Path, float, int]]:
    """Colorize one file (``pixels``: its decoded contents, if read already) into
    ``args.variations`` files (`variation_names`); returns (file, scale, seed) of each.
    The U-Net runs once for all variations (they differ in the chroma prior's draw). Each
    result is composed band by band straight from the file's pixels into an array of the
    output's depth (tinct.color.compose, as the daemon does): beside the pixels, only the
    model's float input is full-size, and it goes before the render."""
    import numpy as np

    from tinct import color
    from tinct.color.compose import compose
    from tinct.imageio import read_image, write_image
    from tinct.pipeline.pipeline_tinct import seed_generator
    from tinct.protocol.colorize_request import variation_seeds

    if pixels is None:
        pixels = read_image(src)
    rgb, alpha = _rgb_view(pixels)
    height, width = rgb.shape[:2]
    _check_hints_size(hints, src, width, height)
    image = _model_input(rgb)
    pipe.check_inputs(image, args.prompt, hints, args.steps, args.guidance, args.scale, reference)
    seeds = variation_seeds(args.seed, args.variations)
    variations = pipe.predict_variations(
        image,
        prompt=args.prompt,
        hints=hints,
        num_inference_steps=args.steps,
        guidance_scale=args.guidance,
        reference=reference,
        generators=[seed_generator(s) for s in seeds],
    )
    del image
    scale = float(args.scale)
    dtype = pixels.dtype if pixels.dtype != np.float32 else np.dtype(np.uint16)
    if dtype == np.uint16 and dst.suffix.lower() != ".png":
        dtype = np.dtype(np.uint8)
    result = np.empty((height, width, 3 if alpha is None else 4), dtype)
    if alpha is not None:
        result[..., 3] = (
            alpha if alpha.dtype == dtype else color.from_float(color.to_float(alpha), dtype)
        )
    written = []
    for latents, seed, out in zip(variations, seeds, variation_names(dst, len(seeds)), strict=True):
        field = pipe.chroma_field(latents, scale, height, width)
        if not field.finite():
            raise CliError(
                f"the model gave no usable colour for {src} (NaN or infinite values): "
                "its weights are damaged; reinstall it or pick another --model"
            )
        compose(rgb, field, result[..., :3])
        write_image(out, result)
        written.append((out, scale, seed))
    return written


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

    # 1. Arguments.
    check_prompt(args.prompt)
    if args.device is not None:
        from tinct.pipeline.devices import pick_device

        pick_device(args.device)  # a bad --device is one line, before anything is read
    # 2. Files.
    inputs = [Path(p) for p in args.inputs]
    missing = [str(p) for p in inputs if not p.exists()]
    if missing:
        raise CliError(f"input not found: {', '.join(missing)}")
    several = len(inputs) > 1 or any(p.is_dir() for p in inputs)
    inputs = _expand_inputs(inputs)
    output = Path(args.output)
    outputs = _output_names(inputs, output, several)
    # Under `accelerate launch` (or torchrun, mpirun) each process takes every
    # world-th input: no two processes write the same file, no coordination needed.
    rank, world = process_share()
    jobs = list(zip(inputs, outputs, strict=True))[rank::world]
    skipped = [
        (src, dst)
        for src, dst in jobs
        if args.skip_existing and all(p.exists() for p in variation_names(dst, args.variations))
    ]
    jobs = [job for job in jobs if job not in skipped]
    hints = _load_hints(args.hints) if args.hints else None
    reference = read_reference(args.reference) if args.reference else None
    failures = 0
    failed: list[tuple[Path, Path, Exception]] = []

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
    # (5-9 s): headers, sizes, the memory each needs, hints, and a single input is
    # decoded in full. A batch's bad files are reported once the output is known good.
    first_pixels = None
    checked = []
    for src, dst in jobs:
        try:
            w, h = check_readable(src)
            _check_hints_size(hints, src, w, h)
            _check_memory(src, hints is not None)
            if not several:
                first_pixels = read_image(src)
        except (ImageReadError, CliError, OSError) as exc:
            if not several:
                fail(src, dst, exc)
            failed.append((src, dst, exc))
            continue
        checked.append((src, dst))
    # 3. The output, the record, and a model that can draw the variations asked for.
    _check_outputs(outputs, output, several)
    _check_variations(args)
    _check_record(args.record)
    for src, dst in skipped:
        _record(args.record, rank=rank, input=str(src), output=str(dst), status="skipped")
    for src, dst, exc in failed:
        fail(src, dst, exc)
    jobs = checked
    if not jobs:
        return 1 if failures else 0
    # 4. The model.
    import time

    import torch

    from tinct.pipeline import load_pipeline

    torch.manual_seed(args.seed)
    device = args.device
    if device is None and world > 1 and torch.cuda.is_available():
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', rank)) % torch.cuda.device_count()}"
    try:
        pipe = load_pipeline(args.model, device=device)
    except (FileNotFoundError, ValueError, OSError) as exc:
        raise CliError(str(exc)) from exc
    asked = _variations_asked(args)
    if asked is not None and not pipe.draws_variations:
        _refuse_variations(asked, args)
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
            written = colorize_file(
                pipe, src, dst, args, hints, pixels=first_pixels, reference=reference
            )
            first_pixels = None
            seconds = round(time.perf_counter() - t0, 3)
            for out, s, seed in written:
                if not several and not args.quiet:
                    seeded = f", seed {seed}" if seed else ""
                    print(f"{src} -> {out} (scale {s:.2f}{seeded})", file=sys.stderr)
                _record(
                    args.record,
                    rank=rank,
                    input=str(src),
                    output=str(out),
                    status="written",
                    scale=round(s, 4),
                    seed=seed,
                    seconds=seconds,
                )
        except (ImageReadError, CliError, FileNotFoundError, ValueError, OSError) as exc:
            fail(src, dst, exc)
        except MemoryError:
            fail(src, dst, CliError(f"not enough memory to colorize {src}"))
    return 1 if failures else 0
