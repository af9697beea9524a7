"""`tinct client ...`: talk to the daemon like a plugin does (colorize, rescale, apply,
cancel, status, shutdown).

The commands run exactly the code the plugins use (tinct.protocol: the launcher,
the client, both transports); image files become protocol Layers and back here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from tinct.cli.common import CliError, bounded, check_prompt
from tinct.options import add_sampling_options, add_scale_option
from tinct.protocol import constants as C


def add_client_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "client",
        help="talk to the daemon like a plugin does (starts it if needed)",
        description="The command-line face of tinct.protocol: the same client, launcher and transports the plugins use.",
    )
    sub = p.add_subparsers(dest="client_command", required=True)

    def common(sp):
        sp.add_argument(
            "--transport",
            choices=C.TRANSPORTS,
            default=None,
            help=f"default: ${C.ENV_TRANSPORT}, else zmq if importable",
        )
        sp.add_argument("--runtime-dir", type=Path, default=None)
        sp.add_argument(
            "--timeout",
            type=float,
            default=C.DEFAULT_HEARTBEAT_TIMEOUT,
            help="heartbeat timeout in seconds",
        )
        sp.add_argument("--start-timeout", type=float, default=C.DEFAULT_START_TIMEOUT)
        sp.add_argument("-q", "--quiet", action="store_true")

    c = sub.add_parser("colorize", help="colorize an image; prints the job id and scale as JSON")
    c.add_argument(
        "input", type=Path, help="PNG/JPEG/TIFF (8-bit) or .npy (H x W x C, uint8/uint16/float32)"
    )
    c.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="the color layer (RGBA); .npy keeps 16-bit/float",
    )
    c.add_argument("--prompt", default="")
    c.add_argument(
        "--hints",
        type=Path,
        default=None,
        help="RGBA image of the same size: color where painted, alpha = where",
    )
    c.add_argument(
        "--reference",
        type=Path,
        default=None,
        help="a colour photo of a similar scene (any size) whose colours the result borrows",
    )
    add_scale_option(c)
    add_sampling_options(c, use_defaults=False)
    c.add_argument("--seed", type=bounded(int, 0, 2**63 - 1, "seed"), default=None)
    c.add_argument("--preview", type=Path, default=None, help="also save the preview here")
    common(c)
    c.set_defaults(func=run_client_colorize)

    r = sub.add_parser(
        "rescale",
        help="a finished job's color layer at another scale and size (from cached latents)",
    )
    r.add_argument("job")
    r.add_argument("-o", "--output", type=Path, required=True)
    add_scale_option(r)
    r.add_argument("--size", default=None, help="WIDTHxHEIGHT (default: preview size)")
    r.add_argument("--dtype", choices=list(C.DTYPES), default="u8")
    common(r)
    r.set_defaults(func=run_client_rescale)

    a = sub.add_parser("apply", help="a finished job's full-resolution color layer at a scale")
    a.add_argument("job")
    a.add_argument("-o", "--output", type=Path, required=True)
    add_scale_option(a)
    common(a)
    a.set_defaults(func=run_client_apply)

    for name, helptext in (
        ("status", "print the daemon's status"),
        ("shutdown", "stop the daemon"),
    ):
        s = sub.add_parser(name, help=helptext)
        common(s)
        s.set_defaults(func=run_client_simple, client_command=name)
    x = sub.add_parser("cancel", help="cancel a job")
    x.add_argument("job")
    common(x)
    x.set_defaults(func=run_client_simple, client_command="cancel")
    return p


def _connect(args):
    from tinct.protocol import Launcher

    launcher = Launcher(
        args.runtime_dir,
        transport=args.transport,
        start_timeout=args.start_timeout,
        heartbeat_timeout=args.timeout,
    )
    return launcher.connect()


def _fail(exc: Exception) -> int:
    print(f"tinct client: {exc}", file=sys.stderr)
    return 1


def _write_result(output: Path, ev, **extra) -> int:
    """Write the layer of a final reply `ev` to `output` and print what it was as one
    JSON line: job, scale, the `extra` fields, output. Returns 0 (the exit status)."""
    write_layer(output, ev.layer)
    print(json.dumps({"job": ev.job, "scale": ev.scale, **extra, "output": str(output)}))
    return 0


def run_client_colorize(args: argparse.Namespace) -> int:
    from tinct.protocol import TinctError

    # Arguments, files, then the output, before the daemon does any work.
    check_prompt(args.prompt)
    image = read_layer(args.input)
    hints = read_layer(args.hints) if args.hints else None
    reference = read_layer(args.reference) if args.reference else None
    check_output(args.output)
    if args.preview:
        check_output(args.preview)
    try:
        with _connect(args) as client:
            result = None
            for ev in client.colorize(
                image,
                prompt=args.prompt,
                hints=hints,
                reference=reference,
                steps=args.steps,
                guidance=args.guidance,
                scale=args.scale,
                seed=args.seed,
            ):
                if ev.kind == "progress" and not args.quiet:
                    print(f"step {ev.step}/{ev.total}", file=sys.stderr)
                elif ev.kind == "preview" and args.preview:
                    write_layer(args.preview, ev.layer)
                elif ev.kind == "result":
                    result = ev
            return _write_result(args.output, result)
    except (TinctError, OSError, ValueError) as exc:
        return _fail(exc)


def run_client_rescale(args: argparse.Namespace) -> int:
    from tinct.protocol import TinctError

    check_output(args.output)
    size = None
    if args.size:
        w, h = args.size.lower().split("x")
        size = (int(w), int(h))
    try:
        with _connect(args) as client:
            ev = client.rescale(args.job, args.scale, size=size, dtype=args.dtype)
            return _write_result(args.output, ev, size=[ev.layer.width, ev.layer.height])
    except (TinctError, OSError, ValueError) as exc:
        return _fail(exc)


def run_client_apply(args: argparse.Namespace) -> int:
    from tinct.protocol import TinctError

    check_output(args.output)
    try:
        with _connect(args) as client:
            return _write_result(args.output, client.apply(args.job, args.scale))
    except (TinctError, OSError, ValueError) as exc:
        return _fail(exc)


def run_client_simple(args: argparse.Namespace) -> int:
    from tinct.protocol import TinctError

    try:
        with _connect(args) as client:
            if args.client_command == "status":
                print(json.dumps(client.status(), indent=2))
            elif args.client_command == "shutdown":
                client.shutdown()
            else:
                client.cancel(args.job)
            return 0
    except (TinctError, OSError, ValueError) as exc:
        return _fail(exc)


# --- image files <-> layers ---------------------------------------------------


def read_layer(path: Path):
    """An image file (PNG/TIFF at 8 or 16 bits, JPEG, ... or .npy) as a protocol Layer."""
    import numpy as np

    from tinct.protocol import Layer
    from tinct.server.frames import wire_dtype

    if path.suffix.lower() == ".npy":
        arr = np.load(path)
    else:
        from tinct.imageio import read_image

        arr = read_image(path, max_pixels=C.DEFAULT_MAX_PIXELS)  # what the daemon accepts
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[2] not in C.CHANNELS:
        raise ValueError(f"{path}: expected H x W x 1-4 pixels, got shape {arr.shape}")
    wire = wire_dtype(arr.dtype)
    if wire is None:
        raise ValueError(
            f"{path}: dtype {arr.dtype} is not supported; use uint8, uint16 or float32"
        )
    arr = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))
    h, w, c = arr.shape
    return Layer.from_buffer(arr, w, h, c, wire)


def check_output(path: Path) -> None:
    """A layer can be written to ``path``: a format write_layer knows, a folder it can make."""
    if path.suffix.lower() != ".npy":
        if not path.suffix:
            raise CliError(f"output {path} has no file extension; use e.g. {path}.png or .npy")
        from tinct.imageio import check_output_name

        check_output_name(path)
    if path.is_dir():
        raise CliError(f"output {path} is a folder; give a file name")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise CliError(f"cannot write into {folder}: not a folder, or not writable")


def write_layer(path: Path, layer) -> None:
    """.npy keeps the layer's dtype; PNG keeps 8 or 16 bits (float is written as 16-bit PNG)."""
    import numpy as np

    from tinct import color
    from tinct.imageio import write_image
    from tinct.server.frames import rgb_array

    arr = rgb_array(layer.data, layer.format)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".npy":
        np.save(path, arr)
        return
    if arr.dtype == np.float32:
        arr = color.from_float(arr, np.uint16 if path.suffix.lower() == ".png" else np.uint8)
    elif arr.dtype == np.uint16 and path.suffix.lower() != ".png":
        arr = color.from_float(color.to_float(arr), np.uint8)
    write_image(path, arr)
