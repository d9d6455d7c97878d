"""``hub schemas export|check|release``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cli._common import err, out
from hub.errors import HubError
from schemas.catalogue import SCHEMA_DIR, check_schemas, export_schemas
from schemas.releases import RELEASED_DIR, IncompatibleSchemas, check_releases, release_schemas

__all__ = ["schemas_app"]

schemas_app = typer.Typer(help="Canonical JSON Schema files.", no_args_is_help=True)

DirOption = Annotated[
    Path | None,
    typer.Option("--dir", help="Where the schema files live (default: the schemas package)."),
]
ReleasedOption = Annotated[
    Path | None,
    typer.Option(
        "--released", help="Where the released snapshots live (default: the schemas package)."
    ),
]


@schemas_app.command("export")
def export(directory: DirOption = None) -> None:
    """Write one JSON Schema file per canonical type and major version."""
    for path in export_schemas(directory or SCHEMA_DIR):
        out.print(f"wrote {path}")


@schemas_app.command("check")
def check(directory: DirOption = None, released: ReleasedOption = None) -> None:
    """Fail (exit 1) when the schema files differ from the models, or a schema breaks the
    consumers of a released one or is not released."""
    drifts = check_schemas(directory or SCHEMA_DIR)
    for drift in drifts:
        err.print(drift.diff, markup=False)
    findings = check_releases(released or RELEASED_DIR)
    for finding in findings:
        err.print(finding.describe(), markup=False)
    breaking = sum(finding.breaking for finding in findings)
    problems = [
        f"{len(drifts)} schema file(s) differ from the models: run `hub schemas export` and "
        "commit the result"
        if drifts
        else "",
        f"{breaking} change(s) break consumers of released schemas (see 'Schema evolution' "
        "in docs/canonical-events.md)"
        if breaking
        else "",
        f"{len(findings) - breaking} schema(s) not released: run `hub schemas release`"
        if len(findings) > breaking
        else "",
    ]
    for problem in filter(None, problems):
        err.print(problem, markup=False)
    if any(problems):
        raise typer.Exit(1)
    out.print("schemas match the models and keep every release readable")


@schemas_app.command("release")
def release(released: ReleasedOption = None) -> None:
    """Snapshot every schema that changed since its last release as its next release."""
    try:
        written = release_schemas(released or RELEASED_DIR)
    except IncompatibleSchemas as exc:
        for finding in exc.findings:
            err.print(finding.describe(), markup=False)
        raise HubError(
            f"nothing released: {len(exc.findings)} change(s) break consumers of released schemas"
        ) from None
    for path in written:
        out.print(f"released {path}")
    if not written:
        out.print("nothing to release: every schema equals its last release")
