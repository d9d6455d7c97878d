"""``hub stats``: what a statistician and an administrator see, and one line on errors."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from hub.cli import main
from hub.statistics.document import CSV_COLUMNS
from hub.statistics.route import statistics_route
from hub.statistics.store import open_store
from tests.postgres import PostgresServer
from tests.support import free_port
from tests.unit.hub.statistics.events import paid, status

pytestmark = pytest.mark.usefixtures("restore_logging")


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def _fill(data_dir: Path, persons: int) -> None:
    store = open_store(data_dir, None)
    route = statistics_route(store)
    try:
        for n in range(persons):
            for value in (status(n, "2025-03-03"), paid(n, f"K-{n}", "2025-03-20")):
                outcome = route.translate(value)
                outcome.settle()  # type: ignore[union-attr]
    finally:
        store.close()


@pytest.mark.parametrize("month", ["2025-13", "2025-3", "march"])
def test_a_month_that_is_no_month_is_one_line_and_exit_2(
    cli_env: Path, capsys: pytest.CaptureFixture[str], month: str
) -> None:
    assert main(["stats", "month", month]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line == f"hub: error: {month!r} is not a month (YYYY-MM, e.g. 2025-03)"


def test_a_month_cannot_be_sent_before_it_ends(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats", "send", "2999-01"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line == "hub: error: 2999-01 has not ended yet (it can be sent from 2999-02-01 on)"


def test_a_reason_for_a_month_never_sent_is_refused(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats", "send", "2025-03", "--area", "ph", "--reason", "x"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line == "hub: error: ph 2025-03 was never sent: version 1 needs no --reason"


def test_csv_has_a_header_and_one_row_per_figure_of_each_area(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(cli_env, 6)
    assert main(["stats", "month", "2025-03", "--format", "csv"]) == 0
    captured = capsys.readouterr()
    rows = list(csv.reader(io.StringIO(captured.out)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert {row[0] for row in rows[1:]} == {"lahti", "ph"}
    values = {(r[0], r[3], r[4]): r[6] for r in rows[1:]}
    assert values[("lahti", "jobseekers_at_month_end", "02")] == "6"
    assert values[("lahti", "benefit_euros_paid", "labour_market_subsidy")] == "4200.00"
    assert values[("ph", "jobseekers_at_month_end", "02")] == "0"
    assert "lahti 2025-03: not sent yet" in captured.err


def test_json_of_one_area_hides_small_counts(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(cli_env, 4)
    assert main(["stats", "month", "2025-03", "--area", "lahti", "--format", "json"]) == 0
    [document] = json.loads(capsys.readouterr().out)
    assert document["area"] == "lahti"
    assert document["jobseekers_by_status"]["cells"]["02"] == {"value": None, "suppressed": True}
    euros = document["benefit_payments"]["labour_market_subsidy"]["euros_paid"]
    assert euros == {"value": None, "suppressed": True}


def test_the_table_names_its_markers(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(cli_env, 4)
    assert main(["stats", "month", "2025-03", "--area", "lahti"]) == 0
    out = capsys.readouterr().out
    assert "lahti 2025-03: not sent yet (`hub stats send` sends it as version 1)" in out
    assert "<5: a suppressed count" in out


@pytest.mark.audit
def test_the_figures_come_from_postgresql_when_configured(
    cli_env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    postgres: PostgresServer,
) -> None:
    dsn = postgres.new_database()
    store = open_store(cli_env, dsn)
    route = statistics_route(store)
    try:
        for n in range(5):
            route.translate(status(n, "2025-03-03")).settle()  # type: ignore[union-attr]
    finally:
        store.close()
    monkeypatch.setenv("HUB_STATISTICS_DSN", dsn)
    assert main(["stats", "month", "2025-03", "--area", "lahti", "--format", "json"]) == 0
    [document] = json.loads(capsys.readouterr().out)
    assert document["jobseekers_by_status"]["cells"]["02"]["value"] == 5
    assert not (cli_env / "statistics.sqlite3").exists()


def test_an_unreachable_statistics_database_is_one_line(
    cli_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_STATISTICS_DSN", f"postgresql://hub@127.0.0.1:{free_port()}/hub")
    assert main(["stats", "month", "2025-03"]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith("hub: error: HUB_STATISTICS_DSN: cannot connect:")


def test_a_month_never_sent_cannot_be_sent_again(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats", "resend", "2025-03", "--area", "lahti"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line == "hub: error: lahti 2025-03 was never sent"


#: 2026-12-01 00:30 in Helsinki: December has just begun there (not yet in UTC).
_DECEMBER_BEGUN = dt.datetime(2026, 11, 30, 22, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("now", "month", "exit_code", "said"),
    [
        (_DECEMBER_BEGUN, "2026-11", 0, "lahti 2026-11: not sent yet"),
        (_DECEMBER_BEGUN, "2026-12", 0, "lahti 2026-12: preliminary: the month has not ended"),
        (_DECEMBER_BEGUN - dt.timedelta(minutes=31), "2026-12", 2, None),
        (_DECEMBER_BEGUN, "2027-01", 2, None),
    ],
)
def test_a_month_that_has_not_started_is_refused_in_one_line(
    cli_env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    now: dt.datetime,
    month: str,
    exit_code: int,
    said: str | None,
) -> None:
    monkeypatch.setattr("hub.cli.stats_cmd._now", lambda: now)
    assert main(["stats", "month", month, "--area", "lahti"]) == exit_code
    captured = capsys.readouterr()
    if said is None:
        today = now.astimezone(dt.timezone(dt.timedelta(hours=2))).date().isoformat()
        line = _one_error_line(captured.err)
        assert line == f"hub: error: {month} has not started yet (today is {today} in Helsinki)"
        assert captured.out == ""
    else:
        assert said in captured.out
        assert ", version 1" not in captured.out
