"""Which canonical event the hub has delivered to which partner topic.

Consumption is at least once: after a crash, a rebalance or a failed publish, a canonical
event is processed again. The delivery log makes partner output exactly once:

- a delivery committed (after publishing and auditing) is never published again;
- before publishing, an *intent* is noted with the partner topic's floors (see
  :mod:`hub.landings`). A redelivered event whose intent is still open was perhaps published
  before a crash: the pipeline looks for it on the topic before publishing it again.

Intents are written without waiting for the disk (``synchronous=NORMAL`` in WAL mode): they
survive the hub's process dying, which is the case they are for, at no fsync per message. Only
a power loss right after an intent can lose it, and then a message published just before may
be sent again, with the same event id, which partners deduplicate on (Kela's ``Tunniste``, the
CloudEvents ``id``). Keeps no payloads and no personal data: topic, event id and offsets only.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import orjson

from hub.private_files import connect_sqlite
from hub.sqlite_store import TransactionalStore

__all__ = ["DeliveryLog"]

_FILE: Final = "deliveries.sqlite3"
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS deliveries (
    topic        TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    delivered_at TEXT NOT NULL,
    PRIMARY KEY (topic, event_id)
);
CREATE TABLE IF NOT EXISTS intents (
    topic     TEXT NOT NULL,
    event_id  TEXT NOT NULL,
    floors    TEXT NOT NULL,
    noted_at  TEXT NOT NULL,
    PRIMARY KEY (topic, event_id)
);
"""


class DeliveryLog:
    """Durable (topic, event id) pairs already published to partners, and open intents."""

    def __init__(self, store: TransactionalStore, intents: sqlite3.Connection) -> None:
        self._store = store
        self._intents = intents
        self._intents_lock = threading.Lock()
        self._staged: set[tuple[str, str]] = set()

    @classmethod
    def open(cls, data_dir: Path) -> DeliveryLog:
        """The delivery log of a data directory."""
        store = TransactionalStore(data_dir / _FILE, _SCHEMA)
        intents = connect_sqlite(data_dir / _FILE, isolation_level=None, check_same_thread=False)
        intents.execute("PRAGMA synchronous=NORMAL")
        intents.execute("PRAGMA busy_timeout=10000")
        return cls(store, intents)

    def delivered(self, topic: str, event_id: str) -> bool:
        """True if the event was delivered (or is staged for delivery) to ``topic``."""
        if (topic, event_id) in self._staged:
            return True
        query = "SELECT 1 FROM {schema}.deliveries WHERE topic = ? AND event_id = ?"
        return self._store.first(query, (topic, event_id)) is not None

    def intended(self, topic: str, event_id: str) -> dict[int, int] | None:
        """The floors of an open intent: an earlier attempt may have published the event."""
        query = "SELECT floors FROM {schema}.intents WHERE topic = ? AND event_id = ?"
        row = self._store.first(query, (topic, event_id))
        if row is None:
            return None
        return {int(p): int(o) for p, o in orjson.loads(row[0]).items()}

    def stage(self, topic: str, event_id: str) -> None:
        """Record a delivery; durable with the next ``commit``, which closes its intent."""
        self._staged.add((topic, event_id))
        self._store.stage(
            "INSERT OR IGNORE INTO deliveries VALUES (?, ?, ?)",
            (topic, event_id, dt.datetime.now(dt.UTC).isoformat()),
        )
        self._store.stage("DELETE FROM intents WHERE topic = ? AND event_id = ?", (topic, event_id))

    def intend(self, floors: Mapping[str, Mapping[int, int]]) -> None:
        """Note an intent for every staged delivery, before it is published.

        An intent already open keeps its first floors: the earliest attempt bounds the search.
        """
        noted_at = dt.datetime.now(dt.UTC).isoformat()
        rows = [
            (
                topic,
                event_id,
                orjson.dumps(floors.get(topic, {}), option=orjson.OPT_NON_STR_KEYS).decode(),
                noted_at,
            )
            for topic, event_id in sorted(self._staged)
        ]
        if not rows:
            return
        with self._intents_lock:
            self._intents.execute("BEGIN IMMEDIATE")
            try:
                self._intents.executemany("INSERT OR IGNORE INTO intents VALUES (?, ?, ?, ?)", rows)
            except BaseException:
                self._intents.execute("ROLLBACK")
                raise
            self._intents.execute("COMMIT")

    def commit(self) -> None:
        """Make the staged deliveries durable: call only after they are published."""
        self._store.commit()
        self._staged.clear()

    def rollback(self) -> None:
        """Forget the staged deliveries: publishing them failed (their intents stay open)."""
        self._store.rollback()
        self._staged.clear()

    def close(self) -> None:
        """Close the database."""
        self._store.close()
        with self._intents_lock:
            self._intents.close()
