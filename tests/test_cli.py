"""`tinct colorize`: real files in, real files out, real error paths."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tinct import color
from tinct.cli.main import main
from tinct.imageio import read_image


@pytest.fixture()
def gray16(tmp_path):
    y, x = np.mgrid[0:60, 0:80]
    g = ((x * 800 + y * 300) % 65535).astype(np.uint16)
    path = tmp_path / "scan16.png"
    Image.fromarray(g).save(path)
    return path


@pytest.fixture()
def rgba8(tmp_path, photo):
    rgba = np.concatenate(
        [
            photo,
            np.linspace(0, 1, photo.shape[1], dtype=np.float32)[None, :, None].repeat(
                photo.shape[0], 0
            ),
        ],
        axis=-1,
    )
    path = tmp_path / "layer.png"
    Image.fromarray(color.from_float(rgba, np.uint8), "RGBA").save(path)
    return path


def _dl(a, b):
    return np.abs(
        color.luminance_lstar(color.to_float(a[..., :3]))
        - color.luminance_lstar(color.to_float(b[..., :3]))
    )


def test_16bit_grayscale_in_gives_16bit_colour_of_the_same_lightness(
    gray16, tiny_model_dir, tmp_path
):
    out = tmp_path / "out.png"
    assert (
        main(["colorize", str(gray16), "-o", str(out), "--model", str(tiny_model_dir), "--quiet"])
        == 0
    )
    src, res = read_image(gray16), read_image(out)
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask
    assert res.dtype == np.uint16 and res.shape == (60, 80, 3)
    dl = _dl(np.repeat(src, 3, axis=2), res)
    assert dl.mean() <= 0.5 and np.percentile(dl, 99) <= 2.0


def test_rgba_alpha_passes_through_and_colour_input_is_recoloured_from_its_luma(
    rgba8, tiny_model_dir, tmp_path
):
    out = tmp_path / "out.png"
    assert (
        main(
            [
                "colorize",
                str(rgba8),
                "-o",
                str(out),
                "--model",
                str(tiny_model_dir),
                "--scale",
                "1.3",
                "--prompt",
                "red",
                "--quiet",
            ]
        )
        == 0
    )
    src, res = read_image(rgba8), read_image(out)
    assert res.shape == src.shape and np.array_equal(res[..., 3], src[..., 3])
    assert _dl(src, res).mean() <= 0.5


def test_several_inputs_go_to_a_directory_with_png_names(gray16, rgba8, tiny_model_dir, tmp_path):
    outdir = tmp_path / "results"
    assert (
        main(
            [
                "colorize",
                str(gray16),
                str(rgba8),
                "-o",
                str(outdir),
                "--model",
                str(tiny_model_dir),
                "--quiet",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in outdir.iterdir()) == ["layer.png", "scan16.png"]


def test_hints_file_steers_the_hinted_area(rgba8, tiny_model_dir, tmp_path):
    hints = np.zeros((72, 96, 4), np.uint8)
    hints[40:60, 60:90] = [20, 200, 40, 255]
    hint_path = tmp_path / "hints.png"
    Image.fromarray(hints, "RGBA").save(hint_path)
    out = tmp_path / "out.png"
    assert (
        main(
            [
                "colorize",
                str(rgba8),
                "-o",
                str(out),
                "--hints",
                str(hint_path),
                "--model",
                str(tiny_model_dir),
                "--scale",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    a = color.rgb_to_lab(color.to_float(read_image(out)[42:58, 62:88, :3]))[..., 1]
    assert a.mean() < -15


def test_float_tiff_input_is_written_as_16bit_png(tmp_path, tiny_model_dir):
    src = tmp_path / "float.tif"
    Image.fromarray(np.random.default_rng(0).random((40, 50), dtype=np.float32), "F").save(src)
    out = tmp_path / "out.png"
    assert (
        main(["colorize", str(src), "-o", str(out), "--model", str(tiny_model_dir), "--quiet"]) == 0
    )
    assert read_image(out).dtype == np.uint16


@pytest.mark.parametrize(
    "argv, message",
    [
        (["colorize", "{missing}", "-o", "{tmp}/o.png"], "input not found"),
        (["colorize", "{garbage}", "-o", "{tmp}/o.png"], "cannot read"),
        (["colorize", "{gray16}", "-o", "{tmp}/nodir/o.png"], "output folder does not exist"),
        (["colorize", "{gray16}", "-o", "{tmp}/noext"], "no file extension"),
        (["colorize", "{gray16}", "{gray16}", "-o", "{tmp}/d"], "overwrite each other"),
        (["colorize", "{gray16}", "-o", "{tmp}/o.png", "--hints", "{gray16}"], "no alpha channel"),
        (
            ["colorize", "{gray16}", "-o", "{tmp}/o.png", "--model", "{tmp}"],
            "model_index.json not found",
        ),
        (["colorize", "{gray16}", "-o", "{tmp}/o.png", "--device", "cuda:7"], "not available"),
    ],
)
def test_error_paths_print_one_line_and_write_nothing(argv, message, gray16, tmp_path, capsys):
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"not a png at all")
    before = set(tmp_path.rglob("*"))
    fill = {"missing": tmp_path / "nope.png", "garbage": garbage, "gray16": gray16, "tmp": tmp_path}
    args = [a.format(**fill) for a in argv]
    if "cuda:7" in args and __import__("torch").cuda.device_count() > 7:
        pytest.skip("this machine has 8 GPUs")
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tinct: error:") and message in err[0]
    assert set(tmp_path.rglob("*")) == before


def test_hints_of_another_size_fail_that_input_only(gray16, tiny_model_dir, tmp_path, capsys):
    hint_path = tmp_path / "small.png"
    Image.fromarray(np.zeros((5, 5, 4), np.uint8), "RGBA").save(hint_path)
    out = tmp_path / "o.png"
    rc = main(
        [
            "colorize",
            str(gray16),
            "-o",
            str(out),
            "--hints",
            str(hint_path),
            "--model",
            str(tiny_model_dir),
            "--quiet",
        ]
    )
    assert rc == 2 and not out.exists()  # one input that failed: exit 2 (README)
    assert "must match" in capsys.readouterr().err


def test_bad_option_values_exit_2_with_usage():
    for argv in (
        ["colorize", "x.png", "-o", "y.png", "--scale", "vivid"],
        ["colorize", "x.png", "-o", "y.png", "--steps", "0"],
        ["colorize", "x.png"],
    ):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2


def test_console_script_runs_as_a_real_process(gray16, tiny_model_dir, tmp_path):
    out = tmp_path / "proc.png"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tinct",
            "colorize",
            str(gray16),
            "-o",
            str(out),
            "--model",
            str(tiny_model_dir),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert read_image(out).shape == (60, 80, 3)
    bad = subprocess.run(
        [sys.executable, "-m", "tinct", "colorize", str(tmp_path / "x.png"), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (
        bad.returncode == 2
        and bad.stderr.strip() == f"tinct: error: input not found: {tmp_path / 'x.png'}"
    )


def test_version_names_tinct_its_libraries_and_the_device():
    proc = subprocess.run(
        [sys.executable, "-m", "tinct", "--version"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    from importlib.metadata import version

    line = proc.stdout.strip()
    assert line.startswith("tinct 0.") and line.endswith("device cpu)"), line
    for dist in ("torch", "diffusers", "transformers", "pyzmq"):
        assert f"{dist} {version(dist)}" in line, line


def test_check_names_a_module_that_does_not_import(tmp_path):
    """`tinct check` imports every backend module; one that fails is named, exit 1."""
    broken = tmp_path / "site" / "diffusers"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('diffusers is broken here')\n")
    env = {**os.environ, "PYTHONPATH": str(broken.parent)}
    proc = subprocess.run(
        [sys.executable, "-m", "tinct", "check", "--no-model"],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "diffusers is broken here" in proc.stdout
    assert "module tinct.pipeline.pipeline_tinct: ImportError" in proc.stdout
    ok = subprocess.run(
        [sys.executable, "-m", "tinct", "check", "--no-model"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ok.returncode == 0 and ok.stdout.startswith("ok: tinct "), ok.stdout + ok.stderr
