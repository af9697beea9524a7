#!/usr/bin/env bash
# Install real Krita (+ Xvfb for the GUI test) when missing; quiet and idempotent.
# Debian 12: krita 5.1 + xvfb. Debian 13: krita 5.2 + xvfb + xauth (only a
# Recommends there, but xvfb-run needs it).
set -euo pipefail
need=()
command -v krita >/dev/null 2>&1 || need+=(krita)
command -v kritarunner >/dev/null 2>&1 || need+=(krita)
command -v xvfb-run >/dev/null 2>&1 || need+=(xvfb)
command -v Xvfb >/dev/null 2>&1 || need+=(xvfb)
command -v xauth >/dev/null 2>&1 || need+=(xauth)
if [ ${#need[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install_host_krita: need root to apt-get install ${need[*]}" >&2
    exit 1
fi
# Deduplicate the package list.
mapfile -t pkgs < <(printf '%s\n' "${need[@]}" | sort -u)
echo "install_host_krita: installing ${pkgs[*]}"
export DEBIAN_FRONTEND=noninteractive
# Another apt run (e.g. the GIMP host script) may hold the lock: wait for it.
lock=(-o DPkg::Lock::Timeout=900)
apt-get "${lock[@]}" update -qq >/dev/null
apt-get "${lock[@]}" install -y -qq "${pkgs[@]}" >/dev/null
