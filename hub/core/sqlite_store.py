"""A small SQLite store for the durable state of deduplication ledgers.

Shared by the Kela record ledger, the delivery log and the referral register. WAL mode lets
``hub up`` and the CLI use one file at once; ``synchronous=FULL`` makes a commit durable
before it returns.

Writes are *staged in memory* and written in one short transaction by ``commit``, which the
pipeline calls after the messages they stand for are published (off the event loop). No write
transaction is ever held open across a publish: another connection (a concurrent route, or
``hub ingest`` in another process) would otherwise wait on SQLite's lock on the event-loop
thread while the publish that would release it cannot progress. Owners of a store that need
to see their own staged writes keep them beside it (see ``pending``).
"""

from __future__ import annotations

import itertools
import shutil
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path
from typing import Any, Protocol

from hub.core.private_files import connect_sqlite

__all__ = ["TransactionalStore", "execute_in_runs", "immediate_transaction"]


class _Executes(Protocol):
    def execute(self, query: str, parameters: Sequence[Any] = ..., /) -> Any: ...


@contextmanager
def immediate_transaction(db: _Executes) -> Iterator[None]:
    """One write transaction on ``db`` (opened with ``isolation_level=None``): the write lock
    taken at once (a reader upgrading later could fail on a busy database), committed at the
    end, rolled back on any exception."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def execute_in_runs(db: sqlite3.Connection, writes: Sequence[tuple[str, tuple[Any, ...]]]) -> None:
    """Run staged ``(statement, parameters)`` writes in order, each run of the same statement
    in one ``executemany``: the same rows in the same order, a statement step per run rather
    than per row."""
    for statement, run in itertools.groupby(writes, key=itemgetter(0)):
        db.executemany(statement, [parameters for _, parameters in run])


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
        # Reads come from the event loop, commits from a worker thread: never at once for one
        # route, but the lock makes that a guarantee rather than an assumption.
        self._lock = threading.Lock()
        self._db = connect_sqlite(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # A scratch file is thrown away after the run: durability would only cost fsyncs.
        self._db.execute(f"PRAGMA synchronous={'OFF' if scratch is not None else 'FULL'}")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(schema)
        self.schemas = ["main"]
        if read_only_base is not None and read_only_base.exists():
            self._db.execute("ATTACH DATABASE ? AS base", (f"file:{read_only_base}?mode=ro",))
            self.schemas.append("base")
        self._scratch = scratch
        self._pending: list[tuple[str, tuple[Any, ...]]] = []

    @property
    def pending(self) -> int:
        """How many writes are staged and not yet committed."""
        return len(self._pending)

    def first(self, query: str, parameters: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """The first committed row ``query`` finds in any schema (``{schema}`` is replaced)."""
        with self._lock:
            for schema in self.schemas:
                row = self._db.execute(query.format(schema=schema), parameters).fetchone()
                if row is not None:
                    return tuple(row)
        return None

    def all(self, query: str, parameters: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """Every committed row ``query`` finds in the main schema."""
        with self._lock:
            return [tuple(row) for row in self._db.execute(query, parameters).fetchall()]

    def everywhere(self, query: str, parameters: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """Every committed row ``query`` finds, in every schema (``{schema}`` is replaced)."""
        with self._lock:
            return [
                tuple(row)
                for schema in self.schemas
                for row in self._db.execute(query.format(schema=schema), parameters).fetchall()
            ]

    def add_columns(self, table: str, columns: Mapping[str, str]) -> list[str]:
        """Add to ``table`` (main schema) the ``columns`` (name → type) it lacks; their names.

        How a file written by an earlier version gains what a later one keeps: the rows
        already there get NULL in the new columns.
        """
        with self._lock:
            present = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            added = [name for name in columns if name not in present]
            for name in added:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {columns[name]}")
        return added

    def execute(self, statement: str) -> None:
        """Run one schema statement at once (an index), outside the staged writes."""
        with self._lock:
            self._db.execute(statement)

    def stage(self, statement: str, parameters: tuple[Any, ...]) -> None:
        """Remember a write; it reaches the database with the next ``commit``."""
        self._pending.append((statement, parameters))

    def commit(self) -> None:
        """Write every staged write in one transaction and make it durable."""
        if not self._pending:
            return
        with self._lock, immediate_transaction(self._db):
            execute_in_runs(self._db, self._pending)
        self._pending.clear()

    def rollback(self) -> None:
        """Forget every staged write."""
        self._pending.clear()

    def scalar(self, query: str) -> Any:
        """One value from the main schema (committed data)."""
        with self._lock:
            return self._db.execute(query).fetchone()[0]

    def close(self) -> None:
        """Forget staged writes, close, and remove a scratch folder if there is one."""
        self.rollback()
        with self._lock:
            self._db.close()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
