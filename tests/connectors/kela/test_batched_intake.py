"""A batch of Kela lines taken at once (``Intake.take_many``, one ledger query per batch)
becomes exactly what the same lines taken one by one (``Intake.take``) become.

Real SQLite ledgers in temporary data directories; the file path (``hub ingest kela``) takes
its lines in batches, the topic route one by one, so both must agree line for line.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Final

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.kela.inbound import parse_line
from connectors.kela.intake import Duplicate, Intake, Taken
from connectors.kela.ledger import BenefitLedger, Verdict
from connectors.kela.native import PaymentDayRow
from schemas.rejection import Rejection
from tests.strategies import build_identity_code
from tests.support import CODE, SECRET

OTHER: Final = build_identity_code(dt.date(1985, 6, 15), 951)
IDS: Final = ("K1", "K2", "K3", "K4")


def _line(record: str, corrects: str, days: int, hetu: str, municipality: str) -> bytes:
    euros = f"{days * 30},00" if days >= 0 else f"-{-days * 30},00"
    return (
        f"{record};{hetu};{municipality};TMT;01.02.2025;28.02.2025;{days};{euros};"
        f"100;03.03.2025;{corrects}"
    ).encode()


lines = st.builds(
    _line,
    st.sampled_from(IDS),
    st.sampled_from(("", *IDS)),
    st.integers(-6, 6),
    st.sampled_from((CODE, OTHER)),
    st.sampled_from(("398", "098")),
) | st.just(b"K5;not-a-code;398;TMT;01.02.2025;28.02.2025;1;1,00;1;03.03.2025;")


def _outcome(result: Taken | Duplicate | Rejection) -> tuple[str, object, object]:
    if isinstance(result, Rejection):
        return ("rejection", result.reason, result.line)
    if isinstance(result, Duplicate):
        return ("duplicate", result.record_id, result.line)
    return ("taken", result.event.model_dump_json(), None)


def _one_by_one(data_dir: Path, batches: list[list[bytes]]) -> list[tuple[str, object, object]]:
    ledger = BenefitLedger.open(data_dir, SECRET)
    intake = Intake(ledger, SECRET, dt.date(2025, 2, 1))
    outcomes = []
    number = 1
    for batch in batches:
        for raw in batch:
            number += 1
            outcomes.append(_outcome(intake.take(raw, number)))
        ledger.commit()
    ledger.close()
    return outcomes


def _batched(data_dir: Path, batches: list[list[bytes]]) -> list[tuple[str, object, object]]:
    ledger = BenefitLedger.open(data_dir, SECRET)
    intake = Intake(ledger, SECRET, dt.date(2025, 2, 1))
    outcomes = []
    number = 1
    for batch in batches:
        numbered = [(raw, number + index) for index, raw in enumerate(batch, start=1)]
        number += len(batch)
        outcomes.extend(_outcome(result) for result in intake.take_many(numbered))
        ledger.commit()
    ledger.close()
    return outcomes


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(lines, max_size=6), min_size=1, max_size=4))
def test_a_batch_becomes_what_its_lines_become_one_by_one(batches: list[list[bytes]]) -> None:
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as many:
        assert _batched(Path(many), batches) == _one_by_one(Path(one), batches)


def _row(raw: bytes) -> PaymentDayRow:
    row = parse_line(raw.decode(), 2)
    assert isinstance(row, PaymentDayRow)
    return row


def test_a_record_committed_elsewhere_after_a_lookup_is_seen_after_the_next_commit(
    tmp_path: Path,
) -> None:
    line = _line("K1", "", 5, CODE, "398")
    looking = BenefitLedger.open(tmp_path, SECRET)
    looking.prefetch(["K1"])
    assert looking.verdict(_row(line)) is Verdict.NEW
    writer = BenefitLedger.open(tmp_path, SECRET)
    writer.stage(_row(line), "e")
    writer.commit()
    looking.commit()  # the answers looked up for the last batch are forgotten here
    assert looking.verdict(_row(line)) is Verdict.DUPLICATE


def test_a_lookup_is_forgotten_on_rollback(tmp_path: Path) -> None:
    line = _line("K1", "", 5, CODE, "398")
    looking = BenefitLedger.open(tmp_path, SECRET)
    looking.prefetch(["K1"])
    writer = BenefitLedger.open(tmp_path, SECRET)
    writer.stage(_row(line), "e")
    writer.commit()
    looking.rollback()
    assert looking.verdict(_row(line)) is Verdict.DUPLICATE


def test_a_dry_run_batch_sees_the_real_ledger(tmp_path: Path) -> None:
    real = BenefitLedger.open(tmp_path, SECRET)
    Intake(real, SECRET).take(_line("K1", "", 5, CODE, "398"), 2)
    real.commit()
    real.close()
    dry = Intake(BenefitLedger.dry_run(tmp_path, SECRET, tmp_path), SECRET)
    results = dry.take_many(
        [
            (_line("K1", "", 5, CODE, "398"), 2),
            (_line("K1", "", 6, CODE, "398"), 3),
            (_line("K2", "K1", -2, CODE, "098"), 4),
        ]
    )
    assert _outcome(results[0]) == ("duplicate", "K1", 2)
    assert _outcome(results[1]) == ("rejection", "conflicting-duplicate-record", 3)
    taken = results[2]
    assert isinstance(taken, Taken)
    assert taken.event.data.home_municipality == "398"  # the corrected record's


def test_a_correction_staged_again_counts_only_against_its_latest_record(tmp_path: Path) -> None:
    ledger = BenefitLedger.open(tmp_path, SECRET)
    ledger.stage(_row(_line("K1", "", 5, CODE, "398")), "e1")
    ledger.stage(_row(_line("K2", "", 5, CODE, "398")), "e2")
    correction = _row(_line("K3", "K1", -2, CODE, "398"))
    ledger.stage(correction, "e3", belongs_to="K1")
    taken_from_k1 = ledger.corrected_record("K1")
    assert taken_from_k1 is not None
    assert taken_from_k1.taken_days == -2
    ledger.stage(correction, "e3", belongs_to="K2")
    for root, days in (("K1", 0), ("K2", -2)):
        record = ledger.corrected_record(root)
        assert record is not None
        assert record.taken_days == days
