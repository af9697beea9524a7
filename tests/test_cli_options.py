"""One option builder per option group (tinct.options): every command with the group
parses it with the same bounds and defaults, and refuses a bad value at parse time
in one line, before any work (a daemon started with --steps 0 failed every job)."""

from __future__ import annotations

import argparse

import pytest

from tinct import options
from tinct.cli.main import build_parser, main
from tinct.protocol import constants as C


def _subcommands(parser: argparse.ArgumentParser):
    """(name path, parser) for every command and subcommand of `parser`."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield name, sub
                for inner, subsub in _subcommands(sub):
                    yield f"{name} {inner}", subsub


def _option(parser: argparse.ArgumentParser, flag: str):
    return next((a for a in parser._actions if flag in a.option_strings), None)


def test_every_command_with_an_option_group_parses_it_with_the_same_type():
    groups = {
        "--steps": options.steps_type,
        "--guidance": options.guidance_type,
        "--scale": options.scale_type,
    }
    seen = {flag: [] for flag in groups}
    for name, sub in _subcommands(build_parser()):
        for flag, kind in groups.items():
            action = _option(sub, flag)
            if action is not None:
                assert action.type is kind, (name, flag)
                seen[flag].append(name)
    assert seen["--steps"] == ["colorize", "serve", "client colorize", "eval"]
    assert seen["--scale"] == ["colorize", "client colorize", "client rescale", "client apply"]
    # The daemon's and the CLI's defaults are the protocol's; a client leaves them to the daemon.
    parsed = {
        "colorize": ["colorize", "in.png", "-o", "out.png"],
        "serve": ["serve"],
        "client": ["client", "colorize", "in.png", "-o", "out.png"],
    }
    for name, argv in parsed.items():
        args = build_parser().parse_args(argv)
        want = (None, None) if name == "client" else (C.DEFAULT_STEPS, C.DEFAULT_GUIDANCE)
        assert (args.steps, args.guidance) == want, name


@pytest.mark.parametrize(
    "argv, message",
    [
        # A real process: tests/test_cli_round_two.py::test_serve_refuses_bad_settings_before_it_starts
        (["serve", "--steps", "0"], "steps must be within 1..200, got 0"),
        (["serve", "--guidance", "21"], "guidance must be within 0..20, got 21.0"),
        (["colorize", "a.png", "-o", "b.png", "--steps", "201"], "steps must be within 1..200"),
        (["client", "colorize", "a.png", "-o", "b.png", "--steps", "0"], "steps must be within"),
        (["client", "colorize", "a.png", "-o", "b.png", "--guidance", "x"], "expected a number"),
        (["client", "apply", "job", "-o", "b.png", "--scale", "3"], "scale must be within 0..2"),
        (["train-vae", "d", "-o", "o", "--gray-share", "2"], "gray share must be within 0..1"),
    ],
)
def test_a_bad_option_is_refused_at_parse_time_in_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_the_autoencoder_options_are_one_group_for_train_vae_and_the_recipe(capsys):
    from tinct.train.default_recipe import main as recipe_main
    from tinct.train.vae import AutoencoderOptions

    args = build_parser().parse_args(["train-vae", "d", "-o", "o"])
    defaults = (args.chroma_weight, args.kl_weight, args.gray_share)
    assert defaults == (options.VAE_CHROMA_WEIGHT, options.VAE_KL_WEIGHT, options.VAE_GRAY_SHARE)
    o = AutoencoderOptions(data="d")
    assert (o.chroma_weight, o.kl_weight, o.gray_share) == defaults
    with pytest.raises(SystemExit) as exit_info:
        recipe_main(["d", "-o", "o", "--kl-weight", "-1"])
    assert exit_info.value.code == 2
    assert "KL weight must be within 0..1, got -1.0" in capsys.readouterr().err
