"""Wiring translations to topics: the one place a connector meets the broker.

A connector describes its inbound side as a ``Route``: the topics it consumes and a
``translate(bytes) -> Accepted | list[Outgoing] | Rejection``. ``wire_route`` subscribes it on
a FastStream ``KafkaBroker``:

- a ``Rejection`` goes to the dead-letter topic with its reason, and the message is
  acknowledged, so the messages behind it keep flowing;
- an exception escaping a translation is a bug, not a reason to stop: it is dead-lettered as
  ``internal-error`` with the exception's class and masked text;
- ``Accepted.settle`` runs once every output is published (durable state such as a
  deduplication ledger is committed only then); if publishing fails, ``Accepted.abandon``
  runs and the message is not acknowledged, so it is redelivered: at least once, never lost;
- ``Accepted.intend`` runs before anything is published, with the partner topics' floors
  (:mod:`hub.landings`); an output marked ``landed_after`` (an earlier attempt may have
  published it) is first looked for on its topic and published only if it is not there:
  partner output is exactly once even when the hub is killed between publishing and settling;
- with an audit recorder, the consumed message and everything it caused are recorded durably
  after publishing and before settling and acknowledging: a crash can repeat work, never leave
  an output unaudited;
- a dead letter the broker refuses as too large goes out in a smaller form (compressed, else
  its bytes quarantined: ``hub.deadletter.smaller_forms``); "message dead-lettered" is logged
  once the broker has acknowledged it;
- with ``RouteFailures``, a message that fails again and again is reported and, after a
  bound, dead-lettered as ``retries-exhausted`` (``hub.route_failures``).

Never logs message contents; identity codes cannot reach a log line from here.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, Protocol, cast

from aiokafka.errors import KafkaError, KafkaTimeoutError, MessageSizeTooLargeError
from aiokafka.structs import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_delay,
    wait_exponential,
)

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
    KafkaSource,
    smaller_forms,
)
from hub.landings import Landing, Landings
from hub.logs import get_logger
from hub.metrics import HubMetrics
from hub.quarantine import QuarantineStore
from hub.redaction import mask_identity_codes
from hub.route_failures import RouteFailures
from hub.topics import DEADLETTER_TOPIC
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
    "wire_route",
]

log = get_logger(__name__)

#: How long a publish is retried while Kafka is away before the message is given up (and
#: redelivered later, since it is not acknowledged).
PUBLISH_RETRY_S: Final = 120.0
#: How long a batch subscriber waits for records when none are buffered (and, FastStream
#: adds, sleeps after an empty fetch): bounds the delay a first message after a pause sees.
_BATCH_WAIT_MS: Final = 100
#: The first wait before a failed publish is tried again; each next one doubles, up to 5 s.
_FIRST_RETRY_S: Final = 0.2


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message a translation wants published; ``event_id`` names the canonical event it
    carries, when it carries one (delivery deduplication and audit use it)."""

    topic: str
    value: bytes
    key: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    event_id: str | None = None
    #: What the message discloses, for the audit (set where a contract allowed it).
    facts: EventFacts | None = None
    #: Set when an earlier attempt may have published this message (the hub died before
    #: settling): per partition, the offset it lies above if it landed.
    landed_after: Mapping[int, int] | None = None


def _nothing() -> None:
    return None


def _no_intent(floors: Mapping[str, Mapping[int, int]]) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Accepted:
    """A translated message: what to publish, and what to do once it is (or is not) out."""

    messages: list[Outgoing]
    settle: Callable[[], None] = _nothing
    abandon: Callable[[], None] = _nothing
    #: A valid event that no contract lets anybody receive (audited as "not routed").
    not_routed: bool = False
    #: Called before publishing with each output topic's floors, to note durably what is
    #: about to be published (see ``hub.delivery_log``).
    intend: Callable[[Mapping[str, Mapping[int, int]]], None] = _no_intent


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
    route: Route, record: ConsumerRecord[bytes, bytes], rejection: Rejection
) -> Outgoing:
    """The dead-letter message of a rejected record: original bytes, reason, source."""
    letter = DeadLetter(
        value=record.value or b"",
        reason=rejection.reason,
        detail=rejection.detail,
        source=KafkaSource(record.topic, record.partition, record.offset),
        connector=route.connector,
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
    broker: KafkaBroker,
    route: Route,
    record: ConsumerRecord[bytes, bytes],
    recorder: AuditRecorder | None = None,
    metrics: HubMetrics | None = None,
    landings: Landings | None = None,
    quarantine: QuarantineStore | None = None,
) -> None:
    """Translate one record, publish everything it yields (outputs or a dead letter), audit
    it, then settle."""
    await handle_batch(broker, route, (record,), recorder, metrics, landings, quarantine)


async def handle_batch(
    broker: KafkaBroker,
    route: Route,
    records: Sequence[ConsumerRecord[bytes, bytes]],
    recorder: AuditRecorder | None = None,
    metrics: HubMetrics | None = None,
    landings: Landings | None = None,
    quarantine: QuarantineStore | None = None,
) -> None:
    """Translate records in order, publish everything they yield, audit them all in one
    transaction, then settle them in order. With ``quarantine``, a dead letter too large for
    the broker goes out in a smaller form.

    One fetch at a time: the per-message costs (a durable commit of the audit and of each
    ledger, a thread hand-off, a wait for Kafka's acknowledgement, an offset commit) are paid
    once per batch. Translations see what earlier records of the batch staged, as the file
    ingest's do. If anything fails, every record of the batch is abandoned and none is
    acknowledged: the batch is redelivered.
    """
    started = time.perf_counter()
    outcomes = [outcome_of(route, record) for record in records]
    produced: list[list[Produced]] = [[] for _ in outcomes]
    try:
        floors = await _note_intents(outcomes, landings)
        await _publish_all(broker, outcomes, produced, landings, floors, quarantine)
    except BaseException:
        for accepted in outcomes:
            accepted.abandon()
        raise

    def audit_then_settle() -> None:
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
            try:
                placed = recorder.record_all(entries)
            except BaseException:
                for accepted in outcomes:
                    accepted.abandon()
                raise
            if metrics is not None:
                for chain, seq in {r.chain: r.seq for r in placed}.items():
                    metrics.audit_chain_length.labels(chain).set(seq)
        for accepted in outcomes:
            accepted.settle()

    # Auditing and settling commit durable state (fsyncs): off the event loop, so a slow disk
    # cannot starve the consumer's heartbeats and cost a rebalance.
    await asyncio.to_thread(audit_then_settle)
    if metrics is not None:
        elapsed = time.perf_counter() - started
        for accepted, outputs in zip(outcomes, produced, strict=True):
            metrics.observe(
                route.connector,
                elapsed,
                [(p.topic, _reason(p) if p.topic == DEADLETTER_TOPIC else None) for p in outputs],
                not_routed=accepted.not_routed,
            )


async def _note_intents(
    outcomes: Sequence[Accepted], landings: Landings | None
) -> dict[str, dict[int, int]] | None:
    """Note the delivery intents of the batch (once per ledger) with the output topics'
    floors, before anything is published; the floors, or None if nothing intends."""
    intents: list[Callable[[Mapping[str, Mapping[int, int]]], None]] = []
    topics: set[str] = set()
    for accepted in outcomes:
        if accepted.intend is not _no_intent and accepted.messages:
            topics.update(m.topic for m in accepted.messages)
            if accepted.intend not in intents:  # one bound method per ledger: equal, not same
                intents.append(accepted.intend)
    if not intents:
        return None
    floors = {topic: landings.floors(topic) if landings is not None else {} for topic in topics}
    for intend in intents:
        await asyncio.to_thread(intend, floors)
    return floors


async def _publish_all(
    broker: KafkaBroker,
    outcomes: Sequence[Accepted],
    produced: list[list[Produced]],
    landings: Landings | None,
    floors: Mapping[str, Mapping[int, int]] | None,
    quarantine: QuarantineStore | None = None,
) -> None:
    """Publish every output of the batch, concurrently but in order per topic and key (so
    per partition, and a correction never overtakes its record); fill ``produced``."""
    lanes: dict[tuple[str, bytes | None], list[tuple[int, int, Outgoing]]] = {}
    for index, accepted in enumerate(outcomes):
        produced[index] = [Produced(m.topic, m.value) for m in accepted.messages]
        for position, message in enumerate(accepted.messages):
            lanes.setdefault((message.topic, message.key), []).append((index, position, message))

    async def publish_lane(lane: list[tuple[int, int, Outgoing]]) -> None:
        for index, position, message in lane:
            look_above = message.landed_after
            if look_above is None and floors is not None and message.topic in floors:
                look_above = floors[message.topic]
            sent = message
            if message.topic == DEADLETTER_TOPIC:
                sent, landed = await _publish_dead_letter(
                    broker, message, landings, look_above, quarantine
                )
            else:
                landed = await _publish_once(broker, message, landings, look_above)
            produced[index][position] = Produced(
                sent.topic, sent.value, landed.partition, landed.offset, sent.facts
            )

    if len(lanes) == 1:
        [lane] = lanes.values()
        await publish_lane(lane)
        return
    try:
        async with asyncio.TaskGroup() as group:
            for lane in lanes.values():
                group.create_task(publish_lane(lane))
    except BaseExceptionGroup as failed:
        # The first failure, as a single publish would raise it (the rest were cancelled).
        raise failed.exceptions[0] from None


async def _publish_dead_letter(
    broker: KafkaBroker,
    message: Outgoing,
    landings: Landings | None,
    look_above: Mapping[int, int] | None,
    quarantine: QuarantineStore | None,
) -> tuple[Outgoing, Landing]:
    """Publish a dead letter, in a smaller form if the broker refuses it as too large; log it
    once acknowledged. What was published, and where."""
    try:
        landed = await _publish_once(broker, message, landings, look_above)
    except MessageSizeTooLargeError:
        if quarantine is None:
            raise
        async for form in smaller_forms(message.value, message.headers, quarantine):
            smaller = replace(
                message,
                value=form.value,
                headers=form.headers,
                facts=EventFacts(detail=form.summary),
            )
            try:
                landed = await _publish_once(broker, smaller, landings, look_above)
            except MessageSizeTooLargeError:
                continue
            message = smaller
            break
        else:  # pragma: no cover - the quarantined form is a few hundred bytes
            raise
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
    return message, landed


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, KafkaTimeoutError) or (
        isinstance(exc, KafkaError) and bool(exc.retriable)
    )


def _warn_retry(attempt: int, next_try_in_s: float | None, error: BaseException | None) -> None:
    log.warning(
        "publish failed, retrying",
        attempt=attempt,
        next_try_in_s=next_try_in_s,
        error=type(error).__name__,
    )


def _log_retry(state: RetryCallState, tried_before: int = 0) -> None:
    _warn_retry(
        state.attempt_number + tried_before,
        round(state.next_action.sleep, 1) if state.next_action else None,
        state.outcome.exception() if state.outcome is not None else None,
    )


async def _send(broker: KafkaBroker, message: Outgoing, landings: Landings | None) -> Landing:
    # FastStream always sets a ``correlation_id`` header; make it the event id, so a
    # redelivery carries the same one and partners can trace it, instead of a random one.
    metadata = await broker.publish(
        message.value,
        topic=message.topic,
        key=message.key,
        headers=dict(message.headers),
        correlation_id=message.event_id,
    )
    if landings is not None:
        landings.note(message.topic, metadata.partition, metadata.offset)
    return Landing(metadata.partition, metadata.offset)


async def _publish_once(
    broker: KafkaBroker,
    message: Outgoing,
    landings: Landings | None,
    look_above: Mapping[int, int] | None,
) -> Landing:
    """Publish ``message``, unless an earlier attempt already put it on its topic.

    Kafka being away is retried with backoff for ``PUBLISH_RETRY_S``, then the message is
    given up (not acknowledged: redelivered later). ``look_above`` (the floors of a delivery
    intent) makes every attempt after a failed or unsettled one look for it first: a publish
    that timed out may still have landed.
    """
    tried = 0
    if message.landed_after is None:
        # The first attempt outside tenacity: a retry context per message costs more CPU
        # than the publish itself takes when, as almost always, nothing fails.
        try:
            return await _send(broker, message, landings)
        except Exception as exc:
            if not _transient(exc):
                raise
            tried = 1
            _warn_retry(tried, _FIRST_RETRY_S, exc)
            await asyncio.sleep(_FIRST_RETRY_S)
    async for attempt in AsyncRetrying(
        retry=retry_if_exception(_transient),
        wait=wait_exponential(multiplier=_FIRST_RETRY_S, max=5),
        stop=stop_after_delay(PUBLISH_RETRY_S),
        before_sleep=functools.partial(_log_retry, tried_before=tried),
        reraise=True,
    ):
        with attempt:
            # Every attempt here comes after one that failed or was never settled.
            if landings is not None and look_above is not None and message.event_id:
                found = await landings.find(message.topic, message.event_id, look_above)
                if found is not None:
                    return found
            return await _send(broker, message, landings)
    raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover


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
    landings: Landings | None = None,
    progress: Progress | None = None,
    max_batch: int = 1,
    *,
    quarantine: QuarantineStore | None = None,
    failures: RouteFailures | None = None,
    fetch: Mapping[str, int] | None = None,
) -> Subscription:
    """Subscribe ``route`` on ``broker``: commit only after its outputs are published (and
    audited, with a ``recorder``); with ``landings``, partner output is exactly once. With
    ``max_batch`` above 1, up to that many records of one fetch are handled (and committed)
    together. ``quarantine`` takes dead letters too large for the broker; ``failures``
    reports and bounds a message failing again and again; ``fetch`` bounds the consumer's
    fetches (``fetch_max_bytes``, ``max_partition_fetch_bytes``)."""

    async def handle(records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        await handle_batch(broker, route, records, recorder, metrics, landings, quarantine)

    async def give_up(record: ConsumerRecord[bytes, bytes], rejection: Rejection) -> None:
        gone = replace(route, translate=lambda _: rejection)
        await handle_batch(broker, gone, (record,), recorder, metrics, landings, quarantine)

    async def consume(message: KafkaMessage) -> None:
        raw = message.raw_message
        records = raw if isinstance(raw, tuple) else (raw,)
        if progress is not None:
            progress.begin()
        try:
            if failures is None:
                await handle(records)
            else:
                await failures.run(records, handle, give_up)
        finally:
            if progress is not None:
                progress.end()

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
        ack_policy=AckPolicy.NACK_ON_ERROR,
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=max(100, session_timeout_ms // 3),
        title=f"{route.connector}:{','.join(route.topics)}",
        **options,
    )
    subscriber(consume)
    # Options passed as a mapping hide FastStream's overloads (batch or not) from mypy.
    return cast("Subscription", subscriber)
