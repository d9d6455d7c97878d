"""Every partition of some topics, as a started aiokafka consumer sees them now."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition

__all__ = ["partitions_of"]


async def partitions_of(consumer: AIOKafkaConsumer, topics: Iterable[str]) -> list[TopicPartition]:
    """The partitions of ``topics`` in topic order then partition order (none for a topic the
    cluster does not know). Fetches fresh metadata first: a consumer that never subscribed
    may not have the topics' partitions yet."""
    await consumer.topics()
    return [
        TopicPartition(topic, partition)
        for topic in topics
        for partition in sorted(consumer.partitions_for_topic(topic) or ())
    ]
