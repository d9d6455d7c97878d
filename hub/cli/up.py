"""``hub up``: run the hub (on a local Apache Kafka when no Kafka is configured)."""

from __future__ import annotations

from hub.cli._common import out, run, start_command
from hub.runtime import HubStatus, serve

__all__ = ["up"]


def _announce(status: HubStatus) -> None:
    where = "local Apache Kafka" if status.local else "Kafka cluster"
    out.print(f"[bold green]hub is up[/] on the {where}")
    out.print(f"  bootstrap   {status.bootstrap}")
    out.print(f"  data dir    {status.data_dir}")
    if status.local:
        out.print(f"  kafka logs  {status.data_dir / 'kafka'} (kept across restarts)")
    out.print(f"  connectors  {', '.join(status.connectors) or 'none yet'}")
    out.print(f"  topics      {len(status.topics)}")
    for topic in status.topics:
        out.print(f"    {topic}")
    out.print("Point other terminals at it, then stop with Ctrl-C:")
    # A line of its own that scripts can grep or eval.
    out.print(f"export HUB_KAFKA_BOOTSTRAP={status.bootstrap}", markup=False)


def up() -> None:
    """Run the hub (a local Apache Kafka when HUB_KAFKA_BOOTSTRAP is unset) until Ctrl-C.

    Starts the local broker if needed (its topics and records stay in HUB_DATA_DIR/kafka),
    provisions the topics, runs every connector; Ctrl-C or
    SIGTERM stops everything cleanly.
    """
    from connectors import CONNECTORS  # noqa: PLC0415 - keeps `hub --help` fast.

    settings = start_command(long_running=True)
    run(serve(settings, CONNECTORS, _announce))
    out.print("hub stopped")
