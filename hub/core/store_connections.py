"""The connections behind the hub's own stores (audit, statistics, share ledger).

Each store is SQLite in the data directory by default, or PostgreSQL when its DSN setting is
set; both are opened the same way everywhere, and a failure becomes the store's own error
class with one line saying what could not be opened.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from hub.core.private_files import connect_sqlite

__all__ = ["durable_sqlite", "postgres_connection"]


def durable_sqlite(
    path: Path,
    label: str,
    error: Callable[[str], Exception],
    *,
    synchronous: Literal["FULL", "NORMAL"] = "FULL",
) -> sqlite3.Connection:
    """``path`` opened owner-only, in WAL mode with full fsync and a 10 s busy wait, shared
    across threads (each store serialises its own use); ``error("<label> <path>: …")`` when it
    cannot be opened. ``synchronous="NORMAL"`` is for a cache that can be read again: a power
    loss may lose its last commits, a crashed process does not."""
    try:
        db = connect_sqlite(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={synchronous}")
        db.execute("PRAGMA busy_timeout=10000")
    except (OSError, sqlite3.Error) as exc:
        raise error(f"{label} {path}: {exc}") from None
    return db


def postgres_connection(dsn: str, setting: str, error: Callable[[str], Exception]) -> Any:
    """An autocommit connection to ``dsn`` (10 s to connect); ``error("<setting>: cannot
    connect: <first line of the driver's message>")`` when it fails."""
    import psycopg  # noqa: PLC0415 - only deployments with PostgreSQL load the driver.

    try:
        return psycopg.connect(dsn, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise error(f"{setting}: cannot connect: {first_line}") from None
