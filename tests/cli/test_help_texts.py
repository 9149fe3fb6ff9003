"""Every command, option and positional argument says what it is in ``--help``.

A DPO or an incident responder reads ``custos breach assess --help`` without the source at hand; an option listed
bare (``--risk {none,risk,high_risk}``, ``--reason REASON``) leaves them to guess what is recorded, in what form,
and whether it can be changed later. 90 arguments had no help text."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from app.cli import build_parser


def _arguments(parser: argparse.ArgumentParser, path: str) -> Iterator[tuple[str, argparse.Action]]:
    for action in parser._actions:  # argparse keeps no public list of a parser's arguments
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _arguments(child, f"{path} {name}")
        elif not isinstance(action, argparse._HelpAction):
            yield path, action


def _commands(parser: argparse.ArgumentParser, path: str) -> Iterator[tuple[str, str | None]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, child in action.choices.items():
                yield f"{path} {name}", helps.get(name)
                yield from _commands(child, f"{path} {name}")


def test_every_argument_has_a_help_text() -> None:
    bare = [
        f"{path} {'/'.join(action.option_strings) or action.dest}"
        for path, action in _arguments(build_parser(), "custos")
        if not (action.help and action.help.strip()) and action.help != argparse.SUPPRESS
    ]
    assert bare == []


def test_every_command_has_a_help_text() -> None:
    bare = [path for path, text in _commands(build_parser(), "custos") if not (text and text.strip())]
    assert bare == []
