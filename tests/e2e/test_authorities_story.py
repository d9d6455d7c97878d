"""A realistic day through the hub, checked on every partner topic.

A Lahti jobseeker registers as unemployed, is referred to Päijät-Sote for rehabilitative work
activity, starts it, the referral is accepted, and the person moves to Hollola (recorded by the
Päijät-Häme employment area). The employment area also refers another person to Lahti's
integration training. ``hub up`` runs as a separate process on its local Apache Kafka; the test
reads every ``out.*`` topic and checks exactly which messages, with which fields, arrived.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from lxml import etree

from contracts import CONTRACT_DIR
from hub.core.topics import TOPICS, TopicKind
from hub.referrals.register import ReferralKey, ReferralRegister
from schemas.envelope import ReferralStatusEvent, dataschema_for
from schemas.person_ref import person_ref_for
from tests.e2e.conftest import RunningHub
from tests.integration.conftest import Records, read_topic

pytestmark = pytest.mark.e2e

StartHub = Callable[..., RunningHub]
SECRET = "e2e-pseudonym-secret-0123456789abcdef"
JOBSEEKER = "131052-930V"
NEWCOMER = "010203A912E"
XSD = etree.XMLSchema(etree.parse(str(CONTRACT_DIR / "kela" / "tvpt.xsd")))


def _status(change: str, municipality: str, code: str, since: str, service: Any = None,
            at: str = "2025-03-01T08:12:00+02:00") -> bytes:  # fmt: skip
    return json.dumps(
        {
            "muutosId": change,
            "asiakasnumero": "A-1002345",
            "hetu": JOBSEEKER,
            "kotikunta": municipality,
            "tyollisyystilanne": code,
            "tilanneAlkaa": since,
            "tyonhakuVoimassa": True,
            "palvelu": service,
            "vastuuvirkailija": "Virtanen Maija",
            "muistiinpano": "Selkävaivoja, ohjattu terveystarkastukseen.",
            "muutettu": at,
        }
    ).encode()


def _referral(referral_id: str, code: str, sender: str, recipient: str, service: str) -> bytes:
    return json.dumps(
        {
            "lahete_id": referral_id,
            "hetu": code,
            "lahettaja": sender,
            "vastaanottaja": recipient,
            "palvelu": service,
            "perustelu": "Pitkään jatkunut työttömyys; selkäkipu rajoittaa.",
            "kiireellisyys": "normaali",
            "toivottu_alku": "2025-04-01",
            "suostumus": True,
            "lahetetty": "2025-03-14T10:00:00+02:00",
        }
    ).encode()


def _accepted(referral_id: str) -> bytes:
    return (
        ReferralStatusEvent.model_validate(
            {
                "id": f"sote-task-{referral_id}-accepted",
                "source": "urn:fi:paijathame:hub:connector:sote",
                "subject": person_ref_for(JOBSEEKER, SECRET.encode()),
                "time": "2025-03-20T09:00:00+02:00",
                "dataschema": dataschema_for("fi.paijathame.hub.referral-status.v1"),
                "data": {
                    "referral_id": referral_id,
                    "state": "accepted",
                    "reason": None,
                    "reported_by": "sote",
                    "referral_sender": "lahti",
                    "at": "2025-03-20T09:00:00+02:00",
                },
            }
        )
        .model_dump_json()
        .encode()
    )


def _wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


async def _read_all(bootstrap: str, expected: dict[str, int]) -> dict[str, Records]:
    """Every out.* topic; waits for the expected counts, then a little longer for strays."""
    found = {}
    for spec in TOPICS:
        if spec.kind is TopicKind.OUTBOUND:
            want = expected.get(spec.name, 0)
            found[spec.name] = await read_topic(
                bootstrap, spec.name, until=lambda r, n=want: n > 0 and len(r) >= n,
                timeout_s=30.0 if want else 0.5,
            )  # fmt: skip
    return found


def _data(record: Any) -> dict[str, Any]:
    return dict(json.loads(record.value)["data"])


def test_a_day_of_jobseeker_events_reaches_exactly_the_right_partners(
    start_hub: StartHub, tmp_path: Path
) -> None:
    hub = start_hub(HUB_PSEUDONYM_SECRET=SECRET)
    hub.wait_ready()
    data_dir = tmp_path / "data0"
    ktt = {"koodi": "KTT", "alkaa": "2025-04-01", "paattyy": None}

    async def send(topic: str, value: bytes) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=hub.bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(topic, value)
        finally:
            await producer.stop()

    def referral_known(referral_id: str, state: str) -> Callable[[], bool]:
        def check() -> bool:
            record = ReferralRegister.open(data_dir).referral(ReferralKey("lahti", referral_id))
            return record is not None and record.state == state

        return check

    run = asyncio.run
    run(send("in.lahti.client-status", _status("m-1", "398", "02", "2025-03-01")))
    to_sote = _referral("L-2025-1", JOBSEEKER, "lahti", "sote", "KUNTOUTTAVA_TYOTOIMINTA")
    run(send("in.lahti.service-referral", to_sote))
    _wait_for(referral_known("L-2025-1", "sent"), "the referral in the register")
    run(send("in.lahti.client-status", _status("m-2", "398", "07", "2025-04-01", ktt,
                                               at="2025-04-01T08:00:00+03:00")))  # fmt: skip
    run(send("hub.referral-status.v1", _accepted("L-2025-1")))
    _wait_for(referral_known("L-2025-1", "accepted"), "the accepted state in the register")
    # The move, a month later, comes from the other authority's own topic, which another route
    # reads: Lahti's April change must have gone through before it, as it would have in life.
    run(read_topic(hub.bootstrap, "out.kela.client-status", until=lambda r: len(r) >= 2))
    run(send("in.ph.client-status", _status("m-3", "098", "07", "2025-04-01", ktt,
                                            at="2025-05-02T09:30:00+03:00")))  # fmt: skip
    run(send("in.lahti.client-status", _status("m-1", "398", "02", "2025-03-01")))  # duplicate
    run(send("in.lahti.client-status", _status("m-4", "398", "06", "2025-05-01")))  # retired
    run(send("in.ph.service-referral",
             _referral("PH-77", NEWCOMER, "ph", "lahti", "KOTOUTUMISKOULUTUS")))  # fmt: skip

    expected = {
        "out.kela.client-status": 3,
        "out.lahti.client-status": 1,
        "out.sote.client-status": 2,
        "out.sote.service-referral": 1,
        "out.lahti.referral-status": 1,
        "out.lahti.service-referral": 1,
    }
    out = run(_read_all(hub.bootstrap, expected))
    counts = {topic: len(records) for topic, records in out.items() if records}
    assert counts == expected

    # Kela: one labour-policy document per change, valid, no internal fields.
    kela = [etree.fromstring(r.value) for r in out["out.kela.client-status"]]
    assert all(XSD.validate(document) for document in kela)
    ns = {"k": "urn:fi:kela:tvpt:1"}
    assert sorted(d.findtext("k:Antaja", namespaces=ns) for d in kela) == ["lahti", "lahti", "ph"]
    for record in out["out.kela.client-status"]:
        assert b"Virtanen" not in record.value
        assert "Selkävaivoja".encode() not in record.value

    # Lahti: only that its client moved out - no status details.
    [notice] = out["out.lahti.client-status"]
    event = json.loads(notice.value)
    assert event["hubnotice"] == "moved-out"
    assert event["data"] == {
        "authority": "ph",
        "person_id": JOBSEEKER,
        "previous_home_municipality": "398",
        "changed_at": "2025-05-02T09:30:00+03:00",
    }

    # Päijät-Sote: the changes after the referral opened, with its contract's fields only.
    sote = [_data(r) for r in out["out.sote.client-status"]]
    assert [d["employment_status"] for d in sote] == ["in_service", "in_service"]
    for data in sote:
        assert set(data) <= {
            "authority", "person_id", "employment_status", "status_since",
            "job_search_active", "service", "changed_at",
        }  # fmt: skip

    # Päijät-Sote received the referral as a FHIR ServiceRequest (no consent flag, no status).
    [request] = out["out.sote.service-referral"]
    resource = json.loads(request.value)
    assert resource["resourceType"] == "ServiceRequest"
    assert resource["identifier"][0]["value"] == "L-2025-1"

    # The referral's sender hears it was accepted, in its own JSON.
    [status] = out["out.lahti.referral-status"]
    assert json.loads(status.value) == {
        "lahete_id": "L-2025-1",
        "tila": "HYVAKSYTTY",
        "syy": None,
        "aika": "2025-03-20T09:00:00+02:00",
    }

    # Integration training referred by the employment area reaches Lahti.
    [training] = out["out.lahti.service-referral"]
    assert _data(training)["service"] == "integration_training"
    assert _data(training)["person_id"] == NEWCOMER

    # Every partner message is keyed by the pseudonymous reference, never the identity code.
    for records in out.values():
        for record in records:
            assert record.key is not None
            assert record.key.startswith(b"p-")

    # The retired code 06 was dead-lettered with its reason; the duplicate went nowhere.
    letters = run(read_topic(hub.bootstrap, "hub.deadletter.v1", until=bool))
    reasons = {dict(r.headers)["hub-dlq-reason"] for r in letters}
    assert reasons == {b"unknown-employment-status-code"}

    assert hub.stop() == 0
    for code in (JOBSEEKER, NEWCOMER):
        assert code not in hub.stderr()
