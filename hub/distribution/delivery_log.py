"""Which canonical event the hub has delivered to which partner topic.

Within the hub a canonical record is handled once: its partner outputs and its offset commit in
one Kafka transaction. But the same canonical event can reach ``hub.*`` twice: a Kela file
ingested again after a crash, a dead letter resubmitted, a connector run without transactions.
The delivery log keeps (partner topic, event id) of every delivery, committed after its Kafka
transaction, and distribution drops a delivery it already made. Keeps no payloads and no
personal data: topic and event id only.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Final

from hub.core.sqlite_store import TransactionalStore

__all__ = ["DeliveryLog"]

_FILE: Final = "deliveries.sqlite3"
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS deliveries (
    topic        TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    delivered_at TEXT NOT NULL,
    PRIMARY KEY (topic, event_id)
);
-- Intents before publishing (replaced by Kafka transactions): no longer kept.
DROP TABLE IF EXISTS intents;
"""


class DeliveryLog:
    """Durable (topic, event id) pairs already published to partners."""

    def __init__(self, store: TransactionalStore) -> None:
        self._store = store
        self._staged: set[tuple[str, str]] = set()

    @classmethod
    def open(cls, data_dir: Path) -> DeliveryLog:
        """The delivery log of a data directory."""
        return cls(TransactionalStore(data_dir / _FILE, _SCHEMA))

    def delivered(self, topic: str, event_id: str) -> bool:
        """True if the event was delivered (or is staged for delivery) to ``topic``."""
        if (topic, event_id) in self._staged:
            return True
        query = "SELECT 1 FROM {schema}.deliveries WHERE topic = ? AND event_id = ?"
        return self._store.first(query, (topic, event_id)) is not None

    def stage(self, topic: str, event_id: str) -> None:
        """Record a delivery; durable with the next ``commit``."""
        self._staged.add((topic, event_id))
        self._store.stage(
            "INSERT OR IGNORE INTO deliveries VALUES (?, ?, ?)",
            (topic, event_id, dt.datetime.now(dt.UTC).isoformat()),
        )

    def commit(self) -> None:
        """Make the staged deliveries durable: call only after their transaction committed."""
        self._store.commit()
        self._staged.clear()

    def rollback(self) -> None:
        """Forget the staged deliveries: publishing them failed."""
        self._store.rollback()
        self._staged.clear()

    def close(self) -> None:
        """Close the database."""
        self._store.close()
