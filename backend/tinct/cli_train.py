"""`tinct eval` (and the training commands to come): argument parsers.

The work lives in tinct.train and tinct.evaluate, which need the `train`
extra (accelerate, matplotlib) and are left out of the standalone backend;
they are imported only when one of these commands runs.
"""

from __future__ import annotations

from tinct.cli import CliError, _bounded

_positive = _bounded(int, 1, 10**9, "value")


def _training_extra(exc: ImportError) -> CliError:
    if (exc.name or "").startswith("tinct"):
        return CliError(
            "the training and evaluation tools are not in this installation (the standalone "
            "backend leaves them out); use a Python install: pip install 'tinct[train]'"
        )
    return CliError(
        f"this command needs Tinct's training extra (missing: {exc.name or exc}); "
        "install it with: pip install 'tinct[train]'"
    )


def add_eval_parser(sub) -> None:
    p = sub.add_parser(
        "eval",
        help="measure a model on held-out colour photos; metrics, contact sheet, plot",
        description="Turn each colour photo in DIR gray, colorize it and compare with the "
        "original. Writes REPORT_DIR/metrics.json, contact_sheet.png and scale_plot.png.",
    )
    p.add_argument("folder", metavar="DIR", help="colour photos (folder or list file)")
    p.add_argument("-o", "--output", required=True, metavar="REPORT_DIR")
    p.add_argument("--model", help="model folder (default: the bundled model)")
    p.add_argument("--steps", type=_bounded(int, 1, 200, "steps"), default=4)
    p.add_argument("--guidance", type=_bounded(float, 0.0, 20.0, "guidance"), default=1.5)
    p.add_argument("--limit", type=_positive, help="only the first N images")
    p.add_argument(
        "--prompt-check",
        action="store_true",
        help='also colorize with "blue", "red", "green", "yellow": does the hue follow?',
    )
    p.add_argument(
        "--hint-check",
        type=_positive,
        metavar="N",
        help="also give N hint points of the true colour; compare with inverse distance",
    )
    p.add_argument("--device", help="cpu, cuda, mps (default: best available)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_eval)


def run_eval(args) -> int:
    try:
        from tinct import evaluate
    except ImportError as exc:
        raise _training_extra(exc) from exc
    return evaluate.run_report(args)
