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
  an output unaudited.

Never logs message contents; identity codes cannot reach a log line from here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, Protocol

from aiokafka.errors import KafkaError, KafkaTimeoutError, UnknownError
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
from hub.deadletter import DeadLetter, KafkaSource
from hub.landings import Landing, Landings
from hub.logs import get_logger
from hub.metrics import HubMetrics
from hub.redaction import mask_identity_codes
from hub.topics import DEADLETTER_TOPIC
from schemas.rejection import Rejection

__all__ = [
    "Accepted",
    "Outgoing",
    "Progress",
    "Route",
    "Subscription",
    "Translation",
    "handle_record",
    "outcome_of",
    "wire_route",
]

log = get_logger(__name__)

#: How long a publish is retried while Kafka is away before the message is given up (and
#: redelivered later, since it is not acknowledged).
PUBLISH_RETRY_S: Final = 120.0


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
    log.warning(
        "message dead-lettered",
        connector=route.connector,
        reason=letter.reason,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
    )
    facts = EventFacts(detail=f"{letter.reason}: {letter.detail}")
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
) -> None:
    """Translate one record, publish everything it yields (outputs or a dead letter), audit
    it, then settle."""
    started = time.perf_counter()
    accepted = outcome_of(route, record)
    produced = []
    try:
        floors: dict[str, dict[int, int]] | None = None
        if accepted.intend is not _no_intent and accepted.messages:
            floors = {
                m.topic: landings.floors(m.topic) if landings is not None else {}
                for m in accepted.messages
            }
            await asyncio.to_thread(accepted.intend, floors)
        for message in accepted.messages:
            look_above = message.landed_after
            if look_above is None and floors is not None:
                look_above = floors[message.topic]
            landed = await _publish_once(broker, message, landings, look_above)
            produced.append(
                Produced(
                    message.topic, message.value, landed.partition, landed.offset, message.facts
                )
            )
    except BaseException:
        accepted.abandon()
        raise

    def audit_then_settle() -> None:
        if recorder is not None:
            consumed = Consumed(record.topic, record.partition, record.offset, record.value or b"")
            drafts = drafts_for(consumed, produced, not_routed=accepted.not_routed)
            try:
                placed = recorder.record(
                    chain_of(route.consumer_group, record.topic, record.partition), drafts
                )
            except BaseException:
                accepted.abandon()
                raise
            if metrics is not None and placed:
                metrics.audit_chain_length.labels(placed[-1].chain).set(placed[-1].seq)
        accepted.settle()

    # Auditing and settling commit durable state (fsyncs): off the event loop, so a slow disk
    # cannot starve the consumer's heartbeats and cost a rebalance.
    await asyncio.to_thread(audit_then_settle)
    if metrics is not None:
        outputs = [(p.topic, _reason(p) if p.topic == DEADLETTER_TOPIC else None) for p in produced]
        metrics.observe(
            route.connector,
            time.perf_counter() - started,
            outputs,
            not_routed=accepted.not_routed,
        )


def _transient(exc: BaseException) -> bool:
    # UnknownError (-1): Tansu's answer when two produces race for a fresh partition's first
    # offset (docs/broker-differences.md); the retry lands.
    return isinstance(exc, KafkaTimeoutError | UnknownError) or (
        isinstance(exc, KafkaError) and bool(exc.retriable)
    )


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    log.warning(
        "publish failed, retrying",
        attempt=state.attempt_number,
        next_try_in_s=round(state.next_action.sleep, 1) if state.next_action else None,
        error=type(error).__name__,
    )


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
    async for attempt in AsyncRetrying(
        retry=retry_if_exception(_transient),
        wait=wait_exponential(multiplier=0.2, max=5),
        stop=stop_after_delay(PUBLISH_RETRY_S),
        before_sleep=_log_retry,
        reraise=True,
    ):
        with attempt:
            earlier = attempt.retry_state.attempt_number > 1 or message.landed_after is not None
            if earlier and landings is not None and look_above is not None and message.event_id:
                found = await landings.find(message.topic, message.event_id, look_above)
                if found is not None:
                    return found
            # FastStream always sets a ``correlation_id`` header; make it the event id, so a
            # redelivery carries the same one and partners can trace it, instead of a random.
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
) -> Subscription:
    """Subscribe ``route`` on ``broker``: commit only after its outputs are published (and
    audited, with a ``recorder``); with ``landings``, partner output is exactly once."""

    async def consume(message: KafkaMessage) -> None:
        if progress is not None:
            progress.begin()
        try:
            await handle_record(broker, route, message.raw_message, recorder, metrics, landings)
        finally:
            if progress is not None:
                progress.end()

    subscriber = broker.subscriber(
        *route.topics,
        group_id=route.consumer_group,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=max(100, session_timeout_ms // 3),
        title=f"{route.connector}:{','.join(route.topics)}",
    )
    subscriber(consume)
    return subscriber
