#!/usr/bin/env bash
# Make GIMP 3 available for the GIMP host tests (tests/test_gimp_host.py).
#   Debian 13+: native apt packages.
#   Debian 12:  GIMP 3 exists only in trixie, so build (once) a minimal trixie chroot
#               cached at $TINCT_GIMP_CHROOT (default /var/cache/tinct/gimp-chroot)
#               and install GIMP inside it. Reused when present and working.
# Idempotent and quiet; needs root (as CI has). Prints one line saying what it used.
set -euo pipefail

CHROOT="${TINCT_GIMP_CHROOT:-/var/cache/tinct/gimp-chroot}"
MIRROR="${TINCT_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# xvfb + xauth: the host tests also drive the plug-in's dialogs (xvfb-run needs xauth).
PKGS="gimp python3-gi gir1.2-gimp-3.0 xvfb xauth"
export DEBIAN_FRONTEND=noninteractive

debian_major() {
    local v
    v="$(cut -d. -f1 /etc/debian_version 2>/dev/null || echo 0)"
    case "$v" in
        '' | *[!0-9]*) echo 0 ;; # e.g. "trixie/sid"
        *) echo "$v" ;;
    esac
}

log() { echo "install_host_gimp: $*"; }

# Tools' chatter goes to a log that is shown only when a step fails.
LOG="$(mktemp /tmp/install_host_gimp.XXXXXX.log)"
trap 'rm -f "$LOG"' EXIT
quiet() {
    if ! "$@" >>"$LOG" 2>&1; then
        log "failed: $*" >&2
        tail -n 40 "$LOG" >&2
        exit 1
    fi
}

gimp_python_ok() { # $@ = how to run the Python that GIMP's plug-ins use
    "$@" -c 'import gi; gi.require_version("Gimp", "3.0"); from gi.repository import Gimp' \
        >/dev/null 2>&1
}

if command -v gimp-console-3.0 >/dev/null 2>&1 && command -v xvfb-run >/dev/null 2>&1 &&
    command -v xauth >/dev/null 2>&1 && gimp_python_ok python3; then
    log "native GIMP 3 present"
    exit 0
fi

if [ "$(debian_major)" -ge 13 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        log "not root: cannot apt-get install GIMP 3; GIMP host tests will not run" >&2
        [ "${CI:-}" = "true" ] && exit 1
        exit 0
    fi
    quiet apt-get update -qq
    quiet apt-get install -y -qq --no-install-recommends $PKGS
    log "installed native GIMP 3"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    # Locally the GIMP host tests then skip; in CI a missing host is a failure.
    log "not root: cannot build the trixie chroot at $CHROOT; GIMP host tests will not run" >&2
    [ "${CI:-}" = "true" ] && exit 1
    exit 0
fi

chroot_ok() {
    [ -x "$CHROOT/usr/bin/gimp-console-3.0" ] && [ -x "$CHROOT/usr/bin/xvfb-run" ] &&
        [ -x "$CHROOT/usr/bin/xauth" ] && gimp_python_ok chroot "$CHROOT" /usr/bin/python3
}

if chroot_ok; then
    log "reusing trixie chroot $CHROOT"
    exit 0
fi

command -v debootstrap >/dev/null 2>&1 || {
    quiet apt-get update -qq
    quiet apt-get install -y -qq debootstrap
}

# A half-built chroot (interrupted run) is finished rather than thrown away; debootstrap
# itself runs only when the base system is missing.
mkdir -p "$(dirname "$CHROOT")"
if [ ! -x "$CHROOT/usr/bin/apt-get" ]; then
    rm -rf "$CHROOT"
    # (in its own mount namespace too: debootstrap mounts /proc and /sys in the target)
    quiet unshare --mount --propagation private \
        debootstrap --variant=minbase trixie "$CHROOT" "$MIRROR"
fi

# apt inside the chroot wants /proc: mount it in a private mount namespace, so it is
# gone when the install ends, however it ends (no mount is ever left on the host).
cp /etc/resolv.conf "$CHROOT/etc/resolv.conf" 2>/dev/null || true
in_chroot() {
    unshare --mount --propagation private sh -c \
        'mount -t proc proc "$0/proc" && exec chroot "$0" /usr/bin/env DEBIAN_FRONTEND=noninteractive "$@"' \
        "$CHROOT" "$@"
}
quiet in_chroot apt-get update -qq
quiet in_chroot apt-get install -y -qq --no-install-recommends $PKGS
quiet in_chroot apt-get clean

if chroot_ok; then
    log "built trixie chroot $CHROOT"
else
    log "GIMP 3 in $CHROOT does not work after install" >&2
    exit 1
fi
