"""``hub ingest kela``'s file path without a broker: what it publishes, in which transactions,
what it audits, and what a failed chunk leaves behind. Real SQLite ledgers; the publisher is
``tests.publishers.RecordingPublisher`` (the Kafka side is in tests/integration)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from aiokafka.errors import KafkaConnectionError
from aiokafka.structs import TopicPartition

from connectors import CONNECTORS
from connectors.kela.file_ingest import CHUNK_LINES, ingest_file
from connectors.kela.inbound import event_id_for
from connectors.kela.intake import Intake
from connectors.kela.ledger import BenefitLedger
from connectors.kela.native import HEADER
from hub.audit.records import AuditDraft, Direction
from hub.contracts import ContractBook
from hub.deadletter import DLQ_DETAIL, SOURCE_LINE
from hub.runtime import contract_book_for
from hub.settings import HubSettings
from hub.topics import DEADLETTER_TOPIC
from schemas.rejection import Rejection
from tests.publishers import RecordingPublisher
from tests.support import CODE, SECRET

V2 = "hub.benefit-day.v2"


def _line(number: int, euros: str = "737,55") -> str:
    return f"K2025-{number:09d};{CODE};398;TMT;01.03.2025;31.03.2025;21;{euros};1021;05.04.2025;"


def _file(path: Path, *lines: str) -> Path:
    path.write_text("\r\n".join([HEADER, *lines]) + "\r\n", encoding="utf-8")
    return path


@pytest.fixture
def book(tmp_path: Path) -> ContractBook:
    return contract_book_for(HubSettings(data_dir=tmp_path / "data"), CONNECTORS)


class _NoLedger:
    def was_dead_lettered(self, _file: str, _line: int, _raw: bytes) -> bool:
        return False

    def stage_dead_letter(self, _file: str, _line: int, _raw: bytes) -> None:
        return None

    def commit(self) -> None:
        return None

    def rollback(self) -> None:
        return None


class QuotingIntake:
    """Rejects every line with a detail that quotes an identity code, as a parser bug might."""

    ledger = _NoLedger()

    def take_many(self, lines: list[tuple[bytes, int | None]]) -> list[Rejection]:
        return [
            Rejection("unknown-correction", f"line {number}: korjattava {CODE} not found")
            for _raw, number in lines
        ]


async def test_a_rejected_lines_detail_is_masked_in_the_header_and_the_audit(
    tmp_path: Path, book: ContractBook
) -> None:
    path = tmp_path / "maksupaivat.csv"
    path.write_bytes(f"{HEADER}\r\nthe line itself\r\n".encode())
    publisher = RecordingPublisher()
    audited: list[AuditDraft] = []

    summary = await ingest_file(
        path,
        QuotingIntake(),  # type: ignore[arg-type]
        book,
        publisher,
        audit=audited.extend,
    )

    assert summary.lines == 1
    [letter] = publisher.committed
    assert letter.topic == DEADLETTER_TOPIC
    assert letter.value == b"the line itself"  # the original bytes
    assert letter.headers[SOURCE_LINE] == "2"
    assert CODE not in letter.headers[DLQ_DETAIL]
    [dead] = [d for d in audited if d.direction is Direction.DEAD_LETTERED]
    assert dead.facts.detail == f"unknown-correction: {letter.headers[DLQ_DETAIL]}"
    assert all(CODE not in (d.facts.detail or "") for d in audited)


@pytest.mark.parametrize(
    ("lines", "transactions"),
    [(1, 1), (CHUNK_LINES - 1, 1), (CHUNK_LINES, 1), (CHUNK_LINES + 1, 2)],
)
async def test_each_chunk_of_lines_is_one_transaction(
    tmp_path: Path, book: ContractBook, lines: int, transactions: int
) -> None:
    path = _file(tmp_path / "kela.csv", *(_line(n) for n in range(1, lines + 1)))
    ledger = BenefitLedger.open(tmp_path / "data", SECRET)
    publisher = RecordingPublisher()
    try:
        summary = await ingest_file(path, Intake(ledger, SECRET), book, publisher)
    finally:
        ledger.close()
    assert (summary.lines, summary.accepted) == (lines, lines)
    assert (publisher.transactions, publisher.aborts) == (transactions, 0)
    assert len(publisher.on(V2)) == lines


async def test_every_line_is_audited_with_what_it_became_and_where_it_landed(
    tmp_path: Path, book: ContractBook
) -> None:
    path = _file(tmp_path / "kela.csv", _line(1), _line(2, euros="737.55"), _line(1))
    ledger = BenefitLedger.open(tmp_path / "data", SECRET)
    publisher = RecordingPublisher()
    audited: list[AuditDraft] = []
    try:
        await ingest_file(path, Intake(ledger, SECRET), book, publisher, audit=audited.extend)
    finally:
        ledger.close()
    consumed = [d for d in audited if d.direction is Direction.CONSUMED]
    assert [(d.topic, d.offset) for d in consumed] == [("file:kela.csv", n) for n in (2, 3, 4)]
    assert consumed[0].payload.endswith(b"\r\n")  # the line as read
    outputs = [
        (d.direction, d.topic, d.offset) for d in audited if d.direction is not Direction.CONSUMED
    ]
    # Where the publisher said each landed: v2 and v1 of line 2, then line 3's dead letter.
    assert outputs == [
        (Direction.PRODUCED, V2, 0),
        (Direction.PRODUCED, "hub.benefit-day.v1", 1),
        (Direction.DEAD_LETTERED, DEADLETTER_TOPIC, 2),
    ]
    assert consumed[0].facts.event_id == event_id_for("K2025-000000001")


class _FailingCommit(RecordingPublisher):
    """Kafka goes away when the ``failing``-th transaction commits."""

    def __init__(self, failing: int) -> None:
        super().__init__()
        self.failing = failing

    async def commit(self, offsets: Mapping[TopicPartition, int], group: str) -> None:
        if self.transactions + 1 == self.failing:
            raise KafkaConnectionError
        await super().commit(offsets, group)


async def test_a_chunk_whose_transaction_fails_is_taken_afresh_by_the_next_run(
    tmp_path: Path, book: ContractBook
) -> None:
    rejected = 1100  # in the second chunk
    path = _file(
        tmp_path / "kela.csv",
        *(_line(n) if n != rejected else _line(n, euros="1.00") for n in range(1, 1201)),
    )
    data = tmp_path / "data"
    failing = _FailingCommit(failing=2)
    ledger = BenefitLedger.open(data, SECRET)
    try:
        with pytest.raises(KafkaConnectionError):
            await ingest_file(path, Intake(ledger, SECRET), book, failing)
    finally:
        ledger.close()
    assert (failing.transactions, failing.aborts, len(failing.on(V2))) == (1, 1, 1000)

    again = RecordingPublisher()
    ledger = BenefitLedger.open(data, SECRET)
    try:
        summary = await ingest_file(path, Intake(ledger, SECRET), book, again)
    finally:
        ledger.close()
    # Exactly what the failed transaction would have published, dead letter included.
    assert (summary.duplicates, summary.accepted, summary.rejected) == (1000, 199, 1)
    assert [m.headers["correlation_id"] for m in again.on(V2)] == [
        event_id_for(f"K2025-{n:09d}") for n in range(1001, 1201) if n != rejected
    ]
    [letter] = again.on(DEADLETTER_TOPIC)
    assert letter.headers[SOURCE_LINE] == str(rejected + 1)


async def test_a_dry_run_publishes_and_audits_nothing(tmp_path: Path, book: ContractBook) -> None:
    path = _file(tmp_path / "kela.csv", _line(1), _line(2, euros="1.00"))
    ledger = BenefitLedger.dry_run(tmp_path / "data", SECRET, tmp_path)
    try:
        summary = await ingest_file(path, Intake(ledger, SECRET), book, None)
    finally:
        ledger.close()
    assert (summary.accepted, summary.rejected) == (1, 1)
    real = BenefitLedger.open(tmp_path / "data", SECRET)
    try:
        assert real.count() == 0
    finally:
        real.close()
