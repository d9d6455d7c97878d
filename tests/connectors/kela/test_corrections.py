"""Kela corrections belong to the record they correct, and take back at most what it paid.

Through the connector's intake on a real SQLite ledger: the code the topic route
(``in.kela.benefit-day``) and the file path (``hub ingest kela``) share. Each issue case is a
test that fails on the connector as it was before these rules.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Final

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors import CONNECTORS
from connectors.kela.corrections import CorrectedRecord, attribute
from connectors.kela.inbound import Attribution, event_id_for, parse_line
from connectors.kela.intake import Duplicate, Intake, Taken
from connectors.kela.ledger import BenefitLedger
from connectors.kela.native import PaymentDayRow
from hub.app.runtime import renderers_for
from hub.distribution.contracts import load_contract_book
from schemas.person_ref import person_ref_for
from schemas.rejection import Rejection
from tests.strategies import build_identity_code
from tests.support import CODE, SECRET

OTHER: Final = build_identity_code(dt.date(1985, 6, 15), 951)
ORIGINAL: Final = "K2025-000000001"
PERIOD_31: Final = ("01.01.2025", "31.01.2025")
#: 20 days and 737,55 euros paid to CODE, resident of Lahti (398), labour-market subsidy.
LINE: Final = f"{ORIGINAL};{CODE};398;TMT;01.02.2025;28.02.2025;20;737,55;120;03.03.2025;"


def correction(
    number: int,
    days: int,
    euros: str,
    *,
    hetu: str = CODE,
    municipality: str = "398",
    benefit: str = "TMT",
    corrects: str = ORIGINAL,
    period: tuple[str, str] = ("01.02.2025", "28.02.2025"),
) -> bytes:
    """A correction line of ``corrects``, ``days`` and ``euros`` (decimal comma) taken back."""
    start, end = period
    return (
        f"K2025-1{number:08d};{hetu};{municipality};{benefit};{start};{end};{days};{euros};"
        f"100;17.03.2025;{corrects}"
    ).encode()


@pytest.fixture
def ledger(tmp_path: Path) -> BenefitLedger:
    return BenefitLedger.open(tmp_path, SECRET)


@pytest.fixture
def intake(ledger: BenefitLedger) -> Intake:
    taking = Intake(ledger, SECRET)
    assert isinstance(taking.take(LINE.encode(), 2), Taken)
    ledger.commit()
    return taking


def taken(result: Taken | Duplicate | Rejection) -> Taken:
    assert isinstance(result, Taken), result
    return result


def rejected(result: Taken | Duplicate | Rejection, reason: str) -> Rejection:
    assert isinstance(result, Rejection), result
    assert result.reason == reason, result
    assert CODE not in result.detail
    assert OTHER not in result.detail
    return result


# --- a correction belongs to the record it corrects --------------------------------------


def test_correction_with_another_kotikunta_goes_to_the_corrected_records_authority(
    intake: Intake,
) -> None:
    event = taken(intake.take(correction(1, -2, "-73,76", municipality="098"))).event
    assert event.data.home_municipality == "398"
    assert event.data.stated_home_municipality == "098"
    assert event.data.corrects_event_id == event_id_for(ORIGINAL)
    book = load_contract_book(renderers_for(CONNECTORS))
    recipients = book.disclosures_for("benefit-day", event.data.model_dump(mode="json"))
    assert [d.partner.value for d in recipients] == ["lahti"]


def test_correction_naming_another_person_is_a_mismatch(intake: Intake) -> None:
    rejected(intake.take(correction(1, -2, "-73,76", hetu=OTHER), 7), "correction-mismatch")


def test_correction_naming_another_benefit_is_a_mismatch(intake: Intake) -> None:
    result = rejected(
        intake.take(correction(1, -2, "-73,76", benefit="PPR")), "correction-mismatch"
    )
    assert "PPR" in result.detail


def test_the_issues_correction_with_other_municipality_and_benefit_is_a_mismatch(
    intake: Intake,
) -> None:
    line = correction(1, -2, "-73,76", municipality="560", benefit="APR")
    rejected(intake.take(line), "correction-mismatch")


def test_a_correction_of_a_correction_belongs_to_the_first_record(intake: Intake) -> None:
    first = taken(intake.take(correction(1, -5, "-184,40", municipality="098"))).event
    second = correction(2, 2, "73,76", municipality="560", corrects=first.data.record_id)
    event = taken(intake.take(second)).event
    assert event.data.home_municipality == "398"
    assert event.data.corrects_event_id == first.id
    # Together they now took back 3 days: 17 remain, and no more can be taken.
    third = correction(3, -18, "-10,00", corrects=first.data.record_id)
    rejected(intake.take(third), "over-correction")
    assert isinstance(intake.take(correction(4, -17, "-10,00")), Taken)


def test_correction_of_a_correction_naming_another_person_is_a_mismatch(intake: Intake) -> None:
    first = taken(intake.take(correction(1, -5, "-184,40"))).event
    line = correction(2, 2, "73,76", hetu=OTHER, corrects=first.data.record_id)
    rejected(intake.take(line), "correction-mismatch")


# --- all corrections of a record take back at most what it paid ---------------------------


def test_the_issues_three_corrections_take_back_only_what_was_paid(intake: Intake) -> None:
    assert isinstance(intake.take(correction(1, -20, "-737,55")), Taken)
    rejected(intake.take(correction(2, -20, "-737,55")), "over-correction")
    rejected(intake.take(correction(3, -25, "-737,55")), "over-correction")


@pytest.mark.parametrize(
    ("days", "euros", "accepted"),
    [
        (-20, "-737,55", True),  # exactly what was paid
        (-21, "-737,55", False),  # one day more
        (-20, "-737,56", False),  # one cent more
        (-19, "-737,54", True),
    ],
)
def test_over_correction_is_measured_in_days_and_in_euros(
    intake: Intake, days: int, euros: str, accepted: bool
) -> None:
    result = intake.take(correction(1, days, euros))
    if accepted:
        assert isinstance(result, Taken), result
    else:
        rejected(result, "over-correction")


def test_corrections_add_up_across_commits_and_restarts(tmp_path: Path, intake: Intake) -> None:
    assert isinstance(intake.take(correction(1, -10, "-300,00")), Taken)
    intake.ledger.commit()
    intake.ledger.close()
    again = Intake(BenefitLedger.open(tmp_path, SECRET), SECRET)
    rejected(again.take(correction(2, -11, "-300,00")), "over-correction")
    assert isinstance(again.take(correction(3, -10, "-437,55")), Taken)


def test_corrections_staged_in_one_batch_add_up(intake: Intake) -> None:
    # A file's batch: nothing committed between the lines.
    assert isinstance(intake.take(correction(1, -15, "-500,00")), Taken)
    rejected(intake.take(correction(2, -6, "-100,00")), "over-correction")


def test_a_positive_correction_gives_back_room(intake: Intake) -> None:
    assert isinstance(intake.take(correction(1, -20, "-737,55")), Taken)
    assert isinstance(intake.take(correction(2, 5, "184,40")), Taken)
    assert isinstance(intake.take(correction(3, -5, "-184,40")), Taken)
    rejected(intake.take(correction(4, -1, "0,00")), "over-correction")


def test_a_rejected_correction_changes_nothing(intake: Intake) -> None:
    before = intake.ledger.corrected_record(ORIGINAL)
    count = intake.ledger.count()
    rejected(intake.take(correction(1, -21, "-10,00")), "over-correction")
    rejected(intake.take(correction(2, -1, "-1,00", hetu=OTHER)), "correction-mismatch")
    assert intake.ledger.corrected_record(ORIGINAL) == before
    assert intake.ledger.count() == count
    assert isinstance(intake.take(correction(3, -20, "-737,55")), Taken)


def test_a_redelivered_correction_is_a_duplicate_and_counts_once(intake: Intake) -> None:
    line = correction(1, -10, "-300,00")
    assert isinstance(intake.take(line), Taken)
    intake.ledger.commit()
    assert isinstance(intake.take(line), Duplicate)
    assert isinstance(intake.take(correction(2, -10, "-437,55")), Taken)


def test_the_ledger_remembers_what_each_record_paid_and_lost(intake: Intake) -> None:
    assert isinstance(intake.take(correction(1, -3, "-110,63", municipality="098")), Taken)
    assert intake.ledger.corrected_record(ORIGINAL) == CorrectedRecord(
        event_id=event_id_for(ORIGINAL),
        person_ref=person_ref_for(CODE, SECRET),
        benefit="TMT",
        municipality="398",
        belongs_to=ORIGINAL,
        paid_days=20,
        amount_paid=Decimal("737.55"),
        taken_days=-3,
        taken_amount=Decimal("-110.63"),
    )
    entry = intake.ledger.entry("K2025-100000001")
    assert entry is not None
    assert (entry.municipality, entry.belongs_to) == ("398", ORIGINAL)


def test_the_ledger_keeps_the_person_as_a_pseudonym_only(tmp_path: Path, intake: Intake) -> None:
    assert isinstance(intake.take(correction(1, -3, "-110,63")), Taken)
    intake.ledger.commit()
    intake.ledger.close()
    data = (tmp_path / "kela-ledger.sqlite3").read_bytes()
    assert CODE.encode() not in data
    assert person_ref_for(CODE, SECRET).encode() in data


def test_a_dry_run_sees_the_real_corrections_and_leaves_them(
    tmp_path: Path, intake: Intake
) -> None:
    assert isinstance(intake.take(correction(1, -15, "-500,00")), Taken)
    intake.ledger.commit()
    dry = Intake(BenefitLedger.dry_run(tmp_path, SECRET, scratch_dir=tmp_path), SECRET)
    rejected(dry.take(correction(2, -6, "-100,00")), "over-correction")
    assert isinstance(dry.take(correction(3, -5, "-100,00")), Taken)
    dry.ledger.commit()
    rejected(dry.take(correction(4, -1, "-1,00")), "over-correction")
    dry.ledger.close()
    assert isinstance(intake.take(correction(5, -5, "-100,00")), Taken)


# --- a correction of a record the hub never saw --------------------------------------------

START: Final = dt.date(2025, 1, 1)


@pytest.mark.parametrize(
    ("period_end", "accepted"),
    [("31.12.2024", True), ("01.01.2025", False), ("02.01.2025", False)],
    ids=["day-before-start", "start-day", "day-after-start"],
)
def test_correction_of_an_unknown_record_is_accepted_only_before_the_data_start(
    ledger: BenefitLedger, period_end: str, accepted: bool
) -> None:
    line = correction(
        1, -2, "-73,76", municipality="098", corrects="K2024-9", period=("01.12.2024", period_end)
    )
    result = Intake(ledger, SECRET, START).take(line)
    if not accepted:
        rejected(result, "unknown-corrected-record")
        assert ledger.count() == 0
        return
    event = taken(result).event
    assert event.data.corrects_unseen_record is True
    assert event.data.corrects_event_id is None
    assert event.data.home_municipality == event.data.stated_home_municipality == "098"


def test_without_a_data_start_every_unknown_correction_is_dead_lettered(
    ledger: BenefitLedger,
) -> None:
    line = correction(1, -2, "-73,76", corrects="K2019-1", period=("01.01.2019", "31.01.2019"))
    result = rejected(Intake(ledger, SECRET).take(line), "unknown-corrected-record")
    assert result.detail == "korjattava names a record the hub never received"


def test_an_unknown_correction_after_the_data_start_says_why_it_is_not_exempt(
    ledger: BenefitLedger,
) -> None:
    result = rejected(
        Intake(ledger, SECRET, START).take(correction(1, -2, "-1,00", corrects="K9")),
        "unknown-corrected-record",
    )
    assert result.detail == (
        "korjattava names a record the hub never received (the period ends on or after "
        "01.01.2025, when the hub began receiving Kela's data)"
    )


def test_a_known_record_is_checked_even_before_the_data_start(ledger: BenefitLedger) -> None:
    # The exemption is for records the hub never saw; one it saw is checked as always.
    intake = Intake(ledger, SECRET, dt.date(2026, 1, 1))
    assert isinstance(intake.take(LINE.encode()), Taken)
    rejected(intake.take(correction(1, -21, "-10,00")), "over-correction")
    event = taken(intake.take(correction(2, -2, "-10,00", municipality="560"))).event
    assert (event.data.corrects_unseen_record, event.data.home_municipality) == (False, "398")


def test_corrections_of_one_unseen_record_chain_to_it(ledger: BenefitLedger) -> None:
    intake = Intake(ledger, SECRET, START)
    period = ("01.12.2024", "31.12.2024")
    first = taken(intake.take(correction(1, -2, "-73,76", corrects="K2024-9", period=period)))
    line = correction(2, 1, "36,88", municipality="560", corrects="K2025-100000001", period=period)
    second = taken(intake.take(line)).event
    assert second.data.corrects_event_id == first.event.id
    assert second.data.home_municipality == "398"
    assert second.data.corrects_unseen_record is False


# --- the rules, pure ----------------------------------------------------------------------


def _row(line: bytes) -> PaymentDayRow:
    row = parse_line(line.decode(), 4)
    assert isinstance(row, PaymentDayRow)
    return row


def _record(**changes: object) -> CorrectedRecord:
    values: dict[str, object] = {
        "event_id": "e-1",
        "person_ref": person_ref_for(CODE, SECRET),
        "benefit": "TMT",
        "municipality": "398",
        "belongs_to": ORIGINAL,
        "paid_days": 20,
        "amount_paid": Decimal("737.55"),
        "taken_days": 0,
        "taken_amount": Decimal(0),
    } | changes
    return CorrectedRecord(**values)  # type: ignore[arg-type]


def test_attribute_gives_the_corrected_records_municipality_and_event() -> None:
    row = _row(correction(1, -2, "-73,76", municipality="560"))
    assert attribute(row, person_ref_for(CODE, SECRET), _record(), None) == Attribution(
        "398", "e-1"
    )


def test_attribute_of_a_record_written_before_the_ledger_remembered_its_facts() -> None:
    # A ledger of an earlier version knows days and euros only: those are still checked.
    legacy = _record(person_ref=None, benefit=None, municipality=None)
    row = _row(correction(1, -2, "-73,76", municipality="560", hetu=OTHER, benefit="PPR"))
    assert attribute(row, "p-x", legacy, None) == Attribution("560", "e-1")
    over = _row(correction(2, -21, "-73,76"))
    result = attribute(over, "p-x", legacy, None)
    assert isinstance(result, Rejection)
    assert result.reason == "over-correction"
    assert result.line == 4


def test_attribute_counts_what_was_taken_before() -> None:
    row = _row(correction(1, -5, "-1,00"))
    person = person_ref_for(CODE, SECRET)
    assert isinstance(attribute(row, person, _record(taken_days=-15), None), Attribution)
    result = attribute(row, person, _record(taken_days=-16), None)
    assert isinstance(result, Rejection)
    assert result.reason == "over-correction"
    money = attribute(row, person, _record(taken_amount=Decimal("-736.56")), None)
    assert isinstance(money, Rejection)


def test_attribute_does_not_limit_a_chain_whose_record_was_never_seen() -> None:
    row = _row(correction(1, -25, "-999,00"))
    unseen = _record(paid_days=None, amount_paid=None)
    assert attribute(row, person_ref_for(CODE, SECRET), unseen, None) == Attribution("398", "e-1")


def test_a_legacy_ledger_gains_the_new_columns_and_keeps_its_records(tmp_path: Path) -> None:
    path = tmp_path / "kela-ledger.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE kela_records (record_id TEXT PRIMARY KEY, event_id TEXT NOT NULL, "
            "fingerprint TEXT NOT NULL, paid_days INTEGER NOT NULL, amount_paid TEXT NOT NULL, "
            "corrects TEXT, received_at TEXT NOT NULL)"
        )
        db.execute(
            "INSERT INTO kela_records VALUES (?, ?, 'f', 20, '737.55', NULL, 'then')",
            (ORIGINAL, event_id_for(ORIGINAL)),
        )
        db.execute(
            "INSERT INTO kela_records VALUES ('K0', 'e0', 'f', -15, '-500.00', ?, 'then')",
            (ORIGINAL,),
        )
    db.close()
    intake = Intake(BenefitLedger.dry_run(tmp_path, SECRET, scratch_dir=tmp_path), SECRET)
    rejected(intake.take(correction(1, -6, "-1,00", municipality="560")), "over-correction")
    # A correction of the legacy correction counts against the record that one corrected.
    rejected(intake.take(correction(3, -6, "-1,00", corrects="K0")), "over-correction")
    assert isinstance(intake.take(correction(4, 3, "1,00", corrects="K0")), Taken)
    event = taken(intake.take(correction(2, -5, "-1,00", municipality="560"))).event
    assert event.data.home_municipality == "560"  # the legacy record's municipality is unknown
    intake.ledger.close()
    with sqlite3.connect(path) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(kela_records)")}
    db.close()
    assert {"person_ref", "benefit", "municipality", "belongs_to"} <= columns


# --- property: whatever Kela sends, a record never loses more than it paid -----------------


@st.composite
def correction_runs(draw: st.DrawFn) -> list[tuple[int, int, int]]:
    """Corrections as (index of the correction it corrects, 0 = the record; days; cents)."""
    run = []
    for number in range(1, draw(st.integers(1, 8)) + 1):
        corrects = draw(st.integers(0, number - 1))
        days = draw(st.integers(-25, 25))
        cents = draw(st.integers(-80_000, 20_000))
        run.append((corrects, days, cents))
    return run


@settings(max_examples=150, deadline=None)
@given(correction_runs(), st.booleans())
def test_no_sequence_of_corrections_takes_back_more_than_was_paid(
    run: list[tuple[int, int, int]], commit_each: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        ledger = BenefitLedger.open(Path(folder), SECRET)
        intake = Intake(ledger, SECRET)
        assert isinstance(intake.take(LINE.encode()), Taken)
        ids = [ORIGINAL]
        days_left, cents_left = 20, 73_755
        for number, (corrects, days, cents) in enumerate(run, start=1):
            euros = f"{cents / 100:.2f}".replace(".", ",")
            line = correction(number, days, euros, corrects=ids[corrects], period=PERIOD_31)
            ids.append(f"K2025-1{number:08d}")
            result = intake.take(line)
            if isinstance(result, Taken):
                days_left += days
                cents_left += cents
                assert result.event.data.home_municipality == "398"
            else:
                assert isinstance(result, Rejection)
                # Corrections of a rejected correction have no record to belong to.
                assert result.reason in {"over-correction", "unknown-corrected-record"}
                overdrawn = days_left + days < 0 or cents_left + cents < 0
                assert overdrawn or result.reason == "unknown-corrected-record"
            assert days_left >= 0
            assert cents_left >= 0
            if commit_each:
                ledger.commit()
        ledger.close()


def test_no_correction_detail_quotes_an_identity_code_hidden_in_a_record_id(
    ledger: BenefitLedger,
) -> None:
    # Record ids are free text to Kela: here they are identity codes themselves.
    hidden, another = build_identity_code(dt.date(1990, 1, 10), 999), OTHER
    intake = Intake(ledger, SECRET, START)
    record = LINE.replace(ORIGINAL, hidden)
    assert isinstance(intake.take(record.encode()), Taken)
    lines = {
        "correction-mismatch": correction(1, -2, "-73,76", hetu=another, corrects=hidden),
        "over-correction": correction(2, -21, "-73,76", corrects=hidden),
        "unknown-corrected-record": correction(3, -2, "-73,76", corrects=another),
    }
    for reason, line in lines.items():
        result = rejected(intake.take(line), reason)
        assert hidden not in result.detail
        assert another not in result.detail
