"""Small Kafka helpers for the fault tests: send many, count, read a topic to its end, and the
partner outputs by the id each input predicts."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterable, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from hub.broker.partitions import partitions_of
from tests.faults.inputs import OUTPUT_TOPICS, Input, output_id
from tests.integration.conftest import Records

__all__ = ["end_offsets", "partner_outputs", "read_to_end", "send_all", "wait_outputs"]


async def send_all(bootstrap: str, inputs: Sequence[Input], key: bytes | None = None) -> None:
    """Produce every input, in order, and wait until all are acknowledged by every in-sync
    replica (idempotently: a retry across a leader change writes nothing twice)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=5, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        sent = [await producer.send(i.topic, i.value, key=key) for i in inputs]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def end_offsets(
    bootstrap: str, topics: Iterable[str], isolation_level: str = "read_committed"
) -> dict[TopicPartition, int]:
    """The end offset of every partition of ``topics`` (with ``read_committed``: the end of
    what is committed)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level=isolation_level
    )
    await consumer.start()
    try:
        partitions = await partitions_of(consumer, topics)
        return dict(await consumer.end_offsets(partitions)) if partitions else {}
    finally:
        await consumer.stop()


async def read_to_end(
    bootstrap: str, topic: str, idle_s: float = 5.0, isolation_level: str = "read_committed"
) -> Records:
    """Every record of ``topic`` up to its current end, partition by partition in order; what
    was read so far once nothing more comes for ``idle_s`` (a broker that reports an end it
    does not serve would otherwise keep the test waiting forever). ``read_committed`` reads
    what a partner reading committed messages only sees."""
    ends = await end_offsets(bootstrap, [topic], isolation_level)
    records: Records = []
    wanted = [tp for tp, end in ends.items() if end > 0]
    if not wanted:
        return records
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level=isolation_level
    )
    await consumer.start()
    try:
        consumer.assign(wanted)
        await consumer.seek_to_beginning(*wanted)
        last = time.monotonic()
        # To each partition's end by position: a transaction's commit marker takes an offset
        # but is no record.
        open_ = set(wanted)
        while open_:
            if time.monotonic() - last > idle_s:
                break
            batch = await consumer.getmany(*open_, timeout_ms=500)
            for tp, part in batch.items():
                records.extend(r for r in part if r.offset < ends[tp])
                last = time.monotonic()
            for tp in list(open_):
                if await consumer.position(tp) >= ends[tp]:
                    open_.discard(tp)
    finally:
        await consumer.stop()
    return records


def wait_outputs(
    bootstrap: str, at_least: int, timeout_s: float, isolation_level: str = "read_committed"
) -> int:
    """How many partner outputs there are, once there are ``at_least`` or ``timeout_s`` ran
    out. Records are counted, not offsets: a transaction's commit marker takes an offset."""
    return asyncio.run(_count_outputs(bootstrap, at_least, timeout_s, isolation_level))


async def _count_outputs(
    bootstrap: str, at_least: int, timeout_s: float, isolation_level: str
) -> int:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level=isolation_level
    )
    await consumer.start()
    try:
        partitions = await partitions_of(consumer, OUTPUT_TOPICS.values())
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        count = 0
        deadline = time.monotonic() + timeout_s
        while count < at_least and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            count += sum(len(records) for records in batch.values())
        return count
    finally:
        await consumer.stop()


def partner_outputs(
    bootstrap: str, isolation_level: str = "read_committed"
) -> dict[str, Counter[str]]:
    """Per partner topic, how often each output id is on it."""
    return {
        topic: Counter(
            output_id(r)
            for r in asyncio.run(read_to_end(bootstrap, topic, isolation_level=isolation_level))
        )
        for topic in OUTPUT_TOPICS.values()
    }
