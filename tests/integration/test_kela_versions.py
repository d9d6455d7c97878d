"""benefit-day v1 and v2 on a real Apache Kafka, with the hub's real routes.

A general-support (``YLT``) record reaches ``hub.benefit-day.v2`` only; a ``TMT`` record both
topics with one event id; the authorities, whose contracts name v1, get the ``TMT`` record
once; the share ledger holds both records once. The file path publishes alike.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import orjson
import pytest

from connectors import CONNECTORS
from connectors.kela.file_ingest import ingest_file
from connectors.kela.inbound import event_id_for
from connectors.kela.intake import Intake
from connectors.kela.ledger import BenefitLedger
from hub.admin.provisioning import provision_topics
from hub.app.runtime import contract_book_for
from hub.broker.connection import KafkaConnection
from hub.core.settings import HubSettings, pseudonym_secret
from hub.routing.lines import started_producer
from hub.share.ledger import open_share_ledger
from tests.integration.conftest import Records, read_topic
from tests.integration.test_kela_flow import file_producer, running_hub
from tests.support import CODE

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("restore_logging")]

V1, V2 = "hub.benefit-day.v1", "hub.benefit-day.v2"
HEADER = (
    b"tapahtumatunnus;hetu;kotikunta;etuus;jakso_alku;jakso_loppu;maksupaivat;maksettu;"
    b"kertyma;maksupvm;korjattava\n"
)


def _line(record: str, benefit: str) -> bytes:
    return (
        f"{record};{CODE};398;{benefit};04.05.2026;29.05.2026;20;744,20;210;02.06.2026;"
    ).encode()


def _ids(records: Records) -> list[str]:
    return [orjson.loads(r.value or b"")["id"] for r in records]


def _mine(records: Records, ids: set[str]) -> Records:
    return [r for r in records if orjson.loads(r.value or b"")["id"] in ids]


async def _read(bootstrap: str, topic: str, ids: set[str], wanted: set[str]) -> Records:
    """``topic``'s records with one of ``ids``, read until each of ``wanted`` is there."""
    records = await read_topic(
        bootstrap, topic, until=lambda rs: wanted <= set(_ids(_mine(rs, ids)))
    )
    return _mine(records, ids)


async def _share_records(settings: HubSettings, wanted: set[str]) -> dict[str, str]:
    """Record id → Kela benefit code in the share ledger, once each of ``wanted`` is there."""
    found: dict[str, str] = {}
    for _ in range(300):
        ledger = open_share_ledger(settings.data_dir, None)
        try:
            found = {
                r: stored.share.benefit for r in wanted if (stored := ledger.record(r)) is not None
            }
        finally:
            ledger.close()
        if set(found) == wanted:
            break
        await asyncio.sleep(0.1)
    return found


async def test_general_support_on_v2_only_and_tmt_on_both_once_each(
    settings: HubSettings, kafka_bootstrap: str
) -> None:
    run = uuid.uuid4().hex[:8].upper()
    ylt, tmt = f"K{run}-1", f"K{run}-2"
    ids = {event_id_for(ylt), event_id_for(tmt)}
    async with running_hub(settings, f"test-{run}"):
        producer = await started_producer(KafkaConnection(kafka_bootstrap, settings))
        try:
            # YLT first: if it went to v1 it would be there before TMT's v1 copy.
            for value in (_line(ylt, "YLT"), _line(tmt, "TMT")):
                await producer.send_and_wait("in.kela.benefit-day", value)
        finally:
            await producer.stop()
        v2 = await _read(kafka_bootstrap, V2, ids, ids)
        v1 = await _read(kafka_bootstrap, V1, ids, {event_id_for(tmt)})
        lahti = await _read(kafka_bootstrap, "out.lahti.benefit-day", ids, {event_id_for(tmt)})
        share = await _share_records(settings, {ylt, tmt})
        letters = [
            r
            for r in await read_topic(kafka_bootstrap, "hub.deadletter.v1", until=lambda _: True)
            if f"K{run}".encode() in (r.value or b"")
        ]

    assert sorted(_ids(v2)) == sorted(ids)
    assert _ids(v1) == [event_id_for(tmt)]
    benefits = {orjson.loads(r.value or b"")["data"]["benefit"] for r in v2}
    assert benefits == {"general_support", "labour_market_subsidy"}
    for record in (*v1, *v2):
        event = orjson.loads(record.value or b"")
        assert record.key == event["subject"].encode()
        assert dict(record.headers)["correlation_id"] == event["id"].encode()
        assert CODE.encode() not in (record.key or b"")
    assert orjson.loads(v1[0].value or b"")["type"] == "fi.paijathame.hub.benefit-day.v1"
    # Lahti's contract names v1: the TMT record once, the YLT record not (yet).
    assert _ids(lahti) == [event_id_for(tmt)]
    assert share == {ylt: "YLT", tmt: "TMT"}
    assert letters == []


async def test_the_file_path_publishes_both_versions(
    settings: HubSettings, kafka_bootstrap: str, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8].upper()
    ylt, ppr = f"K{run}-1", f"K{run}-2"
    ids = {event_id_for(ylt), event_id_for(ppr)}
    path = tmp_path / "kela.csv"
    path.write_bytes(HEADER + _line(ylt, "YLT") + b"\n" + _line(ppr, "PPR") + b"\n")
    connection = KafkaConnection(kafka_bootstrap, settings)
    await provision_topics(connection)
    secret = pseudonym_secret(settings)
    ledger = BenefitLedger.open(settings.data_dir, secret)
    producer = await file_producer(connection)
    try:
        summary = await ingest_file(
            path, Intake(ledger, secret), contract_book_for(settings, CONNECTORS), producer
        )
    finally:
        await producer.stop()
        ledger.close()
    assert (summary.accepted, summary.rejected) == (2, 0)
    assert summary.recipients == {"lahti": 1, "not routed": 1}
    v2 = await _read(kafka_bootstrap, V2, ids, ids)
    v1 = await _read(kafka_bootstrap, V1, ids, {event_id_for(ppr)})
    assert sorted(_ids(v2)) == sorted(ids)
    assert _ids(v1) == [event_id_for(ppr)]
