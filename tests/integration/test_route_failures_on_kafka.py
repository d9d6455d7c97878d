"""A route that fails on one message again and again, on a real Apache Kafka.

The message is valid, but what it translates to is larger than the producer takes: publishing
raises ``MessageSizeTooLargeError`` at every attempt, the message is never acknowledged and
comes straight back. Without a bound, every message behind it in its partition waits forever
and nothing says so. Here the route is reported (``/readyz`` names it, ``hub_route_failing``
is 1, one log line when it starts failing and one when it recovers, not one per attempt), and
once the bound is reached the message is dead-lettered as ``retries-exhausted`` and the
partition moves on.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import pytest
from structlog.testing import capture_logs

from hub.admin.provisioning import provision_topics
from hub.broker.connection import KafkaConnection
from hub.broker.faststream_broker import build_kafka_broker
from hub.core.metrics import HubMetrics, serve_http
from hub.routing.deadletter import DLQ_DETAIL, DLQ_REASON, SOURCE_OFFSET
from hub.routing.middlewares import metrics_middleware
from hub.routing.pipeline import Outgoing, Route, wire_route
from hub.routing.route_failures import RouteFailures
from schemas.rejection import Rejection
from tests.faults.http import body_of, status_of
from tests.integration.conftest import Records, create_topic, dead_letters_of, read_topic, unique
from tests.support import free_port

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("restore_logging")]

#: Larger than the producer's max_request_size (1 MiB).
TOO_LARGE = 1_100_000


def _translation(out_topic: str, oversized: threading.Event) -> Callable[[bytes], object]:
    def translate(value: bytes) -> list[Outgoing] | Rejection:
        if value == b"big" and oversized.is_set():
            return [Outgoing(out_topic, b"x" * TOO_LARGE)]
        return [Outgoing(out_topic, value)]

    return translate


async def _wait(condition: Callable[[], bool], timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


async def _readyz(port: int) -> tuple[int, str]:
    return await asyncio.to_thread(lambda: (status_of(port, "/readyz"), body_of(port, "/readyz")))


async def test_a_route_failing_on_one_message_is_reported_until_it_goes_through(
    connection: KafkaConnection, kafka_bootstrap: str
) -> None:
    in_topic = await create_topic(kafka_bootstrap, unique("in.test"), partitions=1)
    out_topic = await create_topic(kafka_bootstrap, unique("out.test"), partitions=1)
    await provision_topics(connection)
    oversized = threading.Event()
    oversized.set()
    metrics, ready, port = HubMetrics(), asyncio.Event(), free_port()
    ready.set()
    server = await serve_http(metrics, ready, "127.0.0.1", port)
    route = Route("stuck-test", (in_topic,), _translation(out_topic, oversized), unique("g"))
    failures = RouteFailures(route.connector, 1000, metrics)
    broker = build_kafka_broker(connection)
    wire_route(broker, route, failures=failures, middlewares=(metrics_middleware(metrics),))
    attempts = metrics.failed_attempts.labels(route.connector, "MessageSizeTooLargeError")
    try:
        with capture_logs() as logs:
            await broker.start()
            assert await _readyz(port) == (200, "ready\n")
            for value in (b"before", b"big", b"after"):
                await broker.publish(value, topic=in_topic)
            assert await _wait(lambda: attempts._value.get() >= 4), "no repeated failure"
            status, body = await _readyz(port)
            assert (status, body) == (503, "not ready: failing: stuck-test\n")
            assert metrics.failing.labels(route.connector)._value.get() == 1
            oversized.clear()  # the cause is gone: the message goes through
            outputs: Records = await read_topic(
                kafka_bootstrap, out_topic, until=lambda r: len(r) >= 3
            )
            assert await _wait(lambda: not failures.failing)
            assert await _readyz(port) == (200, "ready\n")
    finally:
        await broker.stop()
        server.close()
        await server.wait_closed()
    assert [r.value for r in outputs] == [b"before", b"big", b"after"]
    assert metrics.failing.labels(route.connector)._value.get() == 0
    changes = [e for e in logs if str(e["event"]).startswith("route ")]
    assert [e["event"] for e in changes] == ["route failing on a message", "route recovered"]
    assert changes[0]["route"] == "stuck-test"
    assert changes[0]["error"] == "MessageSizeTooLargeError"


async def test_after_the_bound_the_message_is_dead_lettered_and_the_partition_moves_on(
    connection: KafkaConnection, kafka_bootstrap: str
) -> None:
    in_topic = await create_topic(kafka_bootstrap, unique("in.test"), partitions=1)
    out_topic = await create_topic(kafka_bootstrap, unique("out.test"), partitions=1)
    await provision_topics(connection)
    oversized = threading.Event()
    oversized.set()
    metrics = HubMetrics()
    route = Route("bound-test", (in_topic,), _translation(out_topic, oversized), unique("g"))
    failures = RouteFailures(route.connector, 3, metrics)
    broker = build_kafka_broker(connection)
    wire_route(broker, route, failures=failures, middlewares=(metrics_middleware(metrics),))
    await broker.start()
    try:
        for value in (b"before", b"big", b"after"):
            await broker.publish(value, topic=in_topic)
        outputs = await read_topic(kafka_bootstrap, out_topic, until=lambda r: len(r) >= 2)
        letters = await dead_letters_of(kafka_bootstrap, in_topic, 1)
    finally:
        await broker.stop()
    assert [r.value for r in outputs] == [b"before", b"after"]
    [letter] = letters
    headers = dict(letter.headers)
    assert letter.value == b"big"  # the original bytes
    assert headers[DLQ_REASON] == b"retries-exhausted"
    assert headers[SOURCE_OFFSET] == b"1"
    assert headers[DLQ_DETAIL] == (
        b"handling failed 3 times; the last error: MessageSizeTooLargeError"
    )
    assert (
        metrics.failed_attempts.labels(route.connector, "MessageSizeTooLargeError")._value.get()
        == 3
    )
    assert metrics.dead_lettered.labels(route.connector, "retries-exhausted")._value.get() == 1
    assert not failures.failing
