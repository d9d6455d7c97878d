"""The Kela connector end to end on a real Apache Kafka, with the hub's real routes.

Records come in on ``in.kela.benefit-day`` and from a file; canonical events reach
``hub.benefit-day.v1``; the contracts route them to ``out.lahti.benefit-day`` /
``out.ph.benefit-day``; client-status events reach Kela as XML. Every record is published once,
across restarts and across the two paths.
"""

from __future__ import annotations

import base64
import gc
import gzip
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from lxml import etree

from connectors import CONNECTORS
from connectors.kela.file_ingest import (
    TRANSACTIONAL_GROUP,
    IngestFencedError,
    IngestSummary,
    check_file,
    ingest_file,
)
from connectors.kela.inbound import event_id_for
from connectors.kela.intake import Intake
from connectors.kela.ledger import BenefitLedger
from contracts import CONTRACT_DIR
from hub.admin.provisioning import provision_topics
from hub.app.kela_ingest import ingest_kela
from hub.app.runtime import contract_book_for
from hub.audit.signing import PRIVATE_KEY_FILE, load_or_create_signing_key
from hub.broker.connection import KafkaConnection
from hub.core.settings import HubSettings, pseudonym_secret
from hub.core.topics import DEADLETTER_TOPIC
from hub.routing.deadletter import (
    DLQ_ENCODING,
    DLQ_QUARANTINE,
    DLQ_REASON,
    SOURCE_FILE,
    SOURCE_LINE,
    SOURCE_TOPIC,
    TOO_LARGE_QUARANTINED,
)
from hub.routing.lines import started_producer
from hub.routing.quarantine import QuarantineStore
from hub.routing.transactions import RouteProducer, transactional_id
from tests.integration.conftest import Records, read_topic, running_hub
from tests.publishers import RecordingPublisher
from tests.support import CODE, client_status_event

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("restore_logging")]

XSD = etree.XMLSchema(etree.parse(str(CONTRACT_DIR / "kela" / "tvpt.xsd")))
CODE_2 = "010105B9789"


def _line(record: str, municipality: str = "398", days: str = "21", euros: str = "737,55",
          corrects: str = "", code: str = CODE) -> bytes:  # fmt: skip
    return (
        f"{record};{code};{municipality};TMT;01.03.2025;31.03.2025;{days};{euros};1021;"
        f"05.04.2025;{corrects}"
    ).encode()


async def file_producer(connection: KafkaConnection) -> RouteProducer:
    """A producer as ``hub ingest kela`` starts it, under an instance id of the test's own."""
    instance = f"test-{uuid.uuid4().hex[:8]}"
    return await RouteProducer.started(connection, transactional_id(TRANSACTIONAL_GROUP, instance))


def _ids(records: Records) -> list[str]:
    return [orjson.loads(r.value or b"")["id"] for r in records]


def _with_ids(ids: set[str]) -> Callable[[Records], Records]:
    return lambda records: [r for r in records if orjson.loads(r.value or b"")["id"] in ids]


async def test_streaming_path_distribution_dead_letters_and_kela_xml(
    settings: HubSettings, kafka_bootstrap: str
) -> None:
    run = uuid.uuid4().hex[:8].upper()
    first, hollola, helsinki, correction = (f"K{run}-{n}" for n in (1, 2, 3, 4))
    messages = [
        _line(first),
        _line(hollola, municipality="098", code=CODE_2),
        _line(helsinki, municipality="091"),
        _line(first),  # duplicate delivery
        _line(correction, days="-2", euros="-70,24", corrects=first),
        _line(f"K{run}-5", days="-2", euros="-70,24", corrects=f"K{run}-404"),
        _line(f"K{run}-6").replace(b"01.03.2025", b"31.02.2025"),
        _line(first, days="20"),  # same id, other content
    ]
    status = client_status_event(change_id=f"chg-{run}")
    expected = {event_id_for(r) for r in (first, hollola, helsinki, correction)}
    async with running_hub(settings, f"test-{run}"):
        producer = await started_producer(KafkaConnection(kafka_bootstrap, settings))
        try:
            for value in messages:
                await producer.send_and_wait("in.kela.benefit-day", value)
            await producer.send_and_wait(
                "hub.client-status.v1", status.model_dump_json().encode(), key=b"x"
            )
        finally:
            await producer.stop()
        mine = _with_ids(expected)
        canonical = mine(
            await read_topic(
                kafka_bootstrap, "hub.benefit-day.v1", until=lambda r: len(mine(r)) >= 4
            )
        )
        lahti = mine(
            await read_topic(
                kafka_bootstrap, "out.lahti.benefit-day", until=lambda r: len(mine(r)) >= 2
            )
        )
        ph = mine(
            await read_topic(
                kafka_bootstrap, "out.ph.benefit-day", until=lambda r: len(mine(r)) >= 1
            )
        )

        def from_this_run(records: Records) -> Records:
            return [r for r in records if f"K{run}".encode() in (r.value or b"")]

        letters = from_this_run(
            await read_topic(
                kafka_bootstrap, DEADLETTER_TOPIC, until=lambda r: len(from_this_run(r)) >= 3
            )
        )
        kela = [
            r
            for r in await read_topic(
                kafka_bootstrap,
                "out.kela.client-status",
                until=lambda rs: any(status.id.encode() in (r.value or b"") for r in rs),
            )
            if status.id.encode() in (r.value or b"")
        ]

    assert sorted(_ids(canonical)) == sorted(expected)  # the duplicate yielded nothing
    for record in canonical:
        event = orjson.loads(record.value or b"")
        assert record.key == event["subject"].encode()
        assert dict(record.headers)["correlation_id"] == event["id"].encode()
        assert CODE.encode() not in record.key
    by_id = {orjson.loads(r.value or b"")["id"]: orjson.loads(r.value or b"") for r in canonical}
    assert by_id[event_id_for(correction)]["data"]["corrects_event_id"] == event_id_for(first)
    assert sorted(_ids(lahti)) == sorted({event_id_for(first), event_id_for(correction)})
    assert _ids(ph) == [event_id_for(hollola)]  # Helsinki (091): not routed anywhere
    # Dead letters are at least once: a redelivered message may be dead-lettered twice.
    reasons = {dict(r.headers)[DLQ_REASON].decode() for r in letters}
    assert reasons == {"bad-date", "conflicting-duplicate-record", "unknown-corrected-record"}
    for letter in letters:
        assert dict(letter.headers)[SOURCE_TOPIC] == b"in.kela.benefit-day"
    [statement] = kela
    document = etree.fromstring(statement.value or b"")
    assert XSD.validate(document)
    assert b"Virtanen" not in (statement.value or b"")
    assert statement.key == status.subject.encode()


async def _canonical_events(bootstrap: str, wanted: set[str]) -> Records:
    mine = _with_ids(wanted)
    records = await read_topic(
        bootstrap, "hub.benefit-day.v1", until=lambda r: len(mine(r)) >= len(wanted)
    )
    return mine(records)


async def test_each_record_once_across_file_topic_and_restart(
    settings: HubSettings, kafka_bootstrap: str, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8].upper()
    header = (
        b"\xef\xbb\xbftapahtumatunnus;hetu;kotikunta;etuus;jakso_alku;jakso_loppu;maksupaivat;"
        b"maksettu;kertyma;maksupvm;korjattava\r\n"
    )
    path = tmp_path / "kela.csv"
    path.write_bytes(header + _line(f"K{run}-1") + b"\r\n" + _line(f"K{run}-2") + b"\r\n")
    connection = KafkaConnection(kafka_bootstrap, settings)
    await provision_topics(connection)
    secret = pseudonym_secret(settings)
    book = contract_book_for(settings, CONNECTORS)

    # File path first.
    check_file(path)
    ledger = BenefitLedger.open(settings.data_dir, secret)
    producer = await file_producer(connection)
    try:
        summary = await ingest_file(path, Intake(ledger, secret), book, producer)
    finally:
        await producer.stop()
        ledger.close()
    assert (summary.accepted, summary.duplicates, summary.rejected) == (2, 0, 0)
    assert summary.recipients == {"lahti": 2}
    from_file = await _canonical_events(kafka_bootstrap, {event_id_for(f"K{run}-1")})
    assert dict(from_file[0].headers)["correlation_id"] == event_id_for(f"K{run}-1").encode()

    # The same record on the topic, through a hub started twice over the same data dir.
    for attempt in range(2):
        async with running_hub(settings, f"test-{run}-{attempt}"):
            producer = await started_producer(connection)
            try:
                await producer.send_and_wait("in.kela.benefit-day", _line(f"K{run}-1"))
                await producer.send_and_wait("in.kela.benefit-day", _line(f"K{run}-{3 + attempt}"))
            finally:
                await producer.stop()
            wanted = {event_id_for(f"K{run}-{n}") for n in range(1, 4 + attempt)}
            canonical = await _canonical_events(kafka_bootstrap, wanted)
            assert sorted(_ids(canonical)) == sorted(wanted)  # K-1 still exactly once

    # A re-run of the file publishes nothing new and dead-letters nothing.
    ledger = BenefitLedger.open(settings.data_dir, secret)
    try:
        again = await ingest_file(path, Intake(ledger, secret), book, None)
    finally:
        ledger.close()
    assert (again.accepted, again.duplicates) == (0, 2)


async def test_rejected_file_lines_are_dead_lettered_with_file_and_line(
    settings: HubSettings, kafka_bootstrap: str, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8].upper()
    path = tmp_path / f"kela-{run}.csv"
    header = (
        b"tapahtumatunnus;hetu;kotikunta;etuus;jakso_alku;jakso_loppu;maksupaivat;"
        b"maksettu;kertyma;maksupvm;korjattava\n"
    )
    path.write_bytes(header + _line(f"K{run}-1") + b"\n" + _line(f"K{run}-2", euros="737.55"))
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
    assert (summary.accepted, summary.rejected) == (1, 1)
    [rejection] = summary.rejections
    assert (rejection.line, rejection.reason) == (3, "decimal-point-not-comma")

    def mine(records: Records) -> Records:
        return [r for r in records if f"K{run}-2".encode() in (r.value or b"")]

    [letter] = mine(
        await read_topic(kafka_bootstrap, DEADLETTER_TOPIC, until=lambda r: bool(mine(r)))
    )
    headers = dict(letter.headers)
    assert headers[DLQ_REASON] == b"decimal-point-not-comma"
    assert headers[SOURCE_LINE] == b"3"
    assert letter.value == _line(f"K{run}-2", euros="737.55")


async def test_a_line_too_large_for_a_dead_letter_goes_compressed_or_quarantined(
    settings: HubSettings, kafka_bootstrap: str, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8].upper()
    path = tmp_path / f"kela-{run}.csv"
    header = (
        b"tapahtumatunnus;hetu;kotikunta;etuus;jakso_alku;jakso_loppu;maksupaivat;"
        b"maksettu;kertyma;maksupvm;korjattava\n"
    )
    # Just under a megabyte, as in the poison test: the dead letter (line plus headers) is over
    # the producer's 1 MiB. One compresses well; one (base64 of random bytes) does not enough.
    repetitive = f"R{run}-".encode() + b"x" * 1_048_450
    random_text = f"Q{run}-".encode() + base64.b64encode(os.urandom(1_100_000))
    lines = [_line(f"K{run}-1"), repetitive, random_text, _line(f"K{run}-2")]
    path.write_bytes(header + b"\n".join(lines))
    connection = KafkaConnection(kafka_bootstrap, settings)
    await provision_topics(connection)
    secret = pseudonym_secret(settings)
    ledger = BenefitLedger.open(settings.data_dir, secret)
    quarantine = QuarantineStore.in_data_dir(settings.data_dir)
    producer = await file_producer(connection)
    try:
        summary = await ingest_file(
            path,
            Intake(ledger, secret),
            contract_book_for(settings, CONNECTORS),
            producer,
            quarantine=quarantine,
        )
    finally:
        await producer.stop()
        ledger.close()
    assert (summary.accepted, summary.rejected) == (2, 2)

    def mine(records: Records) -> Records:
        return [r for r in records if dict(r.headers).get(SOURCE_FILE) == path.name.encode()]

    letters = mine(
        await read_topic(kafka_bootstrap, DEADLETTER_TOPIC, until=lambda r: len(mine(r)) == 2)
    )
    by_line = {dict(r.headers)[SOURCE_LINE]: r for r in letters}
    compressed, quarantined = by_line[b"3"], by_line[b"4"]
    assert dict(compressed.headers)[DLQ_ENCODING] == b"gzip"
    assert gzip.decompress(compressed.value or b"") == repetitive
    headers = dict(quarantined.headers)
    assert headers[DLQ_REASON] == TOO_LARGE_QUARANTINED.encode()
    assert quarantined.value == b""
    assert quarantine.read(headers[DLQ_QUARANTINE].decode()) == random_text


async def test_a_rerun_does_not_dead_letter_the_same_lines_again(
    settings: HubSettings, kafka_bootstrap: str, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8].upper()
    path = tmp_path / f"kela-{run}.csv"
    header = (
        b"tapahtumatunnus;hetu;kotikunta;etuus;jakso_alku;jakso_loppu;maksupaivat;"
        b"maksettu;kertyma;maksupvm;korjattava\n"
    )
    bad_2 = _line(f"K{run}-2", euros="737.55")
    bad_3 = _line(f"K{run}-3", corrects=f"K{run}-9", days="-2", euros="-70,24")
    connection = KafkaConnection(kafka_bootstrap, settings)
    await provision_topics(connection)
    secret = pseudonym_secret(settings)
    book = contract_book_for(settings, CONNECTORS)

    landed: set[tuple[int, int]] = set()  # where every dead letter of every run landed

    async def ingest() -> tuple[IngestSummary, list[bytes]]:
        ledger = BenefitLedger.open(settings.data_dir, secret)
        producer = await file_producer(connection)
        recording = RecordingPublisher(producer)
        try:
            summary = await ingest_file(path, Intake(ledger, secret), book, recording)
        finally:
            await producer.stop()
            ledger.close()
        letters = recording.on(DEADLETTER_TOPIC)
        for letter in letters:
            metadata = await letter.landing
            landed.add((metadata.partition, metadata.offset))
        return summary, [letter.value for letter in letters]

    path.write_bytes(b"\n".join([header.rstrip(), _line(f"K{run}-1"), bad_2, bad_3]) + b"\n")
    first, letters = await ingest()
    assert (first.rejected, first.already_dead_lettered, len(letters)) == (2, 0, 2)

    second, letters = await ingest()
    assert (second.duplicates, second.rejected, second.already_dead_lettered) == (1, 2, 2)
    assert letters == []

    # A changed line is taken afresh; an unchanged one moved to another line number too.
    fixed_3 = bad_3.replace(b"-2;-70,24", b"-3;-70,24")
    path.write_bytes(b"\n".join([header.rstrip(), _line(f"K{run}-1"), fixed_3, bad_2]) + b"\n")
    third, letters = await ingest()
    assert (third.rejected, third.already_dead_lettered, len(letters)) == (2, 0, 2)

    # A dry run sees what the real runs remembered and publishes nothing.
    ledger = BenefitLedger.dry_run(settings.data_dir, secret, tmp_path)
    try:
        dry = await ingest_file(path, Intake(ledger, secret), book, None)
    finally:
        ledger.close()
    assert (dry.rejected, dry.already_dead_lettered) == (2, 2)

    def seen(records: Records) -> bool:
        return landed <= {(r.partition, r.offset) for r in records}

    records = await read_topic(kafka_bootstrap, DEADLETTER_TOPIC, until=seen)
    on_kafka = [r for r in records if (r.partition, r.offset) in landed]
    assert len(landed) == 4
    assert sorted((r.value or b"", dict(r.headers)[SOURCE_LINE]) for r in on_kafka) == sorted(
        [(bad_2, b"3"), (bad_3, b"4"), (fixed_3, b"3"), (bad_2, b"4")]
    )


async def test_a_second_ingest_under_the_same_instance_fences_the_first(
    settings: HubSettings, kafka_bootstrap: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run = uuid.uuid4().hex[:8].upper()
    settings = settings.model_copy(update={"instance_id": f"test-{run}"})
    load_or_create_signing_key(None, settings.data_dir, may_generate=True)
    header = (
        b"tapahtumatunnus;hetu;kotikunta;etuus;jakso_alku;jakso_loppu;maksupaivat;"
        b"maksettu;kertyma;maksupvm;korjattava\n"
    )
    path = tmp_path / f"kela-{run}.csv"
    path.write_bytes(header + b"\n".join(_line(f"K{run}-{n}") for n in range(1, 6)) + b"\n")
    other = tmp_path / f"other-{run}.csv"
    other.write_bytes(header + _line(f"K{run}-other") + b"\n")
    connection = KafkaConnection(kafka_bootstrap, settings)
    await provision_topics(connection)
    book = contract_book_for(settings, CONNECTORS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")} | {
        "HUB_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "HUB_DATA_DIR": str(tmp_path / "other-data"),
        "HUB_INSTANCE_ID": f"test-{run}",
        "HUB_PSEUDONYM_SECRET": "integration-test-secret-0123456789abcdef",
        "HUB_AUDIT_SIGNING_KEY_FILE": str(settings.data_dir / PRIVATE_KEY_FILE),
    }
    second: list[subprocess.CompletedProcess[str]] = []

    def after_a_chunk(_read: int) -> None:
        # Between the first chunk's commit and the second's, another ingest of the instance.
        if not second:
            command = [sys.executable, "-m", "hub", "ingest", "kela", str(other)]
            finished = subprocess.run(command, check=False, env=env, capture_output=True, text=True)
            second.append(finished)

    with pytest.raises(IngestFencedError):
        await ingest_kela(settings, path, book, progress=after_a_chunk, chunk_lines=3)
    # The fencing is said once: no failed future of the fenced producer logs it again.
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        gc.collect()
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []
    [done] = second
    assert done.returncode == 0, done.stderr
    assert "accepted    1 " in done.stdout

    # The first chunk committed (Kafka and ledger), the second not: a re-run sends the rest.
    again = await ingest_kela(settings, path, book, chunk_lines=3)
    assert (again.duplicates, again.accepted) == (3, 2)
    wanted = {event_id_for(f"K{run}-{n}") for n in range(1, 6)}
    assert len(await _canonical_events(kafka_bootstrap, wanted)) == 5
