"""`tinct install [--gimp] [--krita] [--backend CMD] [--dry-run] [--uninstall]`.

The argparse side of tinct.install: the work (plugin folders, staging, the
install record) lives there.
"""

from __future__ import annotations

import argparse

from tinct.cli.common import CliError
from tinct.install.actions import InstallError, default_backend_cmd, install, uninstall
from tinct.install.locations import HOSTS, find_targets
from tinct.protocol.launcher import parse_command


def add_install_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "install",
        help="install the GIMP 3 and Krita plugins for this user (or --uninstall them)",
        description="Copy the Tinct plugins (with their protocol client) into GIMP 3's and "
        "Krita's user plugin folders, enable the Krita plugin, and record the command that "
        "starts the backend. Running it again updates the install; --uninstall removes "
        "exactly what it added. With neither --gimp nor --krita: both.",
    )
    p.add_argument("--gimp", action="store_true", help="only GIMP 3")
    p.add_argument("--krita", action="store_true", help="only Krita")
    p.add_argument(
        "--backend",
        metavar="CMD",
        help="command that starts `tinct serve` (a command line or a JSON list); "
        "default: this backend",
    )
    p.add_argument("--dry-run", action="store_true", help="print what would happen, change nothing")
    p.add_argument("--uninstall", action="store_true", help="remove what an install added")
    p.set_defaults(func=run_install)
    return p


def run_install(args: argparse.Namespace) -> int:
    hosts = tuple(h for h in HOSTS if getattr(args, h)) or HOSTS
    try:
        if args.uninstall:
            if args.backend:
                raise CliError("--backend has no meaning with --uninstall")
            uninstall(hosts, dry_run=args.dry_run)
            return 0
        try:
            cmd = parse_command(args.backend) if args.backend else default_backend_cmd()
        except ValueError as exc:
            raise CliError(f"--backend: {exc}") from None
        install(find_targets(hosts), cmd, dry_run=args.dry_run)
    except (InstallError, ValueError) as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        raise CliError(f"{exc.strerror or exc}{where}") from None
    return 0
