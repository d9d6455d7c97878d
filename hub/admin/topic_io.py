"""Reading and writing topics by hand: what ``hub send`` and ``hub tail`` do.

For people at a terminal, not for connectors: a plain (non-idempotent unless configured)
producer, and a group-less consumer that never commits offsets, so tailing a topic cannot
disturb the consumer groups of the running hub.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from hub.admin.provisioning import list_topics
from hub.broker.bootstrap import start_producer
from hub.broker.connection import KafkaConnection
from hub.broker.diagnosis import operation_error
from hub.broker.topic_reading import reading_consumer
from hub.core.errors import HubError
from hub.core.redaction import mask_identity_codes

__all__ = ["TailedMessage", "UnknownTopicError", "send_lines", "tail_topic"]


class UnknownTopicError(HubError):
    """The topic does not exist on the broker (topics are never created implicitly)."""

    def __init__(self, topic: str) -> None:
        super().__init__(f"topic {topic} does not exist (see `hub topics list`)")


class IdentityCodeInKeyError(HubError):
    """A Kafka key that looks like an identity code was refused."""

    def __init__(self) -> None:
        super().__init__(
            "the key looks like a personal identity code; keys must be pseudonymous references"
        )


@dataclass(frozen=True, slots=True)
class TailedMessage:
    """One record read by ``tail_topic``."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


async def _require_topic(connection: KafkaConnection, topic: str) -> int:
    partitions = (await list_topics(connection)).get(topic)
    if partitions is None:
        raise UnknownTopicError(topic)
    return partitions


async def send_lines(
    connection: KafkaConnection, topic: str, lines: Iterable[bytes], key: bytes | None = None
) -> int:
    """Publish every non-empty line as one message; return how many were sent."""
    if key is not None and mask_identity_codes(key.decode("utf-8", "replace")) != key.decode(
        "utf-8", "replace"
    ):
        raise IdentityCodeInKeyError
    await _require_topic(connection, topic)
    producer = await start_producer(connection)
    sent = 0
    try:
        pending = []
        for line in lines:
            value = line.rstrip(b"\r\n")
            if not value.strip():
                continue
            pending.append(await producer.send(topic, value, key=key))
            sent += 1
        await asyncio.gather(*pending)
    except KafkaError as exc:
        raise operation_error(connection, exc, f"to write to topic {topic}") from None
    finally:
        await producer.stop()
    return sent


async def tail_topic(
    connection: KafkaConnection,
    topic: str,
    *,
    from_beginning: bool = False,
    count: int | None = None,
    idle_timeout_s: float | None = None,
    follow: bool = False,
) -> AsyncIterator[TailedMessage]:
    """Yield the topic's messages, oldest first per partition, until the end or ``count``.

    Without ``from_beginning`` only messages published after the call are shown. The end is
    where the topic ended when the call began; with ``follow`` (or an ``idle_timeout_s``,
    which only means something while waiting) it waits for new messages instead, until
    ``count`` or ``idle_timeout_s`` seconds without one.
    """
    partitions = await _require_topic(connection, topic)
    following = follow or idle_timeout_s is not None
    # What a partner sees (read_committed): a message of an aborted transaction (a route's
    # batch that was retried and published again) is not one.
    consumer = await reading_consumer(connection, committed_only=True, to_known_end=not following)
    try:
        assigned = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(assigned)
        if from_beginning:
            await consumer.seek_to_beginning(*assigned)
        else:
            await consumer.seek_to_end(*assigned)
        ends = await consumer.end_offsets(assigned)
        seen = 0
        last_activity = time.monotonic()
        while count is None or seen < count:
            if not following and await _at_end(consumer, ends):
                return
            batch = await consumer.getmany(timeout_ms=200)
            records = sorted(
                (
                    record
                    for partition, records in batch.items()
                    for record in records
                    # What arrives while reading lies beyond the end this tail stops at.
                    if following or record.offset < ends[partition]
                ),
                key=lambda r: (r.timestamp, r.partition, r.offset),
            )
            if records:
                last_activity = time.monotonic()
            elif idle_timeout_s is not None and time.monotonic() - last_activity > idle_timeout_s:
                return
            for record in records:
                yield TailedMessage(
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    timestamp_ms=record.timestamp,
                    key=record.key,
                    value=record.value,
                    headers=tuple(record.headers),
                )
                seen += 1
                if count is not None and seen >= count:
                    return
    except KafkaError as exc:
        raise operation_error(connection, exc, f"to read topic {topic}") from None
    finally:
        await consumer.stop()


async def _at_end(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    """Every partition read up to where it ended when the tail began."""
    for partition, end in ends.items():
        if await consumer.position(partition) < end:
            return False
    return True
