"""A consumer position past the end of its partition is read again from the beginning.

Apache Kafka answers a fetch beyond a partition's end with OFFSET_OUT_OF_RANGE, and the
consumer then resets its position by its ``auto_offset_reset`` policy (``earliest`` for every
route). The embedded broker answers such a fetch with no records and the partition's real high
watermark, so the consumer waits there until the log has grown past its position, and what was
written below it is never read.

It happens when the broker comes back without its logs (the embedded broker keeps them in
memory): a route that was on a message during the outage finishes it afterwards and commits
its pre-outage position onto the empty partition, and the rebalance that follows hands that
position back. Routes avoid such commits (``hub.broker.outages``); ``reset_positions_past_end``
does for a consumer that got such a position anyway what Kafka's OFFSET_OUT_OF_RANGE would. On
a healthy broker a position never exceeds the high watermark the consumer was last told, so on
Apache Kafka it never acts.
"""

from __future__ import annotations

from typing import Protocol

from aiokafka import TopicPartition

__all__ = ["PositionedConsumer", "reset_positions_past_end"]


class PositionedConsumer(Protocol):
    """What the check needs of an aiokafka consumer."""

    def assignment(self) -> set[TopicPartition] | frozenset[TopicPartition]:
        """The partitions assigned to the consumer."""

    def highwater(self, partition: TopicPartition) -> int | None:
        """The partition's high watermark from the last fetch response (None before one)."""

    async def position(self, partition: TopicPartition) -> int:
        """The offset of the next record the consumer will fetch."""

    async def seek_to_beginning(self, *partitions: TopicPartition) -> bool:
        """Read ``partitions`` again from their first record ."""


async def reset_positions_past_end(consumer: PositionedConsumer) -> dict[TopicPartition, int]:
    """Seek every assigned partition whose position lies past its known high watermark to
    its beginning; return those partitions with the positions they had."""
    past_end: dict[TopicPartition, int] = {}
    for partition in sorted(consumer.assignment()):
        end = consumer.highwater(partition)
        if end is None:
            continue
        position = await consumer.position(partition)
        if position > end:
            past_end[partition] = position
    if past_end:
        await consumer.seek_to_beginning(*past_end)
    return past_end
