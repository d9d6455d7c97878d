"""Wiring pure translations to topics: the one place a connector meets the broker.

A connector describes its inbound side as a ``Route``: the topics it consumes and a pure
``translate(bytes) -> list[Outgoing] | Rejection``. ``wire_route`` subscribes it on a
FastStream ``KafkaBroker``:

- a ``Rejection`` goes to the dead-letter topic with its reason, and the message is
  acknowledged, so the messages behind it keep flowing;
- an exception escaping a translation is a bug, not a reason to stop: it is dead-lettered as
  ``internal-error`` with the exception's class and masked text;
- a failure to *publish* is transient: the message is not acknowledged and is redelivered.

Never logs message contents; identity codes cannot reach a log line from here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from aiokafka.structs import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from hub.deadletter import DeadLetter
from hub.logs import get_logger
from hub.redaction import mask_identity_codes
from hub.topics import DEADLETTER_TOPIC
from schemas.rejection import Rejection

__all__ = ["Outgoing", "Route", "Translation", "handle_record", "wire_route"]

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message a translation wants published."""

    topic: str
    value: bytes
    key: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


Translation = Callable[[bytes], "list[Outgoing] | Rejection"]


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


def outcome_of(route: Route, record: ConsumerRecord[bytes, bytes]) -> list[Outgoing]:
    """Translate one record; any rejection or bug becomes a dead letter. Never raises."""
    value = record.value or b""
    try:
        outcome = route.translate(value)
    except Exception as exc:  # noqa: BLE001 - a translation bug must not stop the partition.
        outcome = Rejection(
            "internal-error", f"{type(exc).__name__}: {mask_identity_codes(str(exc))}"
        )
    if not isinstance(outcome, Rejection):
        return outcome
    letter = DeadLetter(
        value=value,
        reason=outcome.reason,
        detail=outcome.detail,
        source_topic=record.topic,
        source_partition=record.partition,
        source_offset=record.offset,
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
    return [Outgoing(DEADLETTER_TOPIC, value, None, letter.headers())]


async def handle_record(
    broker: KafkaBroker, route: Route, record: ConsumerRecord[bytes, bytes]
) -> None:
    """Translate one record and publish everything it yields (outputs or a dead letter)."""
    for message in outcome_of(route, record):
        await broker.publish(
            message.value, topic=message.topic, key=message.key, headers=dict(message.headers)
        )


def wire_route(broker: KafkaBroker, route: Route) -> None:
    """Subscribe ``route`` on ``broker``: commit only after its outputs are published."""

    async def consume(message: KafkaMessage) -> None:
        await handle_record(broker, route, message.raw_message)

    subscriber = broker.subscriber(
        *route.topics,
        group_id=route.consumer_group,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        title=f"{route.connector}:{','.join(route.topics)}",
    )
    subscriber(consume)
