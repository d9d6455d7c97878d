"""Rebuilding the share ledger from the audit log.

The share route's recorded inputs (every consumed ``hub.benefit-day.v1`` and ``.v2`` message,
in the order recorded) are fed through the same route into a ledger; since the ledger holds
exactly what those inputs said, the rebuilt ledger equals the live one
(``ShareLedger.digest``). An input whose payload the audit retention already pruned cannot be
fed: it is counted, and the rebuild is then incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka.structs import ConsumerRecord

from hub.audit.records import Direction
from hub.audit.store import AuditStore, RecordQuery
from hub.routing.pipeline import Route, outcome_of
from hub.share.ledger import ShareLedger
from hub.share.route import share_ledger_route

__all__ = ["RebuildReport", "rebuild"]


@dataclass
class RebuildReport:
    """How many recorded inputs were fed, and how many could not be (pruned payloads)."""

    fed: int = 0
    pruned: int = 0

    @property
    def complete(self) -> bool:
        """True when every recorded input was fed."""
        return self.pruned == 0


def _as_record(
    topic: str, partition: int, offset: int, value: bytes
) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=None,
        value=value,
        checksum=None,
        serialized_key_size=-1,
        serialized_value_size=len(value),
        headers=(),
    )


def rebuild(audit: AuditStore, ledger: ShareLedger) -> RebuildReport:
    """Feed the share route's recorded inputs into ``ledger`` (emptied first)."""
    route: Route = share_ledger_route(ledger)
    prefix = f"{route.consumer_group}/"
    ledger.clear()
    report = RebuildReport()
    for consumed in audit.select(RecordQuery(directions=(Direction.CONSUMED,))):
        if not consumed.chain.startswith(prefix):
            continue
        if consumed.payload is None:
            report.pruned += 1
            continue
        record = _as_record(
            consumed.topic or "", consumed.partition or 0, consumed.offset or 0, consumed.payload
        )
        outcome_of(route, record).settle()
        report.fed += 1
    return report
