"""The daemon's compute side: worker threads and the colorize / rescale / apply jobs.

Workers never touch the ROUTER socket (zmq sockets are not thread-safe): each
sends its replies over its own inproc PUSH socket to the socket loop, which
forwards them. Big pixel frames travel zero-copy all the way.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import traceback
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import zmq

from tinct.color.compose import PaintedPixels
from tinct.protocol.constants import (
    DEFAULT_GUIDANCE,
    DEFAULT_PREVIEW_SIDE,
    DEFAULT_STEPS,
    E_BAD_PIXELS,
    E_CANCELLED,
    E_INTERNAL,
    E_UNKNOWN_JOB,
    MAX_SCALE,
    MIN_SCALE,
    Op,
    Reply,
)
from tinct.protocol.messages import encode_header, error_reply, make_reply
from tinct.protocol.transport import ZERO_COPY_MIN
from tinct.server.cache import CachedJob, JobCache
from tinct.server.frames import (
    count_nonfinite,
    fit_size,
    reduce_frame,
    reduce_hints,
    reference_photo,
    small_source,
    to_rgba_float,
    with_rgb,
)
from tinct.server.jobs import FairQueue, Job, JobCancelled
from tinct.server.render import render_layer

log = logging.getLogger("tinct.server")

# Frames bigger than this are box-reduced (by an integer factor) before the model
# and the preview see them: several times the model's working size, a fraction of 24 MP.
REDUCED_PIXELS = 1 << 20
# Previews (the colorize preview, slider rescales) decode latents reduced this much:
# a 4x cheaper decode; the result (colorize, apply) always decodes at full work size.
PREVIEW_DECODE_REDUCE = 2
# A rescale interpolates between the colour decoded at fixed scale nodes, kept with the job
# (TinctPipeline.model_chroma): a slider move whose two nodes are there costs no VAE decode.
# So that a drag finds them there, an idle worker decodes the nodes of the job the slider
# last touched one at a time (`Compute.warm_one`): the preview's pair around the slider's
# last value, then the full-size pair there (what a release, or GIMP's rest, asks for
# next), then the preview's other nodes over the slider's range, nearest first. The colorize
# lane's worker does it, and only once no rescale or apply has run for WARM_QUIET seconds,
# so it never takes a core from a drag in progress.
WARM_QUIET = 0.3


class Outgoing(NamedTuple):
    """A reply ready to go to a job's client: its header and its pixel frames."""

    header: dict
    frames: tuple = ()


class JobFailed(Exception):
    """A job cannot be done: `code` is the protocol's error code, `message` the sentence for the
    user.
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Defaults:
    """What a request that leaves them out gets: denoising steps, guidance scale and the preview's
    longer side (pixels).
    """

    steps: int = DEFAULT_STEPS
    guidance: float = DEFAULT_GUIDANCE
    preview_side: int = DEFAULT_PREVIEW_SIDE


class Emitter:
    """Sends one job's replies to the socket loop (one per worker thread)."""

    def __init__(self, ctx: zmq.Context, endpoint: str):
        self.sock = ctx.socket(zmq.PUSH)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(endpoint)

    def __call__(self, job: Job, header: dict, frames: tuple = ()) -> None:
        parts = [job.client, encode_header(header), *frames]
        last = len(parts) - 1
        for i, p in enumerate(parts):
            big = isinstance(p, np.ndarray) or memoryview(p).nbytes >= ZERO_COPY_MIN
            self.sock.send(p, zmq.SNDMORE if i < last else 0, copy=not big)

    def close(self) -> None:
        """Close the PUSH socket at once (no linger)."""
        self.sock.close(0)


class Compute:
    """Runs jobs on the loaded pipeline; one instance shared by the worker threads."""

    def __init__(self, pipe, cache: JobCache, defaults: Defaults, workers: int = 1):
        self.pipe = pipe
        self.workers = workers  # threads per render (row bands in parallel)
        self.cache = cache
        self.defaults = defaults
        self.finished = 0
        # (job id, scale) the slider last asked for, whose scale nodes an idle worker decodes
        self._warm: tuple[str, float] | None = None
        self._warm_lock = threading.Lock()
        self._interactive = 0  # rescale and apply jobs running now
        self._interactive_at = 0.0  # when the last one started or ended (time.monotonic)

    def run(self, job: Job, emit) -> Outgoing:
        """Run a job; interim replies go through ``emit``, the final one is returned."""
        handler = {Op.COLORIZE: self.colorize, Op.RESCALE: self.rescale, Op.APPLY: self.apply}[
            job.op
        ]
        if job.op == Op.COLORIZE:
            return handler(job, emit)
        with self._warm_lock:
            self._interactive += 1
            self._interactive_at = time.monotonic()
        try:
            return handler(job, emit)
        finally:
            with self._warm_lock:
                self._interactive -= 1
                self._interactive_at = time.monotonic()

    # --- warming the slider's scale nodes ------------------------------------
    def slider_at(self, job_id: str, scale: float) -> None:
        """The slider of `job_id` is at `scale` now: warm its nodes around there."""
        with self._warm_lock:
            self._warm = (job_id, float(scale))

    def warm_one(self) -> bool:
        """Decode one scale node the slider's next move or release will likely need (see
        `PREVIEW_DECODE_REDUCE`'s note); False when there is none left to decode."""
        with self._warm_lock:
            target = self._warm
            if self._interactive or time.monotonic() - self._interactive_at < WARM_QUIET:
                return False  # a drag goes on: leave it the cores
        entry = None if target is None else self.cache.get(target[0])
        missing = getattr(self.pipe, "missing_nodes", None)
        if entry is None or missing is None:
            with self._warm_lock:
                if self._warm == target:
                    self._warm = None
            return False
        latents, scale = entry.latents, target[1]
        step = self.pipe.scale_node_step
        low = math.floor(scale / step + 1e-6) * step if math.isfinite(step) else 0.0
        preview = missing(latents, scale, PREVIEW_DECODE_REDUCE, MIN_SCALE, MAX_SCALE)
        pair = [s for s in preview if low - 1e-6 <= s <= low + step + 1e-6]
        # the preview's pair (a drag going on), the full-size pair (the release), the rest
        todo = (
            [(PREVIEW_DECODE_REDUCE, s) for s in pair]
            + [(1, s) for s in missing(latents, scale, 1, low, low + step)]
            + [(PREVIEW_DECODE_REDUCE, s) for s in preview if s not in pair]
        )
        if not todo:
            with self._warm_lock:
                if self._warm == target:
                    self._warm = None
            return False
        reduce, node = todo[0]
        self.pipe.model_chroma(latents, node, reduce)
        self.cache.grew(entry)
        return True

    # --- colorize ----------------------------------------------------------
    def colorize(self, job: Job, emit) -> Outgoing:
        """Run a colorize job: progress replies per denoising step (a cancel stops it between
        steps), a preview at `preview_side`, then the full-resolution colour layer at the
        requested scale in the source's dtype and order. The job is cached for rescale
        and apply. A "seed" other than 0 draws that variation from the chroma prior's
        distribution when the model has one (hello's "variations" feature); otherwise the
        seed is ignored and the reply's "seed" is 0, the model's own colouring.
        """
        req, p = job.request, job.request.params
        fmt, frame = req.image, req.frames[0]
        steps = p["steps"] or self.defaults.steps
        guidance = self.defaults.guidance if p["guidance"] is None else p["guidance"]
        side = self.defaults.preview_side if p["preview_side"] is None else p["preview_side"]
        seed = (p["seed"] or 0) if getattr(self.pipe, "draws_variations", False) else 0

        # 1. Pixels in: one box-reduction of the frame (~1 MP) feeds the model and the
        #    preview; only the final render reads the full-resolution pixels again.
        marks = {"start": time.perf_counter()}
        for name, f, ffmt in described_frames(req):
            bad = count_nonfinite(f, ffmt)
            if bad:  # one NaN would spread through every filter and blacken the result
                raise JobFailed(
                    E_BAD_PIXELS,
                    f"the {name} frame has {bad} NaN or infinite samples; send finite pixel values",
                )
        factor = max(1, int(math.sqrt(fmt.width * fmt.height / REDUCED_PIXELS)))
        reduced = reduce_frame(frame, fmt, factor)
        image = np.ascontiguousarray(with_rgb(reduced)[..., :3])
        hints = painted = None
        if req.hints is not None:
            full_hints = to_rgba_float(req.frames[1], req.hints)
            hints = reduce_hints(full_hints, *image.shape[:2])
            # the painted pixels, kept exactly in the full-resolution layer
            painted = PaintedPixels.from_hints(full_hints)
            del full_hints
        reference = None
        if req.reference is not None:
            try:
                reference = reference_photo(req.frames[-1], req.reference)
            except ValueError as exc:
                raise JobFailed(E_BAD_PIXELS, str(exc)) from exc

        # 2. Denoise, reporting every step; cancel by raising from the callback.
        def on_step(step: int, total: int) -> None:
            if job.cancelled.is_set():
                raise JobCancelled()
            emit(
                job, make_reply(Reply.PROGRESS, job.request_id, job=job.id, step=step, total=total)
            )

        from tinct.pipeline.pipeline_tinct import seed_generator

        marks["pixels_in"] = time.perf_counter()
        latents = self.pipe.predict(
            image,
            prompt=p["prompt"],
            hints=hints,
            num_inference_steps=steps,
            guidance_scale=guidance,
            callback=on_step,
            reference=reference,
            generator=seed_generator(seed),
            painted=painted,
        )
        del hints, reference, painted
        self._check(job)
        marks["predict"] = time.perf_counter()
        scale = float(p["scale"])

        # 3. Preview: the same render at low resolution (keeps the input's luma), sent first.
        small = None
        if side > 0:
            small = small_source(
                frame, fmt, *fit_size(fmt.width, fmt.height, side), reduced=reduced
            )
            layer, lfmt = self._render_small(latents, small, scale, "u8", fmt.order)
            emit(
                job,
                make_reply(
                    Reply.PREVIEW, job.request_id, job=job.id, scale=scale, layer=lfmt.to_json()
                ),
                (layer,),
            )
            del layer
        del image, reduced  # the full-resolution render reads the frame band by band
        self._check(job)

        # 4. Full resolution: the input's luma with the model's chroma, the input's alpha.
        marks["preview"] = time.perf_counter()
        out, ofmt = render_layer(
            self.pipe,
            frame,
            fmt,
            latents,
            scale,
            workers=self.workers,
            check=lambda: self._check(job),
        )
        marks["render"] = time.perf_counter()
        self._check(job)

        marks["compose"] = time.perf_counter()
        names = list(marks)
        timings = {b: round(marks[b] - marks[a], 4) for a, b in zip(names, names[1:], strict=False)}

        # 5. Cache what rescale/apply need, then answer.
        # The colour decoded at scale nodes is counted apart (it grows with rescales).
        held = _nbytes(latents) - getattr(latents, "decoded_nbytes", 0)
        entry = CachedJob(job.id, latents, frame, fmt, held)
        if small is not None:
            entry.small[(small[1].width, small[1].height)] = small
        self.cache.put(entry)
        self.slider_at(job.id, scale)
        self.finished += 1
        return Outgoing(
            make_reply(
                Reply.RESULT,
                job.request_id,
                job=job.id,
                scale=scale,
                steps=steps,
                seed=seed,
                layer=ofmt.to_json(),
                seconds=round(time.monotonic() - (job.started_at or job.queued_at), 4),
                timings=timings,
                seq=self.finished,
            ),
            (out,),
        )

    # --- rescale / apply -----------------------------------------------------
    def _entry(self, job: Job) -> CachedJob:
        entry = self.cache.get(job.request.params["job"])
        if entry is None:
            raise JobFailed(
                E_UNKNOWN_JOB,
                f"job {job.request.params['job']!r} is not in the daemon's cache (unknown, or evicted); "
                "colorize again",
            )
        return entry

    def rescale(self, job: Job, emit) -> Outgoing:
        """The cached job's colour layer at another scale, resized to the requested size (default:
        the preview size); no U-Net.
        """
        p = job.request.params
        entry = self._entry(job)
        fmt = entry.source_format
        scale = float(p["scale"])
        size = (
            tuple(p["size"])
            if p["size"]
            else fit_size(fmt.width, fmt.height, self.defaults.preview_side)
        )
        small = entry.small.get(size)
        if small is None:
            small = small_source(entry.source, fmt, *size)
            self.cache.touch_small(entry, size, small)
        layer, lfmt = self._render_small(entry.latents, small, scale, p["dtype"], fmt.order)
        self.cache.grew(entry)
        self.slider_at(entry.job_id, scale)
        return self._layer_reply(job, entry, scale, layer, lfmt)

    def apply(self, job: Job, emit) -> Outgoing:
        """The cached job's full-resolution colour layer at `scale`, in the source's dtype and
        channel order; no U-Net.
        """
        p = job.request.params
        entry = self._entry(job)
        fmt = entry.source_format
        scale = float(p["scale"])
        out, ofmt = render_layer(
            self.pipe,
            entry.source,
            fmt,
            entry.latents,
            scale,
            workers=self.workers,
            check=lambda: self._check(job),
        )
        self.cache.grew(entry)
        self.slider_at(entry.job_id, scale)
        return self._layer_reply(job, entry, scale, out, ofmt)

    @staticmethod
    def _layer_reply(job: Job, entry, scale: float, layer, fmt) -> Outgoing:
        """The result reply of rescale and apply: a job's layer at one scale."""
        reply = make_reply(
            Reply.RESULT,
            job.request_id,
            job=entry.job_id,
            scale=scale,
            layer=fmt.to_json(),
        )
        return Outgoing(reply, (layer,))

    def _render_small(self, latents, small, scale: float, dtype: str, order: str):
        arr, sfmt = small
        return render_layer(
            self.pipe,
            arr,
            sfmt,
            latents,
            scale,
            dtype=dtype,
            order=order,
            workers=self.workers,
            reduce=PREVIEW_DECODE_REDUCE,
        )

    @staticmethod
    def _check(job: Job) -> None:
        if job.cancelled.is_set():
            raise JobCancelled()


def described_frames(req) -> list[tuple[str, object, object]]:
    """(name, frame, format) of a colorize request's pixel frames, in wire order: the
    image, then the hints if described, then the reference if described."""
    described = [("image", req.image), ("hints", req.hints), ("reference", req.reference)]
    named = [(name, fmt) for name, fmt in described if fmt is not None]
    return [(name, f, fmt) for (name, fmt), f in zip(named, req.frames, strict=True)]


class Worker(threading.Thread):
    """Takes jobs from one FairQueue and runs them; ``current`` is the running job."""

    def __init__(
        self,
        name: str,
        queue: FairQueue,
        compute: Compute,
        ctx: zmq.Context,
        endpoint: str,
        warms: bool = False,
    ):
        super().__init__(name=name, daemon=True)
        self.warms = warms  # decodes the slider's scale nodes while its queue is empty
        self.queue = queue
        self.compute = compute
        self.ctx = ctx
        self.endpoint = endpoint
        self.stopping = threading.Event()
        self.current: Job | None = None

    def run(self) -> None:
        """Take jobs from the queue until stopped, run each under torch.inference_mode and send its
        final reply (an error reply when it fails or is cancelled).
        """
        import torch

        emit = Emitter(self.ctx, self.endpoint)
        try:
            with torch.inference_mode():  # grad mode is per thread
                warming = False
                while not self.stopping.is_set():
                    job = self.queue.get(timeout=0.0 if warming else 0.2)
                    if job is None:
                        warming = self.warms and self._warm_one()
                        continue
                    self.current = job
                    job.started_at = time.monotonic()
                    final: Outgoing
                    try:
                        if job.cancelled.is_set():
                            raise JobCancelled()
                        if job.op == Op.COLORIZE:  # out of the queue: "Queued" is over
                            emit(job, make_reply(Reply.STARTED, job.request_id, job=job.id))
                        final = self.compute.run(job, emit)
                    except JobCancelled:
                        msg = f"job {job.id} was cancelled"
                        final = Outgoing(error_reply(E_CANCELLED, msg, job.request_id, job=job.id))
                    except JobFailed as exc:
                        final = Outgoing(
                            error_reply(exc.code, exc.message, job.request_id, job=job.id)
                        )
                    except Exception as exc:  # the daemon must survive any job
                        log.error("job %s (%s) failed:\n%s", job.id, job.op, traceback.format_exc())
                        msg = f"{job.op} failed: {type(exc).__name__}: {exc}"
                        final = Outgoing(error_reply(E_INTERNAL, msg, job.request_id, job=job.id))
                    # Not running any more before the client hears so (status stays consistent).
                    self.current = None
                    self.queue.done()
                    emit(job, final.header, final.frames)
                    del job, final
        finally:
            emit.close()

    def _warm_one(self) -> bool:
        """One scale node decoded while idle (Compute.warm_one); a failure is logged and
        ends the warming, never the worker."""
        try:
            return self.compute.warm_one()
        except Exception:
            log.error("warming the slider's scale nodes failed:\n%s", traceback.format_exc())
            self.compute.slider_at("", 0.0)  # an unknown job: nothing more to warm
            return False


def _nbytes(obj: object, _depth: int = 0) -> int:
    """Bytes held by the tensors/arrays inside a ColorLatents-like object."""
    if _depth > 3 or obj is None:
        return 0
    if hasattr(obj, "element_size") and hasattr(obj, "nelement"):
        return int(obj.element_size() * obj.nelement())
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    if isinstance(obj, (list, tuple)):
        return sum(_nbytes(x, _depth + 1) for x in obj)
    if isinstance(obj, dict):
        return sum(_nbytes(x, _depth + 1) for x in obj.values())
    if hasattr(obj, "__dict__"):
        return sum(_nbytes(x, _depth + 1) for x in vars(obj).values())
    return 0
