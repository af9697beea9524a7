"""The bundled default model's recipe: VAE, then U-Net, then ranker, on CPU.

    python -m tinct.train.default_recipe data/images/train -o backend/tinct/models/default \
        --vae-minutes 12 --unet-minutes 35 --ranker-minutes 4

Single process, time-budgeted phases; seeded. The U-Net and ranker work on
latents precomputed once per photo (two scales, plus mirror), cropped at
random: most of the CPU then goes to the U-Net itself. The losses are the
ones `tinct train-vae` / `tinct train-ranker` use (tinct.train.vae, .ranker);
`tinct train` is the scalable path (accelerate, streaming, checkpoints).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from tinct import color
from tinct.color import hints as hint_propagation
from tinct.pipeline.components import build_default_pipeline
from tinct.pipeline.pipeline_tinct import TinctPipeline
from tinct.train.data import Photo, load_photos
from tinct.train.hints import simulate_hints
from tinct.train.ranker import decode_at_scales
from tinct.train.vae import autoencoded, autoencoder_loss, chroma_axes_kept, colorfulness_kept


def _log(log: list, phase: str, step: int, loss: float, t0: float) -> None:
    log.append({"phase": phase, "step": step, "loss": loss, "seconds": round(time.time() - t0, 1)})
    print(f"[{phase}] step {step:5d}  loss {loss:.4f}  {time.time() - t0:6.0f}s", flush=True)


def _random_crop(rgb: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    h, w = rgb.shape[:2]
    if min(h, w) < size:
        f = size / min(h, w)
        rgb = color.resize_linear(rgb, max(size, math.ceil(h * f)), max(size, math.ceil(w * f)))
        h, w = rgb.shape[:2]
    y, x = rng.integers(0, h - size + 1), rng.integers(0, w - size + 1)
    crop = rgb[y : y + size, x : x + size]
    return crop[:, ::-1] if rng.random() < 0.5 else crop


def _cosine(opt, elapsed: float, budget: float, base: float) -> None:
    """Cosine decay to 0.1x over the phase's time budget (steps vary with the machine's load)."""
    lr = base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(elapsed / max(budget, 1e-9), 1.0))))
    for g in opt.param_groups:
        g["lr"] = lr


# --------------------------------------------------------------- VAE ---


def train_vae(
    pipe: TinctPipeline,
    photos: list[Photo],
    minutes: float,
    rng,
    log,
    batch: int = 8,
    size: int = 160,
    lr: float = 2e-3,
    chroma_weight: float = 0.15,
):
    vae = pipe.vae.train()
    opt = torch.optim.AdamW(vae.parameters(), lr=lr, weight_decay=1e-4)
    t0, step, budget = time.time(), 0, minutes * 60
    while time.time() - t0 < budget:
        crops = []
        for _ in range(batch):
            c = _random_crop(photos[rng.integers(len(photos))].rgb, size, rng)
            crops.append(color.gray(c) if rng.random() < 0.25 else c)
        x = torch.from_numpy(np.stack(crops).transpose(0, 3, 1, 2).copy())
        loss = autoencoder_loss(vae, x, chroma_weight)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        _cosine(opt, time.time() - t0, budget, lr)
        if step % 50 == 0:
            _log(log, "vae", step, loss.item(), t0)
        step += 1
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
def add_hue_shifted(pipe: TinctPipeline, items: list, share: float, rng) -> list:
    """Items plus hue-rotated copies of a random `share` of them: hue turned at
    constant L* (so z_g is the original's), the new colour word in the caption.
    They teach prompts like "blue ..." and, as the gray input no longer tells
    the hue, weaken a prior that paints every bright smooth area one colour."""
    from tinct.train.colorwords import dominant_color_word, rotate_hue, with_color_word

    extra = []
    for rgb, _, z_g, caption in items:
        if rng.random() >= share:
            continue
        shifted = rotate_hue(rgb, float(rng.uniform(30.0, 330.0)))
        word = dominant_color_word(shifted)
        z_x = pipe.encode_image(shifted)[0]
        extra.append((shifted, z_x, z_g, with_color_word(caption, word, stale=True)))
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


# Training crops are small (lsize * 8 px): a coarser grid keeps the hint solve cheap.
TRAIN_HINT_GRID = 64 * 64


def train_unet(
    pipe: TinctPipeline,
    items,
    minutes: float,
    rng,
    log,
    batch=12,
    lsize=28,
    save=None,
    save_every: float = 0.0,
    lr: float = 4e-4,
    caption_dropout: float = 0.1,
    decay_minutes: float | None = None,
    max_steps: int | None = None,
):
    """`save()` runs every `save_every` minutes (0: never), so an interrupted
    session leaves a model folder that `--init` continues from. The learning
    rate's cosine spans `decay_minutes` (default: the whole budget); the phase
    ends at the budget or after `max_steps` steps, whichever comes first."""
    from diffusers.models.attention_processor import AttnProcessor

    unet = pipe.unet.train()
    # torch's CPU SDPA backward is ~15x slower than plain attention here.
    unet.set_attn_processor(AttnProcessor())
    opt = torch.optim.AdamW(unet.parameters(), lr=lr, weight_decay=1e-4)
    T = pipe.scheduler.config.num_train_timesteps
    t0, step, budget = time.time(), 0, minutes * 60
    horizon = (decay_minutes or minutes) * 60
    empty = pipe.encode_prompt([""])
    cache: dict[str, torch.Tensor] = {}
    last_save = t0
    while time.time() - t0 < budget and (max_steps is None or step < max_steps):
        if save is not None and save_every > 0 and time.time() - last_save > save_every * 60:
            unet.eval()
            save()
            unet.train()
            last_save = time.time()
        # same crop size inside a batch: pick from items large enough
        zs, zgs, hint_in, caps = [], [], [], []
        for _ in range(batch):
            crop, z_x, z_g, caption = _latent_crop(items[rng.integers(len(items))], lsize, rng)
            if z_x.shape[1:] != (lsize, lsize):
                crop, z_x, z_g = (
                    color.resize_linear(crop, lsize * 8, lsize * 8),
                    F.interpolate(z_x[None], size=(lsize, lsize), mode="bilinear")[0],
                    F.interpolate(z_g[None], size=(lsize, lsize), mode="bilinear")[0],
                )
            zs.append(z_x)
            zgs.append(z_g)
            with torch.no_grad():
                hin = torch.zeros((1, 5, lsize, lsize))
                if rng.random() < 0.5:
                    hints = simulate_hints(crop, rng)  # drawn either way: the same stream
                    if hint_propagation.UNET_SEES_HINTS:  # else the channels stay empty
                        light = color.luminance_lstar(crop)
                        hin = pipe.hint_inputs(hints, light, z_g[None], TRAIN_HINT_GRID).channels
            hint_in.append(hin[0])
            caps.append("" if rng.random() < caption_dropout else caption)
        z_x, z_g, hin = torch.stack(zs), torch.stack(zgs), torch.stack(hint_in)
        delta = z_x - z_g
        # DESIGN.md: t = T (pure gray) must not starve -> 60% of samples there.
        t = torch.where(
            torch.rand(batch) < 0.6, torch.full((batch,), T), torch.randint(0, T + 1, (batch,))
        )
        z_t = pipe.scheduler.add_noise(delta, z_g, t)
        with torch.no_grad():
            cond = []
            for c in caps:
                if c not in cache:
                    cache[c] = empty[0] if c == "" else pipe.encode_prompt([c])[0]
                    if len(cache) > 2000:
                        cache.clear()
                cond.append(cache.get(c, empty[0]))
            cond = torch.stack(cond)
        pred = unet(torch.cat([z_t, z_g, hin], 1), t, encoder_hidden_states=cond).sample
        loss = F.mse_loss(pred, delta)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        opt.step()
        _cosine(opt, time.time() - t0, horizon, lr)
        if step % 25 == 0:
            _log(log, "unet", step, float(loss), t0)
        step += 1
    unet.eval()


# ------------------------------------------------------------- ranker ---


def train_ranker(pipe: TinctPipeline, items, minutes: float, rng, log, batch=24, lsize=24):
    ranker = pipe.ranker.train()
    opt = torch.optim.AdamW(ranker.parameters(), lr=1e-3)
    t0, step, budget = time.time(), 0, minutes * 60
    while time.time() - t0 < budget:
        imgs, targets = [], []
        with torch.no_grad():
            for _ in range(batch):
                _, z_x, z_g, _ = _latent_crop(items[rng.integers(len(items))], lsize, rng)
                s = float(np.exp(rng.uniform(np.log(0.25), np.log(2.5))))
                imgs.append(decode_at_scales(pipe, z_x[None], z_g[None], torch.tensor([s]), 96)[0])
                targets.append(math.log(s))
        pred = ranker(torch.stack(imgs))
        loss = F.smooth_l1_loss(pred, torch.tensor(targets), beta=0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 25 == 0:
            _log(log, "ranker", step, float(loss), t0)
        step += 1
    ranker.eval()


# --------------------------------------------------------------- main ---


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Train Tinct's bundled default model on CPU.")
    ap.add_argument("data", help="folder of training photos (+ .txt captions)")
    ap.add_argument("-o", "--output", required=True, help="model folder to write")
    ap.add_argument("--vae-minutes", type=float, default=12)
    ap.add_argument("--unet-minutes", type=float, default=35)
    ap.add_argument("--ranker-minutes", type=float, default=4)
    ap.add_argument("--vae-lr", type=float, default=2e-3)
    ap.add_argument("--chroma-weight", type=float, default=0.15, help="VAE loss weight of a*b* L1")
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
        help="minutes between saves of the output folder during the U-Net phase (0: only at "
        "the end); rerun with --init OUTPUT to continue an interrupted run",
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

    def save() -> None:
        from tinct.train.loop import save_model_folder

        extra = {"training_log.json": json.dumps(log)}
        save_model_folder(pipe, out, True, extra=extra, keep=("README.md",))
        print(f"saved {out}", flush=True)

    if args.vae_minutes > 0:
        train_vae(
            pipe,
            photos,
            args.vae_minutes,
            rng,
            log,
            lr=args.vae_lr,
            chroma_weight=args.chroma_weight,
        )
    if args.unet_minutes > 0 or args.ranker_minutes > 0:
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
            items = add_hue_shifted(pipe, items, args.hue_shift, rng)
        print(f"{len(items)} latent items", flush=True)
        if args.unet_minutes > 0:
            train_unet(
                pipe,
                items,
                args.unet_minutes,
                rng,
                log,
                save=save,
                save_every=args.save_every,
                lr=args.unet_lr,
                caption_dropout=args.caption_dropout,
                decay_minutes=args.unet_decay_minutes,
                max_steps=args.unet_max_steps,
            )
        if args.ranker_minutes > 0:
            train_ranker(pipe, items, args.ranker_minutes, rng, log)
    save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
