"""``hub topics provision|list``."""

from __future__ import annotations

import typer
from rich.table import Table

from hub.broker.connection import connection_for
from hub.cli._common import err, out, run, start_command
from hub.core.topics import TOPICS, topic_configs

__all__ = ["topics_app"]

topics_app = typer.Typer(help="Provision and list the hub's topics.", no_args_is_help=True)


@topics_app.command("provision")
def provision() -> None:
    """Create every topic of the catalogue that does not exist yet (idempotent)."""
    from hub.admin.provisioning import provision_topics  # noqa: PLC0415 - heavy.

    settings = start_command()
    result = run(provision_topics(connection_for(settings)))
    out.print(
        f"{len(result.created)} topics created, {len(result.existing)} already existed "
        f"({len(TOPICS)} in the catalogue)"
    )
    for name in result.created:
        out.print(f"  created  {name}")


#: The columns of ``hub topics list``: the table's heading, and the first line when piped.
_COLUMNS = ("topic", "kind", "partitions", "retention (configured)", "status")


def _retention(ms: str) -> str:
    return "forever" if ms == "-1" else f"{int(ms) / 86_400_000:g} d"


@topics_app.command("list")
def list_() -> None:
    """List the catalogue's topics as they are on the broker, and any other topics there.

    A table on a terminal; tab-separated lines under a header line when piped, for scripts
    and people reading a pager alike. Exit 1 when a
    catalogue topic is missing or has a partition count that breaks ordering.
    """
    from hub.admin.provisioning import list_topics  # noqa: PLC0415 - heavy.

    settings = start_command()
    on_broker = run(list_topics(connection_for(settings)))
    rows = []
    mismatched = []
    for spec in TOPICS:
        partitions = on_broker.get(spec.name)
        expected = spec.partitions or settings.topic_partitions
        retention = _retention(topic_configs(spec, settings.topic_retention_ms)["retention.ms"])
        status = "ok"
        if partitions is None:
            status = "missing"
        elif spec.partitions is not None and partitions != expected:
            # Only where the count matters for correctness (ordering), not a tuning choice.
            status = f"needs {expected} partition(s)"
            mismatched.append(spec.name)
        rows.append((spec.name, spec.kind.value, str(partitions or "-"), retention, status))
    known = {spec.name for spec in TOPICS}
    for name in sorted(set(on_broker) - known):
        rows.append((name, "other", str(on_broker[name]), "-", "not in catalogue"))
    if out.is_terminal:
        table = Table(*_COLUMNS)
        for row in rows:
            table.add_row(*row, style=None if row[-1] == "ok" else "red")
        out.print(table)
    else:
        for row in (_COLUMNS, *rows):
            typer.echo("\t".join(row))
    missing = known - set(on_broker)
    if missing:
        err.print(f"{len(missing)} topic(s) missing: run `hub topics provision`", markup=False)
    for name in mismatched:
        err.print(
            f"{name} has the wrong number of partitions for ordered processing: recreate it "
            "(see docs/operations.md)",
            markup=False,
        )
    if missing or mismatched:
        raise typer.Exit(1)
