"""Dead letters larger than the broker takes, published through the hub's own pipeline to a
real Apache Kafka: compressed or quarantined, logged only once acknowledged, and carrying no
identity code in their headers or in the log.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.structs import ConsumerRecord
from structlog.testing import capture_logs

from hub.admin.provisioning import provision_topics
from hub.broker.connection import KafkaConnection
from hub.broker.faststream_broker import build_kafka_broker
from hub.core.metrics import HubMetrics
from hub.core.topics import DEADLETTER_TOPIC
from hub.routing.deadletter import (
    DLQ_ENCODING,
    DLQ_ORIGINAL_REASON,
    DLQ_QUARANTINE,
    DLQ_REASON,
    SOURCE_OFFSET,
    SOURCE_TOPIC,
)
from hub.routing.middlewares import observe
from hub.routing.pipeline import Outgoing, Route, handle_record
from hub.routing.quarantine import QuarantineStore
from schemas.rejection import Rejection
from tests.integration.conftest import Records, read_topic, unique

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("restore_logging")]

CODE = "131052-930V"
#: Just below what Kafka takes as a record; its dead letter (plus headers) is above it.
SIZE = 1_048_450


def _reject(value: bytes) -> list[Outgoing] | Rejection:
    return Rejection("malformed-json", f"not JSON: {CODE} at the start")


def _record(topic: str, value: bytes, offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic=topic,
        partition=0,
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


def _poison(compressible: bool) -> bytes:
    """A message with an identity code in it, ``SIZE`` bytes long."""
    head = json.dumps({"hetu": CODE, "muistiinpano": ""}).encode()
    if compressible:
        return head + b" " * (SIZE - len(head))
    return head + os.urandom(SIZE - len(head))  # random bytes: gzip cannot shrink them


async def _letters(bootstrap: str, source: str, count: int) -> Records:
    def mine(records: Records) -> Records:
        return [r for r in records if dict(r.headers).get(SOURCE_TOPIC) == source.encode()]

    records = await read_topic(bootstrap, DEADLETTER_TOPIC, until=lambda r: len(mine(r)) >= count)
    return sorted(mine(records), key=lambda r: int(dict(r.headers)[SOURCE_OFFSET]))


async def test_too_large_dead_letters_go_out_compressed_or_quarantined(
    connection: KafkaConnection, kafka_bootstrap: str, tmp_path: Path
) -> None:
    await provision_topics(connection)
    source = unique("in.test")
    route = Route("oversize-test", (source,), _reject)
    store = QuarantineStore(tmp_path / "quarantine")
    metrics = HubMetrics()
    compressible, incompressible = _poison(compressible=True), _poison(compressible=False)
    assert len(compressible) == len(incompressible) == SIZE
    broker = build_kafka_broker(connection)
    await broker.start()
    try:
        with capture_logs() as logs:
            for offset, value in enumerate((compressible, incompressible)):
                record = _record(source, value, offset)
                observe(metrics, await handle_record(broker, route, record, quarantine=store))
        letters = await _letters(kafka_bootstrap, source, 2)
    finally:
        await broker.stop()
    compressed, quarantined = ({k: v.decode() for k, v in r.headers} for r in letters)
    assert compressed[DLQ_ENCODING] == "gzip"
    assert compressed[DLQ_REASON] == "malformed-json"
    assert gzip.decompress(letters[0].value or b"") == compressible
    assert quarantined[DLQ_REASON] == "too-large-quarantined"
    assert quarantined[DLQ_ORIGINAL_REASON] == "malformed-json"
    assert letters[1].value == b""
    assert store.read(quarantined[DLQ_QUARANTINE]) == incompressible
    # Logged once each, after the acknowledgement, naming the entry; no identity code.
    logged = [e for e in logs if e["event"] == "message dead-lettered"]
    assert [(e["reason"], e["offset"]) for e in logged] == [
        ("malformed-json", "0"),
        ("too-large-quarantined", "1"),
    ]
    assert logged[1]["quarantined"] == quarantined[DLQ_QUARANTINE]
    assert "quarantined" not in logged[0]
    for letter in letters:
        for _, header in letter.headers:
            assert CODE.encode() not in header
    assert CODE not in repr(logs)
    reasons = metrics.dead_lettered.labels
    assert reasons("oversize-test", "too-large-quarantined")._value.get() == 1
    assert reasons("oversize-test", "malformed-json")._value.get() == 1


async def test_a_dead_letter_the_broker_refused_is_not_logged_as_dead_lettered(
    connection: KafkaConnection, tmp_path: Path
) -> None:
    await provision_topics(connection)
    source = unique("in.test")
    route = Route("oversize-test", (source,), _reject)
    broker = build_kafka_broker(connection)
    await broker.start()
    try:
        with capture_logs() as logs, pytest.raises(MessageSizeTooLargeError):
            # Without a quarantine store there is no smaller form: the message is not
            # acknowledged, and no line claims it was dead-lettered.
            await handle_record(broker, route, _record(source, _poison(compressible=False), 0))
    finally:
        await broker.stop()
    assert [e for e in logs if e["event"] == "message dead-lettered"] == []
