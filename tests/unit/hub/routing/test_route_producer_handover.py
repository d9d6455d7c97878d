"""Handing messages to the route's producer, without a broker (a stand-in takes the record
batches): a message too large is refused exactly where aiokafka's ``send`` refuses it, and
messages handed over before a later hand-over failed are not left for asyncio to report:
nobody awaits where they land, and when they fail too (a broker gone away fails them all)
asyncio must not log each as "Future exception was never retrieved"."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError, MessageSizeTooLargeError
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.structs import RecordMetadata, TopicPartition

from hub.routing.pipeline import Outgoing, Route, handle_batch
from hub.routing.transactions import Landings, Message, RouteProducer, retrieve_later
from schemas.rejection import Rejection
from tests.support import consumer_record


@pytest.fixture
async def unretrieved() -> AsyncIterator[list[str]]:
    """What the event loop reports as never retrieved while the test runs."""
    loop = asyncio.get_running_loop()
    reported: list[str] = []
    loop.set_exception_handler(lambda _, context: reported.append(context["message"]))
    yield reported
    loop.set_exception_handler(None)


def _fail_and_forget(pending: list[asyncio.Future[Any]]) -> None:
    """What a broker gone away does to the batches still waiting: fails them; then the last
    reference goes (aiokafka drops its batches)."""
    for future in pending:
        future.set_exception(KafkaTimeoutError())
    pending.clear()


class _Batch:
    """A record batch with room for two messages (aiokafka's ``BatchBuilder`` interface)."""

    def __init__(self) -> None:
        self.values: list[bytes | None] = []

    def append(
        self, *, key: bytes | None, value: bytes | None, timestamp: None, headers: Any
    ) -> object | None:
        if len(self.values) == 2:
            return None
        self.values.append(value)
        return object()


class _ProducerFailingAt:
    """Takes record batches on one partition; the ``fail_at``-th hand-over raises (none if
    ``None``)."""

    def __init__(self, fail_at: int | None) -> None:
        self.fail_at = fail_at
        self.handed = 0
        self.pending: list[asyncio.Future[Any]] = []

    async def partitions_for(self, topic: str) -> set[int]:
        return {0}

    def create_batch(self) -> _Batch:
        return _Batch()

    async def send_batch(self, batch: _Batch, topic: str, *, partition: int) -> asyncio.Future[Any]:
        self.handed += 1
        if self.handed == self.fail_at:
            raise KafkaTimeoutError
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending.append(future)
        return future


async def _route_producer_on(
    stand_in: _ProducerFailingAt, options: Mapping[str, Any] | None = None
) -> RouteProducer:
    """A route producer (no transactions) that hands its record batches to ``stand_in``."""
    producer = RouteProducer(options or {}, None)
    await producer.stop()  # the real client, never started, replaced by the stand-in
    producer._producer = stand_in  # type: ignore[assignment]
    return producer


@pytest.mark.parametrize("fail_at", [2, 3])
async def test_batches_handed_over_before_a_failing_one_are_not_reported_unretrieved(
    unretrieved: list[str], fail_at: int
) -> None:
    stand_in = _ProducerFailingAt(fail_at)
    producer = await _route_producer_on(stand_in)
    messages = [Message("out.test", None, b"%d" % i, {}) for i in range(6)]

    with pytest.raises(KafkaTimeoutError):
        await producer.enqueue_all(messages)
    assert len(stand_in.pending) == fail_at - 1
    _fail_and_forget(stand_in.pending)
    await asyncio.sleep(0)  # the futures' done callbacks
    gc.collect()

    assert unretrieved == []


#: The stand-in producer's ``max_request_size``: small, so the boundary is cheap to reach.
LIMIT = 2000


def _value_of_estimated_size(size: int) -> bytes:
    """A value whose message (key ``k``, no headers) aiokafka estimates at ``size`` bytes."""
    for length in range(size):
        value = b"x" * length
        if DefaultRecordBatchBuilder.estimate_size_in_bytes(b"k", value, []) == size:
            return value
    raise AssertionError(f"no value is estimated at {size} bytes")


@pytest.mark.parametrize(
    ("size", "refused"), [(LIMIT - 1, False), (LIMIT, False), (LIMIT + 1, True)]
)
async def test_a_message_is_refused_only_when_larger_than_the_producer_takes(
    size: int, refused: bool
) -> None:
    stand_in = _ProducerFailingAt(fail_at=None)
    producer = await _route_producer_on(stand_in, {"max_request_size": LIMIT})
    message = Message("out.test", b"k", _value_of_estimated_size(size), {})

    if refused:
        with pytest.raises(MessageSizeTooLargeError, match=f"is {size} bytes"):
            await producer.enqueue_all([message])
    else:
        await producer.enqueue_all([message])
    assert stand_in.handed == (0 if refused else 1)
    for future in stand_in.pending:
        future.cancel()


async def test_the_stand_in_shows_an_unawaited_failed_landing(unretrieved: list[str]) -> None:
    # What the tests above would see without the guard: the report they look for.
    pending: list[asyncio.Future[Any]] = [asyncio.get_running_loop().create_future()]
    _fail_and_forget(pending)
    gc.collect()
    assert unretrieved == ["Future exception was never retrieved"]


async def test_retrieve_later_leaves_cancelled_and_plain_awaitables_alone(
    unretrieved: list[str],
) -> None:
    cancelled: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    failed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    plain = asyncio.sleep(0)
    retrieve_later([cancelled, failed, plain])
    cancelled.cancel()
    failed.set_exception(KafkaTimeoutError())
    await plain
    del cancelled, failed
    gc.collect()
    assert unretrieved == []


class _DeadLettersRefused:
    """A transactional publisher whose outputs wait for the broker and whose dead letter is
    refused (a fenced producer, say)."""

    transactional = True

    def __init__(self) -> None:
        self.pending: list[asyncio.Future[Any]] = []
        self.aborted = False

    async def begin(self) -> None:
        pass

    async def enqueue(
        self, topic: str, value: bytes, key: bytes | None, headers: Mapping[str, str]
    ) -> asyncio.Future[RecordMetadata]:
        raise KafkaTimeoutError

    async def enqueue_all(self, messages: Sequence[Message]) -> Landings:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending.append(future)
        return Landings(len(messages), [(future, range(len(messages)))])

    async def commit(self, offsets: Mapping[TopicPartition, int], group: str) -> None:
        raise AssertionError("a failed batch is not committed")

    async def abort(self) -> None:
        self.aborted = True


def _good_or_rejected(value: bytes) -> list[Outgoing] | Rejection:
    if value == b"bad":
        return Rejection("invalid-test", "a test's bad message")
    return [Outgoing("out.test", value, None)]


async def test_outputs_handed_over_before_a_refused_dead_letter_are_not_reported_unretrieved(
    unretrieved: list[str],
) -> None:
    publisher = _DeadLettersRefused()
    route = Route("test", ("in.test",), _good_or_rejected)

    with pytest.raises(KafkaTimeoutError):
        await handle_batch(
            publisher,
            route,
            [consumer_record("in.test", 0, b"good"), consumer_record("in.test", 1, b"bad")],
        )
    assert publisher.aborted
    assert len(publisher.pending) == 1
    _fail_and_forget(publisher.pending)
    await asyncio.sleep(0)
    gc.collect()

    assert unretrieved == []
