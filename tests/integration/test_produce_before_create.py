"""Records that reach the embedded broker before a topic is created again hide later ones.

Pins the broker behaviour behind docs/broker-differences.md, 12: after a restart without its
logs, the embedded broker accepts a producer's held records for a topic it no longer has.
Creating the topic afterwards (as the hub's provisioning does) starts its offsets at 0 again,
beneath those records: the next produce collides with them (error -1), and a record that then
lands at an offset they hold is never served. Apache Kafka refuses a produce to a missing topic
(UNKNOWN_TOPIC_OR_PARTITION), so nothing of this happens there. If this test fails after a
broker upgrade, the difference is gone: say so in that document.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import UnknownError

from hub.broker.connection import KafkaConnection
from hub.broker.embedded import EmbeddedBroker
from hub.provisioning import list_topics
from hub.settings import HubSettings
from tests.integration.conftest import create_topic, read_topic

pytestmark = pytest.mark.integration

TOPIC = "in.held"
HELD = 5
AFTER = 3


async def _send_until_acknowledged(producer: AIOKafkaProducer, value: bytes) -> int:
    for _ in range(20):
        try:
            return int((await (await producer.send(TOPIC, value, partition=0))).offset)
        except UnknownError:  # the collision with a held record's offset
            await asyncio.sleep(0.1)
    raise AssertionError(f"{value!r} was never acknowledged")


async def test_records_held_across_a_restart_hide_those_sent_after_the_topic_is_created(
    tmp_path: Path, settings: HubSettings
) -> None:
    broker = EmbeddedBroker(log_path=tmp_path / "tansu.log")
    broker.start()
    producer = AIOKafkaProducer(
        bootstrap_servers=broker.bootstrap,
        acks="all",
        enable_idempotence=False,
        request_timeout_ms=60_000,
    )
    try:
        await create_topic(broker.bootstrap, TOPIC, partitions=1)
        await producer.start()
        await (await producer.send(TOPIC, b"first", partition=0))  # it knows the topic now
        broker.stop()
        held = [await producer.send(TOPIC, b"held-%d" % n, partition=0) for n in range(HELD)]
        broker.start()  # same port, nothing kept
        landed = [metadata.offset for metadata in await asyncio.gather(*held)]
        assert landed == list(range(HELD))  # accepted for a topic the broker does not have
        assert TOPIC not in await list_topics(KafkaConnection(broker.bootstrap, settings))

        await create_topic(broker.bootstrap, TOPIC, partitions=1)
        acknowledged = {
            b"after-%d" % n: await _send_until_acknowledged(producer, b"after-%d" % n)
            for n in range(AFTER)
        }
        assert min(acknowledged.values()) < HELD  # offsets started again beneath them

        # Everything the partition serves from its beginning within 3 s.
        read = [
            (record.offset, record.value)
            for record in await read_topic(
                broker.bootstrap, TOPIC, until=lambda _: False, timeout_s=3
            )
        ]
        assert [(o, v) for o, v in read if v.startswith(b"held-")] == list(
            zip(range(HELD), (b"held-%d" % n for n in range(HELD)), strict=True)
        )
        never_served = set(acknowledged) - {value for _, value in read}
        assert never_served, f"every record acknowledged after the creation was served: {read}"
    finally:
        await producer.stop()
        broker.stop()
