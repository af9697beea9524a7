"""The GIMP 3 plug-in in real GIMP 3 (batch mode) against a real daemon with the tiny model.

GIMP 3 is native on Debian 13; on Debian 12 it lives in the trixie chroot that
scripts/install_host_gimp.sh builds. Inside the chroot GIMP reaches the host's
daemon on 127.0.0.1 (shared network); the plug-in, its HOME and the daemon's
runtime dir sit in a temp dir under the chroot's /tmp, so the host and GIMP see
the same files without bind mounts. /proc and /dev/shm are mounted in a private
mount namespace (unshare), so they disappear with GIMP, even if it is killed.

One GIMP run executes every case (tests/gimp/run_cases.py records, pytest checks),
once against the staged plug-in and once against the copy the bundle's
`tinct-backend install` put into HOME (see the gimp_run fixture). Interactive cases
run through a test-only plug-in installed next to it (``install_selftest_plugin``):
the shipped procedure's declaration and run, with dialogs that answer themselves.
A missing GIMP is a skip locally and a failure when CI=true.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from bundled_backend import install_with_bundle, require_bundle

from tinct import color
from tinct.install.gimp import stage_gimp
from tinct.protocol import constants as C
from tinct.protocol.connection import read_connection_file
from tinct.protocol.layers import is_result_name, result_layer_name
from tinct.testing import DaemonHarness, lstar, make_image, save_tiny_model, serve_command

pytestmark = [pytest.mark.host, pytest.mark.slow]

CHROOT = Path(os.environ.get("TINCT_GIMP_CHROOT", "/var/cache/tinct/gimp-chroot"))
CASES_SCRIPT = Path(__file__).parent / "gimp" / "run_cases.py"
SELFTEST_PLUGIN = Path(__file__).parent / "gimp" / "tinct-colorize-selftest"  # never shipped
SHOTS = Path(__file__).parent.parent / "out" / "screenshots"
GIMP_TIMEOUT = 240  # seconds for the whole batch run (first start in a fresh HOME ~8 s)
MAX_PIXELS = 20_000  # the daemon's limit, so one case can trip a backend error
NP = {"u8": np.uint8, "u16": np.uint16, "f32": np.float32}
# Flattened L* vs the source's: LCh Color keeps the backdrop's L*, up to rounding and
# gamut clipping of the new chroma.
MAX_L_MEAN = {"u8": 1.0, "u16": 0.5, "f32": 0.5}
MAX_L_P99 = {"u8": 3.0, "u16": 2.0, "f32": 2.0}


def find_gimp() -> tuple[str, Path | None] | None:
    if shutil.which("gimp-console-3.0") and shutil.which("xvfb-run"):
        return "native", None
    if (
        (CHROOT / "usr/bin/gimp-console-3.0").exists()
        and (CHROOT / "usr/bin/xvfb-run").exists()
        and os.geteuid() == 0
        and shutil.which("unshare")
    ):
        return "chroot", CHROOT
    return None


def install_selftest_plugin(plug_ins: Path) -> None:
    """Put the test-only plug-in (plug-in-tinct-colorize-selftest) next to the installed
    tinct-colorize in PLUG_INS: it imports that plug-in's tinct_gimp from there."""
    dest = plug_ins / SELFTEST_PLUGIN.name
    shutil.copytree(SELFTEST_PLUGIN, dest, ignore=shutil.ignore_patterns("__pycache__"))
    (dest / f"{SELFTEST_PLUGIN.name}.py").chmod(0o755)


def gray_source(width: int, height: int, dtype: str, seed: int) -> np.ndarray:
    """An opaque black-and-white picture stored as RGBA (what a scanned photo looks like)."""
    g = color.to_float(make_image(width, height, 1, "f32", seed=seed))[..., 0]
    f = np.stack([g, g, g, np.ones_like(g)], axis=-1)
    return np.ascontiguousarray(color.from_float(f, NP[dtype]))


def hint_strokes(width: int, height: int) -> np.ndarray:
    h = np.zeros((height, width, 4), np.uint8)
    h[2:12, 2:14] = (255, 0, 0, 255)
    h[14:22, 10:24] = (0, 0, 255, 255)
    return h


CASES = {
    # name: (width, height, dtype, selection [x, y, w, h], hints rect, args)
    "u8": (64, 48, "u8", None, None, {"steps": 2, "scale": 1.0}),
    "u8_sel": (64, 48, "u8", [8, 6, 30, 20], None, {"steps": 2}),
    "u16": (56, 40, "u16", None, None, {"steps": 2}),
    "u16_sel": (56, 40, "u16", [20, 4, 30, 30], None, {"steps": 2, "prompt": "a car"}),
    "f32": (48, 40, "f32", None, None, {"steps": 2, "scale": 1.5}),
    "f32_sel": (48, 40, "f32", [0, 10, 48, 12], None, {"steps": 2}),
    # hint layer "Tinct hints" (picked by name), smaller than the image and offset
    "u8_hints": (
        64,
        48,
        "u8",
        None,
        [10, 8, 30, 24],
        {"steps": 2, "scale": 1.0},
    ),
    # the same strokes on a layer named "Strokes", passed as the hint-layer argument
    "u8_hint_arg": (
        64,
        48,
        "u8",
        None,
        [10, 8, 30, 24],
        {"steps": 2, "scale": 1.0},
    ),
    # a source smaller than the image, offset, with a selection partly outside it
    "u8_offset": (64, 48, "u8", [4, 20, 30, 40], None, {"steps": 2}),
    # interactive runs: the dialogs answer themselves (the test-only plug-in, reading
    # TINCT_GIMP_SELFTEST) under Xvfb;
    # the strength slider moves 1.0 -> 0.5 -> 2.0 live, then OK (kept) or Cancel (back to 1.0)
    "ui_ok": (40, 30, "u8", None, None, {"steps": 2, "scale": 1.0}),
    "ui_cancel": (40, 30, "u8", None, None, {"steps": 2, "scale": 1.0}),
    "ui_ref1": (40, 30, "u8", None, None, {"steps": 2, "scale": 1.0}),
    "ui_ref2": (40, 30, "u8", None, None, {"steps": 2, "scale": 2.0}),
    # Grayscale images: converted to RGB (precision kept) with the result
    "gray": (32, 24, "u8", None, None, {"steps": 1}),
    "gray_u16": (40, 30, "u16", None, None, {"steps": 2, "scale": 1.0}),
    # a rerun on the same source replaces the first result
    "rerun": (40, 30, "u8", None, None, {"steps": 2, "scale": 1.0}),
    # Tinct Paint Hints, strokes on its layer, then Colorize run with that layer selected
    "paint_hints": (
        64,
        48,
        "u8",
        None,
        [10, 8, 30, 24],
        {"steps": 2, "scale": 1.0},
    ),  # fmt: skip
    # interactive, Cancel pressed in the progress window while the job runs
    "ui_cancel_job": (140, 140, "u8", None, None, {"steps": 2}),
    # refused by the daemon (over --max-pixels): a backend error as a procedure error
    "too_large": (160, 160, "u8", None, None, {"steps": 1}),
    # the reference-layer argument: a layer of a second image, a blue photo of another
    # size (compared with "u8", the same source and arguments without it); then a gray one
    "u8_ref": (64, 48, "u8", None, None, {"steps": 2, "scale": 1.0}),
    "u8_ref_gray": (64, 48, "u8", None, None, {"steps": 2, "scale": 1.0}),
}
REFERENCES = {"u8_ref": ("colour photo", (0.35, 0.6, 1.0)), "u8_ref_gray": ("gray copy", (1, 1, 1))}
REFERENCE_SIZE = (96, 80)  # under the daemon's MAX_PIXELS


# What the self-test "types" into the first dialog (interactive runs take GIMP's
# last-used values, not the caller's), then the slider moves and the answer.
_TYPED = {"scale": 1.0, "steps": 2}
INTERACTIVE = {
    "ui_ok": {"set": _TYPED, "scales": [0.5, 2.0], "accept": True, "hint": "(no hints)"},
    "ui_cancel": {"set": _TYPED, "scales": [0.5, 2.0], "accept": False},
    "ui_cancel_job": {"set": {**_TYPED, "steps": 200}, "cancel_at_step": 1},
}
RERUN = {"rerun": {"steps": 2, "scale": 2.0, "prompt": "blue sky"}}
GRAY = ("gray", "gray_u16")
# Cases compared with each other get the same picture.
SOURCE_SEED = {"ui_ok": 9, "ui_cancel": 9, "ui_ref1": 9, "ui_ref2": 9}
SOURCE_SEED.update({"u8": 2, "u8_hints": 2, "u8_hint_arg": 2, "paint_hints": 2, "u8_ref": 2})
# Source layer rectangles [x, y, width, height] other than the whole image.
LAYER_RECTS = {"u8_offset": [12, 10, 40, 30]}


# Run against a daemon whose model draws variations (a tiny model with an encoder prior,
# see the gimp_variations_run fixture): Variations 3 from seed 0, then a rerun with
# Variations 1 and the third layer's seed 2.
VARIATION_CASES = {
    "variations": (
        48,
        40,
        "u8",
        None,
        None,
        {"steps": 2, "scale": 1.0, "variations": 3, "seed": 0},
    ),
}
RERUN["variations"] = {"steps": 2, "scale": 1.0, "variations": 1, "seed": 2}
SOURCE_SEED["variations"] = 9


def geometry(name: str) -> tuple[int, int, str, list[int] | None]:
    """The source layer's width, height, dtype and the selection in layer coordinates."""
    w, h, dtype, sel = {**CASES, **VARIATION_CASES}[name][:4]
    lx, ly, lw, lh = LAYER_RECTS.get(name, [0, 0, w, h])
    if sel is not None:
        x0, y0 = max(sel[0] - lx, 0), max(sel[1] - ly, 0)
        x1, y1 = min(sel[0] + sel[2] - lx, lw), min(sel[1] + sel[3] - ly, lh)
        sel = [x0, y0, x1 - x0, y1 - y0]
    return lw, lh, dtype, sel


def same_file(a: str | Path, b: str | Path) -> bool:
    try:
        return os.path.samestat(os.stat(a), os.stat(b))
    except OSError:
        return False


@pytest.fixture(scope="module", params=["staged", "installed"])
def gimp_run(request, tmp_path_factory):
    """staged: stage_gimp's copy and a daemon the test starts on the host. installed: the
    copy the bundle's `tinct-backend install` put into HOME; the plug-in's own Launcher
    starts the bundled backend from the config the install wrote. Inside the chroot the
    bundle folder is bind-mounted (in GIMP's private mount namespace) at WORK/backend, and
    that is the path recorded with `install --backend`: the daemon runs in the chroot."""
    yield from gimp_session(request.param, CASES)


@pytest.fixture(scope="module")
def gimp_variations_run():
    """VARIATION_CASES in one GIMP run of the staged plug-in, against a daemon whose tiny
    model has an encoder prior (an untrained head over the real frozen EfficientNet-Lite0:
    its variations are random, but drawn as the real model's are)."""
    yield from gimp_session("staged", VARIATION_CASES, encoder_prior=True)


def gimp_session(variant: str, all_cases: dict, encoder_prior: bool = False):
    """One GIMP batch run of ALL_CASES (see gimp_run); yields what it recorded."""
    host = find_gimp()
    if host is None:
        msg = (
            "GIMP 3 is not available (no gimp-console-3.0, no chroot at "
            f"{CHROOT}); run `bash scripts/install_host_gimp.sh` as root"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    kind, root = host
    installed = variant == "installed"
    bundle = require_bundle() if installed else None
    if root is not None:
        work = Path(tempfile.mkdtemp(prefix="tinct-gimp-", dir=root / "tmp"))
        inner = Path("/") / work.relative_to(root)
    else:
        work = Path(tempfile.mkdtemp(prefix="tinct-gimp-"))
        inner = work
    harness = None
    try:
        # 1. A daemon with the tiny model; its runtime dir is visible to GIMP.
        model = save_tiny_model(work / "model", encoder_prior=encoder_prior)
        rt = work / "rt"
        flags = ["--idle-timeout", "0", "--heartbeat", "0.25", "--max-pixels", str(MAX_PIXELS)]
        home = work / "home"
        (work / "tmp").mkdir()
        if not installed:
            harness = DaemonHarness(rt, serve_command(model, *flags))
            harness.connect().close()
            # 2. The plug-in, installed the way users get it, into a throwaway HOME.
            staged = stage_gimp(home / ".config/GIMP/3.0/plug-ins")
        else:
            # 2. The bundle installs the plug-in and records how to start itself.
            exe = bundle if root is None else inner / "backend" / bundle.name
            backend = [str(exe), "serve", "--model", str(inner / "model"), "--threads", "1"]
            home.mkdir()
            install_with_bundle(home, "--gimp", "--backend", json.dumps(backend + flags))
            plugin = home / ".config/GIMP/3.0/plug-ins/tinct-colorize"
            staged = sorted(p for p in plugin.rglob("*") if p.is_file())
            harness = DaemonHarness(rt, backend)  # to stop the daemon the plug-in starts
        install_selftest_plugin(home / ".config/GIMP/3.0/plug-ins")
        # 3. The cases' inputs.
        cases, inputs = [], {}
        for name, (w, h, dtype, sel, hints, args) in all_cases.items():
            out = work / "cases" / name
            out.mkdir(parents=True)
            lw, lh = geometry(name)[:2]
            src = gray_source(lw, lh, dtype, seed=SOURCE_SEED.get(name, len(name)))
            (out / "src.raw").write_bytes(src.tobytes())
            case = {
                "name": name,
                "width": w,
                "height": h,
                "dtype": dtype,
                "src": str(inner / "cases" / name / "src.raw"),
                "out": str(inner / "cases" / name),
                "selection": sel,
                "layer": LAYER_RECTS.get(name),
                "no_alpha": name == "u16",  # the source layer has no alpha channel
                "run_mode": "INTERACTIVE" if name in INTERACTIVE else "NONINTERACTIVE",
                "selftest": INTERACTIVE.get(name),
                "gray": name in GRAY,
                "args": args,
                "rerun_args": RERUN.get(name),
                "paint_hints": name == "paint_hints",
            }
            if name == "ui_ok":  # the README's GIMP picture: the screen with the dialog up
                shot = str(inner / "cases" / name / "screen.png")
                case["selftest"] = {**case["selftest"], "screenshot": shot}
            if hints:
                (out / "hints.raw").write_bytes(hint_strokes(hints[2], hints[3]).tobytes())
                case["hints"] = {
                    "rect": hints,
                    "path": str(inner / "cases" / name / "hints.raw"),
                    "name": "Strokes" if name == "u8_hint_arg" else "Tinct hints",
                    "pass_as_argument": name == "u8_hint_arg",
                }
            if name in REFERENCES:
                layer_name, tint = REFERENCES[name]
                rw, rh = REFERENCE_SIZE
                g = color.to_float(gray_source(rw, rh, "u8", seed=7))[..., :1]
                ref = color.from_float(np.clip(g * np.array(tint) * 1.15, 0, 1), np.uint8)
                (out / "ref.raw").write_bytes(np.ascontiguousarray(ref).tobytes())
                case["reference"] = {"path": str(inner / "cases" / name / "ref.raw"),
                                     "width": rw, "height": rh, "name": layer_name}  # fmt: skip
            cases.append(case)
            inputs[name] = src
        (work / "cases.json").write_text(json.dumps(cases))
        # 4. One GIMP batch run for all cases.
        (work / "run_cases.py").write_text(CASES_SCRIPT.read_text())
        shutil.copy(CASES_SCRIPT.with_name("walk_common.py"), work / "walk_common.py")
        env = {
            "HOME": str(inner / "home"),
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "TMPDIR": str(inner / "tmp"),  # GIMP's temp files go away with the work dir
            "TINCT_RUNTIME_DIR": str(inner / "rt"),
            "TINCT_GIMP_CASES": str(inner / "cases.json"),
            "TINCT_GIMP_SELFTEST": str(inner / "selftest.json"),
        }
        if not installed:  # never start a backend from inside GIMP: the test's daemon is found
            env["TINCT_BACKEND_CMD"] = '["/bin/false"]'
        gimp = [
            "xvfb-run",  # a display for the interactive cases' dialogs
            "-a",
            "gimp-console-3.0",
            "-i",
            "-n",
            "--batch-interpreter",
            "python-fu-eval",
            "-b",
            f"exec(open({str(inner / 'run_cases.py')!r}).read())",
            "--quit",
        ]
        env_args = ["env", "-i", *(f"{k}={v}" for k, v in env.items())]
        if root is not None:
            mounts = 'mount -t proc proc "$0/proc" && mount -t tmpfs tmpfs "$0/dev/shm" && '
            if installed:
                (work / "backend").mkdir()
                mounts += f"mount --bind {shlex.quote(str(bundle.parent))} "
                mounts += f"{shlex.quote(str(work / 'backend'))} && "
            cmd = [
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                mounts + 'exec chroot "$0" "$@"',
                str(root),
                *env_args,
                *gimp,
            ]
        else:
            cmd = [*env_args, *gimp]
        cmd = ["timeout", "-k", "5", str(GIMP_TIMEOUT), *cmd]
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            log, _ = proc.communicate(timeout=GIMP_TIMEOUT + 15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            log, _ = proc.communicate()
        log = log.decode(errors="replace")
        results = {}
        for name in all_cases:
            out = work / "cases" / name
            if (out / "crash.txt").exists():
                results[name] = {"crash": (out / "crash.txt").read_text()}
                continue
            if not (out / "result.json").exists():
                continue
            record = json.loads((out / "result.json").read_text())
            for f in ("source_after", "color", "flat", "mask"):
                if (out / f"{f}.raw").exists():
                    record[f] = (out / f"{f}.raw").read_bytes()
            for tag, stem in (("first_results", "first"), ("results", "result")):
                # every result layer's pixels, top to bottom (run_cases.save_results)
                record[f"{tag}_pixels"] = [
                    (out / f"{stem}{i}.raw").read_bytes() for i in range(len(record[tag] or []))
                ]
            if (out / "screen.png").exists():
                SHOTS.mkdir(parents=True, exist_ok=True)
                shutil.copy(out / "screen.png", SHOTS / f"gimp-{variant}-screen.png")
                record["screenshot"] = str(SHOTS / f"gimp-{variant}-screen.png")
            results[name] = record
        arguments = None
        if (work / "args.json").exists():
            arguments = json.loads((work / "args.json").read_text())
        info = read_connection_file(rt)
        expected_exe = bundle if installed else sys.executable
        yield {
            "variant": variant,
            "daemon_is_expected": info is not None
            and same_file(f"/proc/{info.pid}/exe", expected_exe),
            "kind": kind,
            "returncode": proc.returncode,
            "log": log,
            "results": results,
            "arguments": arguments,
            "inputs": inputs,
            "staged": staged,
        }
    finally:
        if harness is not None:
            harness.close()
        shutil.rmtree(work, ignore_errors=True)


def _case(gimp_run, name):
    record = gimp_run["results"].get(name)
    assert record is not None, f"case {name} left no result; GIMP said:\n{gimp_run['log'][-3000:]}"
    assert "crash" not in record, record.get("crash")
    return record


def _pixels(data: bytes, name: str) -> np.ndarray:
    w, h, dtype, _ = geometry(name)
    return np.frombuffer(data, NP[dtype]).reshape(h, w, 4)


def test_gimp_batch_run_exits_cleanly(gimp_run):
    assert gimp_run["returncode"] == 0, gimp_run["log"][-3000:]
    assert set(gimp_run["results"]) == set(CASES)
    mount_points = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    left = [m for m in mount_points if m == str(CHROOT) or m.startswith(f"{CHROOT}/")]
    assert not left, f"mounts into the GIMP chroot were left behind: {left}"


@pytest.mark.parametrize(
    "name",
    [
        "u8",
        "u8_sel",
        "u16",
        "u16_sel",
        "f32",
        "f32_sel",
        "u8_hints",
        "u8_hint_arg",
        "u8_offset",
        "ui_ok",
        "gray",
        "gray_u16",
        "paint_hints",
        "u8_ref",
    ],
)
def test_colorize_adds_lch_color_layer_above_untouched_source(gimp_run, name):
    record = _case(gimp_run, name)
    assert record["status"] == "GIMP_PDB_SUCCESS", record["error"]
    assert record["dirty"] and record["base_type"] == "GIMP_RGB"
    names = ["RESULT" if is_result_name(n) else n for n in (x["name"] for x in record["layers"])]
    expected = ["Above", "RESULT", "Source"]
    if name in ("u8_hints", "u8_hint_arg"):
        expected = ["Tinct hints" if name == "u8_hints" else "Strokes", *expected]
    if name == "paint_hints":  # made above the source; the source, not the hints, colorized
        expected = ["Above", "Tinct hints", "RESULT", "Source"]
    assert names == expected
    result_name = record["layers"][names.index("RESULT")]["name"]
    args = CASES[name][5]
    # the name says how it was made: the slider's number (default 1.00; ui_ok: slid to 2.0)
    scale = 2.0 if name == "ui_ok" else args.get("scale", C.DEFAULT_SCALE)
    ref = REFERENCES[name][0] if name in REFERENCES else None
    hints = name in ("u8_hints", "u8_hint_arg", "paint_hints")  # painted hints were sent
    assert result_name == result_layer_name(
        args.get("prompt", ""), scale, reference=ref, hints=hints
    ), result_name
    new = record["layers"][names.index("RESULT")]
    src_info = record["layers"][names.index("Source")]
    if name in GRAY:  # converted to RGB at the image's own precision
        assert record["precision"].startswith(f"GIMP_PRECISION_{CASES[name][2].upper()}")
    assert new["mode"] == "GIMP_LAYER_MODE_LCH_COLOR"
    assert new["position"] == src_info["position"] - 1
    assert new["offsets"] == src_info["offsets"] and new["size"] == src_info["size"]
    # The source is untouched, bit for bit.
    assert record["source_unchanged"]
    src = gimp_run["inputs"][name]
    assert record["source_after"] == src.tobytes()  # (a Grayscale source reads back R = G = B)
    # The flattened picture keeps the source's lightness and gains color.
    flat = _pixels(record["flat"], name)
    err = np.abs(lstar(flat[..., :3]) - lstar(src[..., :3]))
    dtype = geometry(name)[2]
    assert err.mean() < MAX_L_MEAN[dtype] and np.percentile(err, 99) < MAX_L_P99[dtype], (
        name,
        float(err.mean()),
        float(np.percentile(err, 99)),
        float(err.max()),
    )
    rgb = color.to_float(flat)[..., :3]
    chroma = rgb.max(axis=-1) - rgb.min(axis=-1)
    sel = geometry(name)[3]
    inside = np.ones(chroma.shape, bool)
    if sel is not None:
        x, y, w, h = sel
        inside[:] = False
        inside[y : y + h, x : x + w] = True
        # Outside the selection the mask hides the color layer completely (float
        # compositing goes through linear light: a last-bit round trip is allowed).
        if dtype == "f32":
            np.testing.assert_allclose(flat[~inside], src[~inside], rtol=0, atol=1e-5)
        else:
            assert np.array_equal(flat[~inside], src[~inside])
    assert chroma[inside].max() > 0.02, "the color layer added no color"
    print(
        f"{name}: flattened L* error mean {err.mean():.3f} p99 {np.percentile(err, 99):.3f} "
        f"max {err.max():.3f}; max chroma {chroma[inside].max():.3f}"
    )


@pytest.mark.parametrize("name", ["u8_sel", "u16_sel", "f32_sel", "u8_offset"])
def test_selection_becomes_the_mask(gimp_run, name):
    record = _case(gimp_run, name)
    names = [layer["name"] for layer in record["layers"]]
    assert record["layers"][next(i for i, n in enumerate(names) if is_result_name(n))]["has_mask"]
    w, h, _, (x, y, sw, sh) = geometry(name)
    mask = np.frombuffer(record["mask"], np.uint8).reshape(h, w)
    expected = np.zeros((h, w), np.uint8)
    expected[y : y + sh, x : x + sw] = 255
    assert np.array_equal(mask, expected)


def test_no_selection_means_no_mask(gimp_run):
    for name in ("u8", "u16", "f32", "u8_hints"):
        record = _case(gimp_run, name)
        assert not any(layer["has_mask"] for layer in record["layers"]), name


def test_hint_layer_changes_the_colors(gimp_run):
    plain, hinted = _case(gimp_run, "u8"), _case(gimp_run, "u8_hints")
    a, b = _pixels(plain["color"], "u8"), _pixels(hinted["color"], "u8_hints")
    assert np.array_equal(gimp_run["inputs"]["u8"], gimp_run["inputs"]["u8_hints"])
    assert not np.array_equal(a[..., :3], b[..., :3]), "the 'Tinct hints' layer had no effect"
    # The same strokes on another layer, chosen through the argument: the same colors.
    c = _pixels(_case(gimp_run, "u8_hint_arg")["color"], "u8_hint_arg")
    assert np.array_equal(b, c)


def test_a_rerun_replaces_the_first_result(gimp_run):
    record = _case(gimp_run, "rerun")
    assert record["status"] == "GIMP_PDB_SUCCESS", record["error"]
    assert record["first_names"] == ["Above", "Tinct x1.00", "Source"]
    assert [x["name"] for x in record["layers"]] == [
        "Above", result_layer_name("blue sky", 2.0), "Source"]  # fmt: skip


def test_paint_hints_selects_its_layer_and_the_hints_steer(gimp_run):
    record = _case(gimp_run, "paint_hints")
    layers = {x["name"]: x for x in record["layers"]}
    assert layers["Tinct hints"]["mode"] == "GIMP_LAYER_MODE_NORMAL"  # strokes show on white
    plain = _pixels(_case(gimp_run, "u8")["color"], "u8")
    hinted = _pixels(record["color"], "paint_hints")
    assert not np.array_equal(plain[..., :3], hinted[..., :3]), "the painted hints had no effect"


def test_cancel_during_the_job_leaves_the_image_untouched(gimp_run):
    """Cancel in the progress window: no layer, nothing recorded in the undo history."""
    record = _case(gimp_run, "ui_cancel_job")
    assert record["status"] == "GIMP_PDB_CANCEL", record["error"]
    assert [x["name"] for x in record["layers"]] == record["layers_before"]
    assert not record["dirty"] and record["source_unchanged"]


def test_backend_error_is_a_readable_procedure_error(gimp_run):
    record = _case(gimp_run, "too_large")
    assert record["status"] == "GIMP_PDB_EXECUTION_ERROR"
    assert record["error"].startswith("Tinct:") and "pixels" in record["error"]
    assert "Traceback" not in record["error"]
    assert [layer["name"] for layer in record["layers"]] == record["layers_before"]
    assert record["source_unchanged"]


def test_the_expected_backend_served_the_plug_in(gimp_run):
    """installed: the daemon is the bundle, started by the plug-in's Launcher inside the
    chroot from the installed config; staged: the test's own Python daemon."""
    assert gimp_run["daemon_is_expected"], gimp_run["variant"]


def test_stage_gimp_vendors_the_protocol(gimp_run):
    staged = {p.name for p in gimp_run["staged"]}
    assert {"tinct-colorize.py", "client.py", "zmtp.py", "request.py"} <= staged


def test_interactive_colourfulness_slider_updates_the_layer_live(gimp_run):
    """Dialog OK, the slider dragged 1.0 -> 0.5 -> 2.0: the layer is what a 2.0 run gives,
    named x2.00; Cancel there removes the result and records nothing (the run returns
    SUCCESS, so GIMP keeps its settings for Repeat and Re-show: test_gimp_gui.py)."""
    names = ["ui_ok", "ui_ref1", "ui_ref2"]
    records = {name: _case(gimp_run, name) for name in names}
    for record in records.values():
        assert record["status"] == "GIMP_PDB_SUCCESS", record["error"]
    ok, ref1, ref2 = (_pixels(records[n]["color"], n).astype(int) for n in names)
    assert np.abs(ref1 - ref2).max() > 8, "1.0 and 2.0 look alike: nothing to test"
    assert np.abs(ok - ref2).max() <= 1, "the slider's last value did not reach the layer"
    assert [x["name"] for x in records["ui_ok"]["layers"]][1] == "Tinct x2.00"
    # Each slider position was rendered live, while the dialog was up.
    assert records["ui_ok"].get("renders") == [0.5, 2.0]
    cancel = _case(gimp_run, "ui_cancel")
    assert cancel["status"] == "GIMP_PDB_SUCCESS" and cancel.get("renders") == [0.5, 2.0]
    assert [x["name"] for x in cancel["layers"]] == cancel["layers_before"]
    # (the preview, made with undo frozen, marks the image modified: not asserted here)
    assert cancel["source_unchanged"] and cancel["base_type"] == "GIMP_RGB"
    assert records["ui_ok"]["source_unchanged"]
    shot = records["ui_ok"].get("screenshot")
    assert shot and Path(shot).stat().st_size > 1000, "no screenshot of the dialog"


def test_the_procedure_offers_the_protocol_defaults(gimp_run):
    """What GIMP holds for the procedure's arguments: the protocol's defaults and bounds,
    the one word for the slider, Variations and Seed, and no Auto tick (the automatic
    pick chose 1.0 on every validation photo)."""
    args = gimp_run["arguments"]
    assert args is not None, gimp_run["log"][-3000:]
    assert "auto" not in args
    for key, bounds in (
        ("variations", (C.DEFAULT_VARIATIONS, C.MIN_VARIATIONS, C.MAX_VARIATIONS)),
        ("seed", (C.DEFAULT_SEED, C.MIN_SEED, C.MAX_SEED)),
    ):
        a = args[key]
        assert (a["default_value"], a["minimum"], a["maximum"]) == bounds, (key, a)
    steps, scale = args["steps"], args["scale"]
    assert (steps["default_value"], steps["minimum"], steps["maximum"]) == (
        C.DEFAULT_STEPS, C.MIN_STEPS, C.MAX_STEPS)  # fmt: skip
    assert (scale["default_value"], scale["minimum"], scale["maximum"]) == (
        C.DEFAULT_SCALE, C.MIN_SCALE, C.MAX_SCALE)  # fmt: skip
    assert scale["nick"].replace("_", "") == C.SCALE_WORD


def _mean_ab(record, name) -> np.ndarray:
    rgb = color.to_float(_pixels(record["color"], name))[..., :3]
    return color.rgb_to_lab(rgb)[..., 1:].mean(axis=(0, 1))


def test_a_reference_layer_from_another_image_lends_its_colours(gimp_run):
    """The reference-layer argument: a blue photo in a second image (another size) turns
    the result blue, against the same colorize without it; both images stay as they were."""
    plain, lent = _case(gimp_run, "u8"), _case(gimp_run, "u8_ref")
    assert lent["status"] == "GIMP_PDB_SUCCESS", lent["error"]
    assert np.array_equal(gimp_run["inputs"]["u8"], gimp_run["inputs"]["u8_ref"])
    (a_plain, b_plain), (a_ref, b_ref) = _mean_ab(plain, "u8"), _mean_ab(lent, "u8_ref")
    print(f"mean a*b* with reference ({a_ref:.1f}, {b_ref:.1f}), "
          f"without ({a_plain:.1f}, {b_plain:.1f})")  # fmt: skip
    assert b_ref < -10 and b_ref < b_plain - 10, (b_ref, b_plain)
    assert lent["source_unchanged"] and lent["reference_unchanged"]
    assert lent["reference_image_layers"] == ["colour photo"]


def test_a_gray_reference_is_a_readable_error(gimp_run):
    record = _case(gimp_run, "u8_ref_gray")
    assert record["status"] == "GIMP_PDB_EXECUTION_ERROR"
    assert record["error"].startswith("Tinct:") and "gray" in record["error"], record["error"]
    assert "Traceback" not in record["error"]
    assert [layer["name"] for layer in record["layers"]] == record["layers_before"]
    assert record["source_unchanged"] and not record["dirty"]


def test_variations_are_distinct_layers_and_a_seed_gives_one_again(gimp_variations_run):
    """Variations 3 from seed 0: three result layers above the source, the first (the
    model's own colouring) on top, each named with its seed and measurably different; the
    rerun with Variations 1 and Seed 2 replaces them with the seed-2 layer, bit for bit."""
    record = gimp_variations_run["results"].get("variations")
    assert record is not None, gimp_variations_run["log"][-3000:]
    assert "crash" not in record, record.get("crash")
    assert record["status"] == "GIMP_PDB_SUCCESS", record["error"]
    assert record["first_results"] == ["Tinct x1.00", "Tinct x1.00 seed 1", "Tinct x1.00 seed 2"]
    assert record["first_names"] == ["Above", *record["first_results"], "Source"]
    layers = [_pixels(p, "variations") for p in record["first_results_pixels"]]

    def ab(px):
        return color.rgb_to_lab(color.to_float(px)[..., :3])[..., 1:]

    distances = [
        float(np.linalg.norm(ab(layers[i]) - ab(layers[j]), axis=-1).mean())
        for i, j in ((0, 1), (0, 2), (1, 2))
    ]
    print("mean a*b* distance between the variations:", [f"{d:.1f}" for d in distances])
    assert min(distances) > 2.0, distances
    assert record["results"] == ["Tinct x1.00 seed 2"]
    assert [x["name"] for x in record["layers"]] == ["Above", "Tinct x1.00 seed 2", "Source"]
    assert record["results_pixels"][0] == record["first_results_pixels"][2]
    assert record["source_unchanged"]
