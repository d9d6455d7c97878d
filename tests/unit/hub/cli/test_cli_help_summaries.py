"""Every command's one-line summary in `--help` lists is a whole sentence on one line.

Typer keeps the line breaks of a docstring's first paragraph, so a summary wrapped in the
source was shown broken mid-sentence in the parent's command list.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer

from hub.cli import app


def _commands(command: Any, path: str) -> Iterator[tuple[str, Any]]:
    # Any: typer ships its own copy of click's classes.
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, f"{path} {name}")


COMMANDS = dict(_commands(typer.main.get_command(app), "hub"))


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_the_summary_is_one_line(path: str) -> None:
    summary = (COMMANDS[path].help or "").strip().split("\n\n")[0]
    assert "\n" not in summary, summary


def test_the_command_tree_is_found() -> None:
    assert {"hub audit verify", "hub stats resend", "hub schemas check"} <= set(COMMANDS)
