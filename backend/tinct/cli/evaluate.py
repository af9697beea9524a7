"""`tinct eval`: measure a model on held-out colour photos (metrics, contact sheet, plot).

The work lives in tinct.evaluate, which needs the `train` extra and is left out
of the standalone backend; it is imported only when the command runs.
"""

from __future__ import annotations

from tinct.cli.common import bounded, training_extra
from tinct.options import add_sampling_options

_positive = bounded(int, 1, 10**9, "value")


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
    add_sampling_options(p)
    p.add_argument("--limit", type=_positive, help="only the first N images")
    p.add_argument(
        "--prompt-check",
        action="store_true",
        help='also colorize with "a photo in X tones" (X: blue, red, green, yellow): '
        "does the hue follow?",
    )
    p.add_argument(
        "--hint-check",
        type=_positive,
        metavar="N",
        help="also give N hint points of the true colour; compare with inverse distance",
    )
    p.add_argument(
        "--region-hint-check",
        action="store_true",
        help="also give 6 true-colour patches inside one colour region of each photo: "
        "error there against no hints, and the share of other colours pulled toward them",
    )
    p.add_argument(
        "--caption-check",
        action="store_true",
        help="also colorize with each photo's true caption from DIR/captions.txt "
        "('NAME: caption' lines): error against no prompt and all-gray",
    )
    p.add_argument(
        "--reference-check",
        action="store_true",
        help="also colorize the right 60%% of each photo, turned gray, with its left 40%% "
        "in colour as the reference: error against no reference and all-gray",
    )
    p.add_argument("--device", help="cpu, cuda, mps (default: best available)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_eval)


def run_eval(args) -> int:
    try:
        from tinct.evaluate.report import run_report
    except ImportError as exc:
        raise training_extra(exc) from exc
    return run_report(args)
