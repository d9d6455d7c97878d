"""The audit stream published from the batch in hand: a routed batch's records go onto
``hub.audit.v1`` inside the batch's Kafka transaction, so a ``read_committed`` reader sees each
exactly once without housekeeping; the records of an attempt whose transaction aborted reach
the stream later through housekeeping.

Real broker, real SQLite audit store. A crash before the Kafka commit is stood in for by a
producer whose first commit fails (the transaction is then aborted and the batch redelivered,
exactly as after a kill).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import orjson
import pytest
from aiokafka import TopicPartition
from aiokafka.partitioner import DefaultPartitioner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.admin.provisioning import provision_topics
from hub.audit.recorder import AuditRecorder
from hub.audit.store import AuditStore, open_audit_store
from hub.audit.stream import AUDIT_CONTENT_TYPE, audit_topic_sender, publish_pending
from hub.broker.connection import KafkaConnection
from hub.broker.faststream_broker import build_kafka_broker
from hub.core.topics import AUDIT_TOPIC
from hub.routing.pipeline import Accepted, Outgoing, Route, wire_route
from hub.routing.transactions import RouteProducer
from tests.faults.kafka import end_offsets, read_to_end
from tests.integration.conftest import create_topic, unique, wait_committed

pytestmark = [pytest.mark.integration, pytest.mark.audit]

INPUTS = 5


class FailsFirstCommit(RouteProducer):
    """A real transactional producer whose first commit fails before reaching the broker, as
    a hub killed just before committing leaves its transaction."""

    failed = False

    async def commit(self, offsets: Mapping[TopicPartition, int], group: str) -> None:
        """Fail the first time (the pipeline then aborts), then commit."""
        if not self.failed:
            self.failed = True
            raise ConnectionError("broker away")
        await super().commit(offsets, group)


def _route(in_topic: str, out_topic: str, group: str) -> Route:
    def translate(value: bytes) -> Accepted:
        return Accepted([Outgoing(out_topic, value, b"k", event_id=orjson.loads(value)["id"])])

    return Route("streamed", (in_topic,), translate, group)


async def _run(
    connection: KafkaConnection, route: Route, producer: RouteProducer, recorder: AuditRecorder
) -> None:
    """Send the inputs through ``route`` (batches of up to 100) and stop once all their
    offsets are committed."""
    await producer.start()
    broker = build_kafka_broker(connection)
    wire_route(broker, route, 3000, recorder, max_batch=100, publisher=producer)
    await broker.start()
    try:
        for index in range(INPUTS):
            await broker.publish(orjson.dumps({"id": f"e-{index}"}), topic=route.topics[0])
        await wait_committed(connection, route, INPUTS)
    finally:
        await broker.stop()
        await producer.stop()


async def _stream(bootstrap: str, chain: str, isolation: str) -> list[tuple[int, bytes]]:
    """(seq, value) of every message of ``chain`` on the audit topic, in log order."""
    records = await read_to_end(bootstrap, AUDIT_TOPIC, idle_s=2, isolation_level=isolation)
    mine = [r for r in records if r.key == chain.encode()]
    for record in mine:
        headers = dict(record.headers)
        assert headers["content-type"] == AUDIT_CONTENT_TYPE.encode()
        assert headers["correlation_id"]
    return [(orjson.loads(r.value or b"")["seq"], r.value or b"") for r in mine]


async def _partitions(bootstrap: str, topic: str) -> set[int]:
    return {tp.partition for tp in await end_offsets(bootstrap, [topic], "read_committed")}


async def _setup(
    connection: KafkaConnection, bootstrap: str, tmp_path: Path
) -> tuple[AuditStore, AuditRecorder, Route, str]:
    await provision_topics(connection)
    in_topic = await create_topic(bootstrap, unique("in.stream"), partitions=1)
    out_topic = await create_topic(bootstrap, unique("out.stream"), partitions=1)
    store = open_audit_store(tmp_path / "audit", None)
    route = _route(in_topic, out_topic, unique("g"))
    return (
        store,
        AuditRecorder(store, Ed25519PrivateKey.generate()),
        route,
        f"{route.consumer_group}/{in_topic}/0",
    )


async def test_a_routed_batch_puts_every_record_on_the_stream_exactly_once(
    connection: KafkaConnection, kafka_bootstrap: str, tmp_path: Path
) -> None:
    store, recorder, route, chain = await _setup(connection, kafka_bootstrap, tmp_path)
    producer = RouteProducer(connection.producer_kwargs(), f"{route.consumer_group}.test")

    # No housekeeping runs: whatever is on the stream, the routes' transactions put there.
    await _run(connection, route, producer, recorder)

    records = list(store.chain(chain))
    assert len(records) == 2 * INPUTS  # consumed + produced per input
    streamed = await _stream(kafka_bootstrap, chain, "read_committed")
    assert Counter(seq for seq, _ in streamed) == Counter(r.seq for r in records)
    # The same bytes housekeeping would have sent.
    assert sorted(streamed) == [(r.seq, orjson.dumps(r.summary())) for r in records]
    # Each on the partition aiokafka's default partitioner gives its key.
    every = sorted(await _partitions(kafka_bootstrap, AUDIT_TOPIC))
    on_log = await read_to_end(kafka_bootstrap, AUDIT_TOPIC, idle_s=2)
    landed = {r.partition for r in on_log if r.key == chain.encode()}
    assert landed == {DefaultPartitioner()(chain.encode(), every, every)}
    # The cursor moved: housekeeping has nothing left to send.
    assert store.unpublished(100) == []
    broker = build_kafka_broker(connection)
    await broker.start()
    try:
        assert await publish_pending(recorder, audit_topic_sender(broker.publish)) == 0
    finally:
        await broker.stop()
    store.close()


async def test_the_records_of_an_aborted_attempt_reach_the_stream_through_housekeeping(
    connection: KafkaConnection, kafka_bootstrap: str, tmp_path: Path
) -> None:
    store, recorder, route, chain = await _setup(connection, kafka_bootstrap, tmp_path)
    producer = FailsFirstCommit(connection.producer_kwargs(), f"{route.consumer_group}.test")

    await _run(connection, route, producer, recorder)

    records = list(store.chain(chain))
    again = [r.seq for r in records if r.direction == "consumed" and r.offset == 0]
    assert len(again) == 2, "offset 0 was handled twice"
    first_attempt = set(range(1, again[1]))
    # The aborted attempt's records were in its transaction: on the log, never committed.
    assert not {seq for seq, _ in await _stream(kafka_bootstrap, chain, "read_committed")}
    uncommitted = {seq for seq, _ in await _stream(kafka_bootstrap, chain, "read_uncommitted")}
    assert first_attempt <= uncommitted
    # The cursor stayed before them, so everything after waits for housekeeping too.
    assert [r.seq for r in store.unpublished(100)] == [r.seq for r in records]

    broker = build_kafka_broker(connection)
    await broker.start()
    try:
        sent = await publish_pending(recorder, audit_topic_sender(broker.publish))
    finally:
        await broker.stop()

    assert sent == len(records)
    streamed = await _stream(kafka_bootstrap, chain, "read_committed")
    assert Counter(seq for seq, _ in streamed) == Counter(r.seq for r in records)
    assert sorted(streamed) == [(r.seq, orjson.dumps(r.summary())) for r in records]
    store.close()
