"""Real Krita and real GIMP 3 (under Xvfb) with the bundled model: where a Colorize's
time goes, from the host's side, against issue 26's targets.

    python benchmarks/bench_hosts.py [--host krita|gimp|both] [--size WxH]
                                     [--slider-size WxH] [--values N] [--interval-ms MS]

Per host, on a gray photo (docs/sample-bw.png resized to --size, ~6 MP):
- cold: Colorize pressed with no backend running, to the result layer on the canvas;
- early: the backend's early start (Krita: the docker shown with the photo open; GIMP:
  the Colorize dialog open), Colorize pressed once it serves;
- warm: Colorize again, the backend warm;
each split into reading + connecting, starting the backend, loading the model, sending
+ queue, each step, the daemon's render + transfer and the host's layer write;
- slider: on a ~4 MP photo (--slider-size), the Colourfulness slider dragged through
  --values values, one every --interval-ms (a value that falls due while the host is
  busy is skipped for the newest, as a hand's drag is); for each value, the time from
  when it fell due to a render of it (or of a later value) being on the layer, p50 and
  p90 (GIMP: or the layer's saturation filter set to it, counted from the value to
  filter.update() and Gimp.displays_flush() returning; Krita: or the layer's filter
  mask set to it, counted to the mask changed and Krita's ``refreshProjection``
  returning, the same point as a written layer's; the canvas's own repaint after that
  is not seen from a plugin); then from the knob's release to the full-resolution result (Krita: the driver
  releases the slider; GIMP: the answering plug-in lets the knob go as the last value is
  set, a GDK button release on the dialog's GtkScale, which asks for the full resolution
  at once instead of after the rest timer).

Every time comes from inside the host: Krita's driver (tests/krita/tinct_krita_selftest/
bench.py) and GIMP's answering plug-in (tests/gimp/tinct-colorize-selftest) read
``time.monotonic()`` there, and the plugins note the phases of a run themselves
(``RunProgress.marks``; Krita's docker also notes each slider render written,
``adjusted_at``). A host that is not installed is skipped with a message. The
backend is this checkout's `python -m tinct serve` with the bundled model, started by
the plugin itself; nothing is downloaded. Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_common import ROOT, photo
from PIL import Image

sys.path.insert(0, str(ROOT / "tests"))  # the real-host tests' helpers

from tinct.protocol.constants import DEFAULT_STEPS  # noqa: E402
from tinct.testing import DaemonHarness, pid_running, serve_command  # noqa: E402

# issue 26's targets, as printed next to the measured numbers
TARGET = {"cold": "<= 8 s", "warm": "<= 3 s", "preview_p90": "<= 150 ms", "full": "<= 1 s"}
SLIDER_FROM, SLIDER_TO = 1.05, 2.0  # the drag: colourfulness up from the result's 1.00


# --- the photos ------------------------------------------------------------------------
def gray_photo(width: int, height: int) -> np.ndarray:
    """docs/sample-bw.png resized to WIDTHxHEIGHT, 8-bit gray (the same every run)."""
    rgb = photo(height, width)
    return np.round(rgb.mean(axis=-1) * 255.0).astype(np.uint8)


def write_bgra(gray: np.ndarray, path: Path) -> str:
    """GRAY as Krita's RGBA/U8 bytes (B, G, R, A) at PATH; returns "PATH:WxH"."""
    h, w = gray.shape
    px = np.empty((h, w, 4), np.uint8)
    px[..., :3] = gray[..., None]
    px[..., 3] = 255
    path.write_bytes(px.tobytes())
    return f"{path}:{w}x{h}"


def write_rgb_png(gray: np.ndarray, path: Path) -> None:
    """GRAY as an RGB PNG (GIMP opens it as an RGB image, as Krita's document is)."""
    Image.fromarray(np.repeat(gray[..., None], 3, axis=-1)).save(path, compress_level=1)


def drag_values(n: int) -> list[float]:
    """The drag's N colourfulness values, evenly from SLIDER_FROM to SLIDER_TO."""
    return [round(v, 2) for v in np.linspace(SLIDER_FROM, SLIDER_TO, n)]


def serve_backend() -> list[str]:
    """This checkout's `python -m tinct serve` with the bundled model and the daemon's own
    thread count (the launcher starts backends without the host's PYTHONPATH)."""
    backend = str(ROOT / "backend")
    serve = serve_command(None, "--idle-timeout", "0", threads=None)
    return ["env", f"PYTHONPATH={backend}", "HF_HUB_OFFLINE=1", *serve]


# --- the hosts -------------------------------------------------------------------------
def run_krita(args, photo6: np.ndarray, photo4: np.ndarray) -> dict | None:
    """Two Krita sessions (cold + warm + slider; early); None when Krita is missing."""
    missing = [t for t in ("krita", "xvfb-run", "xauth") if shutil.which(t) is None]
    if missing:
        print(f"krita: skipped, not installed ({', '.join(missing)} missing; "
              "scripts/install_host_krita.sh installs it)")  # fmt: skip
        return None
    from test_krita_gui import _run_krita_driver

    backend = serve_backend()
    found: dict = {"runs": {}}
    for mode in ("cold", "early"):
        tmp = Path(tempfile.mkdtemp(prefix=f"tinct-bench-krita-{mode}-"))
        try:
            env = {
                "TINCT_BENCH_MODE": mode,
                "TINCT_BENCH_PHOTO": write_bgra(photo6, tmp / "photo.bgra"),
                "TINCT_BENCH_SLIDER_PHOTO": write_bgra(photo4, tmp / "slider.bgra"),
                **(
                    {"TINCT_BENCH_SHOT": str(args.shot.resolve())}
                    if args.shot is not None and mode == "cold"
                    else {}
                ),
                "TINCT_BENCH_DRAG": json.dumps(
                    {
                        "ticks": [round(v * 100) for v in drag_values(args.values)],
                        "interval_ms": args.interval_ms,
                    }
                ),  # fmt: skip
            }
            with contextlib.redirect_stdout(io.StringIO()):  # it prints the whole result
                r = _run_krita_driver(tmp, "bench", backend, **env)
        finally:
            DaemonHarness(tmp / "rt", backend).close()  # the daemon the plugin started
            shutil.rmtree(tmp, ignore_errors=True)
        found["version"] = f"Krita {r['version']}"
        found["runs"].update(r["runs"])
        if mode == "cold":
            found["drag"], found["adjusted"] = r["drag"], r["adjusted"]
            found["release"] = r["release"]
            # the moves the layer's filter mask showed (no render): [scale, called,
            # returned: after the mask changed and refreshProjection]
            found["filtered"] = r.get("masked", [])
        else:
            found["early_start"] = r["serving"] - r["shown"]
    return found


def run_gimp(args, photo6: np.ndarray, photo4: np.ndarray) -> dict | None:
    """One GIMP session (cold, early, warm, slider); None when GIMP 3 is missing."""
    from test_gimp_host import CHROOT, find_gimp

    if find_gimp() is None:
        print(f"gimp: skipped, GIMP 3 is not installed (no gimp-console-3.0, no chroot at "
              f"{CHROOT}); `bash scripts/install_host_gimp.sh` as root installs it")  # fmt: skip
        return None
    from test_gimp_gui import gimp_folder, host_backend, run_gimp_walk, walk_env, write_walk

    root, work, inner = gimp_folder("tinct-bench-gimp-")
    try:
        for sub in ("tmp", "host", "rt"):
            (work / sub).mkdir()
        write_rgb_png(photo6, work / "photo.png")
        write_rgb_png(photo4, work / "slider.png")
        write_walk(work, ROOT / "tests" / "gimp" / "bench_walk.py")
        # the plug-in starts the backend from inside the chroot: the command re-enters
        # this system's root (bound at WORK/host for the run) and runs it there
        backend = host_backend(root, inner, work, " ".join(serve_backend()))
        env = walk_env(
            inner,
            backend,
            TINCT_BENCH_PHOTO=str(inner / "photo.png"),
            TINCT_BENCH_SLIDER_PHOTO=str(inner / "slider.png"),
            TINCT_BENCH_DRAG=json.dumps(
                {
                    "values": drag_values(args.values),
                    "interval_ms": args.interval_ms,
                    "release": True,  # the knob let go as the last value is set
                }
            ),
        )
        r, out = run_gimp_walk(root, inner, work, env, 900, bind_host=True)
    finally:
        rt = work / "rt"
        if (rt / "started.pids").exists():
            for pid in (rt / "started.pids").read_text().split():
                if pid_running(int(pid)):
                    os.kill(int(pid), signal.SIGKILL)
        bound = work / "host"  # bound in the run's own mount namespace only
        if bound.is_dir() and (os.path.ismount(bound) or any(bound.iterdir())):
            raise RuntimeError(f"{bound} is not an empty folder: left in place, not removed")
        shutil.rmtree(work, ignore_errors=True)
    if not r.get("ok"):
        print(f"gimp: the run failed:\n{r.get('error')}\n{out[-2000:]}")
        return None
    slider = r["runs"]["slider"]["drag"]
    found = {"version": f"GIMP {r['version']}", "runs": r["runs"]}
    found["drag"] = {"due": slider["due"], "set": slider["set"]}
    # [scale, final, started, the daemon's layer in (and upscaled), written and shown]
    found["adjusted"] = [r[:5] for r in slider["renders"]]
    found["release"] = slider["released"]  # the knob let go
    # the moves the layer's saturation filter showed (no render): [scale, shown, called,
    # returned: after filter.update() and Gimp.displays_flush()]
    found["filtered"] = [[f[0], f[2], f[3]] for f in slider.get("filters", []) if f[1]]
    early = r["runs"]["early"]["timing"]
    found["early_start"] = early["serving"] - early["dialog"]
    for run in r["runs"].values():  # GIMP's "press" is OK in the first dialog
        run["press"] = run["timing"]["ok"]
    return found


# --- what the times say ----------------------------------------------------------------
def phases(run: dict) -> list[tuple[str, float]]:
    """A run's marks as (phase, seconds) from the press to the layer written."""
    marks = run["marks"]
    at = {}
    for what, t in marks:
        at.setdefault(what, t)
    steps = sorted((int(w.split()[1]), t) for w, t in marks if w.startswith("step "))
    start = at.get("starting") or at.get("loading") or at["connected"]
    out = [("read + connect", start - run["press"])]
    if "starting" in at:
        out.append(("start backend", at.get("loading", at["connected"]) - at["starting"]))
    if "loading" in at:
        out.append(("load model", at["connected"] - at["loading"]))
    began = at.get("started") or (steps[0][1] if steps else at["writing"])
    out.append(("send + queue", began - at["connected"]))
    prev = began
    for k, t in steps:
        out.append((f"step {k}", t - prev))
        prev = t
    out.append(("render + transfer", at["writing"] - prev))
    out.append(("host layer write", at["written"] - at["writing"]))
    out.append(("first result (total)", at["written"] - run["press"]))
    return out


def drag_latency(found: dict) -> tuple[list[float], int, float]:
    """(per value: seconds from when it fell due to a render of it or a later value on
    the layer; renders shown while dragging; release to the full-resolution result).
    ``found["adjusted"]``: [scale, final, ..., on the layer] per render."""
    due = found["drag"]["due"]
    values = drag_values(len(due))
    shown = sorted([(a[-1], a[0]) for a in found["adjusted"]]
                   + [(f[2], f[0]) for f in found.get("filtered", [])])  # fmt: skip
    late = []
    for v, t in zip(values, due, strict=True):
        hit = [ts for ts, s in shown if ts >= t and s >= v - 1e-6]
        late.append(hit[0] - t if hit else float("nan"))
    release = found["release"]
    during = sum(1 for a in found["adjusted"] if not a[1]) + len(found.get("filtered", []))
    final = [a[-1] for a in found["adjusted"] if a[1] and a[-1] >= release]
    return late, during, (final[0] - release) if final else float("nan")


def render_split(name: str, found: dict) -> str:
    """Where one slider render's time goes (medians over the drag's renders)."""
    kinds = {"preview": [a for a in found["adjusted"] if not a[1]],
             "full": [a for a in found["adjusted"] if a[1]]}  # fmt: skip
    parts = []
    for kind, renders in kinds.items():
        if not renders:
            continue
        med = np.median(np.asarray([a[2:] for a in renders], float), axis=0)
        if name == "krita":  # began, write began, written
            parts.append(f"{kind}: daemon + upscale {med[1] - med[0]:.3f} s, host layer "
                         f"write {med[2] - med[1]:.3f} s")  # fmt: skip
        else:  # began, the daemon's layer in (a preview: and upscaled), written and shown
            daemon = "rescale + transfer + upscale" if kind == "preview" else "apply + transfer"
            parts.append(f"{kind}: daemon {daemon} {med[1] - med[0]:.3f} s, host layer "
                         f"write + flush {med[2] - med[1]:.3f} s")  # fmt: skip
    filtered = found.get("filtered", [])
    if filtered:
        med = np.median([f[2] - f[1] for f in filtered])
        what = ("filter mask moves: {}, mask change + refreshProjection" if name == "krita"
                else "saturation filter moves: {}, filter.update() + displays_flush()")  # fmt: skip
        parts.append(f"{what.format(len(filtered))} {1000 * med:.1f} ms median, "
                     f"{1000 * max(f[2] - f[1] for f in filtered):.0f} ms max")  # fmt: skip
    return f"one slider render, median of {len(found['adjusted'])}: " + "; ".join(parts)


def report(name: str, found: dict, args, load_before: str) -> None:
    """Print one host's phases, early start and slider against the targets."""
    print(f"\n== {found['version']}: photo {args.size} ({mp(args.size)}), slider photo "
          f"{args.slider_size} ({mp(args.slider_size)}), {DEFAULT_STEPS} steps ==")  # fmt: skip
    print(f"load average before: {load_before}; after: {load_average()}")
    runs = [k for k in ("cold", "early", "warm") if k in found["runs"]]
    table = {k: dict(phases(found["runs"][k])) for k in runs}
    rows = list(dict.fromkeys(p for k in runs for p, _s in phases(found["runs"][k])))
    print(f"{'phase (s)':<24}" + "".join(f"{k:>9}" for k in runs))
    for row in rows:
        cells = "".join(f"{table[k][row]:9.2f}" if row in table[k] else f"{'-':>9}" for k in runs)
        print(f"{row:<24}{cells}")
    when = "docker shown" if name == "krita" else "dialog opened"
    print(f"early start: {when} -> backend serving {found['early_start']:.2f} s "
          "(before Colorize was pressed)")  # fmt: skip
    cold, warm = table["cold"]["first result (total)"], table["warm"]["first result (total)"]
    early = table["early"]["first result (total)"]
    late, during, full = drag_latency(found)
    p50, p90 = (np.nanpercentile(late, q) * 1000 for q in (50, 90))
    print(f"{'':<44}{'measured':>12}{'target':>12}")
    print(f"{'cold first result (no backend at Colorize)':<44}{cold:11.2f}s{TARGET['cold']:>12}")
    print(f"{'cold first result (backend started early)':<44}{early:11.2f}s{TARGET['cold']:>12}")
    print(f"{'warm first result':<44}{warm:11.2f}s{TARGET['warm']:>12}")
    print(f"{'slider preview p50 (4 MP)':<44}{p50:10.0f}ms{'':>12}")
    print(f"{'slider preview p90 (4 MP)':<44}{p90:10.0f}ms{TARGET['preview_p90']:>12}")
    print(f"{'full resolution after release':<44}{full:11.2f}s{TARGET['full']:>12}")
    print(f"drag: {len(late)} values, one every {args.interval_ms} ms; {during} previews "
          "reached the layer; full resolution timed from the knob's release")  # fmt: skip
    if found.get("filtered") and name == "krita":
        print("(Krita: a value the layer's filter mask showed counts as on the layer once "
              "the mask changed and refreshProjection returned, as a written layer does; "
              "Krita's canvas repaints after that, unmeasured here)")  # fmt: skip
    elif found.get("filtered"):
        print("(GIMP: a value the layer's saturation filter showed counts as on the layer "
              "once filter.update() and Gimp.displays_flush() returned to the plug-in; "
              "GIMP's canvas repaints its tiles after that, unmeasured here)")  # fmt: skip
    print("per value (ms): " + " ".join(f"{x * 1000:.0f}" for x in late))
    print(render_split(name, found))


def mp(size: str) -> str:
    """The size "WxH" in megapixels, for the heading."""
    w, h = (int(v) for v in size.split("x"))
    return f"{w * h / 1e6:.1f} MP"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (other work on the machine skews times)."""
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def size(text: str) -> str:
    """An argparse type: "WxH" with both sides at least 16 pixels."""
    w, h = text.lower().split("x")
    if int(w) < 16 or int(h) < 16:
        raise argparse.ArgumentTypeError(f"--size {text!r}: both sides must be >= 16 pixels")
    return f"{int(w)}x{int(h)}"


def main() -> None:
    """Parse the options, make the photos, run and report each host."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", choices=("krita", "gimp", "both"), default="both")
    ap.add_argument("--size", type=size, default="3000x2000", help="the photo (~6 MP)")
    ap.add_argument("--slider-size", type=size, default="2450x1630", help="~4 MP")
    ap.add_argument("--values", type=int, default=20, help="slider values in the drag")
    ap.add_argument("--interval-ms", type=int, default=50, help="between two slider values")
    ap.add_argument("--dump", type=Path, default=None, help="write each host's times (JSON)")
    ap.add_argument("--shot", type=Path, default=None,
                    help="Krita: a PNG of the window after the drag, the knob held down")  # fmt: skip
    args = ap.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"  # the bundled model only, never a download
    w, h = (int(v) for v in args.size.split("x"))
    sw, sh = (int(v) for v in args.slider_size.split("x"))
    photo6, photo4 = gray_photo(w, h), gray_photo(sw, sh)
    hosts = ("krita", "gimp") if args.host == "both" else (args.host,)
    for name in hosts:
        load_before = load_average()
        t0 = time.monotonic()
        run = run_krita if name == "krita" else run_gimp
        found = run(args, photo6, photo4)
        if found is not None:
            report(name, found, args, load_before)
            if args.dump is not None:
                args.dump.with_suffix(f".{name}.json").write_text(json.dumps(found, indent=1))
            print(f"({name}: the whole run took {time.monotonic() - t0:.0f} s)")


if __name__ == "__main__":
    main()
