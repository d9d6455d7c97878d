"""Each batch's outputs and offsets commit in one Kafka transaction: an attempt that failed
before its commit is invisible to partners reading committed data, and a batch whose ledgers
did not commit after Kafka's is settled at the next start.

Real broker, real SQLite stores. A crash before the Kafka commit is stood in for by an audit
store that fails its first append (the transaction is then aborted and the batch redelivered,
exactly as after a kill), a crash between the two commits by a ledger whose commit fails.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.admin.provisioning import provision_topics
from hub.audit.recorder import AuditRecorder
from hub.audit.store import AuditStore, open_audit_store
from hub.audit.verify import verify_chains
from hub.broker.connection import KafkaConnection
from hub.broker.faststream_broker import build_kafka_broker
from hub.distribution.delivery_log import DeliveryLog
from hub.routing.in_doubt import InDoubt, Position, settle_in_doubt
from hub.routing.pipeline import Accepted, Outgoing, Route, settler_of, wire_route
from hub.routing.transactions import RouteProducer
from tests.faults.kafka import read_to_end
from tests.integration.conftest import (
    FailsOnceStore,
    create_topic,
    read_topic,
    unique,
    wait_committed,
)

pytestmark = [pytest.mark.integration, pytest.mark.audit]

IDS = ("e-1", "e-2", "e-3")


class FailsOnceLog(DeliveryLog):
    """A real delivery log whose first commit fails, as a full disk would make it."""

    failed = False

    def commit(self) -> None:
        """Fail the first time, then commit."""
        if not self.failed:
            self.failed = True
            raise OSError("disk full")
        super().commit()


def _route(in_topic: str, out_topic: str, deliveries: DeliveryLog, group: str) -> Route:
    def translate(value: bytes) -> Accepted:
        event_id = orjson.loads(value)["id"]
        if deliveries.delivered(out_topic, event_id):
            return Accepted([])
        deliveries.stage(out_topic, event_id)
        return Accepted(
            [Outgoing(out_topic, value, b"k", event_id=event_id)],
            deliveries,
        )

    return Route("once", (in_topic,), translate, group)


async def _run(
    connection: KafkaConnection,
    bootstrap: str,
    route: Route,
    store: AuditStore,
    in_doubt: InDoubt | None,
    *,
    transactional: bool = True,
    key: Ed25519PrivateKey | None = None,
) -> None:
    """Send the three inputs through ``route`` and stop once the input's offsets are
    committed."""
    await provision_topics(connection)  # hub.audit.v1, which the audit stream goes to
    producer = RouteProducer(
        connection.producer_kwargs(), f"{route.consumer_group}.test" if transactional else None
    )
    await producer.start()
    broker = build_kafka_broker(connection)
    wire_route(
        broker,
        route,
        3000,
        AuditRecorder(store, key or Ed25519PrivateKey.generate()),
        publisher=producer,
        in_doubt=in_doubt,
    )
    await broker.start()
    try:
        for event_id in IDS:
            await broker.publish(orjson.dumps({"id": event_id}), topic=route.topics[0], key=b"k")
        await wait_committed(connection, route, len(IDS))
    finally:
        await broker.stop()
        await producer.stop()


async def _ids(bootstrap: str, topic: str, isolation: str) -> Counter[str]:
    records = await read_to_end(bootstrap, topic, idle_s=2, isolation_level=isolation)
    return Counter(orjson.loads(r.value or b"")["id"] for r in records)


async def _failing_audit(
    bootstrap: str, tmp_path: Path
) -> tuple[FailsOnceStore, str, str, DeliveryLog, Route]:
    """An audit store failing its first append, fresh topics, a delivery log, the route."""
    base = open_audit_store(tmp_path / "audit", None)
    store = FailsOnceStore(base._db, postgres=False, name=base.name)
    in_topic = await create_topic(bootstrap, unique("in.once"), partitions=1)
    out_topic = await create_topic(bootstrap, unique("out.once"), partitions=1)
    deliveries = DeliveryLog.open(tmp_path)
    return (
        store,
        in_topic,
        out_topic,
        deliveries,
        _route(in_topic, out_topic, deliveries, unique("g")),
    )


async def test_an_attempt_aborted_before_its_commit_is_invisible_to_committed_readers(
    connection: KafkaConnection, kafka_bootstrap: str, tmp_path: Path
) -> None:
    store, in_topic, out_topic, deliveries, route = await _failing_audit(kafka_bootstrap, tmp_path)
    key = Ed25519PrivateKey.generate()
    await _run(connection, kafka_bootstrap, route, store, InDoubt.open(tmp_path), key=key)

    # e-1 was published in a transaction, then its audit failed: aborted, and sent again.
    assert await _ids(kafka_bootstrap, out_topic, "read_committed") == Counter(IDS)
    everything = await _ids(kafka_bootstrap, out_topic, "read_uncommitted")
    assert everything["e-1"] == 2, "the aborted first attempt lies on the log"
    chain = f"{route.consumer_group}/{in_topic}/0"
    records = list(store.chain(chain))
    assert [r.offset for r in records if r.direction == "consumed"] == [0, 1, 2]
    assert verify_chains(store.chains(), store.chain, [], key.public_key()).holds
    deliveries.close()
    store.close()


async def test_without_transactions_the_same_failure_sends_the_event_twice(
    connection: KafkaConnection, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """The control: what the transaction prevents happens with an idempotent producer."""
    store, _, out_topic, deliveries, route = await _failing_audit(kafka_bootstrap, tmp_path)

    await _run(connection, kafka_bootstrap, route, store, None, transactional=False)

    assert (await _ids(kafka_bootstrap, out_topic, "read_committed"))["e-1"] == 2
    deliveries.close()
    store.close()


async def test_a_batch_whose_ledger_failed_after_kafka_committed_is_settled_at_start(
    connection: KafkaConnection, kafka_bootstrap: str, tmp_path: Path
) -> None:
    store = open_audit_store(tmp_path / "audit", None)
    in_topic = await create_topic(kafka_bootstrap, unique("in.once"), partitions=1)
    out_topic = await create_topic(kafka_bootstrap, unique("out.once"), partitions=1)
    deliveries = FailsOnceLog.open(tmp_path)
    route = _route(in_topic, out_topic, deliveries, unique("g"))
    in_doubt = InDoubt.open(tmp_path)

    await _run(connection, kafka_bootstrap, route, store, in_doubt)

    # Kafka committed e-1 (once), its ledger did not: the note stays, for the next start.
    assert await _ids(kafka_bootstrap, out_topic, "read_committed") == Counter(IDS)
    assert in_doubt.pending(route.consumer_group) == [
        Position(route.consumer_group, in_topic, 0, 0, 0)
    ]
    fresh = DeliveryLog.open(tmp_path)
    assert not fresh.delivered(out_topic, "e-1")
    assert fresh.delivered(out_topic, "e-2")

    # The next start: the batch is read again and its ledger settled; nothing published.
    again = _route(in_topic, out_topic, fresh, route.consumer_group)
    settled = await settle_in_doubt(
        in_doubt, connection.client_kwargs(), {route.consumer_group: settler_of(again)}
    )
    assert settled == 1
    assert DeliveryLog.open(tmp_path).delivered(out_topic, "e-1")
    assert in_doubt.pending(route.consumer_group) == []
    assert await _ids(kafka_bootstrap, out_topic, "read_committed") == Counter(IDS)
    store.close()


async def test_a_note_of_a_batch_kafka_never_committed_is_dropped_unsettled(
    connection: KafkaConnection, kafka_bootstrap: str, tmp_path: Path
) -> None:
    in_topic = await create_topic(kafka_bootstrap, unique("in.once"), partitions=1)
    await read_topic(kafka_bootstrap, in_topic, until=lambda r: True, timeout_s=0)
    group = unique("g")
    in_doubt = InDoubt.open(tmp_path)
    in_doubt.note([Position(group, in_topic, 0, 0, 4)])
    called: list[int] = []

    settled = await settle_in_doubt(
        in_doubt, connection.client_kwargs(), {group: lambda records: called.append(len(records))}
    )

    assert (settled, called) == (0, [])
    assert in_doubt.pending(group) == []
