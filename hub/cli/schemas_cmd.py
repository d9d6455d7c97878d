"""``hub schemas export|check|release|asyncapi``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cli._common import err, out
from hub.core.errors import HubError

__all__ = ["schemas_app"]

schemas_app = typer.Typer(
    help="Canonical JSON Schema files, their releases, the AsyncAPI document.",
    no_args_is_help=True,
)

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
AsyncapiOption = Annotated[
    Path | None,
    typer.Option(
        "--asyncapi", help="Also check this AsyncAPI document (docs/asyncapi.yaml) for drift."
    ),
]


@schemas_app.command("export")
def export(directory: DirOption = None) -> None:
    """Write one JSON Schema file per canonical type and major version."""
    from schemas.catalogue import SCHEMA_DIR, export_schemas  # noqa: PLC0415 - heavy.

    for path in export_schemas(directory or SCHEMA_DIR):
        out.print(f"wrote {path}")


@schemas_app.command("check")
def check(
    directory: DirOption = None, released: ReleasedOption = None, asyncapi: AsyncapiOption = None
) -> None:
    """Fail (exit 1) on schema drift, a breaking or unreleased schema, or a stale AsyncAPI.

    Drift: the schema files differ from the models. Breaking: a schema breaks the consumers of
    the released one it replaces. Stale: the AsyncAPI document differs from the catalogue.
    """
    from schemas.catalogue import SCHEMA_DIR, check_schemas  # noqa: PLC0415 - heavy.
    from schemas.releases import RELEASED_DIR, check_releases  # noqa: PLC0415 - heavy.

    drifts = check_schemas(directory or SCHEMA_DIR)
    for drift in drifts:
        err.print(drift.diff, markup=False)
    stale = _asyncapi_drift(asyncapi) if asyncapi is not None else None
    if stale is not None:
        err.print(stale, markup=False)
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
        f"{asyncapi} differs from the hub's topics and routes: run "
        f"`hub schemas asyncapi --out {asyncapi}` and commit the result"
        if stale is not None
        else "",
    ]
    for problem in filter(None, problems):
        err.print(problem, markup=False)
    if any(problems):
        raise typer.Exit(1)
    current = f"; {asyncapi} is current" if asyncapi is not None else ""
    out.print(f"schemas match the models and keep every release readable{current}")


@schemas_app.command("release")
def release(released: ReleasedOption = None) -> None:
    """Snapshot every schema that changed since its last release as its next release."""
    from schemas.releases import RELEASED_DIR, IncompatibleSchemas, release_schemas  # noqa: PLC0415 - heavy.

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


@schemas_app.command("asyncapi")
def asyncapi(
    output: Annotated[
        Path | None, typer.Option("--out", help="Write the document here instead of stdout.")
    ] = None,
) -> None:
    """The AsyncAPI 3.0 document of every topic, route and message of the hub (YAML)."""
    from hub.spec.asyncapi import asyncapi_document, render_asyncapi  # noqa: PLC0415 - heavy.

    text = render_asyncapi(asyncapi_document())
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    out.print(f"wrote {output}")


def _asyncapi_drift(path: Path) -> str | None:
    from hub.spec.asyncapi import asyncapi_document, asyncapi_drift, render_asyncapi  # noqa: PLC0415

    return asyncapi_drift(path, render_asyncapi(asyncapi_document()))
