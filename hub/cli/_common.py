"""What every CLI command shares: settings, logging, consoles, running coroutines."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from rich.console import Console

from hub.core.logs import configure_logging
from hub.core.settings import HubSettings, load_settings

__all__ = ["err", "out", "run", "start_command"]

T = TypeVar("T")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def start_command(*, long_running: bool = False) -> HubSettings:
    """Load settings (one-line error on failure) and configure logging from them.

    Ad-hoc commands keep the Kafka client quiet; ``hub up`` (long running) logs its
    connection troubles, which is what an administrator watches.
    """
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format, quiet_clients=not long_running)
    return settings


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a fresh event loop."""
    return asyncio.run(coroutine)
