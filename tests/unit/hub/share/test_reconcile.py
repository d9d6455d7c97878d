"""``hub share reconcile`` with a generated invoice file holding each kind of difference."""

from __future__ import annotations

import csv
import os
import stat
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from hub.cli import main
from hub.core.settings import load_settings, pseudonym_secret
from hub.share.invoice import COLUMNS
from hub.share.ledger import ShareLedger, open_share_ledger, stored_record
from hub.share.reconcile import Difference, Kind, reconcile
from hub.share.rules import load_rules
from schemas.person_ref import person_ref_for
from tests.support import benefit_day_event

pytestmark = pytest.mark.usefixtures("restore_logging", "cli_env")

ANNA, BERT, CARL = "030375-962R", "040480-962F", "050590-962H"
RULES = load_rules()
HEADER = ";".join(COLUMNS)


def _record(record_id: str, code: str, secret: bytes, **data: object) -> tuple[object, ...]:
    fields: dict[str, object] = {
        "record_id": record_id,
        "person_id": code,
        "home_municipality": "398",
        "period_start": "2025-03-03",
        "period_end": "2025-03-28",
        "paid_days": 20,
        "amount_paid": "744.20",
        "cumulative_days": 150,  # days 131-150: 20 days at 10 % = 74,42 €
        "payment_date": "2025-04-02",
        **data,
    }
    event = benefit_day_event(**fields)
    return stored_record(event.model_copy(update={"subject": person_ref_for(code, secret)}))


@pytest.fixture
def ledger(cli_env: Path) -> Iterator[ShareLedger]:
    secret = pseudonym_secret(load_settings())
    opened = open_share_ledger(cli_env, None)
    opened.add(
        [
            _record("R-MATCH", ANNA, secret, cumulative_days=210),  # 10 % and 20 % lines
            _record("R-UNBILLED", ANNA, secret, cumulative_days=230),
            _record("R-HOLLOLA", BERT, secret, home_municipality="098"),
            _record("R-DAYS", BERT, secret),
            _record("R-STEP", BERT, secret),
            _record("R-EUROS", CARL, secret),
            _record("R-CENT", CARL, secret),
            _record("R-PERSON", CARL, secret),
            _record("R-MAY", CARL, secret, payment_date="2025-05-04"),
            _record("R-FREE", CARL, secret, cumulative_days=90),  # all days at 0 %
        ]
    )
    yield opened
    opened.close()


def _line(record_id: str, code: str, days: int, percent: int, euros: str, **over: str) -> str:
    cells = {
        "laskukuukausi": "2025-04",
        "kunta": "398",
        "lasku": "TMT",
        "hetu": code,
        "tapahtumatunnus": record_id,
        "etuus": "TMT",
        "paivat": str(days),
        "osuus_pros": str(percent),
        "kunnan_osuus": euros,
        "malli": "2025",
        **over,
    }
    return ";".join(cells[column] for column in COLUMNS)


AGREEING = [
    _line("R-MATCH", ANNA, 10, 10, "37,21"),
    _line("R-MATCH", ANNA, 10, 20, "74,42"),
]

DIFFERING = [
    "\ufeff" + HEADER,
    *AGREEING,  # lines 2-3
    _line("R-NEVER", ANNA, 5, 10, "18,61"),  # 4: billed-not-seen
    _line("R-HOLLOLA", BERT, 20, 10, "74,42"),  # 5: wrong-municipality
    _line("R-DAYS", BERT, 19, 10, "74,42"),  # 6: different-days
    _line("R-STEP", BERT, 20, 20, "74,42"),  # 7: different-step
    _line("R-EUROS", CARL, 20, 10, "74,44"),  # 8: different-euros (2 cents)
    _line("R-CENT", CARL, 20, 10, "74,43"),  # 9: one cent: agrees
    _line("R-PERSON", ANNA, 20, 10, "74,42"),  # 10: different-person
    _line("R-MAY", CARL, 20, 10, "74,42"),  # 11: different-month
    "2025-04;398;TMT;" + CARL + ";R-BAD;TMT;20;10;74.42;2025",  # 12: bad euros
    "2025-04;398;TMT;010101-999Y;R-BAD;TMT;20;10;74,42;2025",  # 13: invalid hetu
    "2025-04;398;TMT",  # 14: wrong column count
    _line("R-MATCH", ANNA, 10, 10, "37,21"),  # 15: billed-twice
    _line("R-FREE", CARL, 20, 10, "74,42"),  # 16: different-step (hub: 0 %)
    _line("R-APR", CARL, 20, 10, "74,42", etuus="APR"),  # 17: APR on the TMT invoice
]


def _write(path: Path, lines: list[str], ending: str = "\r\n") -> Path:
    path.write_text(ending.join(lines) + ending, encoding="utf-8")
    return path


def test_each_kind_of_difference_is_found_on_its_line(ledger: ShareLedger, tmp_path: Path) -> None:
    found: list[Difference] = []
    secret = pseudonym_secret(load_settings())
    path = _write(tmp_path / "invoice.csv", DIFFERING)
    report = reconcile(path, ledger, RULES, secret, found.append)
    kinds = {(d.kind, d.line) for d in found}
    assert kinds == {
        (Kind.BILLED_NOT_SEEN, 4),
        (Kind.WRONG_MUNICIPALITY, 5),
        (Kind.DIFFERENT_DAYS, 6),
        (Kind.DIFFERENT_STEP, 7),
        (Kind.SEEN_NOT_BILLED, None),  # R-UNBILLED
        (Kind.DIFFERENT_EUROS, 8),
        (Kind.DIFFERENT_PERSON, 10),
        (Kind.DIFFERENT_MONTH, 11),
        (Kind.BAD_LINE, 12),
        (Kind.BAD_LINE, 13),
        (Kind.BAD_LINE, 14),
        (Kind.BILLED_TWICE, 15),
        (Kind.DIFFERENT_STEP, 16),
        (Kind.BAD_LINE, 17),
    }
    unbilled = Counter(d.record_id for d in found if d.kind is Kind.SEEN_NOT_BILLED)
    assert unbilled == {"R-UNBILLED": 1}
    assert [(bad.line, bad.reason) for bad in report.bad_lines] == [
        (12, "bad-number"),
        (13, "invalid-identity-code"),
        (14, "wrong-column-count"),
        (17, "benefit-on-wrong-invoice"),
    ]
    [moved] = [d for d in found if d.kind is Kind.WRONG_MUNICIPALITY]
    assert (moved.municipality_billed, moved.municipality_hub) == ("398", "098")
    [euros] = [d for d in found if d.kind is Kind.DIFFERENT_EUROS]
    assert (euros.euros_billed, euros.euros_hub) == (Decimal("74.44"), Decimal("74.42"))
    assert report.lines == 16
    assert not report.agree


def test_cli_agreeing_file_exits_0(
    ledger: ShareLedger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger.clear()
    secret = pseudonym_secret(load_settings())
    ledger.add([_record("R-MATCH", ANNA, secret, cumulative_days=210)])
    path = _write(tmp_path / "invoice.csv", [HEADER, *AGREEING], ending="\n")
    assert main(["share", "reconcile", str(path)]) == 0
    assert "agrees" in capsys.readouterr().out


def test_cli_differing_file_exits_3_with_summary_and_csv_without_identity_codes(
    ledger: ShareLedger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path / "invoice.csv", DIFFERING)
    assert main(["share", "reconcile", str(path), "--out", str(tmp_path / "d.csv")]) == 3
    captured = capsys.readouterr()
    assert "different-euros: 1" in captured.out
    assert "line 13: invalid-identity-code" in captured.out
    text = (tmp_path / "d.csv").read_text(encoding="utf-8")
    for code in (ANNA, BERT, CARL):
        assert code not in text
        assert code not in captured.out + captured.err
    rows = list(csv.DictReader(text.splitlines()))
    assert {row["kind"] for row in rows} >= {"billed-not-seen", "seen-not-billed", "bad-line"}
    default = tmp_path / "invoice.differences.csv"
    previous = os.umask(0o022)
    try:
        assert main(["share", "reconcile", str(path)]) == 3
    finally:
        os.umask(previous)
    assert stat.S_IMODE(default.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "content", [None, "not;a;header\n", "laskukuukausi;kunta\n"], ids=["missing", "other", "short"]
)
def test_cli_unreadable_file_exits_2_in_one_line(
    ledger: ShareLedger, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None
) -> None:
    path = tmp_path / "invoice.csv"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert main(["share", "reconcile", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "invoice.csv" in err[0]


def test_bad_encoding_is_a_bad_line_and_the_rest_is_compared(
    ledger: ShareLedger, tmp_path: Path
) -> None:
    path = tmp_path / "invoice.csv"
    path.write_bytes(
        (HEADER + "\n").encode() + b"2025-04;398;TMT;\xff\n" + ("\n".join(AGREEING) + "\n").encode()
    )
    found: list[Difference] = []
    report = reconcile(path, ledger, RULES, pseudonym_secret(load_settings()), found.append)
    assert [(bad.line, bad.reason) for bad in report.bad_lines] == [(2, "bad-encoding")]
    assert report.lines == 3
    assert {d.record_id for d in found if d.kind is Kind.SEEN_NOT_BILLED} >= {"R-UNBILLED"}


def test_a_step_of_a_billed_record_left_out_is_seen_not_billed(
    ledger: ShareLedger, tmp_path: Path
) -> None:
    path = _write(tmp_path / "invoice.csv", [HEADER, AGREEING[0]])
    found: list[Difference] = []
    reconcile(path, ledger, RULES, pseudonym_secret(load_settings()), found.append)
    left_out = [(d.record_id, d.percent_hub) for d in found if d.kind is Kind.SEEN_NOT_BILLED]
    assert ("R-MATCH", 20) in left_out
    assert ("R-MATCH", 10) not in left_out


def test_totals_count_each_record_once(ledger: ShareLedger, tmp_path: Path) -> None:
    ledger.clear()
    secret = pseudonym_secret(load_settings())
    ledger.add(
        [
            _record("R-MATCH", ANNA, secret, cumulative_days=210),  # 37,21 + 74,42
            _record("R-UNBILLED", ANNA, secret, cumulative_days=230),  # 148,84
            _record("R-MARCH", ANNA, secret, payment_date="2025-03-02"),  # another month
        ]
    )
    lines = [HEADER, *AGREEING, AGREEING[0]]  # the last line billed twice
    report = reconcile(_write(tmp_path / "i.csv", lines), ledger, RULES, secret, lambda _d: None)
    assert report.billed == Decimal("148.84")
    assert report.computed == Decimal("260.47")
