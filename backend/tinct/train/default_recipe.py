"""The bundled default model's recipe: VAE, then U-Net and chroma prior, on CPU.

    python -m tinct.train.default_recipe data/images/train -o backend/tinct/models/default \
        --vae-minutes 12 --unet-minutes 35 --prior-minutes 40

Three time-budgeted phases, each a Task run by the one training loop
(tinct.train.loop: checkpoints in OUTPUT-runs/PHASE, `--resume`, a time-based
cosine). What the recipe adds is its data: photos held in memory, and for the
U-Net latents precomputed once per photo (plus mirror), cropped at random, so
most of the CPU goes to the U-Net itself. The autoencoder's loss is the one
`tinct train-vae` uses (tinct.train.vae);
`tinct train` streams photos from disk instead, for large corpora.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from tinct import color
from tinct.options import VAE_CHROMA_WEIGHT, VAE_GRAY_SHARE, VAE_KL_WEIGHT, add_vae_options
from tinct.pipeline.components import build_default_pipeline
from tinct.pipeline.pipeline_tinct import TinctPipeline
from tinct.train.data import Photo, load_photos
from tinct.train.loop import LoopOptions, run, save_model_folder
from tinct.train.prior import lab_at_side, prior_loss, random_crop
from tinct.train.unet_objective import T_MAX_SHARE, sample_timesteps, unet_objective
from tinct.train.vae import autoencoded, autoencoder_loss, chroma_axes_kept, colorfulness_kept


def _random_crop(rgb: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    h, w = rgb.shape[:2]
    if min(h, w) < size:
        f = size / min(h, w)
        rgb = color.resize_linear(rgb, max(size, math.ceil(h * f)), max(size, math.ceil(w * f)))
        h, w = rgb.shape[:2]
    y, x = rng.integers(0, h - size + 1), rng.integers(0, w - size + 1)
    crop = rgb[y : y + size, x : x + size]
    return crop[:, ::-1] if rng.random() < 0.5 else crop


class PhaseTask:
    """One phase of the recipe as a Task of tinct.train.loop: batches drawn in
    memory by `draw(batch_size)`, a loss `loss(model, batch)`, the trained
    component exported alone (the recipe saves the whole pipeline itself)."""

    def __init__(self, name: str, model: torch.nn.Module, draw: Callable, loss: Callable):
        self.name, self.model, self._draw, self._loss = name, model, draw, loss

    def build(self, accelerator) -> None:
        pass  # the pipeline's component is the model

    def loader(self, batch_size: int, rank: int, world: int, start: int, workers: int):
        def batches() -> Iterator:
            while True:
                yield self._draw(batch_size)

        return batches()

    def loss(self, model, batch, generator) -> dict[str, torch.Tensor]:
        return {"loss": self._loss(model, batch)}

    def export(self, model, folder: Path) -> dict:
        model.save_pretrained(folder)
        return {}


def run_phase(
    task: PhaseTask,
    runs: Path,
    minutes: float,
    lr: float,
    log: list,
    weight_decay: float = 1e-4,
    max_grad_norm: float = 1.0,
    **options,
):
    """Train `task` for `minutes` in the one loop (runs/NAME holds its checkpoints)
    and add its loss log to `log`. Every phase of the recipe uses AdamW's weight
    decay 1e-4; `max_grad_norm` clips the gradient's norm (0: no clipping)."""
    opts = LoopOptions(
        output=runs / task.name,
        max_steps=options.pop("max_steps", None),
        batch_size=options.pop("batch_size"),
        lr=lr,
        lr_warmup=0,
        weight_decay=weight_decay,
        max_grad_norm=max_grad_norm,
        lr_schedule=options.pop("lr_schedule", "cosine-time"),
        minutes=minutes,
        ema_decay=0.0,
        checkpoint_every=10**9,  # by time instead (checkpoint_minutes)
        log_every=25,
        workers=0,
        **options,
    )
    run(task, opts)
    lines = (opts.output / "train_log.jsonl").read_text().splitlines()
    log += [{"phase": task.name, **json.loads(line)} for line in lines if line.strip()]


# --------------------------------------------------------------- VAE ---


def train_vae(
    pipe: TinctPipeline,
    photos: list[Photo],
    minutes: float,
    rng,
    log,
    runs: Path,
    batch: int = 8,
    size: int = 160,
    lr: float = 2e-3,
    chroma_weight: float = VAE_CHROMA_WEIGHT,
    kl_weight: float = VAE_KL_WEIGHT,
    gray_share: float = VAE_GRAY_SHARE,
    **loop,
):
    """The autoencoder phase: random `size` px crops of `photos` (a share
    `gray_share` of them gray), tinct.train.vae's loss with `chroma_weight` and
    `kl_weight`, `minutes` of training at peak learning rate `lr`; then prints and
    logs how much colour survives the autoencoder."""

    def draw(n: int) -> torch.Tensor:
        crops = []
        for _ in range(n):
            c = _random_crop(photos[rng.integers(len(photos))].rgb, size, rng)
            crops.append(color.gray(c) if rng.random() < gray_share else c)
        return torch.from_numpy(np.stack(crops).transpose(0, 3, 1, 2).copy())

    def loss(vae, x):
        x = x.to(next(vae.parameters()).device)
        return autoencoder_loss(vae, x, chroma_weight, kl_weight)["loss"]

    task = PhaseTask("vae", pipe.vae, draw, loss)
    run_phase(task, runs, minutes, lr, log, batch_size=batch, max_grad_norm=0.0, **loop)
    vae = pipe.vae
    vae.eval()
    # Does colour survive the autoencoder, on both chroma axes?
    sample = [photos[i].rgb for i in range(0, len(photos), max(1, len(photos) // 16))]
    pairs = autoencoded(vae, sample)
    kept, axes = colorfulness_kept(pairs), chroma_axes_kept(pairs)
    print(
        f"[vae] reconstruction colourfulness / original: {kept:.2f}; "
        f"R^2 of a* {axes['a']:.2f}, of b* {axes['b']:.2f}",
        flush=True,
    )
    log.append(
        {"phase": "vae-check", "colorfulness_kept": kept, "a_r2": axes["a"], "b_r2": axes["b"]}
    )


# ------------------------------------------------------------ latents ---


@torch.no_grad()
def add_hue_shifted(
    pipe: TinctPipeline, items: list, share: float, rng, by_region: bool = False
) -> list:
    """Items plus hue-rotated copies of a random `share` of them: hue turned at
    constant L* (so z_g is the original's), the caption renamed to match. They
    teach prompts like "blue ..." and, as the gray input no longer tells the
    hue, weaken a prior that paints every bright smooth area one colour. The
    caption gets the dominant new colour word first, or (`by_region`) each
    region's new colour word in place ("red sky, blue foliage")."""
    from tinct.train.colorwords import (
        dominant_color_word,
        recoloured_caption,
        rotate_hue,
        with_color_word,
    )

    extra = []
    for rgb, _, z_g, caption in items:
        if rng.random() >= share:
            continue
        shifted = rotate_hue(rgb, float(rng.uniform(30.0, 330.0)))
        if by_region:
            new_caption = recoloured_caption(caption, rgb, shifted)
        else:
            new_caption = with_color_word(caption, dominant_color_word(shifted), stale=True)
        z_x = pipe.encode_image(shifted)[0]
        extra.append((shifted, z_x, z_g, new_caption))
    return items + extra


@torch.no_grad()
def precompute_latents(pipe: TinctPipeline, photos: list[Photo], sides=(384,), mirror: bool = True):
    """Per photo and scale: (rgb, z_x, z_g, caption) with the rgb at that scale, and
    its mirror (unless `mirror` is False)."""
    items = []
    for p in photos:
        for side in sides:
            h, w = p.rgb.shape[:2]
            f = min(1.0, side / max(h, w))
            hh, ww = max(64, int(h * f) // 8 * 8), max(64, int(w * f) // 8 * 8)
            rgb = color.resize_area(p.rgb, hh, ww)
            for flip in (False, True) if mirror else (False,):
                r = np.ascontiguousarray(rgb[:, ::-1]) if flip else rgb
                z_x = pipe.encode_image(r)
                z_g = pipe.encode_image(color.gray(r))
                items.append((r, z_x[0], z_g[0], p.caption))
    return items


def _latent_crop(item, lsize: int, rng):
    rgb, z_x, z_g, caption = item
    _, hl, wl = z_x.shape
    ch, cw = min(lsize, hl), min(lsize, wl)
    y, x = int(rng.integers(0, hl - ch + 1)), int(rng.integers(0, wl - cw + 1))
    f = rgb.shape[0] // hl
    crop = rgb[y * f : (y + ch) * f, x * f : (x + cw) * f]
    return crop, z_x[:, y : y + ch, x : x + cw], z_g[:, y : y + ch, x : x + cw], caption


# -------------------------------------------------------------- U-Net ---


def train_unet(
    pipe: TinctPipeline,
    items,
    minutes: float,
    rng,
    log,
    runs: Path,
    batch=12,
    lsize=28,
    lr: float = 4e-4,
    caption_dropout: float = 0.1,
    decay_minutes: float | None = None,
    max_steps: int | None = None,
    **loop,
):
    """The learning rate's cosine spans `decay_minutes` (default: the whole
    budget); the phase ends at the budget or after `max_steps` steps, whichever
    comes first."""
    from diffusers.models.attention_processor import AttnProcessor

    # torch's CPU SDPA backward is ~15x slower than plain attention here.
    pipe.unet.set_attn_processor(AttnProcessor())
    T = pipe.scheduler.config.num_train_timesteps
    empty = pipe.encode_prompt([""])
    cache: dict[str, torch.Tensor] = {}

    @torch.no_grad()
    def draw(n: int) -> dict:
        # same crop size inside a batch: pick from items large enough
        zs, zgs, caps = [], [], []
        for _ in range(n):
            _, z_x, z_g, caption = _latent_crop(items[rng.integers(len(items))], lsize, rng)
            if z_x.shape[1:] != (lsize, lsize):
                z_x, z_g = (
                    F.interpolate(z[None], size=(lsize, lsize), mode="bilinear")[0]
                    for z in (z_x, z_g)
                )
            zs.append(z_x)
            zgs.append(z_g)
            caps.append("" if rng.random() < caption_dropout else caption)
        cond = []
        for c in caps:
            if c not in cache:
                cache[c] = empty[0] if c == "" else pipe.encode_prompt([c])[0]
                if len(cache) > 2000:
                    cache.clear()
            cond.append(cache.get(c, empty[0]))
        return {
            "z_x": torch.stack(zs),
            "z_g": torch.stack(zgs),
            "cond": torch.stack(cond),
            "t": sample_timesteps(n, T, T_MAX_SHARE),
        }

    def loss(unet, b):
        device = next(unet.parameters()).device
        b = {k: v.to(device) for k, v in b.items()}
        # The bundled model's recipe: the MSE alone (chroma weight 0; model card, step 2).
        return unet_objective(pipe, unet, b["z_x"], b["z_g"], b["cond"], b["t"])["loss"]

    task = PhaseTask("unet", pipe.unet, draw, loss)
    run_phase(
        task,
        runs,
        minutes,
        lr,
        log,
        batch_size=batch,
        max_steps=max_steps,
        decay_minutes=decay_minutes,
        **loop,
    )
    pipe.unet.eval()


# -------------------------------------------------------------- prior ---


def train_prior(
    pipe: TinctPipeline,
    photos: list[Photo],
    minutes: float,
    rng,
    log,
    runs: Path,
    batch: int = 16,
    size: int = 112,
    lr: float = 2e-3,
    max_steps: int | None = None,
    strength: float = 1.0,
    kind: str = "lightness",
    feature_cache: Path | None = None,
    rebalance: float = 0.5,
    **loop,
):
    """The chroma prior: `kind` "lightness" (tinct.train.prior, L* alone, trained on
    the mean a*b* distance) or "encoder" (tinct.train.encoder_prior, pretrained
    image features -> a*b* bins, rebalanced cross-entropy). A cosine over
    `max_steps` when given (the same run on any machine), else over `minutes`.
    `strength` is stored in its config (the share of its field the render takes)."""
    if kind == "encoder":
        from tinct.pipeline.encoder_prior import EncoderPrior
        from tinct.train.encoder_prior import (
            draw_windows,
            encode_photos,
            rebalance_weights,
            window_loss,
        )

        if not isinstance(pipe.prior, EncoderPrior):
            pipe.register_modules(prior=EncoderPrior())
        labs = lab_at_side(photos, int(pipe.prior.config.input_side))
        weights = rebalance_weights(
            labs, pipe.prior.config.bin_step, pipe.prior.config.bin_extent, rebalance
        )
        items = cached(feature_cache, lambda: encode_photos(pipe.prior, labs))
        cells = max(2, size // 32)

        def draw(n: int) -> dict:
            return draw_windows(items, n, cells, rng)

        def loss(prior, batch):
            return window_loss(prior, batch, weights)

        task = PhaseTask("encoder-prior", pipe.prior.train(), draw, loss)
    else:
        if pipe.prior is None:
            from tinct.pipeline.prior import TinctPrior

            pipe.register_modules(prior=TinctPrior())
        labs = lab_at_side(photos, int(pipe.prior.config.input_side))

        def draw(n: int) -> torch.Tensor:
            return torch.stack(
                [random_crop(labs[rng.integers(len(labs))], size, rng) for _ in range(n)]
            )

        task = PhaseTask("prior", pipe.prior.train(), draw, prior_loss)
    run_phase(
        task,
        runs,
        minutes,
        lr,
        log,
        batch_size=batch,
        max_steps=max_steps,
        lr_schedule="cosine" if max_steps else "cosine-time",
        **loop,
    )
    pipe.prior.eval()
    pipe.prior.register_to_config(strength=float(strength))


def cached(path: Path | None, compute: Callable):
    """compute(), or what an earlier run saved at `path` (written when missing)."""
    if path is not None and Path(path).exists():
        print(f"loaded {path}", flush=True)
        return torch.load(path, weights_only=False)
    value = compute()
    if path is not None:
        torch.save(value, path)
    return value


# --------------------------------------------------------------- main ---


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Train Tinct's bundled default model on CPU.")
    ap.add_argument("data", help="folder of training photos (+ .txt captions)")
    ap.add_argument("-o", "--output", required=True, help="model folder to write")
    ap.add_argument("--vae-minutes", type=float, default=12)
    ap.add_argument("--unet-minutes", type=float, default=35)
    ap.add_argument("--prior-minutes", type=float, default=40)
    ap.add_argument(
        "--prior-steps",
        type=int,
        default=None,
        help="end the chroma prior's phase after this many steps, its cosine spanning "
        "them (default: the cosine spans --prior-minutes)",
    )
    ap.add_argument("--prior-lr", type=float, default=2e-3, help="peak chroma prior learning rate")
    ap.add_argument(
        "--prior-kind",
        choices=("lightness", "encoder"),
        default="lightness",
        help="chroma prior: from L* alone, or from a pretrained image encoder's features",
    )
    ap.add_argument(
        "--prior-crop",
        type=int,
        default=112,
        help="side in pixels of the prior's training crops (encoder: rounded to 32, >= 64)",
    )
    ap.add_argument(
        "--prior-rebalance",
        type=float,
        default=0.5,
        help="encoder prior: mix of uniform in the class-rebalancing weights (1: none; "
        "Zhang et al. use 0.5, which favours vivid, rarer colours)",
    )
    ap.add_argument(
        "--feature-cache",
        help="file for the encoder prior's precomputed features: loaded when it exists, "
        "else written (only valid for the same photos and prior input size)",
    )
    ap.add_argument(
        "--prior-strength",
        type=float,
        default=1.0,
        help="share of the chroma prior's field the render takes (stored in its config)",
    )
    ap.add_argument("--vae-lr", type=float, default=2e-3)
    add_vae_options(ap)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores)")
    ap.add_argument("--init", default=None, help="start from this model folder")
    ap.add_argument(
        "--latent-side", type=int, default=384, help="long side of the precomputed photos"
    )
    ap.add_argument("--unet-lr", type=float, default=4e-4, help="peak (cosine) U-Net learning rate")
    ap.add_argument(
        "--latent-cache",
        help="file for the precomputed latents: loaded when it exists, else written "
        "(only valid for the same photos, VAE and latent options)",
    )
    ap.add_argument(
        "--no-mirror", action="store_true", help="no mirrored copies (halves the precompute)"
    )
    ap.add_argument(
        "--hue-shift",
        type=float,
        default=0.0,
        help="share of photos that get a hue-rotated copy, its caption naming the new colour",
    )
    ap.add_argument(
        "--region-captions",
        action="store_true",
        help="hue-rotated copies name each region's new colour in place (\"red sky, blue "
        'foliage"), not one colour word first',
    )
    ap.add_argument(
        "--unet-decay-minutes",
        type=float,
        default=None,
        help="minutes the U-Net's cosine learning rate spans (default: --unet-minutes; "
        "longer keeps it near its peak, as in a run stopped early)",
    )
    ap.add_argument(
        "--unet-max-steps",
        type=int,
        default=None,
        help="end the U-Net phase after this many steps even if minutes are left",
    )
    ap.add_argument(
        "--caption-dropout",
        type=float,
        default=0.1,
        help="share of U-Net samples trained with the empty prompt (the no-prompt default)",
    )
    ap.add_argument(
        "--save-every",
        type=float,
        default=10.0,
        help="minutes between checkpoints of each phase (in OUTPUT-runs/PHASE; 0: only at "
        "a phase's end); rerun with --resume to continue an interrupted run",
    )
    ap.add_argument(
        "--runs",
        default=None,
        help="folder for each phase's checkpoints and loss log (default: OUTPUT-runs)",
    )
    ap.add_argument(
        "--resume",
        action="store_true",
        help="continue each phase from its newest checkpoint in --runs (same options); "
        "a finished phase stays finished",
    )
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    torch.manual_seed(args.seed)
    photos = load_photos(args.data)
    print(f"{len(photos)} training photos", flush=True)
    if args.init:
        from tinct.pipeline import load_pipeline

        pipe = load_pipeline(args.init, device="cpu")
    else:
        pipe = build_default_pipeline(args.seed)
    log: list[dict] = []
    out = Path(args.output)
    runs = Path(args.runs) if args.runs else out.with_name(out.name + "-runs")
    loop = {
        "seed": args.seed,
        "resume": args.resume,
        "checkpoint_minutes": args.save_every,
        "threads": args.threads,
        "cpu": True,
    }
    try:
        _phases(args, pipe, photos, rng, log, runs, loop)
    except ValueError as exc:  # e.g. checkpoints of an earlier run and no --resume
        print(f"error: {exc}", file=sys.stderr)
        return 2
    extra = {"training_log.json": json.dumps(log)}
    save_model_folder(pipe, out, True, extra=extra, keep=("README.md",))
    print(f"saved {out} (checkpoints of each phase in {runs})", flush=True)
    return 0


def _phases(args, pipe, photos, rng, log, runs, loop) -> None:
    if args.vae_minutes > 0:
        train_vae(
            pipe,
            photos,
            args.vae_minutes,
            rng,
            log,
            runs,
            lr=args.vae_lr,
            chroma_weight=args.chroma_weight,
            kl_weight=args.kl_weight,
            gray_share=args.gray_share,
            **loop,
        )
    if args.unet_minutes > 0:
        cache = Path(args.latent_cache) if args.latent_cache else None
        if cache is not None and cache.exists():
            items = torch.load(cache, weights_only=False)
            print(f"latents from {cache}", flush=True)
        else:
            items = precompute_latents(
                pipe, photos, sides=(args.latent_side,), mirror=not args.no_mirror
            )
            if cache is not None:  # the next session (same VAE, same photos) skips this
                torch.save(items, cache)
        if args.hue_shift > 0:
            items = add_hue_shifted(pipe, items, args.hue_shift, rng, args.region_captions)
        print(f"{len(items)} latent items", flush=True)
        train_unet(
            pipe,
            items,
            args.unet_minutes,
            rng,
            log,
            runs,
            lr=args.unet_lr,
            caption_dropout=args.caption_dropout,
            decay_minutes=args.unet_decay_minutes,
            max_steps=args.unet_max_steps,
            **loop,
        )
    if args.prior_minutes > 0:
        train_prior(
            pipe,
            photos,
            args.prior_minutes,
            rng,
            log,
            runs,
            lr=args.prior_lr,
            max_steps=args.prior_steps,
            strength=args.prior_strength,
            kind=args.prior_kind,
            size=args.prior_crop,
            feature_cache=Path(args.feature_cache) if args.feature_cache else None,
            rebalance=args.prior_rebalance,
            **loop,
        )


if __name__ == "__main__":
    raise SystemExit(main())
