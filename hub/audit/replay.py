"""``hub audit replay``: recorded canonical events re-published to a topic the operator names.

Events are taken from the audit log in recorded order, each once (a canonical event is
recorded where it was produced and again wherever it was consumed). Each goes out with its
original payload and key, and headers marking it as a replay: ``hub-replay-of`` (the original
event id) and ``hub-replay-run``. Every replayed message is itself audited (direction
``replayed``, chain ``replay``). There is no default target: a partner topic is written to only
when it is named.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Final

from aiokafka import AIOKafkaProducer

from hub.audit.recorder import AuditRecorder
from hub.audit.records import AuditDraft, AuditRecord, Direction, EventFacts
from hub.audit.store import RecordQuery, TopicFamily
from hub.core.topics import AUDIT_TOPIC, DEADLETTER_TOPIC, TopicKind, kind_of, partner_of
from schemas.envelope import CLOUDEVENTS_CONTENT_TYPE

__all__ = [
    "CANONICAL_TOPICS",
    "REPLAY_CHAIN",
    "ReplaySummary",
    "replay",
    "replay_selection",
    "replayable",
]

REPLAY_CHAIN: Final = "replay"
_BATCH: Final = 200
#: The canonical topics by the naming rule (``hub.core.topics.kind_of``), catalogued or not:
#: ``hub.`` and more, but for the dead-letter and audit topics.
CANONICAL_TOPICS: Final = TopicFamily("hub.", (DEADLETTER_TOPIC, AUDIT_TOPIC))


@dataclass(frozen=True, slots=True)
class ReplaySummary:
    """What a replay did."""

    run: str
    replayed: int
    pruned: int


def replay_selection(query: RecordQuery) -> RecordQuery:
    """What ``replayable`` reads of the audit log for ``query`` (its window, person and type):
    the first record of each event on a canonical topic, produced or consumed."""
    return replace(
        query,
        directions=(Direction.CONSUMED, Direction.PRODUCED),
        topics=CANONICAL_TOPICS,
        first_of_event=True,
    )


def replayable(recorder: AuditRecorder, query: RecordQuery) -> Iterator[AuditRecord]:
    """The canonical events ``query`` selects, each once, in recorded order (payload may be
    ``None``: pruned by retention)."""
    # Each once by the store's event index: a set of the ids seen here grew by about 150 MB
    # per million events.
    return recorder.store.select(replay_selection(query))


async def replay(
    recorder: AuditRecorder,
    producer: AIOKafkaProducer,
    query: RecordQuery,
    to_topic: str,
    rate: float | None = None,
    progress: Callable[[int], None] = lambda _done: None,
) -> ReplaySummary:
    """Publish the selected events to ``to_topic`` (at most ``rate`` per second) and audit
    each; returns once Kafka acknowledged every one."""
    run = str(uuid.uuid4())
    loop = asyncio.get_running_loop()
    started = loop.time()
    replayed = pruned = 0
    batch: list[tuple[AuditRecord, asyncio.Future[object]]] = []
    # A replay to a partner's topic is a disclosure: it is listed as one.
    partner = partner_of(to_topic) if kind_of(to_topic) is TopicKind.OUTBOUND else None

    async def flush() -> None:
        drafts = []
        for original, future in batch:
            landed = await future
            drafts.append(
                AuditDraft(
                    Direction.REPLAYED,
                    original.payload or b"",
                    to_topic,
                    getattr(landed, "partition", None),
                    getattr(landed, "offset", None),
                    EventFacts(
                        original.event_id,
                        original.event_type,
                        original.person_ref,
                        partner,
                        "replay named by the operator" if partner else None,
                    ),
                    replay_of=original.event_id,
                )
            )
        if drafts:
            await asyncio.to_thread(recorder.record, REPLAY_CHAIN, drafts)
        batch.clear()

    for record in replayable(recorder, query):
        if record.payload is None:
            pruned += 1
            continue
        if rate is not None:
            delay = started + replayed / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        headers = [
            ("content-type", CLOUDEVENTS_CONTENT_TYPE.encode()),
            ("correlation_id", str(record.event_id).encode()),
            ("hub-replay-of", str(record.event_id).encode()),
            ("hub-replay-run", run.encode()),
        ]
        key = None if record.person_ref is None else record.person_ref.encode()
        future = await producer.send(to_topic, record.payload, key=key, headers=headers)
        batch.append((record, future))
        replayed += 1
        if len(batch) >= _BATCH:
            await flush()
            progress(replayed)
    await flush()
    progress(replayed)
    return ReplaySummary(run, replayed, pruned)
