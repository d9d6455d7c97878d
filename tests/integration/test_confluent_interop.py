"""A librdkafka-based client (confluent-kafka) talks to the hub on real Apache Kafka.

Partners do not all use the Java or aiokafka clients: older librdkafka (before 2.1, e.g.
Debian's ``kcat``) could not even read the embedded broker's ApiVersions reply. Here the
partners' inputs are produced with confluent-kafka, the hub's real routes run on the session
broker, and every partner output topic the contracts name is consumed with confluent-kafka,
headers included. Each message must decode as its contract says: CloudEvents JSON of the
receipt's family holding only the receipt's fields, Päijät-Sote's FHIR ServiceRequest, Kela's
XML statement against its XSD, the authorities' referral-status JSON; its ``content-type``
header is its format's, and no key or header holds an identity code.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Final

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from fhir.resources.R4B.servicerequest import ServiceRequest
from lxml import etree

from connectors import CONNECTORS
from connectors.authorities.native import REFERRAL_STATES
from contracts import CONTRACT_DIR
from hub.app.runtime import contract_book_for, renderers_for
from hub.core.settings import HubSettings, pseudonym_secret
from hub.distribution.contracts import ContractBook, Receipt
from schemas.person_ref import person_ref_for
from tests.identity_code_scan import identity_codes_in
from tests.integration.conftest import running_hub
from tests.strategies import build_identity_code

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("restore_logging")]

XSD: Final = etree.XMLSchema(etree.parse(str(CONTRACT_DIR / "kela" / "tvpt.xsd")))
#: Temporary identity codes (900-999) no other integration test uses.
KELA_LAHTI: Final = build_identity_code(dt.date(1971, 5, 4), 921)
KELA_PH: Final = build_identity_code(dt.date(1980, 7, 8), 922)
LIVES_IN_PH: Final = build_identity_code(dt.date(1966, 9, 12), 923)
LIVES_IN_LAHTI: Final = build_identity_code(dt.date(1999, 1, 30), 924, "Y")
REFERRED_BY_LAHTI: Final = build_identity_code(dt.date(2001, 3, 3), 925, "A")
REFERRED_BY_PH: Final = build_identity_code(dt.date(1958, 12, 24), 926)
PEOPLE: Final = (
    KELA_LAHTI,
    KELA_PH,
    LIVES_IN_PH,
    LIVES_IN_LAHTI,
    REFERRED_BY_LAHTI,
    REFERRED_BY_PH,
)
#: Each partner topic and the people whose messages the flow sends there.
EXPECTED: Final = {
    "out.lahti.benefit-day": {KELA_LAHTI},
    "out.ph.benefit-day": {KELA_PH},
    "out.kela.client-status": {LIVES_IN_PH, LIVES_IN_LAHTI, REFERRED_BY_LAHTI},
    "out.ph.client-status": {LIVES_IN_PH},
    "out.lahti.client-status": {LIVES_IN_LAHTI},
    "out.sote.client-status": {REFERRED_BY_LAHTI},
    "out.sote.service-referral": {REFERRED_BY_LAHTI, REFERRED_BY_PH},
    "out.ph.service-referral": {REFERRED_BY_LAHTI},
    "out.lahti.service-referral": {REFERRED_BY_PH},
    "out.lahti.referral-status": {REFERRED_BY_LAHTI},
    "out.ph.referral-status": {REFERRED_BY_PH},
}
_WAIT_S: Final = 90.0
MARCH: Final = "2025-03-01T08:12:00+02:00"
APRIL: Final = "2025-04-01T08:00:00+03:00"

Records = dict[str, list[Any]]  # topic → confluent_kafka.Message


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def _kela(record: str, code: str, municipality: str) -> bytes:
    return (
        f"{record};{code};{municipality};TMT;01.03.2025;31.03.2025;21;737,55;1021;05.04.2025;"
    ).encode()


def _status(change: str, code: str, municipality: str, at: str) -> bytes:
    return _json({
        "muutosId": change, "asiakasnumero": "A-1002345", "hetu": code, "kotikunta": municipality,
        "tyollisyystilanne": "02", "tilanneAlkaa": "2025-03-01", "tyonhakuVoimassa": True,
        "palvelu": None, "vastuuvirkailija": "Virtanen Maija", "muistiinpano": None,
        "muutettu": at,
    })  # fmt: skip


def _referral(referral_id: str, code: str, sender: str, recipient: str, service: str) -> bytes:
    return _json({
        "lahete_id": referral_id, "hetu": code, "lahettaja": sender, "vastaanottaja": recipient,
        "palvelu": service, "perustelu": "Pitkään jatkunut työttömyys.",
        "kiireellisyys": "normaali", "toivottu_alku": "2025-04-01", "suostumus": True,
        "lahetetty": "2025-03-14T10:00:00+02:00",
    })  # fmt: skip


def _task(referral_id: str) -> bytes:
    return _json({
        "resourceType": "Task", "status": "accepted", "intent": "order",
        "basedOn": [{"identifier": {"system": "urn:fi:paijathame:hub:referral",
                                    "value": referral_id}}],
        "lastModified": "2025-03-20T09:00:00+02:00",
    })  # fmt: skip


def _produce(bootstrap: str, messages: list[tuple[str, bytes | None, bytes]]) -> None:
    """Produce with librdkafka, each message with a header of its own, all acknowledged."""
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    failures: list[KafkaError] = []

    def delivered(error: KafkaError | None, _message: object) -> None:
        if error is not None:
            failures.append(error)

    for topic, key, value in messages:
        headers = [("partner-trace", uuid.uuid4().hex.encode())]
        producer.produce(topic, value, key, headers=headers, on_delivery=delivered)
    assert producer.flush(30) == 0, "librdkafka could not deliver every message"
    assert failures == []


def _consume(bootstrap: str, topics: list[str], done: Callable[[Records], bool]) -> Records:
    """Every record of ``topics`` from the beginning, read with librdkafka until ``done``."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"interop.{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    records: Records = defaultdict(list)
    try:
        metadata = consumer.list_topics(timeout=30)
        consumer.assign(
            [
                TopicPartition(topic, partition, OFFSET_BEGINNING)
                for topic in topics
                for partition in sorted(metadata.topics[topic].partitions)
            ]
        )
        deadline = time.monotonic() + _WAIT_S
        while not done(records) and time.monotonic() < deadline:
            for message in consumer.consume(num_messages=500, timeout=0.5):
                assert message.error() is None, message.error()
                records[message.topic()].append(message)
    finally:
        consumer.close()
    return records


def _receipt(book: ContractBook, topic: str, value: bytes) -> Receipt:
    receipts = [r for c in book.contracts.values() for r in c.receives if r.topic == topic]
    if len(receipts) == 1:
        return receipts[0]
    # One topic, two receipts (a full event and a reduced notice): the notice tells which.
    notice = json.loads(value).get("hubnotice")
    [receipt] = [r for r in receipts if r.notice == notice]
    return receipt


def _check_decodes(book: ContractBook, message: Any) -> None:
    """One record decodes as its contract's format says, with that format's content-type."""
    topic, value = message.topic(), message.value()
    receipt = _receipt(book, topic, value)
    renderer = renderers_for(CONNECTORS)[receipt.format]
    headers = dict(message.headers() or [])
    assert sorted(headers) == ["content-type", "correlation_id"], topic
    assert headers["content-type"] == renderer.content_type.encode(), topic
    correlation_id = headers["correlation_id"].decode()
    assert correlation_id, topic
    if receipt.format == "cloudevents-json":
        event = json.loads(value)
        assert event["type"] == f"fi.paijathame.hub.{receipt.family}.v1", topic
        assert event["specversion"] == "1.0"
        assert event["subject"] == message.key().decode()
        assert set(event["data"]) <= set(receipt.fields), topic
        assert event.get("hubnotice") == receipt.notice
        assert correlation_id == event["id"], topic
    elif receipt.format == "fhir-servicerequest":
        resource = ServiceRequest.model_validate_json(value)
        assert resource.subject.identifier.system == "urn:oid:1.2.246.21"
    elif receipt.format == "kela-tvpt-xml":
        XSD.assertValid(etree.fromstring(value))
    elif receipt.format == "authority-referral-status-json":
        document = json.loads(value)
        assert list(document) == ["lahete_id", "tila", "syy", "aika"], topic
        assert document["tila"] in REFERRAL_STATES.values()
    else:
        pytest.fail(f"{topic}: no check for the format {receipt.format}")


def _people_on(records: Records, refs: dict[str, str]) -> dict[str, set[str]]:
    return {
        topic: {refs[m.key().decode()] for m in found if m.key().decode() in refs}
        for topic, found in records.items()
    }


async def test_librdkafka_clients_feed_the_hub_and_read_every_partner_topic(
    settings: HubSettings, kafka_bootstrap: str
) -> None:
    run = uuid.uuid4().hex[:8].upper()
    lahti_referral, ph_referral = f"L-{run}", f"PH-{run}"
    secret = pseudonym_secret(settings)
    refs = {person_ref_for(code, secret): code for code in PEOPLE}
    book = contract_book_for(settings, CONNECTORS)
    partner_topics = sorted({r.topic for c in book.contracts.values() for r in c.receives})
    assert set(EXPECTED) <= set(partner_topics)

    def arrived(topics: dict[str, set[str]]) -> Callable[[Records], bool]:
        return lambda records: all(
            people <= _people_on(records, refs).get(topic, set())
            for topic, people in topics.items()
        )

    async with running_hub(settings, f"interop-{run}"):
        first = [
            ("in.kela.benefit-day", None, _kela(f"K2025-{run[:4]}0001", KELA_LAHTI, "398")),
            ("in.kela.benefit-day", None, _kela(f"K2025-{run[:4]}0002", KELA_PH, "098")),
            ("in.lahti.client-status", None, _status(f"l-{run}", LIVES_IN_PH, "098", MARCH)),
            ("in.ph.client-status", None, _status(f"p-{run}", LIVES_IN_LAHTI, "398", MARCH)),
            (
                "in.lahti.service-referral",
                None,
                _referral(lahti_referral, REFERRED_BY_LAHTI, "lahti", "sote", "TERVEYSTARKASTUS"),
            ),
            (
                "in.ph.service-referral",
                None,
                _referral(ph_referral, REFERRED_BY_PH, "ph", "sote", "TYOKYVYN_ARVIOINTI"),
            ),
            (
                "in.lahti.service-referral",
                None,
                _referral(f"LK-{run}", REFERRED_BY_LAHTI, "lahti", "ph", "KOTOUTUMISKOULUTUS"),
            ),
            (
                "in.ph.service-referral",
                None,
                _referral(f"PK-{run}", REFERRED_BY_PH, "ph", "lahti", "KOTOUTUMISKOULUTUS"),
            ),
        ]
        await asyncio.to_thread(_produce, kafka_bootstrap, first)
        # A referral is in the hub's register once its ServiceRequest is out: only then may
        # Päijät-Sote hear of the person's status, and answer.
        sent = {"out.sote.service-referral": {REFERRED_BY_LAHTI, REFERRED_BY_PH}}
        await asyncio.to_thread(
            _consume, kafka_bootstrap, ["out.sote.service-referral"], arrived(sent)
        )
        then = [
            ("in.lahti.client-status", None, _status(f"r-{run}", REFERRED_BY_LAHTI, "398", APRIL)),
            ("in.sote.referral-status", lahti_referral.encode(), _task(lahti_referral)),
            ("in.sote.referral-status", ph_referral.encode(), _task(ph_referral)),
        ]
        await asyncio.to_thread(_produce, kafka_bootstrap, then)
        records = await asyncio.to_thread(
            _consume, kafka_bootstrap, partner_topics, arrived(EXPECTED)
        )

    people = _people_on(records, refs)
    for topic, expected in EXPECTED.items():
        assert expected <= people.get(topic, set()), f"{topic}: {people.get(topic)}"
    statuses = [json.loads(m.value()) for m in records["out.lahti.referral-status"]]
    assert {"lahete_id": lahti_referral, "tila": "HYVAKSYTTY"}.items() <= next(
        s for s in statuses if s["lahete_id"] == lahti_referral
    ).items()
    for topic in partner_topics:
        for message in records.get(topic, []):
            _check_decodes(book, message)
            # The identity code may be in a value (its contract says where), never in the
            # key or a header.
            key = (message.key() or b"").decode()
            assert identity_codes_in(key, PEOPLE, valid_check_only=True) == [], topic
            for name, header in message.headers() or []:
                text = f"{name} {(header or b'').decode()}"
                assert identity_codes_in(text, PEOPLE, valid_check_only=True) == [], topic
