"""Running the console: ``hub console`` on its own, or beside the hub in ``hub up --console``."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable, Iterator

import uvicorn

from hub.audit import open_recorder
from hub.broker.connection import connection_for
from hub.console.app import ConsoleContext, create_app
from hub.console.config import ConsoleSettings
from hub.console.flows import scraper
from hub.console.users import UserStore
from hub.settings import HubSettings

__all__ = ["ConsoleServer", "metrics_source", "run_console"]


class ConsoleServer(uvicorn.Server):
    """uvicorn's server without its own signal handling: the hub's loop owns SIGINT/SIGTERM."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Leave the signals to whoever runs the event loop."""
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start as uvicorn does, then say so."""
        await super().startup(sockets)
        if self.started:
            self.listening.set()


def metrics_source(
    settings: HubSettings, console: ConsoleSettings
) -> Callable[[], Awaitable[str]] | None:
    """Where ``hub console`` reads the hub's metrics: the configured URL, else the hub's
    ``HUB_METRICS_PORT`` on its metrics host; ``None`` when neither is set."""
    if console.metrics_url is not None:
        return scraper(console.metrics_url)
    if settings.metrics_port is None:
        return None
    host = "127.0.0.1" if settings.metrics_host in {"0.0.0.0", "::"} else settings.metrics_host  # noqa: S104
    return scraper(f"http://{host}:{settings.metrics_port}/metrics")


async def run_console(
    settings: HubSettings,
    console: ConsoleSettings,
    stop: asyncio.Event,
    metrics_text: Callable[[], Awaitable[str]] | None,
    started: Callable[[str], None] = lambda _url: None,
) -> None:
    """Serve the console until ``stop`` is set; ``started`` gets its URL once it listens."""
    console.check()
    recorder = open_recorder(settings)
    users = UserStore.open(settings.data_dir)
    context = ConsoleContext(
        settings, console, connection_for(settings), recorder, users, metrics_text
    )
    config = uvicorn.Config(
        create_app(context),
        host=console.host,
        port=console.port,
        ssl_certfile=None if console.tls_cert_file is None else str(console.tls_cert_file),
        ssl_keyfile=None if console.tls_key_file is None else str(console.tls_key_file),
        # The hub's logging (identity codes masked) and not uvicorn's own handlers.
        log_config=None,
        log_level="warning",
        access_log=False,
        server_header=False,
        lifespan="on",
    )
    server = ConsoleServer(config)

    async def stop_when_told() -> None:
        await stop.wait()
        server.should_exit = True

    stopper = asyncio.create_task(stop_when_told())
    serving = asyncio.create_task(server.serve())
    try:
        listening = asyncio.create_task(server.listening.wait())
        await asyncio.wait({listening, serving}, return_when=asyncio.FIRST_COMPLETED)
        listening.cancel()
        if server.started:
            port = server.servers[0].sockets[0].getsockname()[1] if server.servers else console.port
            scheme = "https" if console.tls else "http"
            started(f"{scheme}://{console.host}:{port}/")
        await serving
    finally:
        stopper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stopper
        users.close()
        recorder.store.close()
