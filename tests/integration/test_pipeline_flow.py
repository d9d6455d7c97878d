"""A real flow through the hub's wiring on a real Apache Kafka.

The route here is a small client-status translation written for the test (the real
connectors arrive with their issues); everything around it is the hub's own: FastStream
wiring, dead-letter plumbing, logging with redaction.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from pydantic import ValidationError

from hub.admin.provisioning import provision_topics
from hub.broker.connection import KafkaConnection
from hub.broker.faststream_broker import build_kafka_broker
from hub.core.logs import configure_logging
from hub.core.settings import pseudonym_secret
from hub.routing.deadletter import (
    DLQ_DETAIL,
    DLQ_REASON,
    SOURCE_OFFSET,
    SOURCE_PARTITION,
)
from hub.routing.pipeline import Outgoing, Route, wire_route
from schemas.envelope import CLOUDEVENTS_CONTENT_TYPE, ClientStatusEvent, dataschema_for
from schemas.identity_code import IdentityCodeError, validate_identity_code
from schemas.person_ref import person_ref_for
from schemas.rejection import Rejection
from tests.integration.conftest import (
    Records,
    create_topic,
    dead_letters_of,
    read_topic,
    unique,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("restore_logging")]

CODES = ["131052-930V", "010105B9789", "311299U9008"]


def _translation(secret: bytes, out_topic: str) -> Any:
    def translate(value: bytes) -> list[Outgoing] | Rejection:
        try:
            native = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            return Rejection("malformed-json", f"not JSON: {exc.msg}")
        if not isinstance(native, dict):
            return Rejection("malformed-json", "not a JSON object")
        try:
            code = validate_identity_code(native.get("hetu", ""))
        except IdentityCodeError as exc:
            return Rejection(f"invalid-identity-code-{exc.reason}", str(exc))
        ref = person_ref_for(code, secret)
        try:
            event = ClientStatusEvent.model_validate(
                {
                    "id": native["muutosId"],
                    "source": "urn:fi:paijathame:hub:connector:test",
                    "subject": ref,
                    "time": native["muutettu"],
                    "dataschema": dataschema_for("fi.paijathame.hub.client-status.v1"),
                    "data": {
                        "change_id": native["muutosId"],
                        "authority": "lahti",
                        "person_id": code,
                        "home_municipality": native["kotikunta"],
                        "employment_status": "unemployed",
                        "status_since": "2025-03-01",
                        "job_search_active": True,
                        "changed_at": native["muutettu"],
                    },
                }
            )
        except (KeyError, ValidationError) as exc:
            return Rejection("invalid-message", f"{type(exc).__name__}: {exc}")
        return [
            Outgoing(
                out_topic,
                event.model_dump_json().encode(),
                ref.encode(),
                {"content-type": CLOUDEVENTS_CONTENT_TYPE},
            )
        ]

    return translate


def _good(n: int, code: str) -> bytes:
    return json.dumps(
        {
            "muutosId": f"chg-{n}",
            "hetu": code,
            "kotikunta": "398",
            "muutettu": "2025-03-01T08:12:00+02:00",
        }
    ).encode()


async def test_bad_messages_are_dead_lettered_and_good_ones_flow_on(
    connection: KafkaConnection, kafka_bootstrap: str, capfd: pytest.CaptureFixture[str]
) -> None:
    configure_logging("debug", "json")
    await provision_topics(connection)
    in_topic = await create_topic(kafka_bootstrap, unique("in.test"), partitions=1)
    out_topic = await create_topic(kafka_bootstrap, unique("out.test"), partitions=3)
    secret = pseudonym_secret(connection.settings)
    bad_hetu = b'{"hetu": "131052-930X", "muutosId": "x"}'
    inputs = [
        _good(1, CODES[0]),
        b"\xff\xfe definitely not json",
        _good(2, CODES[1]),
        bad_hetu,
        b'{"hetu": "311299U9008", "muutosId": "chg-3", "kotikunta": "Lahti", "muutettu": "x"}',
        _good(4, CODES[2]),
    ]

    broker = build_kafka_broker(connection)
    wire_route(broker, Route("test", (in_topic,), _translation(secret, out_topic), unique("g")))
    await broker.start()
    try:
        for value in inputs:
            await broker.publish(value, topic=in_topic)
        outputs = await read_topic(kafka_bootstrap, out_topic, until=lambda r: len(r) >= 3)
        letters = await dead_letters_of(kafka_bootstrap, in_topic, 3)
    finally:
        await broker.stop()

    assert sorted(json.loads(r.value or b"")["id"] for r in outputs) == ["chg-1", "chg-2", "chg-4"]
    for record in outputs:
        event = ClientStatusEvent.model_validate_json(record.value or b"")
        assert record.key == event.subject.encode()
        assert record.key == person_ref_for(event.data.person_id, secret).encode()
        assert dict(record.headers)["content-type"] == CLOUDEVENTS_CONTENT_TYPE.encode()

    by_offset = {int(dict(r.headers)[SOURCE_OFFSET]): r for r in letters}
    assert sorted(by_offset) == [1, 3, 4]
    assert by_offset[1].value == inputs[1]
    assert by_offset[3].value == bad_hetu
    assert by_offset[4].value == inputs[4]
    reasons = {o: dict(r.headers)[DLQ_REASON].decode() for o, r in by_offset.items()}
    assert reasons == {
        1: "malformed-json",
        3: "invalid-identity-code-bad-check-character",
        4: "invalid-message",
    }
    for record in letters:
        headers = dict(record.headers)
        assert headers[SOURCE_PARTITION] == b"0"
        assert record.key is None
        for code in [*CODES, "131052-930X"]:
            assert code.encode() not in headers[DLQ_DETAIL]

    # The whole flow ran at debug level; not one identity code reached a log line.
    logged = capfd.readouterr().err
    assert "message dead-lettered" in logged
    for code in [*CODES, "131052-930X"]:
        assert code not in logged


async def test_messages_keep_flowing_after_a_burst_of_poison(
    connection: KafkaConnection, kafka_bootstrap: str
) -> None:
    in_topic = await create_topic(kafka_bootstrap, unique("in.test"), partitions=1)
    out_topic = await create_topic(kafka_bootstrap, unique("out.test"), partitions=1)
    await provision_topics(connection)
    secret = pseudonym_secret(connection.settings)
    broker = build_kafka_broker(connection)
    wire_route(broker, Route("test", (in_topic,), _translation(secret, out_topic), unique("g")))
    await broker.start()
    try:
        for n in range(50):
            await broker.publish(b"{" * (n + 1), topic=in_topic)
        await broker.publish(_good(99, CODES[0]), topic=in_topic)
        outputs = await read_topic(kafka_bootstrap, out_topic, until=lambda r: len(r) >= 1)
    finally:
        await broker.stop()
    assert [json.loads(r.value or b"")["id"] for r in outputs] == ["chg-99"]
    await asyncio.sleep(0)


async def _through_route(
    connection: KafkaConnection,
    bootstrap: str,
    max_batch: int,
    inputs: list[tuple[bytes, list[tuple[str, bytes | None]]]],
    outputs: int,
    dead_letters: int = 0,
) -> tuple[Records, Records]:
    """Produce ``inputs`` (value, headers) with a plain producer to the test translation's
    route and read the ``outputs`` and ``dead_letters`` they give."""
    in_topic = await create_topic(bootstrap, unique("in.test"), partitions=1)
    out_topic = await create_topic(bootstrap, unique("out.test"), partitions=1)
    await provision_topics(connection)
    secret = pseudonym_secret(connection.settings)
    broker = build_kafka_broker(connection)
    route = Route("test", (in_topic,), _translation(secret, out_topic), unique("g"))
    wire_route(broker, route, max_batch=max_batch)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    await broker.start()
    try:
        for value, headers in inputs:
            await producer.send_and_wait(in_topic, value, headers=headers)
        out = await read_topic(bootstrap, out_topic, until=lambda r: len(r) >= outputs)
        letters = await dead_letters_of(bootstrap, in_topic, dead_letters) if dead_letters else []
    finally:
        await broker.stop()
        await producer.stop()
    return out, letters


@pytest.mark.parametrize("max_batch", [1, 10])
async def test_a_body_its_headers_call_json_but_is_not_is_dead_lettered_like_any_other(
    connection: KafkaConnection, kafka_bootstrap: str, max_batch: int
) -> None:
    # A partner's own content-type header must not make the broker library parse the body
    # before the route does: a body that header calls JSON, and is not, would never reach the
    # route, and a batch holding it would never be handled.
    json_header: list[tuple[str, bytes | None]] = [("content-type", b"application/json")]
    outputs, letters = await _through_route(
        connection,
        kafka_bootstrap,
        max_batch,
        [(b"{not json", json_header), (_good(7, CODES[0]), json_header)],
        outputs=1,
        dead_letters=1,
    )
    assert [json.loads(r.value or b"")["id"] for r in outputs] == ["chg-7"]
    assert [(r.value, dict(r.headers)[DLQ_REASON]) for r in letters] == [
        (b"{not json", b"malformed-json")
    ]


@pytest.mark.parametrize("header", [b"\xff\xfe not UTF-8", None], ids=["not-utf8", "null"])
@pytest.mark.parametrize("max_batch", [1, 10])
async def test_a_header_the_broker_library_cannot_read_stops_nothing(
    connection: KafkaConnection, kafka_bootstrap: str, max_batch: int, header: bytes | None
) -> None:
    # Routes ignore the headers of what they consume; a header value that is not UTF-8, or
    # null (Kafka allows both), must not keep a record, or the batch it is in, from its route.
    outputs, _ = await _through_route(
        connection,
        kafka_bootstrap,
        max_batch,
        [(_good(8, CODES[1]), [("x-partner", header)]), (_good(9, CODES[2]), [])],
        outputs=2,
    )
    assert [json.loads(r.value or b"")["id"] for r in outputs] == ["chg-8", "chg-9"]
