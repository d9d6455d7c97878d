"""``hub console`` (serve the web console) and ``hub console users add`` (local accounts)."""

from __future__ import annotations

import asyncio
import getpass
import signal
import sys
from typing import Annotated

import typer

from hub.cli._common import out, run, start_command
from hub.console.users import Role, UserStore
from hub.core.errors import ConfigurationError

__all__ = ["console_app"]

console_app = typer.Typer(help="The web console for operators and auditors.")
users_app = typer.Typer(help="Local console accounts (when no OpenID Connect is set).")
console_app.add_typer(users_app, name="users")


def _announce(url: str) -> None:
    out.print(f"console on {url} (stop with Ctrl-C)", markup=False)


@console_app.callback(invoke_without_command=True)
def console(ctx: typer.Context) -> None:
    """Serve the console (HUB_CONSOLE_HOST, default 127.0.0.1; HUB_CONSOLE_PORT, 8470)."""
    if ctx.invoked_subcommand is not None:
        return
    from hub.console.config import load_console_settings  # noqa: PLC0415 - heavy.
    from hub.console.server import metrics_source, run_console  # noqa: PLC0415 - heavy.

    settings = start_command(long_running=True)
    console_settings = load_console_settings()

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await run_console(
            settings, console_settings, stop, metrics_source(settings, console_settings), _announce
        )

    run(serve())
    out.print("console stopped")


def _role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        roles = " or ".join(role.value for role in Role)
        raise ConfigurationError(f"--role: {text!r} is not a console role ({roles})") from None


@users_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The sign-in name.")],
    # A plain string: the hub's own one-line refusal instead of the parser's wording.
    role: Annotated[str, typer.Option("--role", help="operator or auditor.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin (scripts).")
    ] = False,
) -> None:
    """Create a local account, or set its role and password anew."""
    chosen = _role(role)
    settings = start_command()
    if password_stdin:
        password = typer.get_text_stream("stdin").readline().rstrip("\r\n")
    elif not sys.stdin.isatty():
        raise ConfigurationError(
            "no terminal to ask for the password: pipe it in with --password-stdin"
        )
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise ConfigurationError("the passwords differ")
    store = UserStore.open(settings.data_dir)
    try:
        store.add(name, chosen, password)
    finally:
        store.close()
    out.print(f"user {name.strip()} ({chosen.value}) saved", markup=False)


@users_app.command("list")
def list_users() -> None:
    """Every local account and its role."""
    settings = start_command()
    store = UserStore.open(settings.data_dir)
    try:
        for name, role in store.names():
            out.print(f"{name}\t{role.value}", markup=False)
    finally:
        store.close()
