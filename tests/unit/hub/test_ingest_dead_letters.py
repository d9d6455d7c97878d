"""What ``hub ingest kela`` publishes and audits for a rejected line, without a broker: the
rejection's detail is masked in the dead letter's header and in the audit record alike."""

from __future__ import annotations

from pathlib import Path

from connectors import CONNECTORS
from connectors.kela.native import HEADER
from hub.audit.records import AuditDraft, Direction
from hub.deadletter import DLQ_DETAIL, SOURCE_LINE
from hub.ingest import ingest_kela_file
from hub.pipeline import Outgoing
from hub.runtime import contract_book_for
from hub.settings import HubSettings
from hub.topics import DEADLETTER_TOPIC
from schemas.rejection import Rejection

CODE = "131052-930V"


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
    tmp_path: Path,
) -> None:
    path = tmp_path / "maksupaivat.csv"
    path.write_bytes(f"{HEADER}\r\nthe line itself\r\n".encode())
    published: list[Outgoing] = []
    audited: list[AuditDraft] = []

    async def publish(messages: list[Outgoing]) -> list[tuple[int, int]]:
        published.extend(messages)
        return [(0, offset) for offset, _ in enumerate(messages)]

    book = contract_book_for(HubSettings(data_dir=tmp_path / "data"), CONNECTORS)
    summary = await ingest_kela_file(
        path,
        QuotingIntake(),  # type: ignore[arg-type]
        book,
        publish,
        audit=audited.extend,
    )

    assert summary.lines == 1
    [letter] = published
    assert letter.topic == DEADLETTER_TOPIC
    assert letter.value == b"the line itself"  # the original bytes
    assert letter.headers[SOURCE_LINE] == "2"
    assert CODE not in letter.headers[DLQ_DETAIL]
    [dead] = [d for d in audited if d.direction is Direction.DEAD_LETTERED]
    assert dead.facts.detail == f"unknown-correction: {letter.headers[DLQ_DETAIL]}"
    assert all(CODE not in (d.facts.detail or "") for d in audited)
