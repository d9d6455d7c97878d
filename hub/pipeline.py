"""Wiring translations to topics: the one place a connector meets the broker.

A connector describes its inbound side as a ``Route``: the topics it consumes and a
``translate(bytes) -> Accepted | list[Outgoing] | Rejection``. ``wire_route`` subscribes it on
a FastStream ``KafkaBroker`` and handles what one fetch returns as a batch:

- a ``Rejection`` goes to the dead-letter topic with its reason, and the messages behind it
  keep flowing;
- an exception escaping a translation is a bug, not a reason to stop: it is dead-lettered as
  ``internal-error`` with the exception's class and masked text;
- every output of the batch and the consumed records' offsets are committed in one Kafka
  transaction (``hub.transactions``): consumers reading committed data see each output once,
  even when the hub is killed mid-batch and the batch comes again;
- the consumed messages and everything they caused are audited durably before that commit: a
  crash can repeat work, never leave an output unaudited;
- ``Accepted.settle`` commits a connector's ledgers after the Kafka commit (a batch whose
  transaction aborted must not count as seen); a batch caught between the two commits is
  settled at the next start (``hub.in_doubt``). If anything fails before the Kafka commit,
  ``Accepted.abandon`` runs, the transaction is aborted and the batch is redelivered;
- a dead letter the broker refuses as too large goes out in a smaller form (compressed, else
  its bytes quarantined: ``hub.deadletter.smaller_forms``); "message dead-lettered" is logged
  once its transaction committed;
- with ``RouteFailures``, a message that fails again and again is reported and, after a
  bound, dead-lettered as ``retries-exhausted`` (``hub.route_failures``).

Never logs message contents; identity codes cannot reach a log line from here.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, Protocol, cast

from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.structs import ConsumerRecord, RecordMetadata, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from hub.audit.recorder import AuditRecorder, Consumed, Produced, chain_of, drafts_for
from hub.audit.records import EventFacts
from hub.deadletter import (
    DLQ_CONNECTOR,
    DLQ_QUARANTINE,
    DLQ_REASON,
    SOURCE_OFFSET,
    SOURCE_PARTITION,
    SOURCE_TOPIC,
    DeadLetter,
    FileLine,
    KafkaSource,
    smaller_forms,
)
from hub.in_doubt import InDoubt, Position, batch_positions
from hub.logs import get_logger
from hub.metrics import HubMetrics
from hub.quarantine import QuarantineStore
from hub.redaction import mask_identity_codes
from hub.route_failures import RouteFailures
from hub.topics import DEADLETTER_TOPIC
from hub.transactions import CORRELATION_HEADER, BrokerPublisher, Publisher
from schemas.rejection import Rejection

__all__ = [
    "Accepted",
    "Outgoing",
    "Progress",
    "Route",
    "Subscription",
    "Translation",
    "handle_batch",
    "handle_record",
    "outcome_of",
    "settler_of",
    "wire_route",
]

log = get_logger(__name__)

#: How long a batch subscriber waits for records when none are buffered (and, FastStream
#: adds, sleeps after an empty fetch): bounds the delay a first message after a pause sees.
_BATCH_WAIT_MS: Final = 100


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message a translation wants published; ``event_id`` names the canonical event it
    carries, when it carries one (its ``correlation_id`` header, and the audit, use it)."""

    topic: str
    value: bytes
    key: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    event_id: str | None = None
    #: What the message discloses, for the audit (set where a contract allowed it).
    facts: EventFacts | None = None


def _nothing() -> None:
    return None


@dataclass(frozen=True, slots=True)
class Accepted:
    """A translated message: what to publish, and what to do once it is (or is not) out."""

    messages: list[Outgoing]
    settle: Callable[[], None] = _nothing
    abandon: Callable[[], None] = _nothing
    #: A valid event that no contract lets anybody receive (audited as "not routed").
    not_routed: bool = False


Translation = Callable[[bytes], "Accepted | list[Outgoing] | Rejection"]


@dataclass(frozen=True, slots=True)
class Route:
    """A connector's inbound side: what it consumes and how it translates."""

    connector: str
    topics: tuple[str, ...]
    translate: Translation
    group_id: str | None = None

    @property
    def consumer_group(self) -> str:
        """Consumer group: several hub instances share the route's partitions through it."""
        return self.group_id or f"hub.{self.connector}"


def dead_letter_for(
    route: Route | str, source: ConsumerRecord[bytes, bytes] | FileLine, rejection: Rejection
) -> Outgoing:
    """The dead-letter message of a rejected record or file line: original bytes, reason,
    where it came from. ``route`` is the route that gave up, or the connector's name where no
    route is involved (a file read by ``hub ingest``)."""
    letter = DeadLetter(
        value=source.value or b"",
        reason=rejection.reason,
        detail=rejection.detail,
        source=source.source
        if isinstance(source, FileLine)
        else KafkaSource(source.topic, source.partition, source.offset),
        connector=route if isinstance(route, str) else route.connector,
    )
    # The audit record reaches hub.audit.v1: the same masked detail as the header.
    facts = EventFacts(detail=f"{letter.reason}: {letter.shown_detail}")
    return Outgoing(DEADLETTER_TOPIC, letter.value, None, letter.headers(), facts=facts)


def outcome_of(route: Route, record: ConsumerRecord[bytes, bytes]) -> Accepted:
    """Translate one record; any rejection or bug becomes a dead letter. Never raises."""
    try:
        outcome = route.translate(record.value or b"")
    except Exception as exc:  # noqa: BLE001 - a translation bug must not stop the partition.
        outcome = Rejection(
            "internal-error", f"{type(exc).__name__}: {mask_identity_codes(str(exc))}"
        )
    if isinstance(outcome, Rejection):
        return Accepted([dead_letter_for(route, record, outcome)])
    if isinstance(outcome, list):
        return Accepted(outcome)
    return outcome


async def handle_record(
    publisher: Publisher | KafkaBroker,
    route: Route,
    record: ConsumerRecord[bytes, bytes],
    recorder: AuditRecorder | None = None,
    metrics: HubMetrics | None = None,
    quarantine: QuarantineStore | None = None,
) -> None:
    """Translate one record, publish everything it yields (outputs or a dead letter), audit
    it, then settle."""
    await handle_batch(publisher, route, (record,), recorder, metrics, quarantine)


async def handle_batch(
    publisher: Publisher | KafkaBroker,
    route: Route,
    records: Sequence[ConsumerRecord[bytes, bytes]],
    recorder: AuditRecorder | None = None,
    metrics: HubMetrics | None = None,
    quarantine: QuarantineStore | None = None,
    in_doubt: InDoubt | None = None,
) -> None:
    """Translate records in order, publish everything they yield and audit them all in one
    transaction; commit the Kafka transaction (outputs and the records' offsets); then settle
    the ledgers. With ``quarantine``, a dead letter too large for the broker goes out in a
    smaller form.

    The ledgers commit last, after Kafka: a Kafka transaction that never committed must leave
    them untouched, since its records come again. A hub dying between the two commits leaves
    the batch noted in ``in_doubt``, and the next start settles it (``hub.in_doubt``). If
    anything fails before the Kafka commit, the transaction is aborted, every record of the
    batch is abandoned, and the exception propagates: the batch is redelivered.
    """
    if isinstance(publisher, KafkaBroker):
        publisher = BrokerPublisher(publisher.publish)
    started = time.perf_counter()
    outcomes = [outcome_of(route, record) for record in records]
    produced: list[list[Produced]] = [[] for _ in outcomes]
    positions = batch_positions(route.consumer_group, records)
    note = in_doubt is not None and publisher.transactional and _has_ledgers(outcomes)
    try:
        await publisher.begin()
        dead = await _publish_all(publisher, outcomes, produced, quarantine)
        await asyncio.to_thread(
            _audit_and_note,
            route,
            records,
            outcomes,
            produced,
            recorder,
            metrics,
            in_doubt if note else None,
            positions,
        )
        await publisher.commit(
            {TopicPartition(p.topic, p.partition): p.last + 1 for p in positions},
            route.consumer_group,
        )
    except BaseException:
        await publisher.abort()
        for accepted in outcomes:
            accepted.abandon()
        raise
    for message in dead:
        _log_dead_letter(message)
    # Settling commits durable state (fsyncs): off the event loop, so a slow disk cannot
    # starve the consumer's heartbeats and cost a rebalance.
    await asyncio.to_thread(_settle, route, outcomes, in_doubt if note else None, positions)
    if metrics is not None:
        elapsed = time.perf_counter() - started
        for accepted, outputs in zip(outcomes, produced, strict=True):
            metrics.observe(
                route.connector,
                elapsed,
                [(p.topic, _reason(p) if p.topic == DEADLETTER_TOPIC else None) for p in outputs],
                not_routed=accepted.not_routed,
            )


def settler_of(route: Route) -> Callable[[Sequence[ConsumerRecord[bytes, bytes]]], None]:
    """What settles a batch of ``route`` in doubt after a restart: its records translated
    again, in order, and their ledgers committed; outputs are dropped (they are on Kafka)."""

    def settle(records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        outcomes = [outcome_of(route, record) for record in records]
        for accepted in outcomes:
            accepted.settle()

    return settle


def _has_ledgers(outcomes: Sequence[Accepted]) -> bool:
    return any(accepted.settle is not _nothing for accepted in outcomes)


def _audit_and_note(
    route: Route,
    records: Sequence[ConsumerRecord[bytes, bytes]],
    outcomes: Sequence[Accepted],
    produced: Sequence[Sequence[Produced]],
    recorder: AuditRecorder | None,
    metrics: HubMetrics | None,
    in_doubt: InDoubt | None,
    positions: Sequence[Position],
) -> None:
    """Audit the batch durably (before Kafka commits: an output is never unaudited), and
    note it in doubt when it has ledgers to settle after Kafka."""
    if recorder is not None:
        entries = [
            (chain_of(route.consumer_group, record.topic, record.partition), draft)
            for record, accepted, outputs in zip(records, outcomes, produced, strict=True)
            for draft in drafts_for(
                Consumed(record.topic, record.partition, record.offset, record.value or b""),
                outputs,
                not_routed=accepted.not_routed,
            )
        ]
        placed = recorder.record_all(entries)
        if metrics is not None:
            for chain, seq in {r.chain: r.seq for r in placed}.items():
                metrics.audit_chain_length.labels(chain).set(seq)
    if in_doubt is not None:
        in_doubt.note(positions)


def _settle(
    route: Route,
    outcomes: Sequence[Accepted],
    in_doubt: InDoubt | None,
    positions: Sequence[Position],
) -> None:
    """Commit the ledgers of a batch Kafka has committed; never raises, since the batch must
    not come again: a ledger that fails now is settled at the next start."""
    try:
        for accepted in outcomes:
            accepted.settle()
    except Exception as exc:  # noqa: BLE001 - the records' offsets are committed already.
        log.error(
            "ledgers not settled after the Kafka commit; settled at the next start",
            route=route.connector,
            error=type(exc).__name__,
        )
        for accepted in outcomes:
            accepted.abandon()
        return
    if in_doubt is not None:
        in_doubt.clear(positions)


async def _publish_all(
    publisher: Publisher,
    outcomes: Sequence[Accepted],
    produced: list[list[Produced]],
    quarantine: QuarantineStore | None = None,
) -> list[Outgoing]:
    """Hand every output of the batch to the producer in order (so a correction never
    overtakes its record in a partition), then wait until all have landed; fill
    ``produced``. The dead letters, as published."""
    pending: list[tuple[int, int, Outgoing, Awaitable[RecordMetadata]]] = []
    dead: list[Outgoing] = []
    for index, accepted in enumerate(outcomes):
        produced[index] = [Produced(m.topic, m.value) for m in accepted.messages]
        for position, message in enumerate(accepted.messages):
            sent = message
            if message.topic == DEADLETTER_TOPIC:
                sent, landing = await _enqueue_dead_letter(publisher, message, quarantine)
                dead.append(sent)
            else:
                landing = await _enqueue(publisher, message)
            pending.append((index, position, sent, landing))
    landed = await asyncio.gather(*(landing for *_, landing in pending))
    for (index, position, sent, _), metadata in zip(pending, landed, strict=True):
        produced[index][position] = Produced(
            sent.topic, sent.value, metadata.partition, metadata.offset, sent.facts
        )
    return dead


async def _enqueue(publisher: Publisher, message: Outgoing) -> Awaitable[RecordMetadata]:
    # Every message carries a ``correlation_id``: the event id where there is one, so a
    # redelivery carries the same one and partners can trace it.
    headers = {**message.headers, CORRELATION_HEADER: message.event_id or uuid.uuid4().hex}
    return await publisher.enqueue(message.topic, message.value, message.key, headers)


async def _enqueue_dead_letter(
    publisher: Publisher, message: Outgoing, quarantine: QuarantineStore | None
) -> tuple[Outgoing, Awaitable[RecordMetadata]]:
    """Hand a dead letter to the producer, in a smaller form if it is too large for it."""
    try:
        return message, await _enqueue(publisher, message)
    except MessageSizeTooLargeError:
        if quarantine is None:
            raise
    async for form in smaller_forms(message.value, message.headers, quarantine):
        smaller = replace(
            message, value=form.value, headers=form.headers, facts=EventFacts(detail=form.summary)
        )
        try:
            return smaller, await _enqueue(publisher, smaller)
        except MessageSizeTooLargeError:
            continue
    raise AssertionError("unreachable: the quarantined form is a few hundred bytes")


def _log_dead_letter(message: Outgoing) -> None:
    """Once the broker has the dead letter (its transaction committed)."""
    headers = message.headers
    log.warning(
        "message dead-lettered",
        connector=headers.get(DLQ_CONNECTOR),
        reason=headers.get(DLQ_REASON),
        topic=headers.get(SOURCE_TOPIC),
        partition=headers.get(SOURCE_PARTITION),
        offset=headers.get(SOURCE_OFFSET),
        **({"quarantined": headers[DLQ_QUARANTINE]} if DLQ_QUARANTINE in headers else {}),
    )


def _reason(message: Produced) -> str:
    detail = message.facts.detail if message.facts is not None else None
    return (detail or "unknown").partition(":")[0]


class Subscription(Protocol):
    """A route's subscriber, as far as supervision needs it: it can be restarted."""

    async def start(self) -> None:
        """Join the consumer group and consume."""

    async def stop(self) -> None:
        """Stop consuming and leave the group."""


class Progress:
    """Whether a route is on a message, since when, and how many it has finished."""

    def __init__(self) -> None:
        self.busy_since: float | None = None
        self.handled = 0

    def begin(self) -> None:
        """A message is taken up."""
        self.busy_since = time.monotonic()

    def end(self) -> None:
        """The message is done with (handled, or given up)."""
        self.busy_since = None
        self.handled += 1

    def busy_for(self) -> float:
        """Seconds on the current message (0 when idle)."""
        since = self.busy_since
        return 0.0 if since is None else time.monotonic() - since


def wire_route(
    broker: KafkaBroker,
    route: Route,
    session_timeout_ms: int = 10_000,
    recorder: AuditRecorder | None = None,
    metrics: HubMetrics | None = None,
    progress: Progress | None = None,
    max_batch: int = 1,
    *,
    publisher: Publisher | None = None,
    in_doubt: InDoubt | None = None,
    quarantine: QuarantineStore | None = None,
    failures: RouteFailures | None = None,
    fetch: Mapping[str, int] | None = None,
) -> Subscription:
    """Subscribe ``route`` on ``broker``, reading committed data only. With a transactional
    ``publisher`` (``hub.transactions.RouteProducer``), each batch's outputs and offsets
    commit together; otherwise (the broker's own producer when ``publisher`` is None) the
    records are acknowledged after their outputs are published and audited. Up to
    ``max_batch`` records of one fetch are handled together. ``in_doubt`` notes batches
    whose ledgers settle after Kafka's commit; ``quarantine`` takes dead letters too large
    for the broker; ``failures`` reports and bounds a message failing again and again;
    ``fetch`` bounds the consumer's fetches (``fetch_max_bytes``,
    ``max_partition_fetch_bytes``)."""
    out: Publisher = publisher if publisher is not None else BrokerPublisher(broker.publish)

    async def consume(message: KafkaMessage) -> None:
        raw = message.raw_message
        records = raw if isinstance(raw, tuple) else (raw,)
        #: Per partition, the offset after the last record whose batch committed.
        done: dict[TopicPartition, int] = {}

        async def handle(batch: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
            await handle_batch(out, route, batch, recorder, metrics, quarantine, in_doubt)
            for record in batch:
                done[TopicPartition(record.topic, record.partition)] = record.offset + 1

        async def give_up(record: ConsumerRecord[bytes, bytes], rejection: Rejection) -> None:
            gone = replace(route, translate=lambda _: rejection)
            await handle_batch(out, gone, (record,), recorder, metrics, quarantine, in_doubt)
            done[TopicPartition(record.topic, record.partition)] = record.offset + 1

        if progress is not None:
            progress.begin()
        try:
            if failures is None:
                await handle(records)
            else:
                await failures.run(records, handle, give_up)
        except BaseException:
            _rewind(message, records, done)
            raise
        finally:
            if progress is not None:
                progress.end()
        if not out.transactional:
            await message.ack()

    options: dict[str, Any] = (
        {"batch": True, "max_records": max_batch, "batch_timeout_ms": _BATCH_WAIT_MS}
        if max_batch > 1
        else {}
    )
    options.update(fetch or {})
    subscriber = broker.subscriber(
        *route.topics,
        group_id=route.consumer_group,
        auto_offset_reset="earliest",
        # Offsets are committed by the transaction (or by ``consume`` without one).
        ack_policy=AckPolicy.MANUAL,
        isolation_level="read_committed",
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=max(100, session_timeout_ms // 3),
        title=f"{route.connector}:{','.join(route.topics)}",
        **options,
    )
    subscriber(consume)
    # Options passed as a mapping hide FastStream's overloads (batch or not) from mypy.
    return cast("Subscription", subscriber)


def _rewind(
    message: KafkaMessage,
    records: Sequence[ConsumerRecord[bytes, bytes]],
    done: Mapping[TopicPartition, int],
) -> None:
    """Seek each partition of a failed fetch back to its first record not committed, so it
    comes again; what committed before the failure must not."""
    earliest: dict[TopicPartition, int] = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        if tp not in earliest or record.offset < earliest[tp]:
            earliest[tp] = record.offset
    for tp, offset in earliest.items():
        message.consumer.seek(tp, max(offset, done.get(tp, offset)))
