"""Integration training between the authorities on a real Apache Kafka, with the hub's routes.

Lahti refers a person to Päijät-Häme's integration training; Päijät-Häme answers on
``in.ph.referral-status``. The answers the referral's history allows reach Lahti on
``out.lahti.referral-status`` (and nobody else); an illegal transition, an unknown referral
and an authority answering for a referral not sent to it are dead-lettered with their own
reasons, and the answers behind them keep flowing.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path

import orjson
import pytest

from hub.broker.connection import KafkaConnection
from hub.core.settings import HubSettings
from hub.core.topics import DEADLETTER_TOPIC
from hub.referrals.register import ReferralKey, ReferralRegister
from hub.routing.deadletter import DLQ_REASON, SOURCE_TOPIC
from hub.routing.lines import started_producer
from tests.integration.conftest import Records, read_topic, running_hub
from tests.support import CODE

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("restore_logging")]


def _referral(referral_id: str, sender: str, recipient: str, service: str) -> bytes:
    return json.dumps(
        {
            "lahete_id": referral_id, "hetu": CODE, "lahettaja": sender,
            "vastaanottaja": recipient, "palvelu": service, "perustelu": "Suomen kielen taso A1.",
            "kiireellisyys": "normaali", "toivottu_alku": "2025-08-11", "suostumus": True,
            "lahetetty": "2025-03-14T10:00:00+02:00",
        }
    ).encode()  # fmt: skip


def _answer(referral_id: str, tila: str, aika: str) -> bytes:
    return json.dumps({"lahete_id": referral_id, "tila": tila, "syy": None, "aika": aika}).encode()


async def _registered(data_dir: Path, key: ReferralKey) -> None:
    """Wait until the register route has recorded the referral (the hub's own order: a
    receiver answers only what reached it)."""
    deadline = time.monotonic() + 60
    register = ReferralRegister.open(data_dir)
    try:
        while register.referral(key) is None:
            assert time.monotonic() < deadline, f"{key} never reached the register"
            await asyncio.sleep(0.2)
    finally:
        register.close()


async def test_answers_reach_the_sender_and_bad_ones_are_dead_lettered(
    settings: HubSettings, kafka_bootstrap: str
) -> None:
    run = uuid.uuid4().hex[:8].upper()
    shared, unknown = f"L-{run}", f"L-{run}-404"
    async with running_hub(settings, f"test-{run}"):
        producer = await started_producer(KafkaConnection(kafka_bootstrap, settings))
        try:

            async def send(topic: str, value: bytes, key: str) -> None:
                await producer.send_and_wait(topic, value, key=key.encode())

            # Both authorities use the id: Lahti for integration training at Päijät-Häme,
            # Päijät-Häme for a health check at Päijät-Sote.
            await send(
                "in.lahti.service-referral",
                _referral(shared, "lahti", "ph", "KOTOUTUMISKOULUTUS"),
                shared,
            )
            await send(
                "in.ph.service-referral",
                _referral(shared, "ph", "sote", "TERVEYSTARKASTUS"),
                shared,
            )
            await _registered(settings.data_dir, ReferralKey("lahti", shared))
            await _registered(settings.data_dir, ReferralKey("ph", shared))
            for tila, aika in (
                ("HYVAKSYTTY", "2025-03-20T09:30:00+02:00"),
                ("HYVAKSYTTY", "2025-03-20T09:30:00+02:00"),  # repeated: once
                ("HYLATTY", "2025-03-21T09:30:00+02:00"),  # illegal after acceptance
                ("PAATTYNYT", "2025-12-19T12:00:00+02:00"),  # a course done in one go
            ):
                await send("in.ph.referral-status", _answer(shared, tila, aika), shared)
            await send(
                "in.ph.referral-status",
                _answer(unknown, "HYVAKSYTTY", "2025-03-20T09:30:00+02:00"),
                unknown,
            )
            # Lahti answering for the id: Lahti received no referral with it.
            await send(
                "in.lahti.referral-status",
                _answer(shared, "HYVAKSYTTY", "2025-03-20T09:30:00+02:00"),
                shared,
            )
        finally:
            await producer.stop()

        def answers(records: Records) -> list[dict[str, object]]:
            found = [orjson.loads(r.value or b"") for r in records]
            return [a for a in found if a["lahete_id"] == shared]

        def mine(records: Records) -> Records:
            return [r for r in records if run.encode() in (r.value or b"")]

        letters = mine(
            await read_topic(kafka_bootstrap, DEADLETTER_TOPIC, until=lambda r: len(mine(r)) >= 3)
        )
        to_lahti = answers(
            await read_topic(
                kafka_bootstrap,
                "out.lahti.referral-status",
                until=lambda r: len(answers(r)) >= 2,
            )
        )
        canonical = [
            event
            for event in (
                orjson.loads(r.value or b"")
                for r in await read_topic(
                    kafka_bootstrap,
                    "hub.referral-status.v1",
                    until=lambda r: sum(run.encode() in (x.value or b"") for x in r) >= 2,
                )
            )
            if event["data"]["referral_id"] == shared
        ]
        # The events that could have gone to Päijät-Häme were distributed with those to Lahti,
        # which have arrived: whatever is on its topic now is all there is.
        to_ph = answers(
            await read_topic(
                kafka_bootstrap, "out.ph.referral-status", until=lambda r: False, timeout_s=3
            )
        )

    assert [(a["tila"], a["aika"], a["syy"]) for a in to_lahti] == [
        ("HYVAKSYTTY", "2025-03-20T09:30:00+02:00", None),
        ("PAATTYNYT", "2025-12-19T12:00:00+02:00", None),
    ]
    assert to_ph == []
    assert [(e["data"]["reported_by"], e["data"]["referral_sender"]) for e in canonical] == [
        ("ph", "lahti"),
        ("ph", "lahti"),
    ]
    reasons = {
        (dict(r.headers)[DLQ_REASON].decode(), dict(r.headers)[SOURCE_TOPIC].decode())
        for r in letters
    }
    assert reasons == {
        ("illegal-transition", "in.ph.referral-status"),
        ("unknown-referral", "in.ph.referral-status"),
        ("not-the-recipient", "in.lahti.referral-status"),
    }
    register = ReferralRegister.open(settings.data_dir)
    lahti_referral = register.referral(ReferralKey("lahti", shared))
    ph_referral = register.referral(ReferralKey("ph", shared))
    register.close()
    assert lahti_referral is not None
    assert ph_referral is not None
    assert (lahti_referral.state, ph_referral.state) == ("completed", "sent")
