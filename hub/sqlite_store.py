"""A small transactional SQLite store: the durable state of deduplication ledgers.

Shared by the Kela record ledger and the delivery log. WAL mode lets ``hub up`` and the CLI
use one file at once; ``synchronous=FULL`` makes a commit durable before it returns. Writes
are staged in an open transaction and committed only after the messages they stand for are
published (see ``hub.pipeline``).
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

__all__ = ["TransactionalStore"]


class TransactionalStore:
    """One SQLite file with a schema, staged writes and an optional read-only base."""

    def __init__(
        self,
        path: Path,
        schema: str,
        *,
        read_only_base: Path | None = None,
        scratch: Path | None = None,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Used from the event loop and, for commits, from a worker thread - never at once.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.execute(schema)
        self.schemas = ["main"]
        if read_only_base is not None and read_only_base.exists():
            self._db.execute("ATTACH DATABASE ? AS base", (f"file:{read_only_base}?mode=ro",))
            self.schemas.append("base")
        self._scratch = scratch
        self._in_transaction = False

    def first(self, query: str, parameters: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """The first row ``query`` finds in any schema (``{schema}`` in the query is replaced)."""
        for schema in self.schemas:
            row = self._db.execute(query.format(schema=schema), parameters).fetchone()
            if row is not None:
                return tuple(row)
        return None

    def stage(self, statement: str, parameters: tuple[Any, ...]) -> None:
        """Execute a write inside the open transaction (opened if needed)."""
        if not self._in_transaction:
            self._db.execute("BEGIN IMMEDIATE")
            self._in_transaction = True
        self._db.execute(statement, parameters)

    def commit(self) -> None:
        """Make every staged write durable."""
        if self._in_transaction:
            self._db.execute("COMMIT")
            self._in_transaction = False

    def rollback(self) -> None:
        """Forget every staged write."""
        if self._in_transaction:
            self._db.execute("ROLLBACK")
            self._in_transaction = False

    def scalar(self, query: str) -> Any:
        """One value from the main schema."""
        return self._db.execute(query).fetchone()[0]

    def close(self) -> None:
        """Roll back anything staged, close, and remove a scratch folder if there is one."""
        self.rollback()
        self._db.close()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
