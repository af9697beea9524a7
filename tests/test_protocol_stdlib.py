"""tinct.protocol is vendored into GIMP's and Krita's Pythons: it must load only the standard library."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PROTOCOL_DIR = Path(__file__).resolve().parents[1] / "backend" / "tinct" / "protocol"

CHECK = r"""
import json, sys
before = set(sys.modules)
import tinct.protocol
import tinct.protocol.client, tinct.protocol.launcher, tinct.protocol.zmtp, tinct.protocol.transport
new = sorted(set(sys.modules) - before)
foreign = [m for m in new
           if m.split('.')[0] not in sys.stdlib_module_names
           and m not in ('tinct', 'tinct.protocol') and not m.startswith('tinct.protocol.')]
print(json.dumps({"foreign": foreign, "tinct": [m for m in new if m.startswith('tinct')]}))
"""


def test_importing_protocol_loads_only_the_standard_library():
    src = str(PROTOCOL_DIR.parents[1])
    out = subprocess.run(
        [sys.executable, "-c", CHECK],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    got = json.loads(out.stdout)
    assert got["foreign"] == [], f"tinct.protocol pulled in non-stdlib modules: {got['foreign']}"
    # Nothing from the rest of tinct either (plugins vendor this package alone).
    assert all(m == "tinct" or m.startswith("tinct.protocol") for m in got["tinct"]), got["tinct"]


def test_protocol_sources_import_nothing_outside_the_package_at_module_level():
    """Static check too: no module-level import of numpy/torch/zmq/tinct.<other>."""
    for path in PROTOCOL_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module level only; lazy imports inside functions are allowed
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: inside the package
                    continue
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top == "__future__", (
                    f"{path.name} imports {name}"
                )
