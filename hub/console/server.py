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
from hub.core.errors import ConfigurationError
from hub.core.settings import HubSettings

__all__ = [
    "ConsoleListenError",
    "ConsoleServer",
    "listening_socket",
    "metrics_source",
    "run_console",
]


class ConsoleListenError(ConfigurationError):
    """The console's address cannot be listened on (taken, or not this machine's)."""


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port``, or one clear line saying why not.

    Bound here rather than by uvicorn, which would end the whole process on a taken port.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConsoleListenError(
            f"HUB_CONSOLE_HOST/HUB_CONSOLE_PORT: cannot listen on {host}:{port} ({exc.strerror})"
        ) from None
    return sock


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
    connection = connection_for(settings)
    with contextlib.ExitStack() as opened:
        sock = listening_socket(console.host, console.port)
        opened.callback(sock.close)
        recorder = open_recorder(settings)
        opened.callback(recorder.store.close)
        users = UserStore.open(settings.data_dir)
        opened.callback(users.close)
        context = ConsoleContext(settings, console, connection, recorder, users, metrics_text)
        await _serve(ConsoleServer(_config(context)), sock, stop, started)


def _config(context: ConsoleContext) -> uvicorn.Config:
    console = context.console
    return uvicorn.Config(
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


async def _serve(
    server: ConsoleServer,
    sock: socket.socket,
    stop: asyncio.Event,
    started: Callable[[str], None],
) -> None:
    async def stop_when_told() -> None:
        await stop.wait()
        server.should_exit = True

    stopper = asyncio.create_task(stop_when_told())
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        listening = asyncio.create_task(server.listening.wait())
        await asyncio.wait({listening, serving}, return_when=asyncio.FIRST_COMPLETED)
        listening.cancel()
        if server.started:
            port = sock.getsockname()[1]
            scheme = "https" if server.config.is_ssl else "http"
            started(f"{scheme}://{server.config.host}:{port}/")
        await serving
    finally:
        stopper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stopper
