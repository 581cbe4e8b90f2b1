"""The command line: every command documented, help works."""

from __future__ import annotations

import argparse

import pytest

from pipeline.cli import build_parser


def _commands(parser, prefix=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield prefix + (name,), sub
                yield from _commands(sub, prefix + (name,))


def test_every_command_has_help_text_and_readme_mentions_it(root):
    readme = (root / "README.md").read_text(encoding="utf-8")
    commands = list(_commands(build_parser()))
    assert {c[0] for c, _ in commands} >= {"instruments", "pull", "tidy", "scales", "network", "prepost",
                                           "report", "kobo"}
    for path, sub in commands:
        assert sub.description and len(sub.description) > 10, path
        assert "sinergi " + " ".join(path) in readme, f"README does not document `sinergi {' '.join(path)}`"


def test_help_exits_zero(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["--help"])
    assert exc.value.code == 0
    assert "tidy" in capsys.readouterr().out
