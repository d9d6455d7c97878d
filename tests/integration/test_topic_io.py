"""``hub send`` / ``hub tail`` plumbing against the real broker."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from hub.admin.topic_io import TailedMessage, UnknownTopicError, send_lines, tail_topic
from hub.broker.connection import KafkaConnection
from tests.integration.conftest import create_topic, unique

pytestmark = pytest.mark.integration


async def _collect(connection: KafkaConnection, topic: str, **kwargs: object) -> list[bytes]:
    return [
        message.value or b""
        async for message in tail_topic(connection, topic, **kwargs)  # type: ignore[arg-type]
    ]


async def test_sent_lines_come_back_in_order_blank_lines_skipped(
    connection: KafkaConnection, kafka_bootstrap: str
) -> None:
    topic = await create_topic(kafka_bootstrap, unique("io"), partitions=1)
    lines = [b'{"n": 1}\r\n', b"\n", b"second line\n", b"  \n", b"third"]
    assert await send_lines(connection, topic, lines) == 3
    values = await _collect(connection, topic, from_beginning=True, count=3, idle_timeout_s=10)
    assert values == [b'{"n": 1}', b"second line", b"third"]


async def test_tail_without_from_beginning_shows_only_new_messages(
    connection: KafkaConnection, kafka_bootstrap: str
) -> None:
    topic = await create_topic(kafka_bootstrap, unique("io"), partitions=2)
    await send_lines(connection, topic, [b"old"])
    tail = asyncio.create_task(_collect(connection, topic, count=1, idle_timeout_s=10))
    await asyncio.sleep(1.0)  # let the tail position itself at the end
    await send_lines(connection, topic, [b"new"])
    assert await tail == [b"new"]


async def test_idle_timeout_ends_an_empty_tail(
    connection: KafkaConnection, kafka_bootstrap: str
) -> None:
    topic = await create_topic(kafka_bootstrap, unique("io"))
    assert await _collect(connection, topic, from_beginning=True, idle_timeout_s=0.5) == []


async def test_unknown_topic_is_refused_not_created(connection: KafkaConnection) -> None:
    topic = unique("absent")
    with pytest.raises(UnknownTopicError, match=f"topic {topic} does not exist"):
        await send_lines(connection, topic, [b"x"])
    with pytest.raises(UnknownTopicError):
        await _collect(connection, topic, count=1)


async def test_key_and_headers_are_shown_as_sent(
    connection: KafkaConnection, kafka_bootstrap: str
) -> None:
    topic = await create_topic(kafka_bootstrap, unique("io"), partitions=1)
    await send_lines(connection, topic, [b"v"], key=b"p-00")
    [message] = [
        m
        async for m in tail_topic(
            connection, topic, from_beginning=True, count=1, idle_timeout_s=10
        )
    ]
    assert isinstance(message, TailedMessage)
    assert (message.key, message.value, message.offset) == (b"p-00", b"v", 0)


async def _within_a_minute(collecting: Coroutine[Any, Any, list[bytes]]) -> list[bytes]:
    # A guard against hanging, not a speed limit: a tail that waits at the end never returns.
    return await asyncio.wait_for(collecting, 60)


@pytest.mark.parametrize("sent", [0, 1, 3])
async def test_tail_stops_at_the_end_of_the_topic_by_default(
    connection: KafkaConnection, kafka_bootstrap: str, sent: int
) -> None:
    topic = await create_topic(kafka_bootstrap, unique("io"), partitions=2)
    await send_lines(connection, topic, [f"m{n}".encode() for n in range(sent)])
    values = await _within_a_minute(_collect(connection, topic, from_beginning=True))
    assert sorted(values) == [f"m{n}".encode() for n in range(sent)]
    # From the end there is nothing to show, and nothing to wait for either.
    assert await _within_a_minute(_collect(connection, topic)) == []


async def test_a_count_beyond_the_end_stops_at_the_end(
    connection: KafkaConnection, kafka_bootstrap: str
) -> None:
    topic = await create_topic(kafka_bootstrap, unique("io"), partitions=1)
    await send_lines(connection, topic, [b"a", b"b"])
    assert await _within_a_minute(_collect(connection, topic, from_beginning=True, count=3)) == [
        b"a",
        b"b",
    ]
    assert await _collect(connection, topic, from_beginning=True, count=1) == [b"a"]


async def test_follow_waits_at_the_end_for_new_messages(
    connection: KafkaConnection, kafka_bootstrap: str
) -> None:
    topic = await create_topic(kafka_bootstrap, unique("io"), partitions=1)
    await send_lines(connection, topic, [b"old"])
    tail = asyncio.create_task(
        _collect(connection, topic, from_beginning=True, count=2, follow=True)
    )
    await asyncio.sleep(1.0)  # let the tail read "old" and reach the end
    assert not tail.done()
    await send_lines(connection, topic, [b"new"])
    assert await _within_a_minute(tail) == [b"old", b"new"]


async def test_tail_shows_what_a_read_committed_partner_sees(
    connection: KafkaConnection, kafka_bootstrap: str
) -> None:
    # A route's batch whose transaction aborted was published again when it was retried:
    # the aborted copy is not a message, and a partner (read_committed) never sees it.
    topic = await create_topic(kafka_bootstrap, unique("io"), partitions=1)
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, transactional_id=unique("tail-txn")
    )
    await producer.start()
    try:
        for value, commit in ((b"aborted", False), (b"committed", True)):
            await producer.begin_transaction()
            await producer.send_and_wait(topic, value)
            await (producer.commit_transaction() if commit else producer.abort_transaction())
    finally:
        await producer.stop()
    shown = await _within_a_minute(_collect(connection, topic, from_beginning=True))
    assert shown == [b"committed"]
