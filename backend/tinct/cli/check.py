"""`tinct check`: does this install hold everything the daemon and a colorize
need? It imports every module of the backend that serves and colorizes, the
classes diffusers and transformers load lazily (their lazy imports are what a
frozen bundle misses first), loads the default model and the ImageNet class names
that place a prompt's nouns. Prints one line per
failure naming the module, and exits 1 if any; 0 and "ok" otherwise."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import pkgutil

# The backend's packages that the standalone bundle carries (it leaves out
# training, evaluation and the test harness).
BACKEND_PACKAGES = (
    "tinct.protocol",
    "tinct.server",
    "tinct.pipeline",
    "tinct.color",
    "tinct.install",
)
BACKEND_MODULES = (
    "tinct.imageio",
    "tinct.cli.serve",
    "tinct.cli.client",
    "tinct.cli.colorize",
    "tinct.cli.install",
)
# Classes behind lazy module attributes: importing the package is not enough.
LAZY_CLASSES = (
    ("diffusers", "AutoencoderKL"),
    ("diffusers", "AutoencoderTiny"),
    ("diffusers", "UNet2DConditionModel"),
    ("diffusers", "DiffusionPipeline"),
    ("transformers", "AutoTokenizer"),
    ("transformers", "BertModel"),
    ("transformers", "BertConfig"),
)


def add_check_parser(sub) -> argparse.ArgumentParser:
    """Register `tinct check`."""
    p = sub.add_parser(
        "check",
        help="check that this install can serve and colorize (imports, default model)",
        description=__doc__,
    )
    p.add_argument("--no-model", action="store_true", help="skip loading the default model")
    p.set_defaults(func=run_check)
    return p


def backend_modules() -> list[str]:
    """Every module name of BACKEND_PACKAGES (recursively) and BACKEND_MODULES,
    found without importing them (so one broken import does not hide the rest)."""
    names, todo = [], list(BACKEND_PACKAGES)
    while todo:
        package = todo.pop()
        names.append(package)
        spec = importlib.util.find_spec(package)
        locations = spec.submodule_search_locations if spec else None
        for info in pkgutil.iter_modules(locations or [], prefix=package + "."):
            (todo if info.ispkg else names).append(info.name)
    return sorted(set(names) | set(BACKEND_MODULES))


def problems(load_model: bool = True) -> list[str]:
    """What is missing, one line each ("module X: error"); empty when all is well."""
    found = []
    try:
        modules = backend_modules()
    except Exception as exc:  # a package that cannot even be found
        return [f"backend packages: {type(exc).__name__}: {exc}"]
    if "tinct.pipeline.pipeline_tinct" not in modules:  # e.g. a frozen importer that lists nothing
        return [f"backend packages: could not list their modules (found {len(modules)})"]
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:
            found.append(f"module {name}: {type(exc).__name__}: {_first_line(exc)}")
    for package, attr in LAZY_CLASSES:
        try:
            getattr(importlib.import_module(package), attr)
        except Exception as exc:
            found.append(f"module {package}.{attr}: {type(exc).__name__}: {_first_line(exc)}")
    if load_model and not found:
        try:
            from tinct.pipeline.loading import load_pipeline

            pipe = load_pipeline(None, device="cpu")
        except Exception as exc:
            found.append(f"default model: {type(exc).__name__}: {_first_line(exc)}")
        else:
            found += _noun_classes(pipe)
    return found


def _noun_classes(pipe) -> list[str]:
    """The class names and classifier that place a prompt's nouns (tinct.pipeline.noun_maps),
    usable with the default model's text encoder; one line if not."""
    from tinct.pipeline import noun_maps
    from tinct.pipeline.encoder import classifier_weights

    try:
        if not noun_maps.usable_with(pipe.text_encoder):
            return [f"noun classes: {noun_maps.CLASSES_FILE.name} missing or unusable"]
        names, _ = noun_maps.class_table()
        classifier_weights()
    except Exception as exc:
        return [f"noun classes: {type(exc).__name__}: {_first_line(exc)}"]
    return [] if len(names) == 1000 else [f"noun classes: {len(names)} names, not 1000"]


def _first_line(exc: BaseException) -> str:
    text = [line for line in str(exc).strip().splitlines() if line.strip()]
    if len(text) > 1:  # diffusers wraps the cause: its last line names what is missing
        return f"{text[0]} ... {text[-1]}"
    return text[0] if text else ""


def run_check(args: argparse.Namespace) -> int:
    """Print each problem and exit 1, or "ok" with the version line and exit 0."""
    found = problems(load_model=not args.no_model)
    for line in found:
        print(line)
    if found:
        return 1
    from tinct.pipeline.about import version_line

    print(f"ok: {version_line()}")
    return 0
