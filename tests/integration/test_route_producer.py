"""A route's producer hands a batch's outputs over as whole record batches: every message
lands where ``send`` would have put it, in order within its partition, and each landing it
reports (a batch's base offset plus the record's place in it) is the offset Kafka gave.

Real broker, transactional producer, committed reads.
"""

from __future__ import annotations

import pytest
from aiokafka.errors import MessageSizeTooLargeError

from hub.broker.connection import KafkaConnection
from hub.broker.partitioning import CachedPartitioner
from hub.routing.transactions import Message, RouteProducer
from tests.faults.kafka import read_to_end
from tests.integration.conftest import create_topic, unique

pytestmark = pytest.mark.integration


async def _producer(connection: KafkaConnection) -> RouteProducer:
    return await RouteProducer.started(connection, unique("hub.test-producer"))


async def test_every_landing_reported_is_where_the_message_is(
    connection: KafkaConnection, kafka_bootstrap: str
) -> None:
    topic = await create_topic(kafka_bootstrap, unique("enqueue-all"), partitions=3)
    other = await create_topic(kafka_bootstrap, unique("enqueue-all-other"), partitions=1)
    # Large enough that one partition's messages fill several record batches (16 KiB each).
    messages = [
        Message(
            topic if n % 4 else other,
            None if n % 7 == 0 else f"key-{n % 5}".encode(),
            f"{n:05d}".encode() * 200,
            {"n": str(n)},
        )
        for n in range(120)
    ]
    producer = await _producer(connection)
    try:
        await producer.begin()
        landings = await producer.enqueue_all(messages)
        landed = await landings
        await producer.commit({}, "unused")
    finally:
        await producer.stop()

    on_kafka = {
        (r.topic, r.partition, r.offset): r
        for name in (topic, other)
        for r in await read_to_end(kafka_bootstrap, name)
    }
    assert len(on_kafka) == len(messages)
    assert len(landed) == len(messages)
    partitioner = CachedPartitioner()
    for message, metadata in zip(messages, landed, strict=True):
        assert metadata is not None
        record = on_kafka[(message.topic, metadata.partition, metadata.offset)]
        assert (record.key, record.value) == (message.key, message.value)
        assert dict(record.headers) == {"n": message.headers["n"].encode()}
        if message.key is not None:  # a keyless message goes to any partition, as with send
            every = [0, 1, 2] if message.topic == topic else [0]
            assert metadata.partition == partitioner(message.key, every, every)
    # In order within each partition: the order the messages were handed over.
    for name in (topic, other):
        for partition in range(3):
            mine = [
                int(m.headers["n"])
                for m, where in zip(messages, landed, strict=True)
                if m.topic == name and where is not None and where.partition == partition
            ]
            offsets = [
                int(dict(r.headers)["n"])
                for (t, p, _), r in sorted(on_kafka.items())
                if t == name and p == partition
            ]
            assert offsets == mine


async def test_a_message_larger_than_the_producer_takes_is_refused_before_any_is_sent(
    connection: KafkaConnection, kafka_bootstrap: str
) -> None:
    topic = await create_topic(kafka_bootstrap, unique("enqueue-all-large"), partitions=1)
    fits = Message(topic, b"k", b"x" * 1000, {})
    # aiokafka's own bound (max_request_size, 1 MiB by default) with its record overhead.
    too_large = Message(topic, b"k", b"x" * 1_048_576, {})
    producer = await _producer(connection)
    try:
        await producer.begin()
        with pytest.raises(MessageSizeTooLargeError):
            await producer.enqueue_all([fits, too_large])
        landed = await (await producer.enqueue_all([fits]))
        await producer.commit({}, "unused")
    finally:
        await producer.stop()
    assert [r.value for r in await read_to_end(kafka_bootstrap, topic)] == [fits.value]
    assert landed[0] is not None
    assert landed[0].offset == 0
