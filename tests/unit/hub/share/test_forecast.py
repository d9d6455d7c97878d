"""``hub share forecast``: who reaches a step when, the share per month, chart and CSVs."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from hub.cli import main
from hub.core.settings import load_settings, pseudonym_secret
from hub.share.forecast import forecast, months_after, weekdays_in
from hub.share.ledger import PersonCounter, open_share_ledger, stored_record
from hub.share.rules import load_rules
from schemas.person_ref import person_ref_for
from tests.support import benefit_day_event

RULES = load_rules()
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("month", "count", "expected"),
    [("2025-11", 3, ["2025-12", "2026-01", "2026-02"]), ("2025-01", 0, [])],
)
def test_months_after_turn_the_year(month: str, count: int, expected: list[str]) -> None:
    assert months_after(month, count) == expected


@pytest.mark.parametrize(("month", "days"), [("2025-05", 22), ("2026-02", 20), ("2025-08", 21)])
def test_weekdays_in_month(month: str, days: int) -> None:
    assert weekdays_in(month) == days


def _counter(day: int, benefit: str = "TMT") -> PersonCounter:
    return PersonCounter("p-1", "398", benefit, day, dt.date(2025, 4, 30), Decimal("37.21"))


@pytest.mark.parametrize(
    ("day", "reaching", "share"),
    [
        (78, [], "0"),  # May has 22 weekdays: days 79-100, the last free day
        (79, [("2025-05", 101, 10)], "3.72"),  # days 80-101: day 101 at 10 %
        (100, [("2025-05", 101, 10)], "81.86"),  # days 101-122
        (101, [], "81.86"),  # already at 10 %: days 102-123
    ],
)
def test_a_person_reaches_a_step_in_the_month_its_day_falls_in(
    day: int, reaching: list[tuple[str, int, int]], share: str
) -> None:
    result = forecast([_counter(day)], RULES, ["2025-05"])
    assert [(s.month, s.day, s.percent) for s in result.steps] == reaching
    [may] = result.months
    assert may.reaching == len(reaching)
    assert may.share == Decimal(share)


def test_counters_run_on_across_months() -> None:
    result = forecast([_counter(180)], RULES, ["2025-05", "2025-06"])
    # May: days 181-202 (20 at 10 %, 2 at 20 %); June (21 weekdays): days 203-223 at 20 %.
    assert [(s.month, s.day) for s in result.steps] == [("2025-05", 201)]
    may, june = result.months
    assert may.share == Decimal("74.42") + Decimal("14.88")
    assert june.share == Decimal("156.28")


def test_forecast_command_writes_chart_and_csvs(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = pseudonym_secret(load_settings())
    ledger = open_share_ledger(cli_env, None)
    code = "131052-930V"
    event = benefit_day_event(person_id=code, cumulative_days=90, paid_days=20,
                              amount_paid="744.20", payment_date="2025-04-30")  # fmt: skip
    ledger.add([stored_record(event.model_copy(update={"subject": person_ref_for(code, secret)}))])
    ledger.close()
    out = tmp_path / "forecast"
    assert main(["share", "forecast", "--months", "2", "--budget", "1200", "--out-dir",
                 str(out)]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "2025-05: 1 person(s)" in printed
    assert (out / "share-forecast.png").read_bytes().startswith(PNG_MAGIC)
    rows = list(csv.DictReader((out / "share-forecast.csv").read_text().splitlines()))
    assert [(r["month"], r["persons_reaching_a_step"], r["budget"]) for r in rows] == [
        ("2025-05", "1", "100.00"),
        ("2025-06", "0", "100.00"),
    ]
    steps = (out / "share-forecast-steps.csv").read_text()
    assert code not in steps
    assert ",2025-05,101,10" in steps


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--months", "0"], "--months: 0 is not 1-60"),
        (["--months", "61"], "--months: 61 is not 1-60"),
        (["--months", "1", "--budget", "lots"], "--budget: 'lots' is not euros"),
        (["--months", "1", "--budget", "-1"], "--budget: '-1' is not euros"),
        (["--months", "1"], "holds no payments"),
    ],
)
def test_forecast_bad_options_are_one_line(
    capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    assert main(["share", "forecast", *arguments]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert message in err[0]


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize("months", ["1", "60"])
def test_forecast_month_bounds_are_accepted(
    months: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["share", "forecast", "--months", months, "--after", "2025-01", "--out-dir",
                 str(tmp_path)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
