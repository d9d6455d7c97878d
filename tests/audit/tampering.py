"""What an insider with write access to the audit database does, in SQL, and the log they do
it to: several chains, a signed checkpoint after every round of records.

The insider works on a connection of their own, as a database administrator would, never
through the hub's store object; a whole record is written by the store's column names
(``hub.audit.store.Column``, ``stored_values``), so a test states which values it forges.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit.recorder import AuditRecorder, Consumed, drafts_for
from hub.audit.records import AuditDraft, AuditRecord
from hub.audit.signing import CheckpointBody
from hub.audit.store import SQLITE_FILE, AuditStore, Column, stored_values

CHAINS = tuple(f"hub.example/in.example/{partition}" for partition in range(4))
ROUNDS = 12
PER_ROUND = 5  # records per chain between two checkpoints


class Insider:
    """A connection of one's own to the audit database (the SQLite file in the data
    directory, or PostgreSQL), autocommitting: each statement is its own transaction."""

    def __init__(self, data_dir: Path, dsn: str | None) -> None:
        #: Whether the database is PostgreSQL (else SQLite).
        self.postgres = dsn is not None
        self._db: Any
        if dsn is not None:
            self._db = psycopg.connect(dsn, autocommit=True)
        else:
            # No statement cache: a cached statement keeps the plan of the schema it was
            # prepared under, and the insider changes the schema (``EXPLAIN`` would show it).
            self._db = sqlite3.connect(
                data_dir / SQLITE_FILE, isolation_level=None, cached_statements=0
            )
            self._db.execute("PRAGMA busy_timeout=10000")

    def sql(self, statement: str, *parameters: object) -> None:
        """Run one statement (``?`` placeholders) in its own transaction."""
        self._execute(statement, parameters)

    def rows(self, query: str, *parameters: object) -> list[tuple[Any, ...]]:
        """Every row ``query`` (``?`` placeholders) returns."""
        return [tuple(row) for row in self._execute(query, parameters).fetchall()]

    def insert(self, record: AuditRecord, leave_out: Iterable[Column] = ()) -> None:
        """Write ``record`` as a new row of ``audit_records`` (without the ``leave_out``
        columns, as a store older than they are has them)."""
        values = {c: v for c, v in stored_values(record).items() if c not in set(leave_out)}
        names = ", ".join(column.sql for column in values)
        marks = ", ".join("?" * len(values))
        self.sql(f"INSERT INTO audit_records ({names}) VALUES ({marks})", *values.values())  # noqa: S608

    def rewrite(self, record: AuditRecord) -> None:
        """Overwrite the row at (``record.chain``, ``record.seq``) with every other value of
        ``record``, its hash as given."""
        values = stored_values(record)
        key = (values.pop(Column.CHAIN), values.pop(Column.SEQ))
        assignments = ", ".join(f"{column.sql} = ?" for column in values)
        self.sql(
            f"UPDATE audit_records SET {assignments} WHERE chain = ? AND seq = ?",  # noqa: S608
            *values.values(),
            *key,
        )

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> Insider:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _execute(self, statement: str, parameters: Sequence[object]) -> Any:
        if self.postgres:
            return self._db.execute(statement.replace("?", "%s"), parameters)
        return self._db.execute(statement, parameters)


def fill_rounds(recorder: AuditRecorder, rounds: int = ROUNDS) -> None:
    """``rounds`` times: PER_ROUND consumed messages on every chain, then a checkpoint."""
    for round_number in range(rounds):
        entries: list[tuple[str, AuditDraft]] = []
        for partition, chain in enumerate(CHAINS):
            for n in range(PER_ROUND):
                offset = round_number * PER_ROUND + n
                consumed = Consumed("in.example", partition, offset, b'{"n": %d}' % offset)
                entries.extend((chain, draft) for draft in drafts_for(consumed, []))
        recorder.record_all(entries)  # one transaction per round, as a batch of the pipeline
        assert recorder.checkpoint()


def roll_back(insider: Insider, to_checkpoint: int) -> None:
    """Cut every chain back to the heads checkpoint ``to_checkpoint`` signed (0: to nothing),
    delete every newer checkpoint, and set the chain heads so the hub would go on from there:
    what is left is internally consistent and signed."""
    checkpoints = insider.rows("SELECT id, body FROM audit_checkpoints ORDER BY id")
    last_kept, body = checkpoints[to_checkpoint - 1] if to_checkpoint else (0, None)
    heads = CheckpointBody.parse(body).heads if body is not None else {}
    for chain in CHAINS:
        head = heads.get(chain)
        seq, head_hash = (head.seq, head.hash) if head else (0, "0" * 64)
        insider.sql("DELETE FROM audit_records WHERE chain = ? AND seq > ?", chain, seq)
        insider.sql("UPDATE audit_chains SET seq = ?, head_hash = ?, published_seq = ? "
                    "WHERE chain = ?", seq, head_hash, seq, chain)  # fmt: skip
    insider.sql("DELETE FROM audit_checkpoints WHERE id > ?", last_kept)


def recorder_for(
    store: AuditStore, key: Ed25519PrivateKey, anchor_file: Path | None = None
) -> AuditRecorder:
    """A recorder that checkpoints only when told to."""
    return AuditRecorder(store, key, checkpoint_every=10_000, anchor_file=anchor_file)
