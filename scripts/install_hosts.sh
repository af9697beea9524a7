#!/usr/bin/env bash
# Install the real hosts the host tests drive (Krita, GIMP 3), when missing.
# Called by `make test`. Each host has its own script beside this one.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for script in "$here"/install_host_*.sh; do
    [ -e "$script" ] || continue
    bash "$script"
done
