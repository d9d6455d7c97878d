"""``hub ingest kela``'s file path without a broker: what it publishes, in which transactions,
what it audits, and what a failed chunk leaves behind. Real SQLite ledgers; the publisher is
``tests.publishers.RecordingPublisher`` (the Kafka side is in tests/integration)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from aiokafka.errors import KafkaConnectionError
from aiokafka.structs import TopicPartition

from connectors import CONNECTORS
from connectors.kela.file_ingest import CHUNK_LINES, NOT_ROUTED, IngestSummary, ingest_file
from connectors.kela.inbound import event_id_for
from connectors.kela.intake import Intake
from connectors.kela.ledger import BenefitLedger
from connectors.kela.native import HEADER
from hub.app.runtime import contract_book_for
from hub.audit.records import AuditDraft, Direction
from hub.core.settings import HubSettings
from hub.core.topics import DEADLETTER_TOPIC
from hub.distribution.contracts import ContractBook
from hub.routing.deadletter import DLQ_DETAIL, SOURCE_LINE
from schemas.rejection import Rejection
from tests.publishers import RecordingPublisher
from tests.support import CODE, SECRET

V2 = "hub.benefit-day.v2"


def _line(number: int, euros: str = "737,55", municipality: str = "398") -> str:
    return (
        f"K2025-{number:09d};{CODE};{municipality};TMT;01.03.2025;31.03.2025;21;{euros};1021;"
        "05.04.2025;"
    )


def _file(path: Path, *lines: str) -> Path:
    path.write_text("\r\n".join([HEADER, *lines]) + "\r\n", encoding="utf-8")
    return path


async def _ingest(
    path: Path,
    data: Path,
    book: ContractBook,
    publisher: RecordingPublisher,
    progress: Callable[[int], None] = lambda _read: None,
) -> IngestSummary:
    """One ingest of ``path`` with the ledger of ``data``, opened and closed around it."""
    ledger = BenefitLedger.open(data, SECRET)
    try:
        return await ingest_file(path, Intake(ledger, SECRET), book, publisher, progress)
    finally:
        ledger.close()


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
    path.write_bytes(f"{HEADER}\r\nthe line itself \r\n".encode())
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
    assert letter.value == b"the line itself "  # the original bytes, line break off
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
    publisher = RecordingPublisher()
    read: list[int] = []
    summary = await _ingest(path, tmp_path / "data", book, publisher, read.append)
    assert (summary.lines, summary.accepted) == (lines, lines)
    assert len(read) == transactions
    assert read[-1] == path.stat().st_size
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


async def _run(path: Path, data: Path, book: ContractBook) -> tuple[int, int, list[bytes]]:
    """(rejected, already dead-lettered, dead letters sent) of one ingest of ``path``."""
    publisher = RecordingPublisher()
    summary = await _ingest(path, data, book, publisher)
    letters = [sent.value for sent in publisher.on(DEADLETTER_TOPIC)]
    return summary.rejected, summary.already_dead_lettered, letters


async def test_a_rerun_dead_letters_a_rejected_line_once_unless_it_changed_or_moved(
    tmp_path: Path, book: ContractBook
) -> None:
    bad_2, bad_3 = _line(2, euros="1.00"), _line(3, euros="2.00")
    path = _file(tmp_path / "kela.csv", _line(1), bad_2, bad_3)
    data = tmp_path / "data"
    assert await _run(path, data, book) == (2, 0, [bad_2.encode(), bad_3.encode()])
    assert await _run(path, data, book) == (2, 2, [])
    # Line 3 changed, and line 3's old bytes moved to line 4: both taken afresh.
    changed = _line(2, euros="3.00")
    _file(path, _line(1), changed, bad_2)
    assert await _run(path, data, book) == (2, 0, [changed.encode(), bad_2.encode()])
    # Another file with the same lines is another file.
    other = _file(tmp_path / "other.csv", _line(1), bad_2, bad_3)
    assert await _run(other, data, book) == (2, 0, [bad_2.encode(), bad_3.encode()])


async def test_recipients_count_each_partner_and_the_lines_nobody_receives(
    tmp_path: Path, book: ContractBook
) -> None:
    path = _file(
        tmp_path / "kela.csv",
        _line(1),
        _line(2, municipality="091"),
        _line(3, municipality="091"),
        _line(4, municipality="098"),
    )
    ledger = BenefitLedger.dry_run(tmp_path / "data", SECRET, tmp_path)
    try:
        summary = await ingest_file(path, Intake(ledger, SECRET), book, None)
    finally:
        ledger.close()
    assert summary.recipients == {"lahti": 1, "ph": 1, NOT_ROUTED: 2}
