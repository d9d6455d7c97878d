"""Each Kela record exactly once: duplicates, conflicts, corrections, restarts, dry runs.

Runs against real SQLite files in a temporary data directory.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.kela.inbound import event_id_for, parse_line
from connectors.kela.intake import Duplicate, Intake, Taken
from connectors.kela.ledger import BenefitLedger, LedgerEntry, Verdict, fingerprint
from connectors.kela.native import PaymentDayRow
from schemas.person_ref import person_ref_for
from schemas.rejection import Rejection
from tests.support import CODE, SECRET

LINE = f"K2025-000000001;{CODE};398;TMT;01.03.2025;31.03.2025;21;737,55;1021;05.04.2025;"
CORRECTION = (
    f"K2025-000000002;{CODE};398;TMT;01.03.2025;31.03.2025;-2;-70,24;1019;10.04.2025;"
    "K2025-000000001"
)


def _row(line: str) -> PaymentDayRow:
    row = parse_line(line, 2)
    assert isinstance(row, PaymentDayRow)
    return row


@pytest.fixture
def ledger(tmp_path: Path) -> BenefitLedger:
    return BenefitLedger.open(tmp_path, SECRET)


def test_new_record_then_duplicate_after_commit(ledger: BenefitLedger) -> None:
    row = _row(LINE)
    assert ledger.verdict(row) is Verdict.NEW
    ledger.stage(row, event_id_for(row.tapahtumatunnus))
    assert ledger.verdict(row) is Verdict.DUPLICATE  # staged rows count within the batch
    ledger.commit()
    assert ledger.verdict(row) is Verdict.DUPLICATE


def test_rolled_back_record_is_new_again(ledger: BenefitLedger) -> None:
    row = _row(LINE)
    ledger.stage(row, "e")
    ledger.rollback()
    assert ledger.verdict(row) is Verdict.NEW


def test_same_id_with_other_content_is_a_conflict(ledger: BenefitLedger) -> None:
    ledger.stage(_row(LINE), "e")
    ledger.commit()
    changed = _row(LINE.replace("737,55", "737,56"))
    assert ledger.verdict(changed) is Verdict.CONFLICTING_DUPLICATE


def test_correction_needs_the_corrected_record(ledger: BenefitLedger) -> None:
    correction = _row(CORRECTION)
    assert ledger.verdict(correction) is Verdict.UNKNOWN_CORRECTED
    ledger.stage(_row(LINE), "e")
    assert ledger.verdict(correction) is Verdict.NEW


def test_committed_records_survive_a_restart(tmp_path: Path) -> None:
    first = BenefitLedger.open(tmp_path, SECRET)
    first.stage(_row(LINE), "e")
    first.commit()
    first.close()
    again = BenefitLedger.open(tmp_path, SECRET)
    assert again.verdict(_row(LINE)) is Verdict.DUPLICATE
    assert again.count() == 1


def test_uncommitted_records_do_not_survive_a_crash(tmp_path: Path) -> None:
    first = BenefitLedger.open(tmp_path, SECRET)
    first.stage(_row(LINE), "e")
    # No commit: as if the process died before Kafka acknowledged the publish.
    first._store._db.close()  # simulate the crash: no orderly rollback
    assert BenefitLedger.open(tmp_path, SECRET).verdict(_row(LINE)) is Verdict.NEW


def test_dry_run_sees_the_real_ledger_but_never_writes_it(tmp_path: Path) -> None:
    real = BenefitLedger.open(tmp_path, SECRET)
    real.stage(_row(LINE), "e")
    real.commit()
    dry = BenefitLedger.dry_run(tmp_path, SECRET, scratch_dir=tmp_path)
    assert dry.verdict(_row(LINE)) is Verdict.DUPLICATE
    correction = _row(CORRECTION)
    assert dry.verdict(correction) is Verdict.NEW
    dry.stage(correction, "c")
    dry.commit()
    dry.close()
    assert real.verdict(correction) is Verdict.NEW
    assert real.count() == 1
    assert not list(tmp_path.glob("kela-dry-run-*"))  # scratch removed


def test_ledger_never_stores_the_identity_code(tmp_path: Path) -> None:
    ledger = BenefitLedger.open(tmp_path, SECRET)
    ledger.stage(_row(LINE), "e")
    ledger.commit()
    ledger.close()
    with sqlite3.connect(tmp_path / "kela-ledger.sqlite3") as db:
        dumped = "\n".join(db.iterdump())
    assert CODE not in dumped
    assert CODE.encode() not in (tmp_path / "kela-ledger.sqlite3").read_bytes()


def test_intake_takes_each_record_once_and_links_corrections(ledger: BenefitLedger) -> None:
    intake = Intake(ledger, SECRET)
    taken = intake.take(LINE.encode() + b"\r\n", 2)
    assert isinstance(taken, Taken)
    assert not taken.is_correction
    assert taken.event.id == event_id_for("K2025-000000001")
    ledger.commit()
    assert intake.take(LINE.encode(), 3) == Duplicate("K2025-000000001", 3)
    correction = intake.take(CORRECTION.encode(), 4)
    assert isinstance(correction, Taken)
    assert correction.is_correction
    assert correction.event.data.corrects_event_id == taken.event.id


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (CORRECTION, "unknown-corrected-record"),
        (b"\xff\xfe", "not-utf8"),
        ("K1;" + CODE, "wrong-column-count"),
    ],
)
def test_intake_rejections_carry_reason_and_line(
    ledger: BenefitLedger, line: str | bytes, reason: str
) -> None:
    raw = line if isinstance(line, bytes) else line.encode()
    rejection = Intake(ledger, SECRET).take(raw, 9)
    assert isinstance(rejection, Rejection)
    assert (rejection.reason, rejection.line) == (reason, 9)
    assert CODE not in rejection.detail
    assert ledger.count() == 0


def test_conflicting_redelivery_is_rejected(ledger: BenefitLedger) -> None:
    intake = Intake(ledger, SECRET)
    assert isinstance(intake.take(LINE.encode(), 2), Taken)
    ledger.commit()
    rejection = intake.take(LINE.replace(";21;", ";20;").encode(), 5)
    assert isinstance(rejection, Rejection)
    assert rejection.reason == "conflicting-duplicate-record"


def test_an_unknown_correction_does_not_quote_the_identity_code_it_names(
    ledger: BenefitLedger,
) -> None:
    # Found by tests/fuzz: a line whose korjattava is an identity code (a valid record id).
    line = (
        b'"K2025-000123458";280203A9171;098;APR;01.02.2025;28.02.2025;22;818,62;64;04.03.2025;'
        b"010100A900F"
    )
    rejection = Intake(ledger, SECRET).take(line, 2)
    assert isinstance(rejection, Rejection)
    assert rejection.reason == "unknown-corrected-record"
    assert "010100A900F" not in rejection.detail


def test_a_conflicting_duplicate_does_not_quote_a_record_id_that_is_an_identity_code(
    ledger: BenefitLedger,
) -> None:
    intake = Intake(ledger, SECRET)
    line = LINE.replace("K2025-000000001", CODE)
    assert isinstance(intake.take(line.encode(), 2), Taken)
    ledger.commit()
    rejection = intake.take(line.replace(";21;", ";20;").encode(), 3)
    assert isinstance(rejection, Rejection)
    assert rejection.reason == "conflicting-duplicate-record"
    assert CODE not in rejection.detail


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            f"K2025-000000001;{CODE};398;TMT;01.02.2025;28.02.2025;20;737,55;120;03.03.2025;",
            "4ef2664f27cba586df1f77d2ffd77a03e9aae16c6dc83a818ecf22d718bffdce",
        ),
        (
            f"K2025-000000002;{CODE};098;PPR;01.02.2025;28.02.2025;-2;-73,76;118;17.03.2025;"
            "K2025-000000001",
            "3f3b0a7bb7ea14a4d891e2ba57b716a45883381100de5388a3913564be17928d",
        ),
        (
            f"K2025-000000003;{CODE};098;APR;01.02.2025;28.02.2025;2;73,76;118;17.03.2025;",
            "15a39671f22dc5627a5fa87a32963a7f2ac8b52e0cfd36026a3207dc3f112a0e",
        ),
    ],
)
def test_fingerprints_are_those_of_the_ledgers_already_written(line: str, expected: str) -> None:
    # Computed by the ledger before YLT was parsed: a changed fingerprint would turn every
    # redelivery of an earlier record into a conflicting duplicate.
    assert fingerprint(_row(line), SECRET) == expected


def test_an_entry_reads_back_as_it_was_staged(ledger: BenefitLedger) -> None:
    ledger.stage(_row(LINE), "e1")
    ledger.stage(_row(CORRECTION), "e2", municipality="560", belongs_to="K2025-000000001")
    staged = ledger.entry("K2025-000000002")
    assert ledger.count() == 2
    ledger.commit()
    assert ledger.count() == 2
    assert (
        ledger.entry("K2025-000000002")
        == staged
        == LedgerEntry(
            record_id="K2025-000000002",
            event_id="e2",
            fingerprint=fingerprint(_row(CORRECTION), SECRET),
            paid_days=-2,
            amount_paid=Decimal("-70.24"),
            corrects="K2025-000000001",
            person_ref=person_ref_for(CODE, SECRET),
            benefit="TMT",
            municipality="560",
            belongs_to="K2025-000000001",
        )
    )
    record = ledger.entry("K2025-000000001")
    assert record is not None
    assert (record.corrects, record.belongs_to, record.municipality) == (
        None,
        "K2025-000000001",
        "398",
    )
    assert ledger.entry("K2025-000000009") is None
