"""``hub schemas export|check``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cli._common import err, out
from schemas.catalogue import SCHEMA_DIR, check_schemas, export_schemas

__all__ = ["schemas_app"]

schemas_app = typer.Typer(help="Canonical JSON Schema files.", no_args_is_help=True)

DirOption = Annotated[
    Path | None,
    typer.Option("--dir", help="Where the schema files live (default: the schemas package)."),
]


@schemas_app.command("export")
def export(directory: DirOption = None) -> None:
    """Write one JSON Schema file per canonical type and major version."""
    for path in export_schemas(directory or SCHEMA_DIR):
        out.print(f"wrote {path}")


@schemas_app.command("check")
def check(directory: DirOption = None) -> None:
    """Fail (exit 1) when the schema files differ from what the models generate."""
    drifts = check_schemas(directory or SCHEMA_DIR)
    for drift in drifts:
        err.print(drift.diff, markup=False)
    if drifts:
        err.print(
            f"{len(drifts)} schema file(s) differ from the models: run `hub schemas export` "
            "and commit the result",
            markup=False,
        )
        raise typer.Exit(1)
    out.print("schemas match the models")
