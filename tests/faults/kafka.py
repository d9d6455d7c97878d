"""Small Kafka helpers for the fault tests: send many, count, read a topic to its end."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from tests.faults.inputs import Input
from tests.integration.conftest import Records

__all__ = ["end_offsets", "read_to_end", "send_all"]


async def send_all(bootstrap: str, inputs: Sequence[Input], key: bytes | None = None) -> None:
    """Produce every input, in order, and wait until all are acknowledged."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        sent = [await producer.send(i.topic, i.value, key=key) for i in inputs]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def end_offsets(bootstrap: str, topics: Iterable[str]) -> dict[TopicPartition, int]:
    """The end offset of every partition of ``topics``."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        return dict(await consumer.end_offsets(partitions)) if partitions else {}
    finally:
        await consumer.stop()


async def read_to_end(bootstrap: str, topic: str) -> Records:
    """Every record of ``topic`` up to its current end, partition by partition in order."""
    ends = await end_offsets(bootstrap, [topic])
    records: Records = []
    wanted = [tp for tp, end in ends.items() if end > 0]
    if not wanted:
        return records
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(wanted)
        await consumer.seek_to_beginning(*wanted)
        while len(records) < sum(ends[tp] for tp in wanted):
            batch = await consumer.getmany(timeout_ms=500)
            for tp, part in batch.items():
                records.extend(r for r in part if r.offset < ends[tp])
    finally:
        await consumer.stop()
    return records
