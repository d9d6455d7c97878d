"""Batches whose Kafka transaction may have committed before their ledgers did.

A route's ledgers (the Kela record ledger, an authority's event ids, the referral register,
the share ledger, the statistics, the delivery log) commit *after* the Kafka transaction of
their batch: a transaction that aborted must leave no trace in them, since its records come
again. A hub dying between the two commits would leave the ledgers short of a batch whose
offsets Kafka has committed, so the records never come again. Before committing to Kafka, the
batch's positions (consumer group, topic, partition, first and last offset) are noted here,
durably; after the ledgers commit, the note is cleared.

At the next start, before any route consumes, ``settle_in_doubt`` looks at each note: if the
group's committed offset is past the batch, Kafka committed it, and the batch's records are
read again and translated once more, for their ledgers only (nothing is published or audited
again: both were done before the commit). Otherwise the transaction aborted and the records
come again by themselves. Translations see the ledgers as they were before the batch, so they
stage what they staged the first time.

Each note names the hub instance (``HUB_INSTANCE_ID``) that wrote it, and an instance settles
only its own: two instances sharing one data directory would otherwise each, when starting,
settle or drop the other's batches in flight (a note dropped before the other's Kafka commit,
or a batch settled twice). A note of an instance that never starts again stays unsettled, as
it would in a data directory of its own: restart a killed instance under its name.

Keeps no payloads and no personal data: group, topic, partition and offsets only.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord, TopicPartition

from hub.broker.topic_reading import READ_TO_END_WAIT_MS
from hub.core.logs import get_logger
from hub.core.private_files import connect_sqlite
from hub.core.sqlite_store import immediate_transaction

__all__ = ["InDoubt", "Position", "batch_positions", "settle_in_doubt"]

log = get_logger(__name__)

_FILE: Final = "in-doubt.sqlite3"
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS in_doubt (
    consumer_group TEXT NOT NULL,
    topic          TEXT NOT NULL,
    partition      INTEGER NOT NULL,
    first_offset   INTEGER NOT NULL,
    last_offset    INTEGER NOT NULL,
    instance       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (consumer_group, topic, partition, first_offset)
);
"""
_READ_MS: Final = 500


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """The records of one partition a batch holds: ``first`` to ``last`` offset."""

    group: str
    topic: str
    partition: int
    first: int
    last: int


def batch_positions(group: str, records: Iterable[ConsumerRecord[bytes, bytes]]) -> list[Position]:
    """Per partition, the first and last offset of ``records``."""
    spans: dict[tuple[str, int], tuple[int, int]] = {}
    for record in records:
        key = (record.topic, record.partition)
        first, last = spans.get(key, (record.offset, record.offset))
        spans[key] = (min(first, record.offset), max(last, record.offset))
    return [Position(group, t, p, first, last) for (t, p), (first, last) in spans.items()]


class InDoubt:
    """The notes of one data directory: per group and partition, the batches noted and not
    cleared (normally none or the one in hand; more when ledgers failed to commit)."""

    def __init__(self, db: sqlite3.Connection, instance: str = "") -> None:
        self._db = db
        self._instance = instance
        self._lock = threading.Lock()

    @classmethod
    def open(cls, data_dir: Path, instance: str = "") -> InDoubt:
        """The notes ``instance`` keeps in ``data_dir`` (and those written before notes named
        their instance)."""
        db = connect_sqlite(data_dir / _FILE, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        # A note must survive the hub's process dying, which WAL gives at NORMAL without an
        # fsync per batch; only a power loss in the moment after a note could lose it.
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=10000")
        db.executescript(_SCHEMA)
        if "instance" not in {row[1] for row in db.execute("PRAGMA table_info(in_doubt)")}:
            db.execute("ALTER TABLE in_doubt ADD COLUMN instance TEXT NOT NULL DEFAULT ''")
        return cls(db, instance)

    def note(self, positions: Sequence[Position]) -> None:
        """Note a batch, durably, before its Kafka transaction commits."""
        rows = [(p.group, p.topic, p.partition, p.first, p.last, self._instance) for p in positions]
        with self._lock, immediate_transaction(self._db):
            self._db.executemany(
                "INSERT OR REPLACE INTO in_doubt (consumer_group, topic, partition,"
                " first_offset, last_offset, instance) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def clear(self, positions: Sequence[Position]) -> None:
        """The batch's ledgers committed: forget it. A note that outlives its batch (a power
        loss) is settled again at start, which stages nothing new."""
        rows = [(p.group, p.topic, p.partition, p.first) for p in positions]
        with self._lock:
            self._db.executemany(
                "DELETE FROM in_doubt WHERE consumer_group = ? AND topic = ? AND partition = ?"
                " AND first_offset = ?",
                rows,
            )

    def pending(self, group: str) -> list[Position]:
        """The noted batches of ``group`` this instance noted."""
        with self._lock:
            rows = self._db.execute(
                "SELECT consumer_group, topic, partition, first_offset, last_offset"
                " FROM in_doubt WHERE consumer_group = ? AND instance IN (?, '')"
                " ORDER BY topic, partition, first_offset",
                (group, self._instance),
            ).fetchall()
        return [Position(*row) for row in rows]

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


#: Re-translates a batch's records, in order, and commits what they stage in its ledgers.
Settler = Callable[[Sequence[ConsumerRecord[bytes, bytes]]], None]


async def settle_in_doubt(
    in_doubt: InDoubt, client_kwargs: Mapping[str, Any], settlers: Mapping[str, Settler]
) -> int:
    """Settle every noted batch of the groups in ``settlers`` (see the module's docstring);
    how many batches Kafka had committed and were settled now."""
    settled = 0
    for group, settle in settlers.items():
        positions = in_doubt.pending(group)
        if not positions:
            continue
        committed = await _committed(client_kwargs, group, positions)
        for position in positions:
            if committed.get((position.topic, position.partition), -1) > position.last:
                records = await _read(client_kwargs, position)
                settle(records)
                settled += 1
                log.warning(
                    "batch settled after a restart",
                    group=group,
                    topic=position.topic,
                    partition=position.partition,
                    records=len(records),
                )
            in_doubt.clear([position])
    return settled


async def _committed(
    client_kwargs: Mapping[str, Any], group: str, positions: Sequence[Position]
) -> dict[tuple[str, int], int]:
    consumer = AIOKafkaConsumer(**client_kwargs, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        found = {}
        for p in positions:
            offset = await consumer.committed(TopicPartition(p.topic, p.partition))
            if offset is not None:
                found[(p.topic, p.partition)] = offset
        return found
    finally:
        await consumer.stop()


async def _read(
    client_kwargs: Mapping[str, Any], position: Position
) -> list[ConsumerRecord[bytes, bytes]]:
    """The committed records of ``position``, in offset order."""
    consumer = AIOKafkaConsumer(
        **client_kwargs,
        enable_auto_commit=False,
        isolation_level="read_committed",
        fetch_max_wait_ms=READ_TO_END_WAIT_MS,
    )
    await consumer.start()
    try:
        tp = TopicPartition(position.topic, position.partition)
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        consumer.seek(tp, position.first)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while (at := await consumer.position(tp)) <= position.last and at < end:
            batch = await consumer.getmany(tp, timeout_ms=_READ_MS)
            records += [r for r in batch.get(tp, []) if r.offset <= position.last]
        return records
    finally:
        await consumer.stop()
