"""Lines of a partner's file through the routing layer: what a connector's file entry point
(``connectors.kela.file_ingest``, ``hub ingest kela``) shares with the routes.

A chunk of lines is handled like a batch of consumed records
(``hub.routing.pipeline.handle_batch``): each line's outcome (its outputs, or its dead letter from
``hub.routing.pipeline.dead_letter_for``) is published through a
``hub.routing.transactions.Publisher``, the whole chunk in one Kafka transaction; a dead letter too
large for the broker goes out in a smaller form; every line and what it became is audited
(``hub.audit.recorder.drafts_for``) durably before the Kafka commit; the connector's ledger commits
after it, and rolls back if anything before it failed. A dry run publishes and audits nothing and
commits the (dry-run) ledger, so the next chunk sees this one.

Never logs a line's contents.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol

from aiokafka import AIOKafkaProducer

from hub.audit.recorder import Consumed, Produced, drafts_for
from hub.audit.records import AuditDraft
from hub.broker.bootstrap import start_producer
from hub.broker.connection import KafkaConnection
from hub.routing.pipeline import Accepted, _publish_all
from hub.routing.quarantine import QuarantineStore
from hub.routing.transactions import Publisher

__all__ = [
    "Audit",
    "HandledLine",
    "LineLedger",
    "handle_lines",
    "started_producer",
]


#: Records one chunk's audit drafts durably (``AuditRecorder.record`` on the file's chain).
Audit = Callable[[list[AuditDraft]], object]


class LineLedger(Protocol):
    """What a connector's ledger does around a chunk: durable after Kafka, or forgotten."""

    def commit(self) -> None:
        """Make what the chunk staged durable."""

    def rollback(self) -> None:
        """Forget what the chunk staged: it was not published."""


class HandledLine(NamedTuple):
    """One data line of a file (its number, its bytes as read) and what it became. A named
    tuple: immutable, and built without a ``object.__setattr__`` per field (one per line)."""

    number: int
    raw: bytes
    outcome: Accepted


async def handle_lines(
    publisher: Publisher | None,
    source: str,
    lines: Sequence[HandledLine],
    ledger: LineLedger,
    audit: Audit | None = None,
    quarantine: QuarantineStore | None = None,
) -> None:
    """Publish every output of ``lines`` in one transaction, audit each line (as consumed
    from ``source``, its line number as the offset) with what it became, commit, then commit
    ``ledger``. ``publisher=None`` is a dry run: only the ledger commits.

    If anything fails before the Kafka commit, the transaction is aborted, the ledger rolled
    back, and the exception propagates: a re-run takes the chunk's lines afresh.
    """
    if publisher is None:
        ledger.commit()
        return
    outcomes = [line.outcome for line in lines]
    produced: list[list[Produced]] = [[] for _ in lines]
    try:
        await publisher.begin()
        await _publish_all(publisher, outcomes, produced, quarantine)
        if audit is not None:
            drafts = [
                draft
                for line, outputs in zip(lines, produced, strict=True)
                for draft in drafts_for(
                    Consumed(source, None, line.number, line.raw),
                    outputs,
                    not_routed=line.outcome.not_routed,
                )
            ]
            await asyncio.to_thread(audit, drafts)
        # A file has no consumer offsets to commit with its outputs.
        await publisher.commit({}, "")
    except BaseException:
        await publisher.abort()
        ledger.rollback()
        raise
    ledger.commit()


async def started_producer(connection: KafkaConnection) -> AIOKafkaProducer:
    """A started producer for ``connection`` (linger for batching, acks=all); retried while
    Kafka does not answer, a refusal at once (``hub.broker.bootstrap.start_producer``)."""
    return await start_producer(connection, linger_ms=5)
