"""`tinct colorize` under hostile and unlucky input, as real processes on real files:
one-line errors (never a traceback), checks before the model load, batches that
go on past a bad file, no NaN result reported as success, no stray temp file."""

from __future__ import annotations

import json
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from tinct import color
from tinct.imageio import read_image
from tinct.testing import daemon_env


def _tinct(*args, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tinct", *map(str, args)],
        capture_output=True,
        timeout=timeout,
        env=daemon_env(),
    )


def _one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> str:
    err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("tinct: error:"), err
    for f in fragments:
        assert f in err[0], err
    return err[0]


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims width x height (a decompression bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * (width + 1) * 4))
        + chunk(b"IEND", b"")
    )
    return path


@pytest.fixture()
def gray(tmp_path):
    y, x = np.mgrid[0:48, 0:64]
    path = tmp_path / "gray.png"
    Image.fromarray(((x * 4 + y * 2) % 256).astype(np.uint8)).save(path)
    return path


@pytest.fixture()
def truncated_jpeg(tmp_path):
    rgb = (np.random.default_rng(1).random((120, 160, 3)) * 255).astype(np.uint8)
    whole = tmp_path / "whole.jpg"
    Image.fromarray(rgb).save(whole)
    data = whole.read_bytes()
    whole.unlink()
    path = tmp_path / "truncated.jpg"
    path.write_bytes(data[: len(data) // 2])
    return path


def test_nan_in_a_float_tiff_is_an_error_not_a_black_success(tmp_path, tiny_model_dir):
    a = np.full((64, 64), 0.5, np.float32)
    a[3, 3] = np.nan
    src = tmp_path / "nan.tif"
    tifffile.imwrite(src, a)
    out = tmp_path / "o.png"
    proc = _tinct("colorize", src, "-o", out, "--model", tiny_model_dir, "--quiet")
    assert proc.returncode == 2
    _one_line_error(proc, "nan.tif", "NaN")
    assert not out.exists()
    # +inf too: a float layer must be finite everywhere, or it is refused.
    a[3, 3] = np.inf
    tifffile.imwrite(src, a)
    proc = _tinct("colorize", src, "-o", out, "--model", tiny_model_dir, "--quiet")
    assert proc.returncode == 2 and not out.exists()


@pytest.mark.parametrize("channels, planar", [(3, False), (4, False), (3, True)])
def test_float_rgb_and_rgba_tiff_are_read_at_full_depth(tmp_path, tiny_model_dir, channels, planar):
    rng = np.random.default_rng(channels)
    rgb = rng.random((40, 50, channels), dtype=np.float32)
    src = tmp_path / "float-rgb.tif"
    if planar:
        tifffile.imwrite(src, np.moveaxis(rgb, -1, 0), photometric="rgb", planarconfig="separate")
    else:
        tifffile.imwrite(src, rgb, photometric="rgb")
    out = tmp_path / "o.png"
    proc = _tinct("colorize", src, "-o", out, "--model", tiny_model_dir, "--quiet")
    assert proc.returncode == 0, proc.stderr
    res = read_image(out)
    assert res.dtype == np.uint16 and res.shape == (40, 50, channels)
    # the input's own lightness, from the float values (not an 8-bit copy of them)
    dl = np.abs(
        color.luminance_lstar(color.to_float(res[..., :3])) - color.luminance_lstar(rgb[..., :3])
    )
    assert float(np.median(dl)) < 1.0
    if channels == 4:
        np.testing.assert_allclose(color.to_float(res[..., 3]), rgb[..., 3], atol=1 / 65535)


def test_a_decompression_bomb_is_refused_from_its_header(tmp_path, tiny_model_dir):
    bomb = _png_header_only(tmp_path / "bomb.png", 30000, 30000)
    for argv in (
        ["colorize", bomb, "-o", tmp_path / "o.png", "--model", tiny_model_dir],
        ["client", "colorize", bomb, "-o", tmp_path / "c.png", "--runtime-dir", tmp_path / "rt"],
    ):
        proc = _tinct(*argv, timeout=120)
        assert proc.returncode == 2
        _one_line_error(proc, "bomb.png", "30000x30000", "900 MP", "limit")
    assert not (tmp_path / "o.png").exists() and not (tmp_path / "c.png").exists()
    assert not (tmp_path / "rt" / "daemon.json").exists()  # refused before any daemon started


def test_invalid_utf8_prompt_and_bogus_device_are_one_line_errors(gray, tmp_path, tiny_model_dir):
    out = tmp_path / "o.png"
    for argv, fragment in (
        (["colorize", gray, "-o", out, "--prompt", b"red \xff car"], "--prompt is not valid UTF-8"),
        (["colorize", gray, "-o", out, "--device", "bogus"], "unknown device 'bogus'"),
        (["client", "colorize", gray, "-o", out, "--prompt", b"\xfe"], "not valid UTF-8"),
    ):
        argv = [a if isinstance(a, bytes) else str(a).encode() for a in argv]
        proc = subprocess.run(
            [sys.executable.encode(), b"-m", b"tinct", *argv],
            capture_output=True,
            timeout=120,
            env={**daemon_env(), "TINCT_RUNTIME_DIR": str(tmp_path / "rt")},
        )
        assert proc.returncode == 2
        _one_line_error(proc, fragment)
    assert not out.exists()


@pytest.mark.parametrize(
    "case, fragment",
    [
        ("suffix", "unknown output format '.xyz'"),
        ("hints", "must match"),
        ("truncated", "truncated"),
    ],
)
def test_input_problems_are_found_before_the_model_is_loaded(
    case, fragment, gray, truncated_jpeg, tmp_path
):
    """A model folder that cannot load proves the order: the input's own error comes first."""
    hints = tmp_path / "hints.png"
    Image.fromarray(np.zeros((5, 5, 4), np.uint8), "RGBA").save(hints)
    argv = {
        "suffix": [gray, "-o", tmp_path / "o.xyz"],
        "hints": [gray, "-o", tmp_path / "o.png", "--hints", hints],
        "truncated": [truncated_jpeg, "-o", tmp_path / "o.png"],
    }[case]
    proc = _tinct("colorize", *argv, "--model", tmp_path / "no-model-here")
    assert proc.returncode == 2  # a single input that fails: exit 2, as the README says
    _one_line_error(proc, fragment)
    assert not list(tmp_path.glob("o.*"))


def test_a_batch_goes_on_past_a_bad_file(gray, truncated_jpeg, tmp_path, tiny_model_dir):
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "a.png").write_bytes(gray.read_bytes())
    (folder / "b.jpg").write_bytes(truncated_jpeg.read_bytes())
    Image.fromarray(np.full((30, 40), 128, np.uint8)).save(folder / "c.png")
    bomb = _png_header_only(folder / "d.png", 30000, 30000)
    record = tmp_path / "record.jsonl"
    out = tmp_path / "out"
    proc = _tinct(
        "colorize", folder, "-o", out, "--model", tiny_model_dir, "--quiet", "--record", record
    )
    assert proc.returncode == 1, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "c.png"]
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    status = {Path(r["input"]).name: r["status"] for r in lines}
    assert status == {"a.png": "written", "b.jpg": "failed", "c.png": "written", "d.png": "failed"}
    errors = [e for e in proc.stderr.decode().splitlines() if e.startswith("tinct: error:")]
    assert len(errors) == 2 and "Traceback" not in proc.stderr.decode()
    assert any(bomb.name in e and "limit" in e for e in errors)


def test_sigterm_during_a_write_leaves_no_temporary_file(tmp_path, tiny_model_dir):
    """A big float input is written as a 16-bit PNG (seconds of zlib): SIGTERM lands while
    the temporary file exists, and the process removes it on the way out."""
    rng = np.random.default_rng(0)
    src = tmp_path / "big.tif"
    tifffile.imwrite(src, rng.random((2400, 3200), dtype=np.float32))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "o.png"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tinct", "colorize", src, "-o", out, "--model", tiny_model_dir],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=daemon_env(),
    )
    try:
        deadline = time.monotonic() + 240
        while not list(out_dir.glob(".tinct-*")):
            assert proc.poll() is None, "the process ended before it started writing"
            assert time.monotonic() < deadline, "no write started within 240 s"
            time.sleep(0.002)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err.decode().strip().splitlines()[-1] == "tinct: terminated"
    assert list(out_dir.iterdir()) == []
