"""Training the encoder prior (tinct.pipeline.encoder_prior): the true a*b* at
stride 4 spread over its four nearest bins (so the target distribution's mean
is the true colour), and a cross-entropy weighted by class rebalancing (Zhang
et al. 2016: rare, saturated bins count more, so the distribution does not
collapse onto the common grays).

The encoder is frozen, so its features are computed once per photo (and its
mirror image) at the prior's input size, kept in half precision, and training
draws random windows of them: the head then trains in a fraction of the time a
forward pass of the encoder per step would take on a CPU."""

from __future__ import annotations

import torch
import torch.nn.functional as F

# Mix of the empirical bin distribution with a uniform one before inverting it
# into weights (Zhang et al. use 0.5): 0 would weight the rarest bin enormously.
REBALANCE_MIX = 0.5


def soft_bins(ab: torch.Tensor, step: float, extent: float) -> torch.Tensor:
    """(B, 2, h, w) a*b* -> (B, Q, h, w) weights on the grid of tinct's
    `bin_centres(step, extent)`: bilinear over the four surrounding centres."""
    n = int(round(2 * extent / step)) + 1
    u = ((ab.float() + extent) / step).clamp(0, n - 1 - 1e-4)
    i0 = u.floor().long()
    fr = u - i0
    b, _, h, w = ab.shape
    out = torch.zeros(b, n * n, h, w, dtype=torch.float32, device=ab.device)
    for da in (0, 1):
        wa = fr[:, 0] if da else 1 - fr[:, 0]
        for db in (0, 1):
            wb = fr[:, 1] if db else 1 - fr[:, 1]
            idx = (i0[:, 0] + da) * n + (i0[:, 1] + db)
            out.scatter_add_(1, idx[:, None], (wa * wb)[:, None])
    return out


def rebalance_weights(
    labs: list[torch.Tensor], step: float, extent: float, mix: float = REBALANCE_MIX
) -> torch.Tensor:
    """(Q,) weights inversely proportional to each bin's smoothed frequency in the
    photos (mixed with uniform by `mix`; 1: no rebalancing), averaging 1 over the data."""
    counts = None
    for lab in labs:
        hist = soft_bins(lab[None, 1:, ::4, ::4], step, extent).sum(dim=(0, 2, 3))
        counts = hist if counts is None else counts + hist
    p = counts / counts.sum()
    # A little blur over neighbouring bins, as the frequencies are from few photos.
    n = int(round(2 * extent / step)) + 1
    p = F.avg_pool2d(p.view(1, 1, n, n), 3, 1, 1, count_include_pad=False).view(-1)
    p = p / p.sum()
    w = 1.0 / ((1 - mix) * p + mix / p.numel())
    return w / (w * p).sum()


CELL = 32  # the encoder's coarsest stride: windows are cut on its grid


def encode_photos(prior, labs: list[torch.Tensor], mirror: bool = True, log_every: int = 100):
    """Each (3, H, W) L*a*b* photo (and its mirror image) padded by replication to
    a multiple of CELL and run through the frozen encoder once -> items of
    {"feats": [fp16 features], "ab": (2, H/4, W/4) fp16 truth, "valid": bool mask}."""
    items = []
    for k, lab in enumerate(labs):
        for flip in (False, True) if mirror else (False,):
            x = lab.flip(-1) if flip else lab
            _, h, w = x.shape
            ph, pw = -h % CELL, -w % CELL
            padded = F.pad(x[None], (0, pw, 0, ph), mode="replicate")
            feats = prior.encode(padded[:, :1])
            valid = torch.zeros(1, 1, h + ph, w + pw)
            valid[..., :h, :w] = 1
            items.append(
                {
                    "feats": [f[0].half() for f in feats],
                    "ab": F.avg_pool2d(padded[:, 1:], 4)[0].half(),
                    "valid": F.avg_pool2d(valid, 4)[0, 0] > 0.99,
                }
            )
        if log_every and (k + 1) % log_every == 0:
            print(f"encoded {k + 1}/{len(labs)} photos", flush=True)
    return items


def draw_windows(items: list[dict], n: int, cells: int, rng) -> dict:
    """n random cells x cells windows (in encoder cells of CELL px) of encoded
    photos large enough to hold one: the features at every stride, and the truth."""
    fits = [it for it in items if min(it["feats"][-1].shape[-2:]) >= cells]
    feats, ab, valid = None, [], []
    for _ in range(n):
        it = fits[rng.integers(len(fits))]
        gh, gw = it["feats"][-1].shape[-2:]
        i, j = int(rng.integers(gh - cells + 1)), int(rng.integers(gw - cells + 1))
        cut = []
        for f in it["feats"]:
            r = f.shape[-1] // gw  # cells of this level per encoder cell
            cut.append(f[:, i * r : (i + cells) * r, j * r : (j + cells) * r])
        feats = (
            [[c] for c in cut]
            if feats is None
            else [a + [c] for a, c in zip(feats, cut, strict=True)]
        )
        s = CELL // 4
        ab.append(it["ab"][:, i * s : (i + cells) * s, j * s : (j + cells) * s])
        valid.append(it["valid"][i * s : (i + cells) * s, j * s : (j + cells) * s])
    return {
        "feats": [torch.stack(level) for level in feats],
        "ab": torch.stack(ab),
        "valid": torch.stack(valid),
    }


def window_loss(prior, batch: dict, weights: torch.Tensor) -> torch.Tensor:
    """Cross-entropy (weighted by `weights`, see `rebalance_weights`) between the
    prior's bin logits and the soft-binned true a*b* at stride 4, over the valid
    pixels of a batch of `draw_windows`."""
    device = next(prior.parameters()).device
    logits = prior.decode([f.to(device) for f in batch["feats"]]).float()
    target = soft_bins(
        batch["ab"].to(device).float(), prior.config.bin_step, prior.config.bin_extent
    )
    w = weights.to(device)[target.argmax(1)] * batch["valid"].to(device)
    ce = -(target * F.log_softmax(logits, 1)).sum(1)
    return (w * ce).sum() / w.gt(0).sum().clamp(min=1)
