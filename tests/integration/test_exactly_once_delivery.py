"""Partner output is exactly once even when the hub dies between publishing and settling.

The delivery log notes an intent before publishing; a redelivered event with an open intent is
looked for on its topic first. Real broker, real SQLite stores. The crash is stood in for by an
audit store that fails its first append (the message is then neither settled nor acknowledged,
exactly as after a kill), and by an intent left open with nothing published (a kill before the
publish).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit.recorder import AuditRecorder
from hub.audit.store import AuditStore, open_audit_store
from hub.audit.verify import verify_chains
from hub.broker.connection import KafkaConnection
from hub.broker.faststream_broker import build_kafka_broker
from hub.delivery_log import DeliveryLog
from hub.distribution import _first_deliveries
from hub.landings import Landings
from hub.pipeline import Accepted, Outgoing, Route, wire_route
from tests.faults.kafka import end_offsets
from tests.integration.conftest import FailsOnceStore, create_topic, read_topic, unique

pytestmark = [pytest.mark.integration, pytest.mark.audit]


def _delivering(out_topic: str, deliveries: DeliveryLog) -> Route:
    def translate(value: bytes) -> Accepted:
        event_id = orjson.loads(value)["id"]
        return _first_deliveries(deliveries, [Outgoing(out_topic, value, event_id=event_id)])

    return Route("delivering", (), translate)


async def _run(
    connection: KafkaConnection,
    kafka_bootstrap: str,
    data_dir: Path,
    store: AuditStore,
    *,
    key: Ed25519PrivateKey,
    leave_intent_for: str | None = None,
) -> tuple[list[str], str]:
    in_topic = await create_topic(kafka_bootstrap, unique("in.once"), partitions=1)
    out_topic = await create_topic(kafka_bootstrap, unique("out.once"), partitions=2)
    deliveries = DeliveryLog.open(data_dir)
    landings = Landings(connection.client_kwargs())
    await landings.learn_ends([out_topic])
    if leave_intent_for is not None:
        deliveries.stage(out_topic, leave_intent_for)
        deliveries.intend({out_topic: landings.floors(out_topic)})
        deliveries.rollback()
    route = _delivering(out_topic, deliveries)
    group = unique("g")
    recorder = AuditRecorder(store, key)
    broker = build_kafka_broker(connection)
    wire_route(
        broker,
        Route(route.connector, (in_topic,), route.translate, group),
        3000,
        recorder,
        landings=landings,
    )
    await broker.start()
    try:
        for event_id in ("e-1", "e-2", "e-3"):
            await broker.publish(orjson.dumps({"id": event_id}), topic=in_topic, key=b"k")
        await read_topic(kafka_bootstrap, in_topic, until=lambda r: len(r) >= 3)
        # Every input settled: the delivery log has committed all three (the condition to stop
        # on). Read through a connection of its own: the route's sees what it merely staged.
        committed = DeliveryLog.open(data_dir)
        try:
            for _ in range(600):
                if all(committed.delivered(out_topic, e) for e in ("e-1", "e-2", "e-3")):
                    break
                await asyncio.sleep(0.05)
        finally:
            committed.close()
        # Settled means published: the topic holds everything it will ever hold.
        total = sum((await end_offsets(kafka_bootstrap, [out_topic])).values())
        outputs = await read_topic(kafka_bootstrap, out_topic, until=lambda r: len(r) >= total)
    finally:
        await broker.stop()
        deliveries.close()
    return [orjson.loads(r.value or b"")["id"] for r in outputs], f"{group}/{in_topic}/0"


async def test_an_event_published_before_the_crash_is_found_not_sent_again(
    connection: KafkaConnection, kafka_bootstrap: str, tmp_path: Path
) -> None:
    base = open_audit_store(tmp_path / "audit", None)
    store = FailsOnceStore(base._db, postgres=False, name=base.name)
    key = Ed25519PrivateKey.generate()
    outputs, chain = await _run(connection, kafka_bootstrap, tmp_path, store, key=key)

    # e-1 was published, then its audit failed: redelivered, it was found on the topic.
    assert sorted(outputs) == ["e-1", "e-2", "e-3"]
    records = list(store.chain(chain))
    consumed = [r.offset for r in records if r.direction == "consumed"]
    produced = [r for r in records if r.direction == "produced"]
    assert consumed == [0, 1, 2]
    assert len(produced) == 3  # the found message is audited where it lies
    assert len({(r.topic, r.partition, r.offset) for r in produced}) == 3
    assert verify_chains(store.chains(), store.chain, [], key.public_key()).holds
    store.close()


async def test_an_intent_whose_message_never_landed_is_published(
    connection: KafkaConnection, kafka_bootstrap: str, tmp_path: Path
) -> None:
    store = open_audit_store(tmp_path / "audit", None)
    outputs, _ = await _run(
        connection,
        kafka_bootstrap,
        tmp_path,
        store,
        key=Ed25519PrivateKey.generate(),
        leave_intent_for="e-2",
    )

    assert sorted(outputs) == ["e-1", "e-2", "e-3"]
    store.close()


async def test_without_the_intent_the_same_crash_sends_the_event_twice(
    connection: KafkaConnection, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """The control: what the intent prevents happens when the route notes none."""
    base = open_audit_store(tmp_path / "audit", None)
    store = FailsOnceStore(base._db, postgres=False, name=base.name)
    in_topic = await create_topic(kafka_bootstrap, unique("in.once"), partitions=1)
    out_topic = await create_topic(kafka_bootstrap, unique("out.once"), partitions=1)
    deliveries = DeliveryLog.open(tmp_path)

    def translate(value: bytes) -> Accepted:
        event_id = orjson.loads(value)["id"]
        accepted = _first_deliveries(deliveries, [Outgoing(out_topic, value, event_id=event_id)])
        return Accepted(accepted.messages, accepted.settle, accepted.abandon)

    broker = build_kafka_broker(connection)
    route = Route("no-intent", (in_topic,), translate, unique("g"))
    wire_route(broker, route, 3000, AuditRecorder(store, Ed25519PrivateKey.generate()))
    await broker.start()
    try:
        await broker.publish(b'{"id": "e-1"}', topic=in_topic)
        outputs = await read_topic(kafka_bootstrap, out_topic, until=lambda r: len(r) >= 2)
    finally:
        await broker.stop()
        deliveries.close()
    assert [orjson.loads(r.value or b"")["id"] for r in outputs] == ["e-1", "e-1"]
    store.close()
