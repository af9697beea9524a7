"""Hostile input, round two (issue 27), as real `tinct` processes on real files:
memory that follows pixels (not height or width alone), decompression bombs under
the pixel limit, the prompt bound, broken models, and every check before the model
(arguments, files, output, then the model), each a one-line error with exit code 2."""

from __future__ import annotations

import json
import os
import resource
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from tinct import color
from tinct.imageio import read_image
from tinct.protocol import constants as C
from tinct.testing import DaemonHarness, as_layer, daemon_env, rss_bytes, serve_command

NO_MODEL = "no-model-here"  # a --model that cannot load: an error from it means a late check


def _tinct(*args, timeout: float = 300, preexec_fn=None, env=None):
    return subprocess.run(
        [sys.executable, "-m", "tinct", *map(str, args)],
        capture_output=True,
        timeout=timeout,
        env=env or daemon_env(),
        preexec_fn=preexec_fn,
    )


def _one_line_error(proc, *fragments: str, prefix: str = "tinct") -> str:
    err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(prefix) and ": error:" in err[0], err
    for f in fragments:
        assert f in err[0], err
    return err[0]


# Peak RSS of a grandchild, from a small Python in between: a child's ru_maxrss counts the
# address space it was forked from (pytest's, with torch and models loaded), a grandchild's
# only that of the small parent.
_PEAK = (
    "import resource, subprocess, sys; rc = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024); sys.exit(rc)"
)


def _peak_rss(argv: list[str], env=None) -> int:
    """Peak RSS (bytes) of one real process running ``argv``."""
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK, *argv],
        env=env or daemon_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return int(proc.stdout.split()[-1])


def _strip_png(path: Path, height: int, width: int) -> Path:
    i = np.arange(height * width, dtype=np.int64)
    Image.fromarray(((i * 7) % 251).astype(np.uint8).reshape(height, width)).save(path)
    return path


@pytest.fixture()
def gray(tmp_path):
    y, x = np.mgrid[0:48, 0:64]
    path = tmp_path / "gray.png"
    Image.fromarray(((x * 4 + y * 2) % 256).astype(np.uint8)).save(path)
    return path


# --- 1. memory follows pixels ---------------------------------------------------

PIXELS = 4_000_000  # 2000x2000; the old whole-height table took 512 bytes a row (2 GB)
SHAPES = {"square": (2000, 2000), "tall": (PIXELS, 1), "wide": (1, PIXELS)}


def test_cli_peak_memory_of_a_strip_is_that_of_a_square(tmp_path, tiny_model_dir):
    peaks = {}
    for name, (h, w) in SHAPES.items():
        src = _strip_png(tmp_path / f"{name}.png", h, w)
        out = tmp_path / f"out-{name}.png"
        argv = [sys.executable, "-m", "tinct", "colorize", str(src), "-o", str(out)]
        peaks[name] = _peak_rss(argv + ["--model", str(tiny_model_dir), "--steps", "1", "--quiet"])
        assert read_image(out).shape == (h, w, 3)
    for name in ("tall", "wide"):
        assert peaks[name] <= 1.5 * peaks["square"], peaks


def test_daemon_peak_memory_of_a_strip_is_that_of_a_square(tmp_path, model):
    peaks = {}
    for name, (h, w) in SHAPES.items():
        harness = DaemonHarness(tmp_path / f"rt-{name}", serve_command(model))
        try:
            client = harness.connect("zmq")
            frame = np.ascontiguousarray(
                np.broadcast_to(
                    ((np.arange(h * w) * 7) % 251).astype(np.uint8).reshape(h, w, 1), (h, w, 3)
                )  # fmt: skip
            )
            events = list(client.colorize(as_layer(frame), steps=1, scale=1.0))
            assert events[-1].kind == "result"
            assert (events[-1].layer.width, events[-1].layer.height) == (w, h)
            peaks[name] = rss_bytes(client.info.pid)[1]
        finally:
            harness.close()
    for name in ("tall", "wide"):
        assert peaks[name] <= 1.5 * peaks["square"], peaks


def test_a_strip_is_coloured_like_the_square_it_was_cut_from(tmp_path, tiny_model_dir):
    """The banded row interpolation gives the layer the old whole-height table gave:
    a column of a colorized image is that image's column, however it is banded."""
    from tinct.color.compose import ChromaField, compose

    rng = np.random.default_rng(3)
    ab = rng.normal(0, 20, (24, 32, 2)).astype(np.float32)
    light = rng.uniform(0, 100, (24, 32)).astype(np.float32)
    rgb = (rng.random((300, 7, 3)) * 255).astype(np.uint8)
    whole = compose(rgb, ChromaField(ab, light, 300, 7), np.empty((300, 7, 3), np.uint8))
    banded = compose(
        rgb, ChromaField(ab, light, 300, 7), np.empty((300, 7, 3), np.uint8), band_pixels=7 * 13
    )
    np.testing.assert_array_equal(whole, banded)


# --- 5. decompression bombs under the limit ---------------------------------------


def _bomb_png(path: Path, width: int, height: int) -> Path:
    """A real, complete all-black gray PNG of width x height, a few hundred KB."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    z = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    parts = [z.compress(row * 500) for _ in range(height // 500)]
    parts.append(z.compress(row * (height % 500)) + z.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts))
        + chunk(b"IEND", b"")
    )  # fmt: skip
    return path


def test_a_legal_400mp_black_png_is_refused_with_the_memory_it_needs(tmp_path):
    """400 MP is under MAX_FILE_PIXELS; 390 KB of file took ~27 GB. Under a 6 GB
    address-space limit (ulimit -v) the estimate says no before anything is decoded."""
    bomb = _bomb_png(tmp_path / "black.png", 20000, 20000)
    assert bomb.stat().st_size < 1_000_000
    limit = 6 * 2**30

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    out = tmp_path / "o.png"
    proc = _tinct("colorize", bomb, "-o", out, "--model", tmp_path / NO_MODEL, preexec_fn=cap)
    assert proc.returncode == 2
    line = _one_line_error(proc, "black.png", "20000x20000", "400 MP", "needs about", "GB")
    assert "available" in line
    assert not out.exists()


def test_only_the_first_page_of_a_multipage_tiff_is_read(tmp_path, tiny_model_dir):
    """Three gray pages are a gray image (its first page), not planar RGB."""
    pages = np.stack([np.full((40, 50), v, np.uint8) for v in (30, 200, 90)])
    src = tmp_path / "pages.tif"
    tifffile.imwrite(src, pages, photometric="minisblack")
    with tifffile.TiffFile(src) as tif:
        assert len(tif.pages) == 3
    arr = read_image(src)
    assert arr.shape == (40, 50, 1) and int(arr.min()) == int(arr.max()) == 30
    out = tmp_path / "o.png"
    proc = _tinct("colorize", src, "-o", out, "--model", tiny_model_dir, "--quiet")
    assert proc.returncode == 0, proc.stderr
    res = read_image(out)
    assert res.shape == (40, 50, 3)
    lightness = color.luminance_lstar(color.to_float(res))
    expected = color.luminance_lstar(np.full((1, 1, 3), 30 / 255, np.float32))[0, 0]
    assert abs(float(np.median(lightness)) - float(expected)) < 1.0


def test_a_40_page_tiff_decodes_one_page(tmp_path):
    """40 pages of 4000x4000 (640 MB decoded, a small compressed file): reading it
    holds one page, not forty."""
    src = tmp_path / "forty.tif"
    tifffile.imwrite(
        src, np.zeros((40, 4000, 4000), np.uint8), photometric="minisblack", compression="zlib"
    )
    assert src.stat().st_size < 8_000_000
    with tifffile.TiffFile(src) as tif:
        assert len(tif.pages) == 40 and tif.series[0].shape == (40, 4000, 4000)
    code = (
        "from pathlib import Path; from tinct.imageio import read_image; "
        f"a = read_image({str(src)!r}); assert a.shape == (4000, 4000, 1), a.shape; "
        "s = Path('/proc/self/status').read_text(); "
        "print(int(s.split('VmHWM:')[1].split()[0]) * 1024)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=daemon_env(), timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) < 300 * 2**20  # 40 pages alone would be 640 MB


# --- 6. the prompt bound ----------------------------------------------------------


def test_a_prompt_over_the_daemons_bound_is_refused_before_any_work(gray, tmp_path):
    long = "red car, " * 13_334  # ~120 KB; the daemon takes MAX_PROMPT_CHARS
    out = tmp_path / "o.png"
    proc = _tinct("colorize", gray, "-o", out, "--prompt", long, "--model", tmp_path / NO_MODEL)
    assert proc.returncode == 2
    _one_line_error(proc, "--prompt", str(len(long)), str(C.MAX_PROMPT_CHARS))
    env = {**daemon_env(), "TINCT_RUNTIME_DIR": str(tmp_path / "rt")}
    proc = _tinct("client", "colorize", gray, "-o", out, "--prompt", long, env=env)
    assert proc.returncode == 2
    _one_line_error(proc, str(C.MAX_PROMPT_CHARS))
    assert not out.exists() and not (tmp_path / "rt" / C.CONNECTION_FILE).exists()


def test_a_prompt_at_the_bound_is_taken(gray, tmp_path, tiny_model_dir):
    out = tmp_path / "o.png"
    prompt = ("blue sky " * 300)[: C.MAX_PROMPT_CHARS]
    proc = _tinct(
        "colorize", gray, "-o", out, "--prompt", prompt, "--model", tiny_model_dir, "--quiet"
    )
    assert proc.returncode == 0, proc.stderr
    assert out.exists()


# --- 7. model faults --------------------------------------------------------------


def _broken_model(tiny_model_dir: Path, tmp_path: Path, fault: str) -> Path:
    import torch
    from safetensors.torch import load_file, save_file

    model = tmp_path / f"model-{fault}"
    shutil.copytree(tiny_model_dir, model)
    if fault in ("unet", "text_encoder"):
        cfg = model / fault / "config.json"
        c = json.loads(cfg.read_text())
        if fault == "unet":
            c["block_out_channels"] = [16, 48]
        else:
            c["hidden_size"] = 64
        cfg.write_text(json.dumps(c))
    elif fault == "nan":
        weights = model / "vae" / "diffusion_pytorch_model.safetensors"
        state = load_file(weights)
        key = sorted(state)[0]
        state[key] = torch.full_like(state[key], float("nan"))
        save_file(state, weights)
    elif fault == "prior":
        shutil.rmtree(model / "prior")
    return model


@pytest.mark.parametrize(
    "fault, fragments",
    [
        ("unet", ["/unet", "config does not match its weights"]),
        ("text_encoder", ["/text_encoder", "config does not match its weights"]),
        ("nan", ["/vae", "NaN or infinite weights"]),
        ("prior", ["'prior'", "/prior is missing"]),
    ],
)
def test_a_broken_model_is_one_line_naming_its_folder_and_component(
    fault, fragments, gray, tmp_path, tiny_model_dir
):
    model = _broken_model(tiny_model_dir, tmp_path, fault)
    out = tmp_path / "o.png"
    proc = _tinct("colorize", gray, "-o", out, "--model", model, "--quiet")
    assert proc.returncode == 2  # never an all-black image with exit 0
    _one_line_error(proc, str(model), *fragments)
    assert not out.exists()


# --- 8. checks before work, in order ----------------------------------------------


def test_record_into_a_folder_is_refused_before_any_work(gray, tmp_path):
    out = tmp_path / "o.png"
    proc = _tinct("colorize", gray, "-o", out, "--record", tmp_path, "--model", tmp_path / NO_MODEL)
    assert proc.returncode == 2
    _one_line_error(proc, "--record", "is a folder")
    assert not out.exists()


def _read_only_folder(tmp_path: Path) -> Path:
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    if not os.access("/proc/sys", os.W_OK):  # root writes anywhere but a read-only mount
        return Path("/proc/sys")
    pytest.skip("running as root without a read-only folder to write into")


def test_a_read_only_output_folder_is_found_before_the_model(gray, tmp_path):
    folder = _read_only_folder(tmp_path)
    other = tmp_path / "other.png"
    other.write_bytes(gray.read_bytes())
    for argv in (
        [gray, "-o", folder / "o.png"],  # one input: a file in it
        [gray, other, "-o", folder / "results"],  # several: a folder in it
    ):
        proc = _tinct("colorize", *argv, "--model", tmp_path / NO_MODEL)
        assert proc.returncode == 2
        _one_line_error(proc, "cannot write into", str(folder))


@pytest.mark.parametrize("seed", ["1e23", str(10**23), "-1"])
def test_an_out_of_range_seed_is_an_argument_error(seed, gray, tmp_path):
    proc = _tinct("colorize", gray, "-o", tmp_path / "o.png", "--seed", seed)
    assert proc.returncode == 2
    _one_line_error(proc, "--seed", prefix="tinct colorize")


def test_client_refuses_an_unknown_output_format_before_the_daemon_works(gray, tmp_path):
    env = {**daemon_env(), "TINCT_RUNTIME_DIR": str(tmp_path / "rt")}
    proc = _tinct("client", "colorize", gray, "-o", tmp_path / "x.xyz", env=env)
    assert proc.returncode == 2
    _one_line_error(proc, "unknown output format '.xyz'")
    assert not (tmp_path / "rt" / C.CONNECTION_FILE).exists()  # no daemon was started


@pytest.mark.parametrize(
    "flag, value",
    [
        ("--steps", "0"),
        ("--steps", "5000"),
        ("--guidance", "nan"),
        ("--threads", "-1"),
        ("--heartbeat", "0"),
        ("--idle-timeout", "-5"),
        ("--preview-side", "100000"),
        ("--max-queue", "0"),
    ],
)
def test_serve_refuses_bad_settings_before_it_starts(flag, value, tmp_path):
    proc = _tinct("serve", flag, value, "--runtime-dir", tmp_path / "rt", timeout=60)
    assert proc.returncode == 2
    _one_line_error(proc, flag, prefix="tinct serve")
    assert not (tmp_path / "rt" / C.CONNECTION_FILE).exists()
