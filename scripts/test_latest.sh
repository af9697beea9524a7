#!/usr/bin/env bash
# `make test-latest`: Tinct against the newest upstream releases, in a throwaway venv.
# The fast suite (no host, no slow tests), then the bundle built from that venv and
# started: `tinct-backend check` (imports every module the daemon uses) and a colorize.
# Exit status 0 only if all pass. Leaves .venv/ and dist/ alone.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
TORCH="${TORCH:-torch==2.13.0}"
venv=.venv-latest
rm -rf "$venv" dist-latest build-latest
"$PYTHON" -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q "$TORCH"
# --upgrade-strategy eager: every dependency at its newest release, torch excepted.
"$venv/bin/pip" install -q --upgrade --upgrade-strategy eager -e '.[test,build]' "$TORCH"
echo "== versions: $("$venv/bin/tinct" --version)"
"$venv/bin/pip" freeze --exclude-editable > "$venv/freeze.txt"
echo "== fast suite"
"$venv/bin/python" -m pytest -q -x -m "not slow and not host" -p no:cacheprovider \
    --ignore=tests/test_bundle.py
echo "== bundle from the newest releases"
"$venv/bin/pyinstaller" --noconfirm --log-level WARN --distpath dist-latest \
    --workpath build-latest installer/tinct-backend.spec
home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
bundle="$PWD/dist-latest/tinct-backend/tinct-backend"
(cd "$home" && env -i PATH=/usr/bin:/bin HOME="$home" "$bundle" check)
(cd "$home" && env -i PATH=/usr/bin:/bin HOME="$home" "$bundle" colorize \
    "$OLDPWD/docs/sample-bw.png" -o "$home/out.png")
echo "test-latest: pass (versions in $venv/freeze.txt)"
