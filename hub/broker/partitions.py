"""Every partition of some topics, as the cluster reports them now."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition

__all__ = ["partitions_of"]


async def partitions_of(consumer: AIOKafkaConsumer, topics: Iterable[str]) -> list[TopicPartition]:
    """The partitions of ``topics`` in topic order then partition order (none for a topic the
    cluster does not know), from fresh metadata of the whole cluster.

    Not ``consumer.partitions_for_topic``: a consumer that never subscribed keeps metadata of
    no topic at all on Kafka, and ``consumer.topics()`` fetches the cluster's metadata without
    keeping it.
    """
    cluster = await consumer._client.fetch_all_metadata()
    return [
        TopicPartition(topic, partition)
        for topic in topics
        for partition in sorted(cluster.partitions_for_topic(topic) or ())
    ]
