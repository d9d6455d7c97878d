"""Everything a running hub writes, scanned for identity codes: none outside ``data``.

``hub up`` runs as a separate process on its local Apache Kafka, with debug JSON logs and
``HUB_METRICS_PORT``. Every inbound path gets messages about known people (identity codes with
individual numbers 900-999): Kela lines on ``in.kela.benefit-day`` and a file through
``hub ingest kela``, both authorities' client-status and a referral, and Päijät-Sote's FHIR
Task. Malformed and invalid messages carry further codes in odd places (a record id, a
correction link, a municipality, an unknown key, a repeated key, free text, a Task's referral
id, a partner's Kafka key), so dead letters and rejection details are exercised too.

Once every consumed message is audited, the test collects what the hub wrote and scans it for
each planted code and for anything shaped like an identity code with a valid check character:

* every record on every topic the hub writes: keys, header names and values, and values;
* the hub's stdout and stderr (every log line), ``/metrics``, ``/healthz``, ``/readyz``;
* the output of ``hub ingest kela``, ``hub audit verify`` and ``hub audit disclosures`` (one
  person's disclosures: when, partner, topic, event, fields, legal basis; never the code the
  auditor asked about).

Left out of the scan, and why:

* the ``in.*`` topics: the partners write them, not the hub (their values are the partners'
  messages, and one partner key here is an identity code on purpose, to show the hub does not
  copy it);
* the values of ``hub.deadletter.v1``: the original bytes, unchanged, by design (DESIGN §3);
  its keys and headers (reason, detail, source) are scanned;
* ``data`` of the canonical events on ``hub.benefit-day.v1`` and ``.v2``,
  ``hub.client-status.v1`` and ``hub.service-referral.v1``: the identity code appears only
  inside ``data`` (DESIGN §3); the envelope (id, source, subject, type, time, ...) is
  scanned. ``hub.referral-status.v1`` carries no person in ``data`` and is scanned whole;
* in partner messages, exactly the field their contract discloses the person by:
  ``data.person_id`` of the CloudEvents on ``out.lahti.*``, ``out.ph.*`` and
  ``out.sote.client-status``, ``<Henkilotunnus>`` of Kela's XML on ``out.kela.client-status``,
  ``subject.identifier.value`` of the FHIR ServiceRequest on ``out.sote.service-referral``.
  The rest of those messages is scanned, and every value left out must be one of the known
  people's codes, so the exclusion cannot hide a code that strayed elsewhere.

``hub.audit.v1`` carries records without their payloads and is scanned whole.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord
from lxml import etree

from connectors import CONNECTORS
from connectors.kela.native import HEADER
from hub.app.runtime import routes_for
from hub.broker.partitions import partitions_of
from hub.core.settings import load_settings
from hub.referrals.register import ReferralKey, ReferralRegister
from tests.e2e.conftest import RunningHub, run_hub
from tests.fuzz.hostile_values import broken_check_character
from tests.identity_code_scan import identity_codes_in
from tests.integration.conftest import read_topic
from tests.strategies import build_identity_code
from tests.support import Message, free_port, send_each

pytestmark = pytest.mark.e2e

StartHub = Callable[..., RunningHub]
Records = dict[str, list[ConsumerRecord[bytes, bytes]]]
SECRET: Final = "scan-pseudonym-secret-0123456789abcdef"

KELA_LAHTI: Final = build_identity_code(dt.date(1972, 11, 3), 913)
KELA_PH: Final = build_identity_code(dt.date(2003, 2, 28), 934, "A")
KELA_OUTSIDE: Final = build_identity_code(dt.date(1899, 12, 31), 999, "+")
MOVER: Final = build_identity_code(dt.date(1985, 6, 15), 951, "Y")
REFERRED: Final = build_identity_code(dt.date(1990, 1, 1), 977)
#: The people the hub accepts messages about: partners may receive their codes by contract.
PEOPLE: Final = (KELA_LAHTI, KELA_PH, KELA_OUTSIDE, MOVER, REFERRED)
#: Codes that only ever appear in odd places of messages the hub must refuse or strip.
STRAYS: Final = tuple(
    build_identity_code(dt.date(1950 + n, 1 + n % 12, 1 + n), 960 + n, sign)
    for n, sign in enumerate("-YXWVUABCDEF-YX+")
)
INVALID: Final = broken_check_character(STRAYS[2])
PLANTED: Final = frozenset({*PEOPLE, *STRAYS, INVALID})

REFERRAL_ID: Final = "L-SCAN-1"
#: Rejected inputs below: 7 Kela lines on Kafka, 2 file lines, 6 authority messages, 3 Tasks.
DEAD_LETTERS: Final = 18
#: Messages each partner topic gets from the inputs below (waited for before the scan).
PARTNER_MESSAGES: Final = {
    "out.lahti.benefit-day": 2,
    "out.ph.benefit-day": 2,
    "out.kela.client-status": 3,
    "out.lahti.client-status": 1,  # the notice that the person moved out of Lahti
    "out.sote.client-status": 1,
    "out.sote.service-referral": 1,
    "out.lahti.referral-status": 1,
}


#: A Kafka message a partner sends: topic, key, value.
MARCH: Final = "2025-03-01T08:12:00+02:00"
APRIL: Final = "2025-04-01T08:00:00+03:00"
MAY: Final = "2025-05-02T09:30:00+03:00"


def _kela(record: str, code: str, municipality: str = "398", corrects: str = "") -> str:
    fields = (record, code, municipality, "TMT", "01.03.2025", "31.03.2025", "21", "737,55")
    return ";".join((*fields, "1021", "05.04.2025", corrects))


def _to_kela(line: str, key: bytes | None = None, encoding: str = "utf-8") -> Message:
    return ("in.kela.benefit-day", key, line.encode(encoding))


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def _status(change: str, code: str, municipality: str, at: str, **extra: Any) -> bytes:
    return _json({
        "muutosId": change, "asiakasnumero": "A-1002345", "hetu": code, "kotikunta": municipality,
        "tyollisyystilanne": "02", "tilanneAlkaa": "2025-03-01", "tyonhakuVoimassa": True,
        "palvelu": None, "vastuuvirkailija": "Virtanen Maija", "muistiinpano": None,
        "muutettu": at, **extra,
    })  # fmt: skip


def _to_lahti(value: bytes, key: bytes | None = None) -> Message:
    return ("in.lahti.client-status", key, value)


def _referral(**extra: Any) -> Message:
    return ("in.lahti.service-referral", None, _json({
        "lahete_id": REFERRAL_ID, "hetu": REFERRED, "lahettaja": "lahti", "vastaanottaja": "sote",
        "palvelu": "KUNTOUTTAVA_TYOTOIMINTA", "perustelu": "Pitkään jatkunut työttömyys.",
        "kiireellisyys": "normaali", "toivottu_alku": "2025-04-01", "suostumus": True,
        "lahetetty": "2025-03-14T10:00:00+02:00", **extra,
    }))  # fmt: skip


def _task(referral_id: str, status: str, day: int, **extra: Any) -> Message:
    # Päijät-Sote keys its Tasks by referral id, so one referral's updates stay in order.
    return ("in.sote.referral-status", REFERRAL_ID.encode(), _json({
        "resourceType": "Task", "status": status, "intent": "order",
        "basedOn": [{"identifier": {"system": "urn:fi:paijathame:hub:referral",
                                    "value": referral_id}}],
        "for": {"identifier": {"system": "urn:oid:1.2.246.21", "value": REFERRED}},
        "lastModified": f"2025-03-{day}T09:00:00+02:00", **extra,
    }))  # fmt: skip


#: The first status of the person who moves: the test waits for it before the move.
FIRST_STATUS: Final = _to_lahti(
    _status("m-scan-1", MOVER, "398", MARCH, muistiinpano=f"Mainitsi hetun {STRAYS[8]}.")
)

#: A status with two keys "hetu": a stray code first, then the mover's.
HETU_TWICE: Final = (
    _status("m-scan-5", STRAYS[10], "398", MARCH)[:-1] + f', "hetu": "{MOVER}"}}'.encode()
)

#: Kela keys by person here: the three messages of record K2025-700000001 stay in order.
BY_PERSON: Final = KELA_LAHTI.encode()

#: Every partner message sent before the file and the Tasks; odd places carry STRAYS.
FIRST_MESSAGES: Final[list[Message]] = [
    _to_kela(_kela("K2025-700000001", KELA_LAHTI), key=BY_PERSON),
    _to_kela(_kela("K2025-700000002", KELA_PH, "098")),
    _to_kela(_kela("K2025-700000003", KELA_OUTSIDE, "091")),  # Helsinki: not routed
    _to_kela(_kela("K2025-700000001", KELA_LAHTI), key=BY_PERSON),  # a duplicate
    _to_kela(_kela("K2025-700000005", KELA_LAHTI, corrects=STRAYS[0])),  # unknown correction
    _to_kela(_kela("K2025-700000006", KELA_LAHTI, STRAYS[1])),  # municipality
    _to_kela(_kela("K2025-700000007", INVALID)),  # wrong check character
    _to_kela(_kela(STRAYS[3], KELA_LAHTI).replace("01.03", "30.02")),  # bad date
    _to_kela(_kela("K2025-700000009", KELA_LAHTI) + ";" + STRAYS[4]),  # one column too many
    _to_kela(_kela("K2025-700000010", STRAYS[5]).replace("TMT", "TMTä"), encoding="latin-1"),
    _to_kela(_kela("K2025-700000001", KELA_LAHTI).replace(";21;", ";20;"), key=BY_PERSON),
    ("in.ph.client-status", None, _status("m-scan-2", MOVER, "098", MAY)),  # moved to Hollola
    _referral(),
    _to_lahti(_status("m-scan-4", MOVER, "398", MARCH, **{STRAYS[9]: "x"})),  # unknown key
    _to_lahti(HETU_TWICE),
    _referral(lahete_id="L-SCAN-6", suostumus=False, perustelu=f"Hetu {STRAYS[11]}."),
    _to_lahti(_status(STRAYS[12], MOVER, "398", MARCH, tilanneAlkaa="2025-02-30")),
    _to_lahti(f'{{"hetu": {STRAYS[13]}'.encode(), key=STRAYS[13].encode()),  # not JSON
    _to_lahti(_status("m-scan-1", MOVER, "560", MARCH)),  # conflicting
]

#: The monthly file: one new record, a repeat of a Kafka record, two rejected, one correction.
FILE_LINES: Final = (
    _kela("K2025-700000101", KELA_PH, "560"),
    _kela("K2025-700000002", KELA_PH, "098"),
    _kela("K2025-700000103", STRAYS[6]).replace("737,55", "737.55"),
    _kela("K2025-700000104", KELA_LAHTI).replace("TMT", STRAYS[7]),
    _kela("K2025-700000105", KELA_LAHTI, corrects="K2025-700000001").replace(
        ";21;737,55;", ";-2;-70,24;"
    ),
)

#: After the referral is in the register: a status that Päijät-Sote may now see, and Tasks.
LAST_MESSAGES: Final[list[Message]] = [
    _to_lahti(_status("m-scan-3", REFERRED, "398", APRIL)),
    _task(REFERRAL_ID, "accepted", 20),
    _task(STRAYS[14], "accepted", 20),  # a referral the hub never sent
    _task(REFERRAL_ID, "accepted", 21, hetu=STRAYS[15]),  # not a FHIR element
    _task(REFERRAL_ID, "received", 22),  # accepted -> received goes backwards
]


async def _everything_on(bootstrap: str) -> Records:
    """Every record of every topic, from the beginning to the current end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        topics = await consumer.topics()
        partitions = await partitions_of(consumer, sorted(topics))
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: Records = {topic: [] for topic in topics}
        deadline = time.monotonic() + 20
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            assert time.monotonic() < deadline, "the topics could not be read to their end"
            for tp, batch in (await consumer.getmany(timeout_ms=200)).items():
                records[tp.topic].extend(batch)
    finally:
        await consumer.stop()
    return records


def _consumed_in_audit(records: Records) -> int:
    # The audit topic also carries checkpoint anchors, which have no direction.
    return sum(
        json.loads(r.value or b"{}").get("direction") == "consumed" for r in records["hub.audit.v1"]
    )


def _settled(hub: RunningHub, consumers: Counter[str], file_lines: int) -> Records:
    """Every topic, once each message on a topic some route consumes is audited as consumed
    (so everything it caused is on the topics) and the partner topics have what they expect."""
    deadline = time.monotonic() + 40
    while True:
        records = asyncio.run(_everything_on(hub.bootstrap))
        expected = file_lines + sum(len(records.get(t, [])) * n for t, n in consumers.items())
        partners_done = all(
            len(records.get(topic, [])) >= n for topic, n in PARTNER_MESSAGES.items()
        )
        if partners_done and _consumed_in_audit(records) >= expected:
            return records
        if time.monotonic() > deadline:
            counts = {topic: len(found) for topic, found in records.items()}
            pytest.fail(
                f"the hub did not settle: {_consumed_in_audit(records)} of {expected} consumed "
                f"messages audited; on the topics: {counts}"
            )
        time.sleep(0.3)


def _get(port: int, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return f"{response.status} {response.read().decode()}"


# --- what of a value the scan reads --------------------------------------------------------

_CANONICAL_WITH_PERSON: Final = {
    "hub.benefit-day.v1",
    "hub.benefit-day.v2",
    "hub.client-status.v1",
    "hub.service-referral.v1",
}
_KELA_NS: Final = "{urn:fi:kela:tvpt:1}"


def _readable_part(topic: str, value: bytes, left_out: list[str]) -> str:
    """The part of a value the scan reads; what is left out is appended to ``left_out``."""
    if topic in _CANONICAL_WITH_PERSON:
        event = json.loads(value)
        left_out.append(event.pop("data")["person_id"])
        return json.dumps(event)
    if topic == "out.kela.client-status":
        document = etree.fromstring(value)
        [element] = document.iter(f"{_KELA_NS}Henkilotunnus")
        left_out.append(element.text or "")
        element.text = ""
        return etree.tostring(document, encoding="unicode")
    if topic == "out.sote.service-referral":
        resource = json.loads(value)
        left_out.append(resource["subject"]["identifier"].pop("value"))
        return json.dumps(resource)
    if topic.startswith("out.") and value.startswith(b"{") and b'"specversion"' in value:
        event = json.loads(value)
        left_out.append(event["data"].pop("person_id"))
        return json.dumps(event)
    return value.decode("utf-8", errors="replace")


def _scanned(records: Records) -> tuple[dict[str, str], list[str]]:
    """``where → text`` of everything the hub wrote on Kafka, and the values left out."""
    texts: dict[str, str] = {}
    left_out: list[str] = []
    for topic, found in records.items():
        if topic.startswith("in."):
            continue
        for record in found:
            where = f"{topic}@{record.partition}:{record.offset}"
            texts[f"{where} key"] = (record.key or b"").decode("utf-8", errors="replace")
            for name, header in record.headers:
                texts[f"{where} header {name}"] = name + " " + header.decode("utf-8", "replace")
            if topic != "hub.deadletter.v1":
                texts[f"{where} value"] = _readable_part(topic, record.value or b"", left_out)
    return texts, left_out


#: A UUID's hex digits can line up as an identity code with a valid check character (a random
#: correlation id on ``hub.audit.v1`` did: ``…615089-2346…``), so the shape scan reads each
#: UUID as one token. The planted codes are still looked for in the text as it is.
_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def _found(texts: dict[str, str]) -> list[str]:
    return [
        f"{where}: {code}"
        for where, text in texts.items()
        for code in dict.fromkeys(
            [planted for planted in PLANTED if planted in text]
            + identity_codes_in(_UUID.sub("<uuid>", text), valid_check_only=True)
        )
    ]


def test_nothing_the_hub_writes_outside_data_carries_an_identity_code(
    start_hub: StartHub, tmp_path: Path
) -> None:
    # The scanner finds what it must, or the scan below would pass on a broken scanner.
    synthetic = {
        "log": json.dumps({"event": "message dead-lettered", "key": f"x{STRAYS[0]}y"}),
        "header": f"hub-dlq-detail hetu {KELA_LAHTI} is wrong",
        "unplanted": "line " + build_identity_code(dt.date(2001, 9, 9), 999, "B"),
        "clean": "p-0123456789abcdef0123456789abcdef 2025-03-01T08:12:00+02:00 K2025-700000001",
        "uuid": "correlation_id 00615089-2346-4000-8000-000000000000",
        "beside a uuid": f"00615089-2346-4000-8000-000000000000/{STRAYS[1]}",
    }
    assert identity_codes_in(synthetic["uuid"], valid_check_only=True) == ["615089-2346"]
    assert [entry.split(":")[0] for entry in _found(synthetic)] == [
        "log",
        "header",
        "unplanted",
        "beside a uuid",
    ]

    port = free_port()
    hub = start_hub(HUB_PSEUDONYM_SECRET=SECRET, HUB_METRICS_PORT=str(port))
    hub.wait_ready()
    data_dir = tmp_path / "data0"
    # The move and the conflicting repeat must come after the first status, the file's
    # correction and repeat after the Kela records they name, the Tasks after the referral.
    asyncio.run(send_each(hub.bootstrap, [FIRST_STATUS]))
    asyncio.run(read_topic(hub.bootstrap, "out.kela.client-status", until=bool))
    asyncio.run(send_each(hub.bootstrap, FIRST_MESSAGES))
    for topic in ("out.lahti.benefit-day", "out.ph.benefit-day"):
        asyncio.run(read_topic(hub.bootstrap, topic, until=bool))
    deadline = time.monotonic() + 30
    while ReferralRegister.open(data_dir).referral(ReferralKey("lahti", REFERRAL_ID)) is None:
        assert time.monotonic() < deadline, "the referral never reached the register"
        time.sleep(0.1)
    kela_file = tmp_path / "kela-2025-04.csv"
    kela_file.write_text("\r\n".join(["\ufeff" + HEADER, *FILE_LINES]) + "\r\n")
    ingested = run_hub("ingest", "kela", str(kela_file), env=hub.env)
    assert ingested.returncode == 3, ingested.stdout + ingested.stderr  # 3: lines rejected
    asyncio.run(send_each(hub.bootstrap, LAST_MESSAGES))

    routes = routes_for(load_settings(data_dir=tmp_path / "routes"), CONNECTORS, SECRET.encode())
    consumers = Counter(topic for route in routes for topic in route.topics)
    records = _settled(hub, consumers, len(FILE_LINES))
    http = {path: _get(port, path) for path in ("/metrics", "/healthz", "/readyz")}
    assert hub.stop() == 0

    verified = run_hub("audit", "verify", env=hub.env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert ": holds" in verified.stdout
    disclosures = {
        (code, output): run_hub(
            "audit", "disclosures", "--person", code, "--format", output, env=hub.env
        )
        for code, output in [(code, "json") for code in PEOPLE] + [(REFERRED, "table")]
    }
    assert all(done.returncode == 0 for done in disclosures.values())

    # The story did what it is meant to: dead letters, disclosures, debug logs.
    assert len(records["hub.deadletter.v1"]) == DEAD_LETTERS
    disclosed = {code for (code, output), done in disclosures.items()
                 if output == "json" and json.loads(done.stdout)}  # fmt: skip
    assert disclosed == {KELA_LAHTI, KELA_PH, MOVER, REFERRED}  # Helsinki: not routed
    assert any(record["level"] == "debug" for record in hub.log_records())

    texts, left_out = _scanned(records)
    assert set(left_out) <= set(PEOPLE), set(left_out) - set(PEOPLE)
    texts |= {"hub up stdout": hub.stdout(), "hub up stderr": hub.stderr()}
    texts |= {f"GET {path}": body for path, body in http.items()}
    for name, done in [("ingest", ingested), ("audit verify", verified)] + [
        (f"audit disclosures {output} of {code}", done)
        for (code, output), done in disclosures.items()
    ]:
        texts[f"hub {name}"] = done.stdout + done.stderr
    assert _found(texts) == []
