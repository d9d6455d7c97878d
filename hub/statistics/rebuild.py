"""Refilling the statistics store from the audit log (``hub stats rebuild``).

The audit log holds every canonical event the hub produced or consumed, with its payload.
Fed again through the route's own translation (:func:`hub.statistics.route.take_event`), each
once and in recorded order, they give the store the facts it had, so the figures can be
counted again after the store was lost or its rules changed. The documents already sent are
kept: they are what the state received.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from hub.audit.records import Direction
from hub.audit.store import AuditStore, RecordQuery
from hub.statistics.route import STATISTICS_SOURCES, take_event
from hub.statistics.store import StatisticsStore

__all__ = ["RebuildSummary", "rebuild"]

_COMMIT_EVERY: Final = 500


@dataclass(frozen=True, slots=True)
class RebuildSummary:
    """What a rebuild read: events taken, refused as invalid, and skipped as pruned."""

    taken: int
    refused: int
    pruned: int


def rebuild(store: StatisticsStore, audit: AuditStore) -> RebuildSummary:
    """Empty the store's facts and refill them from every recorded canonical event."""
    store.clear_facts()
    taken = refused = pruned = 0
    # Each event once, by the store's event index (a set of the ids seen here grew by about
    # 150 MB per million events).
    query = RecordQuery(
        directions=(Direction.PRODUCED, Direction.CONSUMED),
        topics=STATISTICS_SOURCES,
        first_of_event=True,
    )
    for record in audit.select(query):
        if record.payload is None:
            pruned += 1
            continue
        if take_event(store, record.payload) is None:
            taken += 1
        else:
            refused += 1
        if taken % _COMMIT_EVERY == 0:
            store.commit()
    store.commit()
    return RebuildSummary(taken, refused, pruned)
