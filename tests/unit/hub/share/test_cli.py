"""``hub share rules|statement|rebuild`` from the command line, on a real SQLite ledger."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from hub.cli import main
from hub.core.settings import load_settings, pseudonym_secret
from hub.share.ledger import open_share_ledger, stored_record
from schemas.envelope import BenefitDayEvent
from schemas.person_ref import person_ref_for
from tests.support import benefit_day_event

pytestmark = pytest.mark.usefixtures("restore_logging", "cli_env")

MOVER = "010190-951B"  # moves from Hollola to Lahti in March
OTHER = "020285-951H"


def _event(code: str, secret: bytes, **data: object) -> BenefitDayEvent:
    event = benefit_day_event(person_id=code, **data)
    return event.model_copy(update={"subject": person_ref_for(code, secret)})


@pytest.fixture
def ledger_dir(cli_env: Path) -> Path:
    secret = pseudonym_secret(load_settings())
    ledger = open_share_ledger(cli_env, None)
    march = {"period_start": "2025-03-03", "period_end": "2025-03-14", "paid_days": 10,
             "amount_paid": "372.10"}  # fmt: skip
    ledger.add(
        stored_record(event)
        for event in (
            _event(
                MOVER,
                secret,
                record_id="K1",
                home_municipality="098",
                cumulative_days=130,
                payment_date="2025-03-10",
                **march,
            ),
            _event(
                MOVER,
                secret,
                record_id="K2",
                home_municipality="398",
                cumulative_days=140,
                payment_date="2025-03-24",
                **march,
            ),
            _event(
                OTHER,
                secret,
                record_id="K3",
                home_municipality="398",
                cumulative_days=210,
                payment_date="2025-03-24",
                **{**march, "paid_days": 20, "amount_paid": "744.20"},
            ),
            _event(
                OTHER,
                secret,
                record_id="K4",
                home_municipality="398",
                cumulative_days=230,
                payment_date="2025-04-07",
                **{**march, "paid_days": 20, "amount_paid": "744.20"},
            ),
        )
    )
    ledger.close()
    return cli_env


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.usefixtures("ledger_dir")
def test_statement_sums_per_municipality_invoice_and_step(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["share", "statement", "--month", "2025-03", "--format", "csv"]) == 0
    rows = _csv(capsys.readouterr().out)
    assert [
        (r["municipality"], r["percent"], r["persons"], r["days"], r["municipal_share"])
        for r in rows
    ] == [
        ("098", "10", "1", "10", "37.21"),
        ("398", "10", "2", "20", "74.42"),
        ("398", "20", "1", "10", "74.42"),
    ]


@pytest.mark.usefixtures("ledger_dir")
@pytest.mark.parametrize(
    ("selection", "municipalities"),
    [
        (["--authority", "lahti"], {"398"}),
        (["--authority", "ph"], {"098"}),
        (["--municipality", "098"], {"098"}),
        (["--municipality", "111"], set()),
    ],
)
def test_statement_selects_a_municipality_or_an_authoritys_area(
    capsys: pytest.CaptureFixture[str], selection: list[str], municipalities: set[str]
) -> None:
    assert main(["share", "statement", "--month", "2025-03", "--format", "json", *selection]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["step_table_version"] == "2025.1"
    assert {row["municipality"] for row in document["rows"]} == municipalities


@pytest.mark.usefixtures("ledger_dir")
def test_statement_table_prints_the_rules_it_used(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["share", "statement", "--month", "2025-04"]) == 0
    printed = capsys.readouterr().out
    assert "step table 2025.1" in printed
    assert "basic daily amount table" in printed
    assert "148.84" in printed  # days 211-230 at 20 %


@pytest.mark.usefixtures("ledger_dir")
def test_detail_shows_references_and_reveal_shows_codes_recorded_as_disclosure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["share", "statement", "--month", "2025-03", "--detail", "--format", "csv"]) == 0
    detail = capsys.readouterr().out
    assert MOVER not in detail
    assert OTHER not in detail
    assert {r["person"][:2] for r in _csv(detail)} == {"p-"}
    assert main(["audit", "disclosures", "--person", MOVER, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []

    assert main(["share", "statement", "--month", "2025-03", "--reveal", "--format", "csv"]) == 0
    revealed = _csv(capsys.readouterr().out)
    assert {r["person"] for r in revealed} == {MOVER, OTHER}
    assert main(["audit", "disclosures", "--person", MOVER, "--format", "json"]) == 0
    disclosures = json.loads(capsys.readouterr().out)
    assert [(d["partner"], d["topic"], d["event_type"]) for d in disclosures] == [
        ("lahti", "out.lahti.share-reveal", "fi.paijathame.hub.share-statement.reveal"),
        ("ph", "out.ph.share-reveal", "fi.paijathame.hub.share-statement.reveal"),
    ]
    assert "person" in disclosures[0]["fields"]
    assert main(["audit", "verify"]) == 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--month", "2025-13"], "--month: '2025-13' is not YYYY-MM"),
        (["--month", "2025-00"], "--month: '2025-00' is not YYYY-MM"),
        (["--month", "2025-3"], "--month: '2025-3' is not YYYY-MM"),
        (["--month", "2025-03", "--municipality", "98"], "is not a 3-digit code"),
        (["--month", "2025-03", "--authority", "helsinki"], "is not lahti or ph"),
        (["--month", "2025-03", "--authority", "ph", "--municipality", "098"], "not both"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    assert main(["share", "statement", *arguments]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert message in err[0]


@pytest.mark.parametrize("month", ["2025-01", "2025-12"])
def test_month_bounds_are_accepted(capsys: pytest.CaptureFixture[str], month: str) -> None:
    assert main(["share", "statement", "--month", month, "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("municipality,month,")


def test_rules_prints_the_versions_and_sources(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["share", "rules"]) == 0
    printed = capsys.readouterr().out
    assert "step table 2025.1" in printed
    assert "days 101-200: 10 %" in printed
    assert "2025: 37.21 €" in printed
    assert "555/1998" in printed


def test_broken_rules_file_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = tmp_path / "steps.toml"
    broken.write_text("version = ", encoding="utf-8")
    monkeypatch.setenv("HUB_SHARE_STEP_TABLE_FILE", str(broken))
    assert main(["share", "rules"]) == 2
    assert "not valid TOML" in capsys.readouterr().err


@pytest.mark.usefixtures("ledger_dir")
def test_rebuild_check_tells_a_ledger_the_audit_log_does_not_explain(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["share", "rebuild", "--check"]) == 3
    assert "DIFFERS" in capsys.readouterr().out
    assert main(["share", "rebuild"]) == 0
    assert main(["share", "rebuild", "--check"]) == 0
    assert "equals the live share ledger" in capsys.readouterr().out
