"""A consumer whose position lies past the end of a partition reads it from the beginning.

The broker of this test comes back empty (memory storage), and the consumer's pre-outage
position is committed onto the fresh partition, as a route finishing its message after the
outage does. The embedded broker then answers every fetch with nothing (no
OFFSET_OUT_OF_RANGE), so what is written below that position is never read unless
``reset_positions_past_end`` moves the consumer: the control shows it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from hub.broker.embedded import EmbeddedBroker
from hub.broker.positions import reset_positions_past_end
from tests.integration.conftest import create_topic
from tests.support import send_each

pytestmark = pytest.mark.integration

TOPIC = "in.positions"
PARTITION = TopicPartition(TOPIC, 0)
BEFORE = 5  # records read before the outage: the stale position
AFTER = 3  # records written after it, all below that position


async def _read(consumer: AIOKafkaConsumer, count: int, within_s: float) -> list[bytes]:
    values: list[bytes] = []
    deadline = time.monotonic() + within_s
    while len(values) < count and time.monotonic() < deadline:
        batches = await consumer.getmany(timeout_ms=500)
        values += [record.value for records in batches.values() for record in records]
    return values


async def _commit_when_the_group_is_back(consumer: AIOKafkaConsumer, offset: int) -> None:
    for _ in range(40):
        try:
            await consumer.commit({PARTITION: OffsetAndMetadata(offset, "")})
            return
        except KafkaError:  # the group rebalances on the fresh broker first
            await asyncio.sleep(0.5)
    raise AssertionError("the stale commit never went through")


@pytest.fixture
async def stale_consumer(tmp_path: Path) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer at position ``BEFORE`` on a fresh, empty broker holding ``AFTER`` records."""
    broker = EmbeddedBroker(log_path=tmp_path / "tansu.log")
    broker.start()
    consumer = AIOKafkaConsumer(
        TOPIC,
        bootstrap_servers=broker.bootstrap,
        group_id="positions",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=2000,
    )
    try:
        await create_topic(broker.bootstrap, TOPIC, partitions=1)
        await send_each(broker.bootstrap, [(TOPIC, None, b"before-%d" % n) for n in range(BEFORE)])
        await consumer.start()
        assert len(await _read(consumer, BEFORE, within_s=20)) == BEFORE
        broker.stop()
        broker.start()  # same port, nothing kept
        await create_topic(broker.bootstrap, TOPIC, partitions=1)
        await _commit_when_the_group_is_back(consumer, BEFORE)
        await send_each(broker.bootstrap, [(TOPIC, None, b"after-%d" % n) for n in range(AFTER)])
        yield consumer
    finally:
        await consumer.stop()
        broker.stop()


async def test_a_position_past_the_end_is_never_served_by_the_embedded_broker(
    stale_consumer: AIOKafkaConsumer,
) -> None:
    assert await _read(stale_consumer, AFTER, within_s=6) == []
    assert await stale_consumer.position(PARTITION) == BEFORE
    assert stale_consumer.highwater(PARTITION) == AFTER


async def test_the_consumer_is_moved_to_the_beginning_and_reads_everything(
    stale_consumer: AIOKafkaConsumer,
) -> None:
    deadline = time.monotonic() + 20
    reset: dict[TopicPartition, int] = {}
    while not reset and time.monotonic() < deadline:
        await stale_consumer.getmany(timeout_ms=500)  # a fetch tells the high watermark
        reset = await reset_positions_past_end(stale_consumer)
    assert reset == {PARTITION: BEFORE}
    values = await _read(stale_consumer, AFTER, within_s=20)
    assert values == [b"after-%d" % n for n in range(AFTER)]
    assert await reset_positions_past_end(stale_consumer) == {}
