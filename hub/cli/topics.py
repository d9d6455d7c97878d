"""``hub topics provision|list``."""

from __future__ import annotations

import typer
from rich.table import Table

from hub.broker.connection import connection_for
from hub.cli._common import out, run, start_command
from hub.provisioning import list_topics, provision_topics
from hub.topics import TOPICS, topic_configs

__all__ = ["topics_app"]

topics_app = typer.Typer(help="Provision and list the hub's topics.", no_args_is_help=True)


@topics_app.command("provision")
def provision() -> None:
    """Create every topic of the catalogue that does not exist yet (idempotent)."""
    settings = start_command()
    result = run(provision_topics(connection_for(settings)))
    out.print(
        f"{len(result.created)} topics created, {len(result.existing)} already existed "
        f"({len(TOPICS)} in the catalogue)"
    )
    for name in result.created:
        out.print(f"  created  {name}")


def _retention(ms: str) -> str:
    return "forever" if ms == "-1" else f"{int(ms) / 86_400_000:g} d"


@topics_app.command("list")
def list_() -> None:
    """List the catalogue's topics as they are on the broker, and any other topics there."""
    settings = start_command()
    on_broker = run(list_topics(connection_for(settings)))
    table = Table("topic", "kind", "partitions", "retention (configured)", "status")
    for spec in TOPICS:
        retention = _retention(topic_configs(spec, settings.topic_retention_ms)["retention.ms"])
        partitions = on_broker.get(spec.name)
        table.add_row(
            spec.name,
            spec.kind.value,
            str(partitions) if partitions is not None else "-",
            retention,
            "ok" if partitions is not None else "[red]missing[/] (hub topics provision)",
        )
    known = {spec.name for spec in TOPICS}
    for name in sorted(set(on_broker) - known):
        table.add_row(name, "other", str(on_broker[name]), "-", "not in catalogue")
    out.print(table)
    missing = known - set(on_broker)
    if missing:
        raise typer.Exit(1)
