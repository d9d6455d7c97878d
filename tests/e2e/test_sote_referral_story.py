"""A referral's life with Päijät-Sote, end to end on its local Apache Kafka.

Lahti refers a jobseeker to rehabilitative work activity; Päijät-Sote receives a FHIR
``ServiceRequest``, answers with ``Task`` resources (accepted, in progress, completed), and
Lahti receives HYVAKSYTTY, ALKANUT and PAATTYNYT. A Task that would move the completed
referral back, and one for a referral the hub never sent, are dead-lettered; nobody hears
anything false.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from fhir.resources.R4B.servicerequest import ServiceRequest

from connectors.sote.outbound import CONFORMANCE_DIR
from hub.referrals.register import ReferralKey, ReferralRegister
from tests.e2e.conftest import RunningHub, run_hub
from tests.fhir_validator import validate
from tests.integration.conftest import read_topic

pytestmark = pytest.mark.e2e

StartHub = Callable[..., RunningHub]
CODE = "131052-930V"


def never(_records: object) -> bool:
    """A read that takes whatever is there within its timeout."""
    return False


def _referral() -> bytes:
    return json.dumps(
        {
            "lahete_id": "L-2025-000871",
            "hetu": CODE,
            "lahettaja": "lahti",
            "vastaanottaja": "sote",
            "palvelu": "KUNTOUTTAVA_TYOTOIMINTA",
            "perustelu": "Pitkään jatkunut työttömyys; selkäkipu rajoittaa.",
            "kiireellisyys": "normaali",
            "toivottu_alku": "2025-04-01",
            "suostumus": True,
            "lahetetty": "2025-03-14T10:00:00+02:00",
        }
    ).encode()


def _task(referral_id: str, status: str, at: str, reason: str | None = None) -> bytes:
    task: dict[str, object] = {
        "resourceType": "Task",
        "status": status,
        "intent": "order",
        "basedOn": [
            {"identifier": {"system": "urn:fi:paijathame:hub:referral", "value": referral_id}}
        ],
        "lastModified": at,
    }
    if reason is not None:
        task["statusReason"] = {"text": reason}
    return json.dumps(task).encode()


def test_referral_to_sote_and_its_tasks_reach_the_sender_as_status_updates(
    start_hub: StartHub, tmp_path: Path
) -> None:
    # A configured organisation OID must reach the ServiceRequest the running hub renders.
    hub = start_hub(HUB_ORGANISATION_OID_LAHTI="1.2.246.10.42.10")
    hub.wait_ready()
    data_dir = tmp_path / "data0"

    async def send(topic: str, value: bytes, key: bytes | None = None) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=hub.bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(topic, value, key=key)
        finally:
            await producer.stop()

    run = asyncio.run
    run(send("in.lahti.service-referral", _referral()))
    [request] = run(read_topic(hub.bootstrap, "out.sote.service-referral", until=bool))
    assert dict(request.headers)["content-type"] == b"application/fhir+json"
    resource = ServiceRequest.model_validate_json(request.value or b"")
    assert resource.identifier[0].value == "L-2025-000871"
    assert resource.subject.identifier.value == CODE
    assert resource.priority == "routine"
    assert resource.requester.identifier.value == "urn:oid:1.2.246.10.42.10"
    # What the running hub sent is what a FHIR server accepts (HAPI, the hub's profile).
    [(_, issues)] = validate({"sent": request.value or b""}, CONFORMANCE_DIR).items()
    assert [i for i in issues if i.severity in {"error", "fatal"}] == []

    deadline = time.monotonic() + 30
    while ReferralRegister.open(data_dir).referral(ReferralKey("lahti", "L-2025-000871")) is None:
        assert time.monotonic() < deadline, "the referral never reached the register"
        time.sleep(0.1)

    # Päijät-Sote keys its Tasks by referral id, so one referral's updates stay in order.
    key = b"L-2025-000871"
    for status, at in (
        ("accepted", "2025-03-20T09:00:00+02:00"),
        ("in-progress", "2025-04-01T08:00:00+03:00"),
        ("completed", "2025-06-30T15:00:00+03:00"),
        ("completed", "2025-06-30T15:00:00+03:00"),  # redelivered: accepted once
        ("accepted", "2025-07-01T08:00:00+03:00"),  # completed -> accepted: illegal
    ):
        run(send("in.sote.referral-status", _task("L-2025-000871", status, at), key))
    unknown = _task("L-2025-999999", "accepted", "2025-03-20T09:00:00+02:00")
    run(send("in.sote.referral-status", unknown))

    def settled(topic: str) -> list[bytes]:
        # Everything that will arrive has arrived once the expected messages are there and a
        # moment has passed; a false update would be among them.
        records = run(read_topic(hub.bootstrap, topic, until=never, timeout_s=1.5))
        return [r.value or b"" for r in records]

    run(read_topic(hub.bootstrap, "out.lahti.referral-status", until=lambda r: len(r) >= 3))
    letters = run(read_topic(hub.bootstrap, "hub.deadletter.v1", until=lambda r: len(r) >= 2))
    time.sleep(1.0)
    updates = [json.loads(value) for value in settled("out.lahti.referral-status")]
    assert [update["tila"] for update in updates] == ["HYVAKSYTTY", "ALKANUT", "PAATTYNYT"]
    assert updates[-1] == {
        "lahete_id": "L-2025-000871",
        "tila": "PAATTYNYT",
        "syy": None,
        "aika": "2025-06-30T15:00:00+03:00",
    }
    assert settled("out.ph.referral-status") == []
    reasons = sorted(dict(letter.headers)["hub-dlq-reason"].decode() for letter in letters)
    assert reasons == ["illegal-transition", "unknown-referral"]

    shown = run_hub("referrals", "show", "L-2025-000871", env=hub.env)
    assert shown.returncode == 0, shown.stderr
    assert "state      completed" in shown.stdout
    for state in ("sent", "accepted", "in_progress", "completed"):
        assert f"  {state}  " in shown.stdout
    assert CODE not in shown.stdout

    assert hub.stop() == 0
    assert CODE not in hub.stderr()
