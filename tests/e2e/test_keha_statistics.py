"""A month through the hub to the state: figures, a correction as version 2, nothing personal.

``hub up`` runs as a separate process on its local Apache Kafka. March 2025 goes in the way
the partners send it: six Lahti jobseekers and one in Hollola (client-status JSON), a
rehabilitative-work-activity referral for each Lahti person, Kela's payment-day line for each,
and Päijät-Sote's Task accepting one referral. Once the statistics store holds every fact,
``hub stats send 2025-03`` sends version 1 of both areas; a Kela correction of a March payment
then changes Lahti's euros, a send without a reason is refused, and one with a reason sends
version 2.

Everything on every ``out.keha.*`` topic (keys, headers, values) and the CSV of ``hub stats
month`` are then scanned for the identity codes of the people, anything shaped like an
identity code, their pseudonymous references (and anything shaped like one), the Kela record
ids, the referral ids, the authorities' change ids and client numbers: none may appear.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import pytest
from aiokafka.structs import ConsumerRecord

from hub.core.topics import TOPICS
from hub.statistics.store import open_store
from schemas.person_ref import person_ref_for
from tests.e2e.conftest import RunningHub, run_hub
from tests.identity_code_scan import identity_codes_in
from tests.integration.conftest import read_topic
from tests.strategies import build_identity_code
from tests.support import Message, send_each

pytestmark = pytest.mark.e2e

StartHub = Callable[..., RunningHub]
SECRET: Final = "keha-statistics-pseudonym-secret-0123456789"
LAHTI_PEOPLE: Final = tuple(
    build_identity_code(dt.date(1970 + n, 1 + n, 10 + n), 941 + n) for n in range(6)
)
HOLLOLA: Final = build_identity_code(dt.date(1999, 12, 31), 988)
PEOPLE: Final = (*LAHTI_PEOPLE, HOLLOLA)
REFERRAL_IDS: Final = tuple(f"L-STAT-{n}" for n in range(6))
RECORD_IDS: Final = (*(f"K2025-STAT-{n:04d}" for n in range(6)), "K2025-STAT-0100")
CHANGE_IDS: Final = tuple(f"m-stat-{n}" for n in range(7))
CLIENT_NUMBERS: Final = tuple(f"A-STAT-{n}" for n in range(7))
PERSON_REF_LIKE: Final = re.compile(r"p-[0-9a-f]{32}")
#: Facts the statistics store holds once everything is in: 7 statuses, 6 referrals, 6
#: payments, 1 outcome; and one more payment after the correction.
FACTS: Final = 20


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def _status(n: int, code: str, municipality: str, topic: str) -> Message:
    return (topic, None, _json({
        "muutosId": CHANGE_IDS[n], "asiakasnumero": CLIENT_NUMBERS[n], "hetu": code,
        "kotikunta": municipality, "tyollisyystilanne": "02", "tilanneAlkaa": "2025-03-03",
        "tyonhakuVoimassa": True, "palvelu": None, "vastuuvirkailija": "Virtanen Maija",
        "muistiinpano": None, "muutettu": "2025-03-03T09:00:00+02:00",
    }))  # fmt: skip


def _referral(n: int) -> Message:
    return ("in.lahti.service-referral", None, _json({
        "lahete_id": REFERRAL_IDS[n], "hetu": LAHTI_PEOPLE[n], "lahettaja": "lahti",
        "vastaanottaja": "sote", "palvelu": "KUNTOUTTAVA_TYOTOIMINTA",
        "perustelu": "Pitkään jatkunut työttömyys.", "kiireellisyys": "normaali",
        "toivottu_alku": "2025-04-01", "suostumus": True,
        "lahetetty": "2025-03-14T10:00:00+02:00",
    }))  # fmt: skip


def _kela(record: str, code: str, days: str, euros: str, paid: str, corrects: str = "") -> Message:
    fields = (record, code, "398", "TMT", "01.03.2025", "31.03.2025", days, euros, "1021")
    return ("in.kela.benefit-day", None, ";".join((*fields, paid, corrects)).encode())


def _task() -> Message:
    return ("in.sote.referral-status", REFERRAL_IDS[0].encode(), _json({
        "resourceType": "Task", "status": "accepted", "intent": "order",
        "basedOn": [{"identifier": {"system": "urn:fi:paijathame:hub:referral",
                                    "value": REFERRAL_IDS[0]}}],
        "for": {"identifier": {"system": "urn:oid:1.2.246.21", "value": LAHTI_PEOPLE[0]}},
        "lastModified": "2025-03-20T09:00:00+02:00",
    }))  # fmt: skip


MARCH_MESSAGES: Final[list[Message]] = [
    *(_status(n, code, "398", "in.lahti.client-status") for n, code in enumerate(LAHTI_PEOPLE)),
    _status(6, HOLLOLA, "098", "in.ph.client-status"),
    *(_referral(n) for n in range(6)),
    *(
        _kela(RECORD_IDS[n], code, "21", "737,55", "28.03.2025")
        for n, code in enumerate(LAHTI_PEOPLE)
    ),
]
CORRECTION: Final = _kela(
    RECORD_IDS[6], LAHTI_PEOPLE[0], "-2", "-70,24", "31.03.2025", corrects=RECORD_IDS[0]
)


def _wait_for_facts(data_dir: Path, count: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        store = open_store(data_dir, None)
        try:
            held = store.fact_count()
        finally:
            store.close()
        if held >= count:
            assert held == count
            return
        if time.monotonic() > deadline:
            pytest.fail(f"the statistics store holds {held} of {count} facts")
        time.sleep(0.2)


def _keha_topics() -> list[str]:
    return [spec.name for spec in TOPICS if spec.name.startswith("out.keha.")]


def _month(hub: RunningHub, *options: str) -> Any:
    done = run_hub("stats", "month", "2025-03", *options, env=hub.env)
    assert done.returncode == 0, done.stderr
    return done


def _scan(text: str) -> list[str]:
    refs = [person_ref_for(code, SECRET.encode()) for code in PEOPLE]
    found = identity_codes_in(text, PEOPLE)
    found += PERSON_REF_LIKE.findall(text)
    ids = (*refs, *REFERRAL_IDS, *RECORD_IDS, *CHANGE_IDS, *CLIENT_NUMBERS, "K2025-STAT")
    found += [value for value in ids if value in text]
    return found


def _record_text(record: ConsumerRecord[bytes, bytes]) -> str:
    headers = " ".join(f"{k}={v.decode(errors='replace')}" for k, v in record.headers)
    key = (record.key or b"").decode(errors="replace")
    return f"{key} {headers} {(record.value or b'').decode(errors='replace')}"


def test_a_month_reaches_the_state_as_aggregates_and_a_correction_as_version_two(
    start_hub: StartHub, tmp_path: Path
) -> None:
    hub = start_hub(HUB_PSEUDONYM_SECRET=SECRET)
    hub.wait_ready()
    data_dir = Path(hub.env["HUB_DATA_DIR"])
    asyncio.run(send_each(hub.bootstrap, MARCH_MESSAGES))
    _wait_for_facts(data_dir, FACTS - 1)
    asyncio.run(send_each(hub.bootstrap, [_task()]))
    _wait_for_facts(data_dir, FACTS)

    preview = json.loads(_month(hub, "--format", "json").stdout)
    lahti = next(d for d in preview if d["area"] == "lahti")
    assert lahti["jobseekers_by_status"]["cells"]["02"] == {"value": 6, "suppressed": False}
    assert lahti["unemployment_spells_begun"]["value"] == 6
    assert lahti["referrals_sent"]["rehabilitative_work_activity"]["cells"]["sote"]["value"] == 6
    outcomes = lahti["referral_outcomes"]["rehabilitative_work_activity"]
    assert outcomes["cells"]["accepted"] == {"value": None, "suppressed": True}  # one referral
    subsidy = lahti["benefit_payments"]["labour_market_subsidy"]
    assert subsidy["persons"]["value"] == 6
    assert (subsidy["payment_days"]["value"], subsidy["euros_paid"]["value"]) == (126, "4425.30")
    ph = next(d for d in preview if d["area"] == "ph")
    assert ph["jobseekers_by_status"]["cells"]["02"] == {"value": None, "suppressed": True}
    assert ph["jobseekers_by_status"]["total"]["suppressed"] is True

    sent = run_hub("stats", "send", "2025-03", env=hub.env)
    assert sent.returncode == 0, sent.stderr
    assert "lahti 2025-03: version 1 sent to out.keha.statistics" in sent.stdout
    assert "ph 2025-03: version 1 sent to out.keha.statistics" in sent.stdout
    again = run_hub("stats", "send", "2025-03", env=hub.env)
    assert again.returncode == 0, again.stderr
    assert "lahti 2025-03: figures unchanged since version 1, nothing sent" in again.stdout

    asyncio.run(send_each(hub.bootstrap, [CORRECTION]))
    _wait_for_facts(data_dir, FACTS + 1)
    assert "changed since version 1" in _month(hub, "--area", "lahti").stderr
    refused = run_hub("stats", "send", "2025-03", env=hub.env)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "hub: error: the figures of lahti 2025-03 changed since version 1 was sent: give "
        "--reason to send version 2"
    ]
    reason = "Kela corrected a payment of March"
    corrected = run_hub("stats", "send", "2025-03", "--reason", reason, env=hub.env)
    assert corrected.returncode == 0, corrected.stderr
    assert "lahti 2025-03: version 2 sent to out.keha.statistics" in corrected.stdout
    assert "ph 2025-03: figures unchanged since version 1, nothing sent" in corrected.stdout

    resent = run_hub("stats", "resend", "2025-03", "--area", "ph", env=hub.env)
    assert resent.returncode == 0, resent.stderr
    assert resent.stdout.strip() == "ph 2025-03: version 1 sent again to out.keha.statistics"

    records = asyncio.run(
        read_topic(hub.bootstrap, "out.keha.statistics", until=lambda r: len(r) >= 4)
    )
    documents = [json.loads(r.value or b"{}") for r in records]
    assert sorted((d["subject"], d["data"]["version"]) for d in documents) == [
        ("lahti/2025-03", 1), ("lahti/2025-03", 2), ("ph/2025-03", 1), ("ph/2025-03", 1),
    ]  # fmt: skip
    first_ph, again_ph = [r.value for r in records if r.key == b"ph/2025-03"]
    assert again_ph == first_ph  # the same bytes, the same event id
    [second] = [d for d in documents if d["data"]["version"] == 2]
    assert second["id"] == "statistics-lahti-2025-03-v2"
    assert (second["data"]["replaces_version"], second["data"]["reason"]) == (1, reason)
    paid = second["data"]["benefit_payments"]["labour_market_subsidy"]
    assert (paid["payment_days"]["value"], paid["euros_paid"]["value"]) == (124, "4355.06")
    assert {r.key for r in records} == {b"lahti/2025-03", b"ph/2025-03"}

    texts = [
        _record_text(record)
        for topic in _keha_topics()
        for record in asyncio.run(read_topic(hub.bootstrap, topic, until=lambda r: False,
                                             timeout_s=2.0))
    ]  # fmt: skip
    assert len(texts) == 4
    texts.append(_month(hub, "--format", "csv").stdout)
    texts.append(_month(hub, "--format", "json").stdout)
    for text in texts:
        assert _scan(text) == [], text[:300]
    # The net catches what it looks for: the canonical events carry the references and ids.
    canonical = asyncio.run(
        read_topic(hub.bootstrap, "hub.client-status.v1", until=lambda r: len(r) >= 7)
    )
    assert len(_scan(" ".join(_record_text(r) for r in canonical))) >= 3 * 7

    # The store refilled from the audit log gives the same figures (the sent version stands).
    before = _month(hub, "--format", "json").stdout
    rebuilt = run_hub("stats", "rebuild", env=hub.env)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rebuilt.stdout.strip() == f"rebuilt the statistics from {FACTS + 1} recorded event(s)"
    assert _month(hub, "--format", "json").stdout == before
    _wait_for_facts(data_dir, FACTS + 1)

    verified = run_hub("audit", "verify", env=hub.env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert hub.stop() == 0
