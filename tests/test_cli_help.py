"""Every command, sub-command, argument and option of `quoter` says what it is in its help."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from quoter.cli import build_parser


def _undocumented(parser: argparse.ArgumentParser, path: str) -> Iterator[str]:
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._VersionAction):
            continue
        if isinstance(action, argparse._SubParsersAction):
            described = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                if not described.get(name):
                    yield f"{path} {name} (the command)"
                yield from _undocumented(sub, f"{path} {name}")
        elif not action.help:  # SUPPRESS: hidden on purpose (an old flag kept to refuse it)
            yield f"{path} {'/'.join(action.option_strings) or action.dest}"


def test_every_command_and_option_has_help() -> None:
    assert list(_undocumented(build_parser(), "quoter")) == []


def test_the_top_level_help_describes_the_product() -> None:
    text = build_parser().format_help()
    assert "entender" in text
    assert "quoter run" in text
    assert "quoter.commands" not in text  # the module layout is not the user's business
