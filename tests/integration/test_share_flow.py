"""The municipal share on real Apache Kafka: Kela lines in, the share ledger filled, threshold
alerts out to the financing municipality's authority only."""

from __future__ import annotations

import asyncio
import time
import uuid

import orjson
import pytest

from hub.broker.connection import KafkaConnection
from hub.core.settings import HubSettings
from hub.routing.lines import started_producer
from hub.share.ledger import open_share_ledger
from tests.integration.conftest import Records, read_topic, running_hub
from tests.integration.test_kela_flow import CODE_2
from tests.support import CODE

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("restore_logging")]


def _line(record: str, municipality: str, code: str, days: int, counter: int) -> bytes:
    euros = f"{37.21 * days:.2f}".replace(".", ",")
    return (
        f"{record};{code};{municipality};TMT;03.03.2025;28.03.2025;{days};{euros};{counter};"
        f"02.04.2025;"
    ).encode()


def _ids(records: Records) -> set[str]:
    return {orjson.loads(r.value or b"")["id"] for r in records}


async def test_threshold_alerts_reach_the_financing_authority_and_the_ledger_fills(
    settings: HubSettings, kafka_bootstrap: str
) -> None:
    run = uuid.uuid4().hex[:8].upper()
    lahti, hollola, quiet = (f"S{run}-{n}" for n in (1, 2, 3))
    lines = [
        _line(lahti, "398", CODE, 20, 85),  # days 66-85: crosses day 80
        _line(hollola, "098", CODE_2, 20, 110),  # days 91-110: crosses day 101
        _line(quiet, "398", CODE, 5, 90),  # days 86-90: crosses nothing
    ]
    to_lahti = {f"share.benefit-threshold:{lahti}:80"}
    to_ph = {f"share.benefit-threshold:{hollola}:101"}
    async with running_hub(settings, f"share-{run}"):
        producer = await started_producer(KafkaConnection(kafka_bootstrap, settings))
        try:
            for value in lines:
                await producer.send_and_wait("in.kela.benefit-day", value)
        finally:
            await producer.stop()
        lahti_out = await read_topic(
            kafka_bootstrap, "out.lahti.benefit-threshold", until=lambda r: to_lahti <= _ids(r)
        )
        ph_out = await read_topic(
            kafka_bootstrap, "out.ph.benefit-threshold", until=lambda r: to_ph <= _ids(r)
        )
        ledger = open_share_ledger(settings.data_dir, None)
        try:
            deadline = time.monotonic() + 30
            while not all(ledger.holds(r) for r in (lahti, hollola, quiet)):
                assert time.monotonic() < deadline, "the share ledger never got the records"
                await asyncio.sleep(0.2)
            april = {s.share.record_id: s for s in ledger.records("2025-04")}
        finally:
            ledger.close()
    mine = {f"share.benefit-threshold:{r}:{d}" for r in (lahti, hollola, quiet) for d in
            (80, 101, 201, 301, 401)}  # fmt: skip
    assert _ids(lahti_out) & mine == to_lahti
    assert _ids(ph_out) & mine == to_ph
    [alert] = [r for r in lahti_out if _ids([r]) == to_lahti]
    assert alert.key is not None
    assert CODE.encode() not in alert.key
    assert orjson.loads(alert.value or b"")["data"]["next_step_day"] == 101
    assert april[hollola].share.municipality == "098"
    assert april[lahti].share.day_numbers == (66, 85)
