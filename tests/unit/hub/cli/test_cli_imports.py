"""Starting the CLI stays cheap: the heavy libraries load only in the command that needs them.

``hub --help`` and ``import hub.cli`` must not pull in the Kafka client, FastStream, the
connectors (FHIR models), the console's web stack, plotting or PostgreSQL; and moving those
imports into the commands must not lose a command or break one's ``--help`` (typer reads a
command's annotations only when it builds the help, so a name missing there shows up here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from hub.cli import app

#: Top-level packages (and hub modules) that only a running command may load.
HEAVY = (
    "aiokafka",
    "faststream",
    "fhir",
    "starlette",
    "jinja2",
    "matplotlib",
    "psycopg",
    "cryptography",
    "connectors",
    "uvicorn",
    "hub.routing.pipeline",
    "hub.app.runtime",
    "hub.routing.lines",
    "hub.console.app",
    "hub.console.deadletters",
    "hub.audit.recorder",
)

#: Every command path of today's CLI; a command lost on the way fails the test below.
COMMANDS = frozenset(
    {
        "up",
        "tail",
        "send",
        "topics",
        "topics provision",
        "topics list",
        "schemas",
        "schemas export",
        "schemas check",
        "schemas release",
        "schemas asyncapi",
        "ingest",
        "ingest kela",
        "contracts",
        "contracts show",
        "referrals",
        "referrals show",
        "acls",
        "acls generate",
        "audit",
        "audit verify",
        "audit disclosures",
        "audit export",
        "audit replay",
        "audit recompute",
        "audit prune",
        "audit checkpoint",
        "docs",
        "docs generate",
        "docs check",
        "share",
        "share rules",
        "share statement",
        "share rebuild",
        "share reconcile",
        "share forecast",
        "share publish",
        "stats",
        "stats month",
        "stats send",
        "stats resend",
        "stats rebuild",
        "deadletters",
        "deadletters list",
        "deadletters show",
        "deadletters resubmit",
        "deadletters close",
        "console",
        "console users",
        "console users add",
        "console users list",
    }
)

_LOADED = """
import json, sys
{run}
with open(sys.argv[1], "w", encoding="utf-8") as handle:
    json.dump(sorted(sys.modules), handle)
"""


def _heavy_in(modules: list[str]) -> list[str]:
    return sorted(
        name for name in modules if any(name == h or name.startswith(f"{h}.") for h in HEAVY)
    )


def _modules_after(run: str, tmp_path: Path) -> list[str]:
    """The modules a fresh interpreter holds after ``run`` (no module cache of this process)."""
    listing = tmp_path / "modules.json"
    env = {**os.environ, "HUB_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "120"}
    subprocess.run(
        [sys.executable, "-c", _LOADED.format(run=run), str(listing)],
        check=True,
        capture_output=True,
        env=env,
        cwd=tmp_path,
    )
    loaded: list[str] = json.loads(listing.read_text(encoding="utf-8"))
    return loaded


def test_importing_the_cli_loads_none_of_the_heavy_modules(tmp_path: Path) -> None:
    loaded = _modules_after("import hub.cli", tmp_path)
    assert "hub.cli" in loaded
    assert _heavy_in(loaded) == []


def test_hub_help_loads_none_of_the_heavy_modules(tmp_path: Path) -> None:
    loaded = _modules_after("from hub.cli import main\nassert main(['--help']) == 0", tmp_path)
    assert "typer" in loaded
    assert _heavy_in(loaded) == []


def test_the_heavy_list_is_matched_by_package_not_by_prefix() -> None:
    # "fhirpath" or "hub.runtime_x" are not the packages meant; "fhir.resources" is.
    assert _heavy_in(["fhirpath", "hub.runtime_x", "fhir.resources.R4B", "hub.app.runtime"]) == [
        "fhir.resources.R4B",
        "hub.app.runtime",
    ]


def _paths(command: object, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], list[str]]:
    """Each command path, mapped to the names of its own sub-commands."""
    found: dict[tuple[str, ...], list[str]] = {}
    children: dict[str, object] = getattr(command, "commands", None) or {}
    found[prefix] = sorted(children)
    for name, child in children.items():
        found.update(_paths(child, (*prefix, name)))
    return found


PATHS = _paths(typer.main.get_command(app))


def test_every_command_of_today_is_still_registered() -> None:
    registered = {" ".join(path) for path in PATHS if path}
    assert registered >= COMMANDS, sorted(COMMANDS - registered)


@pytest.mark.parametrize("path", sorted(PATHS), ids=lambda path: " ".join(path) or "hub")
def test_each_help_renders_and_lists_every_sub_command(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"}, prog_name="hub")
    assert result.exit_code == 0, result.output
    assert f"Usage: hub {' '.join(path)}".rstrip() in " ".join(result.output.split())
    listed = {
        line.strip("│ ").split()[0]
        for line in result.output.splitlines()
        if line.startswith("│ ") and line.strip("│ ")
    }
    missing = [name for name in PATHS[path] if name not in listed]
    assert not missing, result.output
