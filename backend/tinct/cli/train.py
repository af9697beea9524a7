"""`tinct train | train-vae`: the training loop's options and the tasks.

The work lives in tinct.train, which needs the `train` extra (accelerate) and
is left out of the standalone backend; it is imported only when one of these
commands runs.
"""

from __future__ import annotations

import argparse

from tinct.cli.common import CliError, bounded, training_extra
from tinct.options import add_vae_options

_share = bounded(float, 0.0, 1.0, "share")
_positive = bounded(int, 1, 10**9, "value")


def _add_loop_options(p: argparse.ArgumentParser, lr: float, batch: int, resolution: int) -> None:
    p.add_argument("data", metavar="DATA", help="folder of images (+ same-name .txt) or list file")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="run folder")
    g = p.add_argument_group("training loop")
    g.add_argument("--max-steps", type=_positive, default=10_000, help="optimizer steps in all")
    g.add_argument(
        "--batch-size", type=_positive, default=batch, help=f"per process (default {batch})"
    )
    g.add_argument("--grad-accum", type=_positive, default=1, help="micro-batches per step")
    g.add_argument("--lr", type=float, default=lr, help=f"learning rate (default {lr:g})")
    g.add_argument("--lr-warmup", type=int, default=100, help="linear warm-up steps")
    g.add_argument("--lr-schedule", choices=("constant", "cosine"), default="constant")
    g.add_argument("--weight-decay", type=float, default=1e-2)
    g.add_argument("--max-grad-norm", type=float, default=1.0, help="0: no clipping")
    g.add_argument(
        "--mixed-precision",
        choices=("no", "fp16", "bf16"),
        default=None,
        help="default: what `accelerate launch` / `accelerate config` chose, else no",
    )
    g.add_argument("--ema-decay", type=float, default=0.999, help="0: no EMA weights")
    g.add_argument("--checkpoint-every", type=_positive, default=500, help="steps")
    g.add_argument("--checkpoints-keep", type=_positive, default=2)
    g.add_argument("--log-every", type=_positive, default=10, help="steps between log lines")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument(
        "--resume",
        action="store_true",
        help="continue from the newest checkpoint in OUT (starts fresh if there is none)",
    )
    g.add_argument("--workers", type=int, default=2, help="data loading processes per process")
    g.add_argument("--cpu", action="store_true", help="train on the CPU even if a GPU is there")
    g.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    d = p.add_argument_group("data")
    d.add_argument(
        "--resolution", type=_positive, default=resolution, help="square crop side in pixels"
    )
    d.add_argument("--no-flip", action="store_true", help="no random horizontal flips")
    d.add_argument(
        "--hue-shift",
        type=_share,
        default=None,
        help="share of samples with rotated hue (and the new colour word in the caption)",
    )


def add_train_parsers(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train the colour U-Net (accelerate: CPU, GPUs, machines)",
        description="Train Tinct's colour U-Net. Runs as is on one device, or under "
        "`accelerate launch` on several GPUs or machines. OUT gets checkpoints/, "
        "train_log.jsonl and, at the end, model/ (a Tinct model folder).",
    )
    _add_loop_options(p, lr=1e-4, batch=8, resolution=256)
    m = p.add_argument_group("model")
    m.add_argument("--model", help="start from this Tinct model folder (default: the bundled one)")
    m.add_argument(
        "--from-sd",
        metavar="PATH",
        help="start from Stable Diffusion weights: a diffusers folder or a single file",
    )
    m.add_argument("--sd-config", metavar="DIR", help="configs for a single-file SD checkpoint")
    o = p.add_argument_group("objective")
    o.add_argument(
        "--t-max-share",
        type=_share,
        default=None,
        help="share of samples at t = T (default: T_MAX_SHARE in tinct.train.unet_objective)",
    )
    o.add_argument(
        "--chroma-weight",
        type=float,
        default=None,
        help="a*b* L1 on the decode (default: CHROMA_WEIGHT in tinct.train.unet_objective)",
    )
    o.add_argument("--caption-dropout", type=_share, default=0.1)
    o.add_argument(
        "--color-word", type=_share, default=0.5, help="unshifted samples captioned with their hue"
    )
    p.set_defaults(func=run_train, task="unet")

    p = sub.add_parser(
        "train-vae",
        help="train the autoencoder (for models without a pretrained one)",
        description="Train the VAE: L1 on RGB + weighted L1 on a*b* + tiny KL. Starts from "
        "a new default architecture unless --model is given. OUT/model gets the new VAE.",
    )
    _add_loop_options(p, lr=1e-3, batch=8, resolution=160)
    p.add_argument("--model", default="new", help="'new' (default) or a Tinct model folder")
    add_vae_options(p.add_argument_group("objective"))
    p.set_defaults(func=run_train, task="vae")


def _augment(args):
    from tinct.train.dataset import Augment

    defaults = {"unet": 0.5, "vae": 0.5}
    hue = defaults[args.task] if args.hue_shift is None else args.hue_shift
    a = Augment(resolution=args.resolution, flip=not args.no_flip, hue_shift=hue)
    if args.task == "unet":
        a.caption_dropout, a.color_word = args.caption_dropout, args.color_word
    return a


def run_train(args) -> int:
    try:
        from tinct.train import loop
        from tinct.train.colorizer import ColorizerOptions, ColorizerTask
        from tinct.train.vae import AutoencoderOptions, AutoencoderTask

        loop.require_accelerate()
    except ImportError as exc:
        raise training_extra(exc) from exc
    except RuntimeError as exc:
        raise CliError(str(exc)) from exc
    augment = _augment(args)
    if args.task == "unet":
        task = ColorizerTask(
            ColorizerOptions(
                data=args.data,
                model=args.model,
                from_sd=args.from_sd,
                sd_config=args.sd_config,
                **{
                    name: getattr(args, name)
                    for name in ("t_max_share", "chroma_weight")
                    if getattr(args, name) is not None
                },
            ),
            augment,
            args.seed,
        )
    else:
        task = AutoencoderTask(
            AutoencoderOptions(
                data=args.data,
                model=args.model,
                chroma_weight=args.chroma_weight,
                kl_weight=args.kl_weight,
                gray_share=args.gray_share,
            ),
            augment,
            args.seed,
        )
    import os

    precision = args.mixed_precision or os.environ.get("ACCELERATE_MIXED_PRECISION", "no")
    options = loop.LoopOptions(
        output=args.output,
        max_steps=args.max_steps,
        batch_size=args.batch_size,
        grad_accum=args.grad_accum,
        lr=args.lr,
        lr_warmup=args.lr_warmup,
        lr_schedule=args.lr_schedule,
        weight_decay=args.weight_decay,
        max_grad_norm=args.max_grad_norm,
        mixed_precision=precision,
        ema_decay=args.ema_decay,
        checkpoint_every=args.checkpoint_every,
        checkpoints_keep=args.checkpoints_keep,
        log_every=args.log_every,
        seed=args.seed,
        resume=args.resume,
        workers=args.workers,
        cpu=args.cpu,
        threads=args.threads,
    )
    loop.run(task, options)
    return 0
