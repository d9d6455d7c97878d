"""A route failing on one message: reported once per change, counted, bounded, given up.

Kafka's redelivery of a message that was not acknowledged is played by calling ``run``
again with the same records, as FastStream does after a nack.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Sequence

import psycopg
import pytest
from aiokafka.errors import (
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
    RequestTimedOutError,
)
from aiokafka.structs import ConsumerRecord
from structlog.testing import capture_logs

from hub.core.metrics import HubMetrics, serve_http
from hub.routing.route_failures import RouteFailures, is_environmental, wait_before
from schemas.rejection import Rejection
from tests.support import free_port

Record = ConsumerRecord[bytes, bytes]
CODE = "131052-930V"


def _record(offset: int, partition: int = 0, value: bytes = b"ok") -> Record:
    return ConsumerRecord(
        topic="in.test",
        partition=partition,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=None,
        value=value,
        checksum=None,
        serialized_key_size=-1,
        serialized_value_size=len(value),
        headers=[],
    )


class Partition:
    """A route's handling where the records whose value starts with ``poison`` fail with
    ``error``; records the test feeds, given-up records it sees."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error or MessageSizeTooLargeError()
        self.handled: list[int] = []
        self.given_up: list[tuple[int, Rejection]] = []
        self.calls = 0

    async def handle(self, records: Sequence[Record]) -> None:
        self.calls += 1
        if any((r.value or b"").startswith(b"poison") for r in records):
            raise self.error
        self.handled.extend(r.offset for r in records)

    async def give_up(self, record: Record, rejection: Rejection) -> None:
        self.given_up.append((record.offset, rejection))

    async def deliver(self, failures: RouteFailures, records: Sequence[Record]) -> int:
        """Deliver ``records`` until they are acknowledged (at most 50 times); how often."""
        for delivery in range(1, 51):
            try:
                await failures.run(records, self.handle, self.give_up)
            except Exception:  # noqa: BLE001, S112 - a nack: the records come again
                continue
            return delivery
        raise AssertionError("never acknowledged")


def _events(logs: list[dict[str, object]]) -> list[str]:
    return [str(e["event"]) for e in logs if str(e["event"]).startswith("route ")]


async def test_a_message_that_keeps_failing_is_given_up_after_the_bound() -> None:
    partition = Partition()
    metrics = HubMetrics()
    failures = RouteFailures("lahti", 3, metrics)
    with capture_logs() as logs:
        deliveries = await partition.deliver(failures, [_record(7, value=b"poison")])
    assert deliveries == 4  # three failed attempts, then given up
    assert partition.calls == 3
    [(offset, rejection)] = partition.given_up
    assert offset == 7
    assert rejection.reason == "retries-exhausted"
    assert rejection.detail == "handling failed 3 times; the last error: MessageSizeTooLargeError"
    # One line per change of state, not one per attempt.
    assert _events(logs) == ["route failing on a message", "route recovered"]
    failing = next(e for e in logs if e["event"] == "route failing on a message")
    assert failing["log_level"] == "error"
    assert (failing["route"], failing["topic"], failing["partition"], failing["offset"]) == (
        "lahti",
        "in.test",
        0,
        7,
    )
    assert failing["error"] == "MessageSizeTooLargeError"
    assert failing["gives_up_after"] == 3
    recovered = next(e for e in logs if e["event"] == "route recovered")
    assert recovered["route"] == "lahti"
    attempts = metrics.failed_attempts.labels("lahti", "MessageSizeTooLargeError")
    assert attempts._value.get() == 3
    assert metrics.failing.labels("lahti")._value.get() == 0
    assert metrics.failing_routes == set()


@pytest.mark.parametrize(("bound", "attempts"), [(1, 1), (2, 2), (4, 4)])
async def test_the_bound_is_the_number_of_failed_attempts(bound: int, attempts: int) -> None:
    partition = Partition()
    failures = RouteFailures("lahti", bound)
    await partition.deliver(failures, [_record(1, value=b"poison")])
    assert partition.calls == attempts
    assert len(partition.given_up) == 1


async def test_while_failing_the_route_is_reported_and_named_by_readyz() -> None:
    partition = Partition()
    metrics = HubMetrics()
    failures = RouteFailures("distribution.client-status", 5, metrics)
    ready = asyncio.Event()
    ready.set()
    port = free_port()
    server = await serve_http(metrics, ready, "127.0.0.1", port)
    try:
        assert await _get(port, "/readyz") == "HTTP/1.1 200 OK|ready\n"
        with pytest.raises(MessageSizeTooLargeError):
            await failures.run([_record(3, value=b"poison")], partition.handle, partition.give_up)
        assert not failures.failing  # once is not again and again
        assert await _get(port, "/readyz") == "HTTP/1.1 200 OK|ready\n"
        with pytest.raises(MessageSizeTooLargeError):
            await failures.run([_record(3, value=b"poison")], partition.handle, partition.give_up)
        assert failures.failing
        assert metrics.failing_routes == {"distribution.client-status"}
        answer = await _get(port, "/readyz")
        assert answer == (
            "HTTP/1.1 503 Service Unavailable|not ready: failing: distribution.client-status\n"
        )
        assert re.search(
            r'^hub_route_failing\{route="distribution.client-status"\} 1\.0$',
            metrics.render().decode(),
            re.M,
        )
        await failures.run([_record(3)], partition.handle, partition.give_up)  # it passes now
        assert await _get(port, "/readyz") == "HTTP/1.1 200 OK|ready\n"
    finally:
        server.close()
        await server.wait_closed()


async def _get(port: int, path: str) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    answer = (await reader.read()).decode()
    writer.close()
    head, _, body = answer.partition("\r\n\r\n")
    return f"{head.splitlines()[0]}|{body}"


@pytest.mark.parametrize(
    "error",
    [
        KafkaTimeoutError(),
        NotLeaderForPartitionError(),
        RequestTimedOutError(),
        sqlite3.OperationalError("database is locked"),
        psycopg.OperationalError("the server closed the connection"),
        OSError(28, "full"),
    ],
)
async def test_failures_of_the_surroundings_are_reported_but_never_give_a_message_up(
    error: Exception,
) -> None:
    assert is_environmental(error)
    partition = Partition(error)
    metrics = HubMetrics()
    failures = RouteFailures("lahti", 1, metrics)
    record = _record(4, value=b"poison")
    for _ in range(3):
        with pytest.raises(type(error)):
            await failures.run([record], partition.handle, partition.give_up)
    assert partition.given_up == []
    assert metrics.failing_routes == {"lahti"}


def test_a_message_specific_failure_is_not_environmental() -> None:
    assert not is_environmental(MessageSizeTooLargeError())
    assert not is_environmental(KeyError("x"))


async def test_a_failing_batch_comes_again_one_record_at_a_time() -> None:
    partition = Partition()
    failures = RouteFailures("lahti", 2)
    batch = [_record(10), _record(11, value=b"poison"), _record(12)]
    with capture_logs() as logs:
        await partition.deliver(failures, batch)
    # The batch failed; split, 10 passed and 11 failed (twice, the bound); then 11 was given
    # up and the rest went on. A record handled before a failure is handled again (at least
    # once), never skipped.
    assert [offset for offset, _ in partition.given_up] == [11]
    assert partition.handled == [10, 10, 10, 12]
    assert _events(logs) == ["route failing on a message", "route recovered"]
    assert partition.given_up[0][1].detail.startswith("handling failed 2 times")


async def test_a_good_message_of_another_partition_does_not_end_the_report() -> None:
    partition = Partition()
    failures = RouteFailures("lahti", 5)
    with capture_logs() as logs:
        for _ in range(2):
            with pytest.raises(MessageSizeTooLargeError):
                await failures.run([_record(3, 0, b"poison")], partition.handle, partition.give_up)
        await failures.run([_record(9, 1)], partition.handle, partition.give_up)
        assert failures.failing
        with pytest.raises(MessageSizeTooLargeError):
            await failures.run([_record(3, 0, b"poison")], partition.handle, partition.give_up)
        # The partition moved past it (another instance handled it, say): recovered.
        await failures.run([_record(4, 0)], partition.handle, partition.give_up)
    assert not failures.failing
    assert _events(logs) == ["route failing on a message", "route recovered"]


async def test_no_identity_code_reaches_the_report() -> None:
    partition = Partition(ValueError(f"bad {CODE}"))
    metrics = HubMetrics()
    failures = RouteFailures("lahti", 1, metrics)
    with capture_logs() as logs:
        await partition.deliver(failures, [_record(1, value=b"poison " + CODE.encode())])
    assert CODE not in repr(logs)
    assert CODE not in metrics.render().decode()
    assert CODE not in partition.given_up[0][1].detail


def test_waits_before_attempts_double_from_a_fifth_of_a_second_up_to_ten() -> None:
    assert [wait_before(n) for n in (0, 1, 2, 3, 4)] == [0.0, 0.0, 0.2, 0.4, 0.8]
    assert wait_before(7) == pytest.approx(6.4)
    assert wait_before(8) == 10.0  # 12.8, capped
    assert wait_before(100) == 10.0


async def test_each_attempt_after_a_failure_waits_first() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    partition = Partition()
    failures = RouteFailures("lahti", 4, sleep=sleep)
    await partition.deliver(failures, [_record(1, value=b"poison")])
    assert waits == [0.2, 0.4, 0.8]  # before attempts 2, 3 and 4; none before giving up


async def test_a_message_that_passed_starts_its_count_afresh_if_it_fails_again() -> None:
    partition = Partition()
    failures = RouteFailures("lahti", 3)
    for _ in range(2):
        with pytest.raises(MessageSizeTooLargeError):
            await failures.run([_record(5, value=b"poison")], partition.handle, partition.give_up)
    await failures.run([_record(5)], partition.handle, partition.give_up)
    # The same offset again (a partition given back and read again, say): three new attempts.
    await partition.deliver(failures, [_record(5, value=b"poison")])
    assert partition.calls == 2 + 1 + 3
    [(_, rejection)] = partition.given_up
    assert rejection.detail.startswith("handling failed 3 times")


def test_a_route_starts_reported_as_not_failing() -> None:
    metrics = HubMetrics()
    RouteFailures("lahti", 3, metrics)
    assert 'hub_route_failing{route="lahti"} 0.0' in metrics.render().decode()


async def test_only_records_that_failed_wait_when_a_batch_comes_again_split() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    partition = Partition()
    failures = RouteFailures("lahti", 2, sleep=sleep)
    await partition.deliver(failures, [_record(20), _record(21, value=b"poison"), _record(22)])
    # The batch's failure counts on record 20: it waits once before it passes. Record 21 then
    # fails, waits before its second attempt, and is given up without waiting; record 20 is
    # done with and never waits again, record 22 never did.
    assert waits == [0.2, 0.2]


async def test_a_single_failure_cured_by_the_next_attempt_is_not_reported() -> None:
    partition = Partition(sqlite3.OperationalError("database is locked"))
    metrics = HubMetrics()
    failures = RouteFailures("lahti", 3, metrics)
    with capture_logs() as logs:
        with pytest.raises(sqlite3.OperationalError):
            await failures.run([_record(2, value=b"poison")], partition.handle, partition.give_up)
        await failures.run([_record(2)], partition.handle, partition.give_up)
    assert _events(logs) == []
    assert metrics.failing_routes == set()
    attempts = metrics.failed_attempts.labels("lahti", "OperationalError")
    assert attempts._value.get() == 1
