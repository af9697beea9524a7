"""Command-line option groups: one builder per group, used by every command that has it.

A builder adds its group's options to an argparse parser, with the group's bounds
and defaults; the user-facing ones (steps, guidance, colourfulness) come from
tinct.protocol.constants, where the daemon, the wire validation and both plugins
read them too. Standard library and tinct.protocol only, so `tinct`'s commands
(tinct.cli) and the training recipe (tinct.train.default_recipe) can share it
without importing each other.
"""

from __future__ import annotations

import argparse

from tinct.protocol import constants as C


def bounded(kind: type, low: float, high: float, name: str):
    """An argparse type: text -> a `kind` (int or float) number within [low, high].
    A bad value raises ArgumentTypeError naming `name`, the allowed span and the
    value received."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not low <= value <= high:  # NaN fails this too
            span = f"{low}..{high}" if kind is int else f"{low:g}..{high:g}"
            raise argparse.ArgumentTypeError(f"{name} must be within {span}, got {value}")
        return value

    return parse


steps_type = bounded(int, C.MIN_STEPS, C.MAX_STEPS, "steps")
guidance_type = bounded(float, C.MIN_GUIDANCE, C.MAX_GUIDANCE, "guidance")
_scale_in_bounds = bounded(float, C.MIN_SCALE, C.MAX_SCALE, "scale")


def scale_type(text: str) -> float:
    """An argparse type for --scale: a colourfulness within [MIN_SCALE, MAX_SCALE].
    'auto', which earlier versions took, gets a message saying what replaced it."""
    if text.strip().lower() == "auto":
        raise argparse.ArgumentTypeError(
            "'auto' is no longer supported (the automatic pick chose 1.0 on every validation "
            f"photo); give a number, {C.MIN_SCALE:g} (gray) to {C.MAX_SCALE:g}, default "
            f"{C.DEFAULT_SCALE:g}"
        )
    return _scale_in_bounds(text)


def add_sampling_options(parser, use_defaults: bool = True) -> None:
    """Add --steps (MIN_STEPS..MAX_STEPS) and --guidance (MIN_GUIDANCE..MAX_GUIDANCE)
    to `parser` (an ArgumentParser or argument group). With `use_defaults` they
    default to DEFAULT_STEPS and DEFAULT_GUIDANCE; without, to None (a client
    that leaves the choice to the daemon)."""
    where = "default %(default)s" if use_defaults else "default: the daemon's"
    parser.add_argument(
        "--steps",
        type=steps_type,
        default=C.DEFAULT_STEPS if use_defaults else None,
        help=f"sampling steps, {C.MIN_STEPS}-{C.MAX_STEPS} ({where})",
    )
    parser.add_argument(
        "--guidance",
        type=guidance_type,
        default=C.DEFAULT_GUIDANCE if use_defaults else None,
        help=f"guidance weight of a prompt without colour words, "
        f"{C.MIN_GUIDANCE:g}-{C.MAX_GUIDANCE:g} ({where})",
    )


def add_scale_option(parser) -> None:
    """Add --scale to `parser`: the colourfulness, MIN_SCALE (gray) to MAX_SCALE,
    default DEFAULT_SCALE (1 = as predicted)."""
    parser.add_argument(
        "--scale",
        type=scale_type,
        default=C.DEFAULT_SCALE,
        help=f"{C.SCALE_WORD.lower()}: {C.MIN_SCALE:g} (gray) to {C.MAX_SCALE:g}, "
        "1 = as predicted (default %(default)s)",
    )


# The autoencoder's objective (tinct.train.vae): L1 on RGB + CHROMA x L1 on a*b* + KL x KL.
VAE_CHROMA_WEIGHT = 0.15  # at 0.04 a small VAE dropped the red-green axis (model card, v0.5)
VAE_KL_WEIGHT = 1e-6  # only keeps the latent from drifting; no measurement on record
VAE_GRAY_SHARE = 0.25  # share of gray crops, so gray stays gray (model card, recipe step 2)


def add_vae_options(parser) -> None:
    """Add the autoencoder objective's options to `parser` (an ArgumentParser or
    argument group): --chroma-weight (0-100), --kl-weight (0-1) and --gray-share
    (0-1), defaulting to VAE_CHROMA_WEIGHT, VAE_KL_WEIGHT and VAE_GRAY_SHARE."""
    parser.add_argument(
        "--chroma-weight",
        type=bounded(float, 0.0, 100.0, "chroma weight"),
        default=VAE_CHROMA_WEIGHT,
        help="VAE loss weight of the a*b* L1 (default %(default)s; at 0.04 a small VAE "
        "dropped red-green)",
    )
    parser.add_argument(
        "--kl-weight",
        type=bounded(float, 0.0, 1.0, "KL weight"),
        default=VAE_KL_WEIGHT,
        help="VAE loss weight of the KL term (default %(default)s)",
    )
    parser.add_argument(
        "--gray-share",
        type=bounded(float, 0.0, 1.0, "gray share"),
        default=VAE_GRAY_SHARE,
        help="share of gray VAE training crops (default %(default)s)",
    )


__all__ = [
    "VAE_CHROMA_WEIGHT",
    "VAE_GRAY_SHARE",
    "VAE_KL_WEIGHT",
    "add_sampling_options",
    "add_scale_option",
    "add_vae_options",
    "bounded",
]
