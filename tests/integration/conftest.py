"""The integration suite's one broker: a real Apache Kafka (single-node KRaft) for the session."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import ConsumerRecord

from connectors import CONNECTORS
from hub.admin.provisioning import provision_topics
from hub.app.runtime import routes_for
from hub.audit.records import AuditDraft, AuditRecord
from hub.audit.store import Appended, AuditStore
from hub.broker.connection import KafkaConnection
from hub.broker.faststream_broker import build_kafka_broker, start_broker
from hub.broker.local import LocalKafka
from hub.core.settings import HubSettings, load_settings, pseudonym_secret
from hub.core.topics import DEADLETTER_TOPIC
from hub.routing.deadletter import SOURCE_TOPIC
from hub.routing.pipeline import Route, wire_route
from hub.routing.transactions import RouteProducer

Records = list[ConsumerRecord[bytes, bytes]]


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    """Start one Apache Kafka for the session (from the pinned jars) and always stop it."""
    broker = LocalKafka(tmp_path_factory.mktemp("kafka"))
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka: LocalKafka) -> str:
    """``host:port`` of the session's broker."""
    return kafka.bootstrap


@pytest.fixture
def settings(kafka_bootstrap: str, tmp_path: Path) -> HubSettings:
    """Settings pointing at the session broker, with a private data directory."""
    return load_settings(
        kafka_bootstrap=kafka_bootstrap,
        data_dir=tmp_path / "data",
        pseudonym_secret="integration-test-secret-0123456789abcdef",
        kafka_connect_timeout_s=10.0,
    )


@pytest.fixture
def connection(settings: HubSettings, kafka_bootstrap: str) -> KafkaConnection:
    """A connection to the session broker."""
    return KafkaConnection(kafka_bootstrap, settings)


async def create_topic(bootstrap: str, name: str, partitions: int = 3) -> str:
    """Create one topic (async tests use this instead of ``new_topic``)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()
    return name


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    until: Callable[[Records], bool],
    timeout_s: float = 30.0,
) -> Records:
    """Read ``topic`` from the beginning until ``until(records)`` holds or the time is up:
    committed records only, as partners read."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level="read_committed"
    )
    await consumer.start()
    records: Records = []
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        deadline = time.monotonic() + timeout_s
        while not until(records) and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for part in batch.values():
                records.extend(part)
    finally:
        await consumer.stop()
    return records


async def dead_letters_of(bootstrap: str, source_topic: str, count: int) -> Records:
    """The committed dead letters of records from ``source_topic``, once ``count`` are there
    (or the time is up): other tests' dead letters share the topic."""

    def mine(records: Records) -> Records:
        return [r for r in records if dict(r.headers).get(SOURCE_TOPIC) == source_topic.encode()]

    return mine(
        await read_topic(bootstrap, DEADLETTER_TOPIC, until=lambda r: len(mine(r)) >= count)
    )


class FailsOnceStore(AuditStore):
    """A real audit store whose first append fails, as a full disk would make it (the hub
    then neither settles nor acknowledges: what a crash after publishing leaves behind)."""

    failed = False

    def append(self, entries: Sequence[tuple[str, AuditDraft]]) -> list[AuditRecord]:
        """Fail the first time, then append."""
        self._fail_once()
        return super().append(entries)

    def append_claiming(self, entries: Sequence[tuple[str, AuditDraft]]) -> Appended:
        """Fail the first time, then append (what a transactional route calls)."""
        self._fail_once()
        return super().append_claiming(entries)

    def _fail_once(self) -> None:
        if not self.failed:
            self.failed = True
            raise OSError("disk full")


def unique(prefix: str) -> str:
    """A unique topic name under ``prefix``."""
    return f"{prefix}.{uuid.uuid4().hex[:12]}"


@asynccontextmanager
async def running_hub(settings: HubSettings, group: str) -> AsyncIterator[None]:
    """The hub's routes on a FastStream broker (groups unique to the test), then stopped."""
    connection = KafkaConnection(str(settings.kafka_bootstrap), settings)
    await provision_topics(connection)
    routes = routes_for(settings, CONNECTORS, pseudonym_secret(settings))
    broker = build_kafka_broker(connection)
    producers = []
    for route in routes:
        mine = dataclasses.replace(route, group_id=f"{group}.{route.connector}")
        # As ``hub up`` does: each route's outputs and offsets in one transaction.
        producer = RouteProducer(connection.producer_kwargs(), f"{mine.consumer_group}.test")
        producers.append(producer)
        wire_route(broker, mine, 3000, publisher=producer)
    await asyncio.gather(*(producer.start() for producer in producers))
    await start_broker(broker)
    try:
        yield
    finally:
        await broker.stop()
        for producer in producers:
            await producer.stop()


async def wait_committed(connection: KafkaConnection, route: Route, offset: int) -> None:
    """Wait until ``route``'s group has committed ``offset`` on partition 0 of its first topic
    (its transactions committed that far)."""
    consumer = AIOKafkaConsumer(
        **connection.client_kwargs(), group_id=route.consumer_group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        for _ in range(600):
            if (await consumer.committed(TopicPartition(route.topics[0], 0)) or 0) >= offset:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the inputs were never committed")
    finally:
        await consumer.stop()
