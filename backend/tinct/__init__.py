"""Tinct: AI colorization for GIMP 3 and Krita.

Heavy modules load lazily, so `import tinct.protocol` stays standard-library
only. diffusers resolves saved components as `getattr(tinct, ClassName)`, which
the module-level __getattr__ below answers.
"""

from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "TinctPipeline": "tinct.pipeline.pipeline_tinct",
    "ColdDiffusionScheduler": "tinct.pipeline.scheduler",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tinct' has no attribute {name!r}")
