"""A consumed message is acknowledged only once its audit records are durable.

The audit store fails on its first append (a disk full, a lost database connection): the
message must not be acknowledged, so it is redelivered, handled again and audited then. Real
broker, real SQLite store; the fault is injected by a store that refuses its first append.
"""

from __future__ import annotations

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit.recorder import AuditRecorder
from hub.audit.store import open_audit_store
from hub.audit.verify import verify_chains
from hub.broker.connection import KafkaConnection
from hub.broker.faststream_broker import build_kafka_broker
from hub.pipeline import Accepted, Outgoing, Route, wire_route
from tests.integration.conftest import FailsOnceStore, create_topic, read_topic, unique

pytestmark = [pytest.mark.integration, pytest.mark.audit]


async def test_a_message_whose_audit_failed_is_redelivered_and_then_audited(
    connection: KafkaConnection, kafka_bootstrap: str
) -> None:
    in_topic = await create_topic(kafka_bootstrap, unique("in.audit"), partitions=1)
    out_topic = await create_topic(kafka_bootstrap, unique("out.audit"), partitions=1)
    base = open_audit_store(connection.settings.data_dir, None)
    store = FailsOnceStore(base._db, postgres=False, name=base.name)
    key = Ed25519PrivateKey.generate()
    recorder = AuditRecorder(store, key)
    settled: list[bytes] = []

    def translate(value: bytes) -> Accepted:
        return Accepted(
            [Outgoing(out_topic, value, event_id=orjson.loads(value)["id"])],
            settle=lambda: settled.append(value),
        )

    group = unique("g")
    broker = build_kafka_broker(connection)
    wire_route(broker, Route("audited", (in_topic,), translate, group), 3000, recorder)
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
    assert settled == [b'{"id": "e-1"}', b'{"id": "e-2"}']
    chain = f"{group}/{in_topic}/0"
    records = list(store.chain(chain))
    assert [(r.direction, r.offset) for r in records] == [
        ("consumed", 0), ("produced", 1), ("consumed", 1), ("produced", 2),
    ]  # fmt: skip
    report = verify_chains(store.chains(), store.chain, [], key.public_key())
    assert report.holds
    store.close()
