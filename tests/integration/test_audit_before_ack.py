"""A consumed message is acknowledged only once its audit records are durable.

The audit store fails on its first append (a disk full, a lost database connection): the
message must not be acknowledged, so it is redelivered, handled again and audited then. Real
broker, real SQLite store; the fault is injected by a store that refuses its first append.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit.recorder import AuditRecorder
from hub.audit.store import open_audit_store
from hub.audit.verify import verify_chains
from hub.broker.connection import KafkaConnection
from hub.broker.faststream_broker import build_kafka_broker
from hub.routing.pipeline import Accepted, Outgoing, Route, wire_route
from tests.integration.conftest import FailsOnceStore, create_topic, read_topic, unique

pytestmark = [pytest.mark.integration, pytest.mark.audit]


async def _topics_and_failing_store(
    connection: KafkaConnection, bootstrap: str
) -> tuple[str, str, FailsOnceStore]:
    in_topic = await create_topic(bootstrap, unique("in.audit"), partitions=1)
    out_topic = await create_topic(bootstrap, unique("out.audit"), partitions=1)
    base = open_audit_store(connection.settings.data_dir, None)
    return in_topic, out_topic, FailsOnceStore(base._db, postgres=False, name=base.name)


@dataclass(frozen=True, slots=True)
class _Noting:
    """A ledger that notes the id of each message it settles."""

    settled: list[str]
    event_id: str

    def commit(self) -> None:
        self.settled.append(self.event_id)

    def rollback(self) -> None:
        return None


def _echo(out_topic: str, settled: list[str]) -> Callable[[bytes], Accepted]:
    """Each input {"id": …} to ``out_topic`` as it is; settling notes its id."""

    def translate(value: bytes) -> Accepted:
        event_id = orjson.loads(value)["id"]
        return Accepted([Outgoing(out_topic, value, event_id=event_id)], _Noting(settled, event_id))

    return translate


async def test_a_message_whose_audit_failed_is_redelivered_and_then_audited(
    connection: KafkaConnection, kafka_bootstrap: str
) -> None:
    in_topic, out_topic, store = await _topics_and_failing_store(connection, kafka_bootstrap)
    key = Ed25519PrivateKey.generate()
    recorder = AuditRecorder(store, key)
    settled: list[str] = []
    group = unique("g")
    broker = build_kafka_broker(connection)
    route = Route("audited", (in_topic,), _echo(out_topic, settled), group)
    wire_route(broker, route, 3000, recorder)
    await broker.start()
    try:
        await broker.publish(b'{"id": "e-1"}', topic=in_topic)
        await broker.publish(b'{"id": "e-2"}', topic=in_topic)
        outputs = await read_topic(kafka_bootstrap, out_topic, until=lambda r: len(r) >= 3)
    finally:
        await broker.stop()

    # e-1 was published, its audit failed, so it was neither settled nor acknowledged: it came
    # again, was published again (same event id), audited and settled; then e-2.
    assert [orjson.loads(r.value or b"")["id"] for r in outputs] == ["e-1", "e-1", "e-2"]
    assert settled == ["e-1", "e-2"]
    chain = f"{group}/{in_topic}/0"
    records = list(store.chain(chain))
    assert [(r.direction, r.offset) for r in records] == [
        ("consumed", 0), ("produced", 1), ("consumed", 1), ("produced", 2),
    ]  # fmt: skip
    report = verify_chains(store.chains(), store.chain, [], key.public_key())
    assert report.holds
    store.close()


async def test_a_batch_whose_audit_failed_is_redelivered_whole_and_audited_in_order(
    connection: KafkaConnection, kafka_bootstrap: str
) -> None:
    in_topic, out_topic, store = await _topics_and_failing_store(connection, kafka_bootstrap)
    key = Ed25519PrivateKey.generate()
    settled: list[str] = []
    ids = [f"e-{n}" for n in range(1, 6)]
    group = unique("g")
    broker = build_kafka_broker(connection)
    # Everything is on the topic before the route starts: one fetch, one batch.
    await broker.connect()
    for event_id in ids:
        await broker.publish(orjson.dumps({"id": event_id}), topic=in_topic)
    route = Route("audited", (in_topic,), _echo(out_topic, settled), group)
    wire_route(broker, route, 3000, AuditRecorder(store, key), max_batch=10)
    await broker.start()
    try:
        outputs = await read_topic(kafka_bootstrap, out_topic, until=lambda r: len(r) >= 10)
    finally:
        await broker.stop()

    # The batch was published, its audit failed, so none of it was settled or acknowledged:
    # it came again whole, was published again (same event ids), audited and settled in order.
    assert [orjson.loads(r.value or b"")["id"] for r in outputs] == ids + ids
    assert settled == ids
    records = list(store.chain(f"{group}/{in_topic}/0"))
    assert [(r.direction, r.offset) for r in records] == [
        (direction, offset)
        for n in range(5)
        for direction, offset in (("consumed", n), ("produced", 5 + n))
    ]
    assert not any(r.redelivered for r in records)  # the failed attempt left no records
    assert verify_chains(store.chains(), store.chain, [], key.public_key()).holds
    store.close()
