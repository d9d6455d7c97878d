"""``hub up``: run the hub (on a local Apache Kafka when no Kafka is configured)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli._common import out, run, start_command

if TYPE_CHECKING:
    from hub.app.runtime import HubStatus

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
    out.print("Stop with Ctrl-C.")
    if status.local:
        # The hub's own commands read DATA_DIR/local-broker.json; exporting the address to them
        # would make them take it for a real cluster, and it goes stale at the next start.
        out.print(
            f"Other hub commands with the same HUB_DATA_DIR ({status.data_dir}) find this "
            "broker by themselves. For tools outside the hub only (the port changes on "
            "every start):",
            markup=False,
        )
    else:
        out.print("Other hub commands need the same settings:")
    # A line of its own that scripts can grep or eval.
    out.print(f"export HUB_KAFKA_BOOTSTRAP={status.bootstrap}", markup=False)


def up(
    console: Annotated[
        bool,
        typer.Option("--console", help="Serve the web console too (see `hub console`)."),
    ] = False,
) -> None:
    """Run the hub (a local Apache Kafka when HUB_KAFKA_BOOTSTRAP is unset) until Ctrl-C.

    Starts the local broker if needed (its topics and records stay in HUB_DATA_DIR/kafka),
    provisions the topics, runs every connector; Ctrl-C or
    SIGTERM stops everything cleanly.
    """
    from connectors import CONNECTORS  # noqa: PLC0415 - keeps `hub --help` fast.
    from hub.app.runtime import serve  # noqa: PLC0415 - the same.

    settings = start_command(long_running=True)
    if not console:
        run(serve(settings, CONNECTORS, _announce))
        out.print("hub stopped")
        return
    from hub.console.config import load_console_settings  # noqa: PLC0415 - only with --console
    from hub.console.server import run_console  # noqa: PLC0415
    from hub.core.metrics import HubMetrics  # noqa: PLC0415

    console_settings = load_console_settings()  # a bad setting stops before anything starts

    async def hub_and_console() -> None:
        stop, is_up = asyncio.Event(), asyncio.Event()
        metrics = HubMetrics()

        async def metrics_text() -> str:
            return metrics.render().decode()

        def announce(status: HubStatus) -> None:
            _announce(status)
            is_up.set()

        async def console_when_up() -> None:
            await is_up.wait()
            await run_console(
                settings,
                console_settings,
                stop,
                metrics_text,
                lambda url: out.print(f"console on {url}", markup=False),
            )

        console_task = asyncio.create_task(console_when_up())
        # A console that cannot listen (port taken) stops the hub too, with its one line.
        console_task.add_done_callback(lambda _task: stop.set())
        try:
            await serve(settings, CONNECTORS, announce, stop, metrics)
        finally:
            stop.set()
            if not is_up.is_set():
                console_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await console_task

    run(hub_and_console())
    out.print("hub stopped")
