#!/usr/bin/env python3
"""Count public definitions with and without a docstring, per package (`make lint`).

Public definitions are module-level functions and classes, and the methods (and
nested classes) of public classes, whose names do not start with "_". Read with
the ast module: nothing is imported. Prints each package's share and the total,
and exits 1 when any package, or the total, is below the threshold.

    python scripts/count_docstrings.py                 # pipeline, color, server, protocol
    python scripts/count_docstrings.py --missing       # also list what has none
    python scripts/count_docstrings.py --threshold 95 backend/tinct/cli
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = [
    ROOT / "backend" / "tinct" / name for name in ("pipeline", "color", "server", "protocol")
]
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def public_definitions(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    """(qualified name, node) of each public definition in a module."""

    def walk(body: list[ast.stmt], prefix: str) -> Iterator[tuple[str, ast.AST]]:
        for node in body:
            if isinstance(node, DEFINITIONS) and not node.name.startswith("_"):
                yield prefix + node.name, node
                if isinstance(node, ast.ClassDef):
                    yield from walk(node.body, f"{prefix}{node.name}.")

    yield from walk(tree.body, "")


def count(package: Path) -> tuple[int, list[str]]:
    """(number of public definitions, names of those without a docstring) in a package."""
    total, missing = 0, []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name, node in public_definitions(tree):
            total += 1
            if ast.get_docstring(node) is None:
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    return total, missing


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("packages", nargs="*", type=Path, default=PACKAGES)
    ap.add_argument("--threshold", type=float, default=90.0, help="percent (default 90)")
    ap.add_argument("--missing", action="store_true", help="list the definitions without one")
    args = ap.parse_args(argv)
    grand_total = grand_documented = 0
    below = []
    for package in args.packages:
        package = package.resolve()
        if not package.is_dir():
            ap.error(f"{package} is not a folder")
        total, missing = count(package)
        documented = total - len(missing)
        share = 100.0 * documented / total if total else 100.0
        grand_total, grand_documented = grand_total + total, grand_documented + documented
        name = package.relative_to(ROOT) if package.is_relative_to(ROOT) else package
        print(f"{str(name):28s} {documented:4d} / {total:4d}  {share:5.1f} %")
        if share < args.threshold:
            below.append(str(name))
        if args.missing:
            for line in missing:
                print(f"    {line}")
    share = 100.0 * grand_documented / grand_total if grand_total else 100.0
    print(f"{'total':28s} {grand_documented:4d} / {grand_total:4d}  {share:5.1f} %")
    if share < args.threshold:
        below.append("total")
    if below:
        print(
            f"docstrings below {args.threshold:g} %: {', '.join(below)} "
            "(run with --missing to list them)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
