"""Where the hub's own partner messages landed, and finding one again after a crash.

A partner message is published, then audited, then its delivery is committed. A crash between
the publish and the commit leaves it unknown whether the message reached the partner topic.
Before publishing, the delivery log notes an *intent* with the offsets each partition of the
topic had reached (its *floors*); the message, if it landed, lies above them. After a restart
the redelivered event finds the intent, and instead of publishing again the pipeline looks
above the floors for a record with the event id in its ``correlation_id`` header: found, it
counts as published where it lies; not found, it is published now. The range read is short:
what was published between the intent and the restart.

The floors come from :class:`Landings`: the end offsets of the partner topics at start-up,
raised by every publish of this process. A lower bound is all they need to be, so other
instances publishing to the same topics make the range longer, never wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, TopicPartition

from hub.logs import get_logger

__all__ = ["CORRELATION_HEADER", "Landing", "Landings"]

log = get_logger(__name__)

#: The header every message the hub publishes carries its event id in.
CORRELATION_HEADER: Final = "correlation_id"

_BATCH_MS: Final = 500


@dataclass(frozen=True, slots=True)
class Landing:
    """Where a message lies."""

    partition: int
    offset: int


class Landings:
    """The highest offset known per partition of each partner topic, and a way to search."""

    def __init__(self, client_kwargs: Mapping[str, Any]) -> None:
        self._client_kwargs = dict(client_kwargs)
        self._marks: dict[str, dict[int, int]] = {}

    async def learn_ends(self, topics: Iterable[str]) -> None:
        """Start from the topics' end offsets: anything published from now on lies above."""
        consumer = AIOKafkaConsumer(**self._client_kwargs, enable_auto_commit=False)
        await consumer.start()
        try:
            await consumer.topics()  # fresh metadata: every topic's partitions
            partitions = [
                TopicPartition(topic, partition)
                for topic in topics
                for partition in sorted(consumer.partitions_for_topic(topic) or ())
            ]
            ends = await consumer.end_offsets(partitions) if partitions else {}
        finally:
            await consumer.stop()
        for tp, end in ends.items():
            self.note(tp.topic, tp.partition, end - 1)

    def note(self, topic: str, partition: int, offset: int) -> None:
        """A message of ``topic`` is known to lie at ``offset``."""
        marks = self._marks.setdefault(topic, {})
        if offset > marks.get(partition, -1):
            marks[partition] = offset

    def floors(self, topic: str) -> dict[int, int]:
        """Per partition, an offset every message published from now on lies above."""
        return dict(self._marks.get(topic, {}))

    async def find(self, topic: str, event_id: str, floors: Mapping[int, int]) -> Landing | None:
        """The record of ``topic`` above ``floors`` carrying ``event_id``, if there is one.

        Partitions without a floor are read from their start.
        """
        wanted = event_id.encode()
        consumer = AIOKafkaConsumer(**self._client_kwargs, enable_auto_commit=False)
        await consumer.start()
        try:
            await consumer.topics()
            partitions = [
                TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
            ]
            if not partitions:
                return None
            consumer.assign(partitions)
            ends = await consumer.end_offsets(partitions)
            open_ = set()
            for tp in partitions:
                start = floors.get(tp.partition, -1) + 1
                if start < ends[tp]:
                    consumer.seek(tp, start)
                    open_.add(tp)
            scanned = 0
            while open_:
                batches = await consumer.getmany(*open_, timeout_ms=_BATCH_MS)
                for tp, records in batches.items():
                    for record in records:
                        scanned += 1
                        if dict(record.headers).get(CORRELATION_HEADER) == wanted:
                            log.info(
                                "earlier attempt found on the topic",
                                topic=topic,
                                event_id=event_id,
                                partition=tp.partition,
                                offset=record.offset,
                                scanned=scanned,
                            )
                            return Landing(tp.partition, record.offset)
                for tp in list(open_):
                    if await consumer.position(tp) >= ends[tp]:
                        open_.discard(tp)
            log.info("earlier attempt not on the topic", topic=topic, event_id=event_id)
            return None
        finally:
            await consumer.stop()
