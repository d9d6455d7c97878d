"""Wiring translations to topics: the one place a connector meets the broker.

A connector describes its inbound side as a ``Route``: the topics it consumes and a
``translate(bytes) -> Accepted | list[Outgoing] | Rejection``. ``wire_route`` subscribes it on
a FastStream ``KafkaBroker`` and handles what one fetch returns as a batch:

- a ``Rejection`` goes to the dead-letter topic with its reason, and the messages behind it
  keep flowing;
- an exception escaping a translation is a bug, not a reason to stop: it is dead-lettered as
  ``internal-error`` with the exception's class and masked text;
- every output of the batch and the consumed records' offsets are committed in one Kafka
  transaction (``hub.routing.transactions``): consumers reading committed data see each output once,
  even when the hub is killed mid-batch and the batch comes again;
- the consumed messages and everything they caused are audited durably before that commit: a
  crash can repeat work, never leave an output unaudited;
- an ``Accepted``'s ledger commits after the Kafka commit, once per batch (a batch whose
  transaction aborted must not count as seen); a batch caught between the two commits is
  settled at the next start (``hub.routing.in_doubt``). If anything fails before the Kafka commit,
  the ledgers roll back, the transaction is aborted and the batch is redelivered;
- a dead letter the broker refuses as too large goes out in a smaller form (compressed, else its
  bytes quarantined: ``hub.routing.deadletter.smaller_forms``); "message dead-lettered" is logged
  once its transaction committed;
- with ``RouteFailures``, a message that fails again and again is reported and, after a
  bound, dead-lettered as ``retries-exhausted`` (``hub.routing.route_failures``).

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
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.kafka.annotations import KafkaMessage
from faststream.types import BrokerMiddleware

from hub.audit.recorder import AuditRecorder, Consumed, Produced, chain_of, drafts_for
from hub.audit.records import EventFacts
from hub.audit.store import Appended
from hub.audit.stream import audit_headers, audit_message
from hub.broker.raw_records import parse_leniently, undecoded
from hub.core.logs import get_logger
from hub.core.redaction import mask_identity_codes
from hub.core.topics import AUDIT_TOPIC, DEADLETTER_TOPIC
from hub.routing.deadletter import (
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
from hub.routing.in_doubt import InDoubt, Position, batch_positions
from hub.routing.quarantine import QuarantineStore
from hub.routing.route_failures import RouteFailures
from hub.routing.transactions import (
    CORRELATION_HEADER,
    BrokerPublisher,
    Message,
    Publisher,
    retrieve_later,
)
from schemas.rejection import Rejection

__all__ = [
    "Accepted",
    "Handled",
    "Ledger",
    "Outcome",
    "Outgoing",
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


class Ledger(Protocol):
    """A connector's durable state that a message stages into: committed once the message's
    outputs are committed on Kafka, rolled back when they are not (it comes again)."""

    def commit(self) -> None:
        """Make what was staged durable."""

    def rollback(self) -> None:
        """Forget what was staged."""


@dataclass(frozen=True, slots=True)
class Accepted:
    """A translated message: what to publish, and the ledger its translation staged into."""

    messages: list[Outgoing]
    ledger: Ledger | None = None
    #: A valid event that no contract lets anybody receive (audited as "not routed").
    not_routed: bool = False

    def settle(self) -> None:
        """Commit the ledger (the outputs are out)."""
        if self.ledger is not None:
            self.ledger.commit()

    def abandon(self) -> None:
        """Roll the ledger back (the outputs are not out)."""
        if self.ledger is not None:
            self.ledger.rollback()


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


@dataclass(frozen=True, slots=True)
class Outcome:
    """What handling one record published: (topic, dead-letter reason or None) each, and
    whether it was a valid event nobody may receive."""

    outputs: tuple[tuple[str, str | None], ...]
    not_routed: bool


@dataclass(frozen=True, slots=True)
class Handled:
    """What one batch of a route came to: for metrics, never for control."""

    connector: str
    seconds: float
    outcomes: tuple[Outcome, ...]
    #: Each audit chain the batch wrote to, and its length after it.
    chains: Mapping[str, int] = field(default_factory=dict)


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
    quarantine: QuarantineStore | None = None,
) -> Handled:
    """Translate one record, publish everything it yields (outputs or a dead letter), audit
    it, then settle."""
    return await handle_batch(publisher, route, (record,), recorder, quarantine)


async def handle_batch(
    publisher: Publisher | KafkaBroker,
    route: Route,
    records: Sequence[ConsumerRecord[bytes, bytes]],
    recorder: AuditRecorder | None = None,
    quarantine: QuarantineStore | None = None,
    in_doubt: InDoubt | None = None,
) -> Handled:
    """Translate records in order, publish everything they yield and audit them all in one
    transaction; commit the Kafka transaction (outputs and the records' offsets); then settle
    the ledgers. With ``quarantine``, a dead letter too large for the broker goes out in a
    smaller form.

    The ledgers commit last, after Kafka: a Kafka transaction that never committed must leave
    them untouched, since its records come again. A hub dying between the two commits leaves
    the batch noted in ``in_doubt``, and the next start settles it (``hub.routing.in_doubt``). If
    anything fails before the Kafka commit, the transaction is aborted, every record of the
    batch is abandoned, and the exception propagates: the batch is redelivered. What was
    done, for metrics (``hub.routing.middlewares``).
    """
    if isinstance(publisher, KafkaBroker):
        publisher = BrokerPublisher(publisher.publish)
    started = time.perf_counter()
    outcomes = [outcome_of(route, record) for record in records]
    produced: list[list[Produced]] = [[] for _ in outcomes]
    positions = batch_positions(route.consumer_group, records)
    ledgers = _ledgers(outcomes)
    note = in_doubt is not None and publisher.transactional and bool(ledgers)
    appended: Appended | None = None
    try:
        await publisher.begin()
        dead = await _publish_all(publisher, outcomes, produced, quarantine)
        chains, appended = await asyncio.to_thread(
            _audit_and_note,
            route,
            records,
            outcomes,
            produced,
            recorder,
            in_doubt if note else None,
            positions,
            stream=publisher.transactional,
        )
        if appended is not None:
            await _stream_audit(publisher, appended)
        await publisher.commit(
            {TopicPartition(p.topic, p.partition): p.last + 1 for p in positions},
            route.consumer_group,
        )
    except BaseException:
        await publisher.abort()
        for ledger in ledgers:
            ledger.rollback()
        if appended is not None and recorder is not None:
            # Not on the stream: housekeeping publishes the attempt's records.
            recorder.store.release(appended.claimed)
        raise
    for message in dead:
        _log_dead_letter(message)
    # Settling commits durable state (fsyncs): off the event loop, so a slow disk cannot
    # starve the consumer's heartbeats and cost a rebalance.
    await asyncio.to_thread(
        _settle, route, ledgers, in_doubt if note else None, positions, appended, recorder
    )
    return Handled(
        route.connector,
        time.perf_counter() - started,
        tuple(
            Outcome(
                tuple(
                    (p.topic, _reason(p) if p.topic == DEADLETTER_TOPIC else None) for p in outputs
                ),
                accepted.not_routed,
            )
            for accepted, outputs in zip(outcomes, produced, strict=True)
        ),
        chains,
    )


def settler_of(route: Route) -> Callable[[Sequence[ConsumerRecord[bytes, bytes]]], None]:
    """What settles a batch of ``route`` in doubt after a restart: its records translated
    again, in order, and their ledgers committed; outputs are dropped (they are on Kafka)."""

    def settle(records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        for ledger in _ledgers([outcome_of(route, record) for record in records]):
            ledger.commit()

    return settle


def _ledgers(outcomes: Sequence[Accepted]) -> list[Ledger]:
    """The batch's ledgers, each once, in the order the records first staged into them."""
    return list({id(a.ledger): a.ledger for a in outcomes if a.ledger is not None}.values())


def _audit_and_note(
    route: Route,
    records: Sequence[ConsumerRecord[bytes, bytes]],
    outcomes: Sequence[Accepted],
    produced: Sequence[Sequence[Produced]],
    recorder: AuditRecorder | None,
    in_doubt: InDoubt | None,
    positions: Sequence[Position],
    *,
    stream: bool = False,
) -> tuple[dict[str, int], Appended | None]:
    """Audit the batch durably (before Kafka commits: an output is never unaudited), and
    note it in doubt when it has ledgers to settle after Kafka; each chain's length. With
    ``stream``, claim the chains whose records the batch's transaction publishes itself
    (``hub.audit.stream``)."""
    chains: dict[str, int] = {}
    appended = None
    if recorder is not None:
        group = route.consumer_group
        entries = []
        for record, accepted, outputs in zip(records, outcomes, produced, strict=True):
            chain = chain_of(group, record.topic, record.partition)
            consumed = Consumed(record.topic, record.partition, record.offset, record.value or b"")
            drafts = drafts_for(consumed, outputs, not_routed=accepted.not_routed)
            entries += [(chain, draft) for draft in drafts]
        if stream:
            appended = recorder.record_claiming(entries)
            placed = appended.records
        else:
            placed = recorder.record_all(entries)
        chains = {r.chain: r.seq for r in placed}
    if in_doubt is not None:
        in_doubt.note(positions)
    return chains, appended


async def _stream_audit(publisher: Publisher, appended: Appended) -> None:
    """Put the claimed chains' records of the batch on ``hub.audit.v1`` in the batch's
    transaction, exactly as housekeeping would, and wait until the broker has them."""
    records = appended.to_publish()
    messages = [
        Message(AUDIT_TOPIC, *audit_message(record), headers)
        for record, headers in zip(records, audit_headers(len(records)), strict=True)
    ]
    if messages:
        await (await publisher.enqueue_all(messages))


def _settle(
    route: Route,
    ledgers: Sequence[Ledger],
    in_doubt: InDoubt | None,
    positions: Sequence[Position],
    appended: Appended | None = None,
    recorder: AuditRecorder | None = None,
) -> None:
    """Commit the ledgers of a batch Kafka has committed, and move the audit stream's cursor
    past the records the transaction published; never raises, since the batch must not come
    again: a ledger that fails now is settled at the next start, records whose cursor did
    not move are published once more by housekeeping."""
    if appended is not None and recorder is not None and appended.claimed:
        try:
            recorder.store.published(appended.claimed)
        except Exception as exc:  # noqa: BLE001 - the records are on the stream already.
            log.warning("audit stream cursor not moved", error=type(exc).__name__)
    try:
        for ledger in ledgers:
            ledger.commit()
    except Exception as exc:  # noqa: BLE001 - the records' offsets are committed already.
        log.error(
            "ledgers not settled after the Kafka commit; settled at the next start",
            route=route.connector,
            error=type(exc).__name__,
        )
        for ledger in ledgers:
            ledger.rollback()
        return
    if in_doubt is not None:
        in_doubt.clear(positions)


async def _publish_all(
    publisher: Publisher,
    outcomes: Sequence[Accepted],
    produced: list[list[Produced]],
    quarantine: QuarantineStore | None = None,
) -> list[Outgoing]:
    """Hand every output of the batch to the producer, as whole record batches in order
    within each partition (so a correction never overtakes its record), and each dead letter
    after them (in a smaller form if it is too large); then wait until all have landed and
    fill ``produced``. The dead letters, as published."""
    outputs: list[tuple[int, int, Outgoing]] = []
    letters: list[tuple[int, int, Outgoing]] = []
    for index, accepted in enumerate(outcomes):
        produced[index] = [Produced(m.topic, m.value) for m in accepted.messages]
        for position, message in enumerate(accepted.messages):
            sink = letters if message.topic == DEADLETTER_TOPIC else outputs
            sink.append((index, position, message))
    landings = await publisher.enqueue_all(
        [Message(m.topic, m.key, m.value, _correlated(m)) for *_, m in outputs]
    )
    pending: list[Awaitable[RecordMetadata | None]] = list(landings.pending)
    dead: list[tuple[int, int, Outgoing, Awaitable[RecordMetadata]]] = []
    try:
        for index, position, message in letters:
            sent, landing = await _enqueue_dead_letter(publisher, message, quarantine)
            dead.append((index, position, sent, landing))
            pending.append(landing)
    except BaseException:
        # A producer that fails one message (fenced, say) fails those handed to it before;
        # only the first failure propagates, so the others are marked seen, or each would be
        # logged as never retrieved when it is collected (gather does the same for its own).
        retrieve_later(pending)
        raise
    landed = [
        *zip(outputs, await landings, strict=True),
        *zip(
            ((i, p, m) for i, p, m, _ in dead),
            await asyncio.gather(*(landing for *_, landing in dead)),
            strict=True,
        ),
    ]
    for (index, position, sent), metadata in landed:
        # FastStream's in-memory test broker lands messages nowhere (no metadata).
        where: tuple[int | None, int | None] = (
            (None, None) if metadata is None else (metadata.partition, metadata.offset)
        )
        produced[index][position] = Produced(sent.topic, sent.value, *where, sent.facts)
    return [sent for _, _, sent, _ in dead]


def _correlated(message: Outgoing) -> dict[str, str]:
    # Every message carries a ``correlation_id``: the event id where there is one, so a
    # redelivery carries the same one and partners can trace it.
    return {**message.headers, CORRELATION_HEADER: message.event_id or uuid.uuid4().hex}


async def _enqueue(publisher: Publisher, message: Outgoing) -> Awaitable[RecordMetadata]:
    return await publisher.enqueue(message.topic, message.value, message.key, _correlated(message))


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


def wire_route(
    broker: KafkaBroker,
    route: Route,
    session_timeout_ms: int = 10_000,
    recorder: AuditRecorder | None = None,
    max_batch: int = 1,
    *,
    publisher: Publisher | None = None,
    in_doubt: InDoubt | None = None,
    quarantine: QuarantineStore | None = None,
    failures: RouteFailures | None = None,
    fetch: Mapping[str, int] | None = None,
    middlewares: Sequence[BrokerMiddleware[Any, Any]] = (),
) -> Subscription:
    """Subscribe ``route`` on ``broker``, reading committed data only. With a transactional
    ``publisher`` (``hub.routing.transactions.RouteProducer``), each batch's outputs and offsets
    commit together; otherwise (the broker's own producer when ``publisher`` is None) the
    records are acknowledged after their outputs are published and audited. Up to
    ``max_batch`` records of one fetch are handled together. ``in_doubt`` notes batches
    whose ledgers settle after Kafka's commit; ``quarantine`` takes dead letters too large
    for the broker; ``failures`` reports and bounds a message failing again and again;
    ``fetch`` bounds the consumer's fetches (``fetch_max_bytes``,
    ``max_partition_fetch_bytes``). ``middlewares`` wrap each fetch's handling and see the
    ``Handled`` it returns (progress and metrics: ``hub.routing.middlewares``)."""
    out: Publisher = publisher if publisher is not None else BrokerPublisher(broker.publish)

    async def consume(message: KafkaMessage) -> Handled:
        raw = message.raw_message
        records = raw if isinstance(raw, tuple) else (raw,)
        #: Per partition, the offset after the last record whose batch committed.
        done: dict[TopicPartition, int] = {}
        reports: list[Handled] = []

        async def handle(batch: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
            reports.append(await handle_batch(out, route, batch, recorder, quarantine, in_doubt))
            for record in batch:
                done[TopicPartition(record.topic, record.partition)] = record.offset + 1

        async def give_up(record: ConsumerRecord[bytes, bytes], rejection: Rejection) -> None:
            gone = replace(route, translate=lambda _: rejection)
            reports.append(await handle_batch(out, gone, (record,), recorder, quarantine, in_doubt))
            done[TopicPartition(record.topic, record.partition)] = record.offset + 1

        try:
            if failures is None:
                await handle(records)
            else:
                await failures.run(records, handle, give_up)
        except BaseException:
            _rewind(message, records, done)
            raise
        if not out.transactional:
            await message.ack()
        return _together(route.connector, reports)

    options: dict[str, Any] = (
        {"batch": True, "max_records": max_batch, "batch_timeout_ms": _BATCH_WAIT_MS}
        if max_batch > 1
        else {}
    )
    options.update(fetch or {})
    # A router of its own: FastStream's middlewares are a router's, and these are the route's.
    router = KafkaRouter(middlewares=middlewares)
    subscriber = router.subscriber(
        *route.topics,
        group_id=route.consumer_group,
        auto_offset_reset="earliest",
        # Offsets are committed by the transaction (or by ``consume`` without one).
        ack_policy=AckPolicy.MANUAL,
        isolation_level="read_committed",
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=max(100, session_timeout_ms // 3),
        title=f"{route.connector}:{','.join(route.topics)}",
        no_reply=True,
        # The route reads the records as they came (``hub.broker.raw_records``).
        parser=parse_leniently,
        decoder=undecoded,
        **options,
    )
    subscriber(consume)
    broker.include_router(router)
    # Options passed as a mapping hide FastStream's overloads (batch or not) from mypy.
    return cast("Subscription", subscriber)


def _together(connector: str, reports: Sequence[Handled]) -> Handled:
    """One fetch's reports (one, or one per record when a failed batch came again)."""
    if len(reports) == 1:
        return reports[0]
    chains: dict[str, int] = {}
    for report in reports:
        chains.update(report.chains)
    return Handled(
        connector,
        sum(report.seconds for report in reports),
        tuple(outcome for report in reports for outcome in report.outcomes),
        chains,
    )


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
