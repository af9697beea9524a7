#!/usr/bin/env python3
"""Train the encoder prior's head with the VALIDATION split watching, keep the best.

The recipe's `--prior-kind encoder` phase trains for a fixed time and keeps the
last step. This script trains the same head (tinct.pipeline.encoder_prior, the
same windows and loss as tinct.train.encoder_prior) and every `--every` steps
measures, on the validation photos' full frames, the cross-entropy and the
prior-alone a*b* error of the field the pipeline would use (`point`) over
all-gray's; it keeps the step with the lowest validation cross-entropy (the
distribution the field is read from; the error is printed, not selected on) and
writes a model folder: `--init`'s components with this prior.

Checkpoints every `--every` steps in OUT-runs/; `--resume` goes on from the
last one. Never point `--val` at the test split.

    python scripts/train_prior_head.py data/images/train data/images/val \
        --init runs/v08-cand -o runs/v09 --feature-cache runs/feats-v08.pt \
        --val-cache runs/feats-val-v08.pt --steps 6000
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from tinct.pipeline import load_pipeline
from tinct.pipeline.encoder_prior import EncoderPrior
from tinct.train.data import load_photos
from tinct.train.default_recipe import cached
from tinct.train.encoder_prior import (
    draw_windows,
    encode_photos,
    rebalance_weights,
    soft_bins,
    window_loss,
)
from tinct.train.prior import lab_at_side


@torch.no_grad()
def validate(prior: EncoderPrior, items: list[dict]) -> dict:
    """Mean cross-entropy and the field's a*b* error / all-gray's, chroma / truth's."""
    prior.eval()
    ce_sum = n = 0.0
    err = gray = chroma = 0.0
    for it in items:
        logits = prior.decode([f[None].float() for f in it["feats"]]).float()
        ab = it["ab"][None].float()
        valid = it["valid"][None].float()
        target = soft_bins(ab, prior.config.bin_step, prior.config.bin_extent)
        ce = -(target * F.log_softmax(logits, 1)).sum(1)
        ce_sum += float((ce * valid).sum())
        n += float(valid.sum())
        point = prior.point(logits)
        v = valid[:, None]
        # per photo means, as the evaluator weighs photos equally
        m = float(valid.sum())
        err += float(((point - ab).norm(dim=1, keepdim=True) * v).sum()) / m
        gray += float((ab.norm(dim=1, keepdim=True) * v).sum()) / m
        chroma += float((point.norm(dim=1, keepdim=True) * v).sum()) / m
    prior.train()
    return {"ce": ce_sum / n, "err_ratio": err / gray, "chroma_ratio": chroma / gray}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("train")
    ap.add_argument("val")
    ap.add_argument("--init", required=True, help="model folder whose other parts are kept")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--feature-cache", default=None)
    ap.add_argument("--val-cache", default=None)
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--every", type=int, default=250)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--crop", type=int, default=192)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--rebalance", type=float, default=1.0)
    ap.add_argument(
        "--feature-dropout",
        type=float,
        default=0.0,
        help="drop whole encoder channels of each training window with this chance",
    )
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--fresh", action="store_true", help="new head (else start from --init's)")
    ap.add_argument("--resume", action="store_true")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    pipe = load_pipeline(args.init, device="cpu")
    old = pipe.prior
    if args.fresh or not isinstance(old, EncoderPrior):
        cfg = dict(old.config) if isinstance(old, EncoderPrior) else {}
        cfg = {k: v for k, v in cfg.items() if not k.startswith("_")}
        cfg["width"] = args.width
        prior = EncoderPrior(**cfg)
    else:
        prior = old
    prior.train()

    side = int(prior.config.input_side)
    train_items = cached(
        args.feature_cache,
        lambda: encode_photos(prior, lab_at_side(load_photos(args.train), side)),
    )
    val_items = cached(
        args.val_cache,
        lambda: encode_photos(prior, lab_at_side(load_photos(args.val), side), mirror=False),
    )
    labs_ab = [it["ab"].float() for it in train_items[::2]]
    weights = rebalance_weights(
        [torch.cat([torch.zeros_like(a[:1]), a]) for a in labs_ab],
        prior.config.bin_step,
        prior.config.bin_extent,
        args.rebalance,
    )

    runs = Path(args.output + "-runs")
    runs.mkdir(parents=True, exist_ok=True)
    opt = torch.optim.AdamW(prior.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    start, best, log = 0, None, []
    ckpt = runs / "last.pt"
    if args.resume and ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        prior.load_state_dict(state["prior"])
        opt.load_state_dict(state["opt"])
        start, best, log = state["step"], state["best"], state["log"]
        rng = np.random.default_rng(args.seed + start)
        print(f"resumed at step {start}", flush=True)
    if best is None:
        best = {"step": start, **validate(prior, val_items)}
        torch.save(prior.state_dict(), runs / "best.pt")
        print(f"step {start}: val {best}", flush=True)

    cells = max(2, args.crop // 32)
    t0 = time.time()
    for step in range(start + 1, args.steps + 1):
        lr = args.lr * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for g in opt.param_groups:
            g["lr"] = lr
        batch = draw_windows(train_items, args.batch, cells, rng)
        if args.feature_dropout > 0:  # the frozen features are all the head sees: drop some
            batch["feats"] = [F.dropout2d(f.float(), args.feature_dropout) for f in batch["feats"]]
        loss = window_loss(prior, batch, weights)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(prior.parameters(), 1.0)
        opt.step()
        if step % args.every == 0 or step == args.steps:
            v = validate(prior, val_items)
            rec = {"step": step, "loss": loss.item(), "lr": lr, **v, "s": time.time() - t0}
            log.append(rec)
            mark = ""
            if v["ce"] < best["ce"]:
                best = {"step": step, **v}
                torch.save(prior.state_dict(), runs / "best.pt")
                mark = " *"
            print(json.dumps(rec) + mark, flush=True)
            torch.save(
                {
                    "prior": prior.state_dict(),
                    "opt": opt.state_dict(),
                    "step": step,
                    "best": best,
                    "log": log,
                },
                ckpt,
            )

    prior.load_state_dict(torch.load(runs / "best.pt", weights_only=False))
    prior.eval()
    out = Path(args.output)
    if out.exists():
        shutil.rmtree(out)
    pipe.register_modules(prior=prior)
    pipe.save_pretrained(out)
    (out / "prior" / "training.json").write_text(
        json.dumps({"args": vars(args), "best": best, "log": log}, indent=1)
    )
    print(f"best step {best['step']}: {best}; wrote {out}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
