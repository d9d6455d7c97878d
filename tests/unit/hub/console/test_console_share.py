"""The console's municipal-share page over its real ASGI app and a real SQLite share ledger.

The page, its CSV and its chart must say what ``hub share statement|forecast`` says for the
same month and selection: the tests run both on the same ledger and compare.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.testclient import TestClient

from hub.audit.recorder import AuditRecorder
from hub.audit.store import open_audit_store
from hub.cli import main
from hub.console.app import create_app
from hub.console.share import (
    DEFAULT_FORECAST_MONTHS,
    ShareQuery,
    ShareQueryError,
    last_finished_month,
    parse_query,
)
from hub.console.users import Role, UserStore
from hub.core.settings import load_settings, pseudonym_secret
from hub.share.ledger import SQLITE_FILE, open_share_ledger, stored_record
from schemas.envelope import BenefitDayEvent
from schemas.person_ref import person_ref_for
from tests.console_pages import PASSWORD, PERSON_REF, console_context, sign_in
from tests.support import benefit_day_event

pytestmark = pytest.mark.usefixtures("restore_logging", "cli_env")

MOVER = "010190-951B"  # moves from Hollola (098, ph) to Lahti (398) in March
OTHER = "020285-951H"
_MARCH = {"period_start": "2025-03-03", "period_end": "2025-03-14", "paid_days": 10,
          "amount_paid": "372.10"}  # fmt: skip


def _event(code: str, secret: bytes, **data: object) -> BenefitDayEvent:
    event = benefit_day_event(person_id=code, **data)
    return event.model_copy(update={"subject": person_ref_for(code, secret)})


def _fill(data_dir: Path) -> None:
    secret = pseudonym_secret(load_settings())
    ledger = open_share_ledger(data_dir, None)
    twenty = {**_MARCH, "paid_days": 20, "amount_paid": "744.20"}
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
                **_MARCH,
            ),
            _event(
                MOVER,
                secret,
                record_id="K2",
                home_municipality="398",
                cumulative_days=140,
                payment_date="2025-03-24",
                **_MARCH,
            ),
            _event(
                OTHER,
                secret,
                record_id="K3",
                home_municipality="398",
                cumulative_days=210,
                payment_date="2025-03-31",
                **twenty,
            ),
            # The first day of the next month: not in March's statement.
            _event(
                OTHER,
                secret,
                record_id="K4",
                home_municipality="398",
                cumulative_days=230,
                payment_date="2025-04-01",
                **twenty,
            ),
        )
    )
    ledger.close()


@pytest.fixture
def client(cli_env: Path, tmp_path: Path) -> Iterator[TestClient]:
    settings = load_settings(kafka_bootstrap="127.0.0.1:1")
    assert settings.data_dir == cli_env  # the CLI reads the same ledger
    users = UserStore.open(tmp_path)
    users.add("olli", Role.OPERATOR, PASSWORD)
    users.add("aino", Role.AUDITOR, PASSWORD)
    recorder = AuditRecorder(open_audit_store(tmp_path, None), Ed25519PrivateKey.generate())
    context = console_context(settings, recorder, users)
    with TestClient(create_app(context), base_url="http://127.0.0.1") as test_client:
        yield test_client
    recorder.store.close()
    users.close()


@pytest.fixture
def filled(cli_env: Path) -> Path:
    _fill(cli_env)
    return cli_env


def _cli(capsys: pytest.CaptureFixture[str], *arguments: str) -> str:
    assert main(["share", *arguments]) == 0
    return capsys.readouterr().out


def _table(page: str, table_id: str) -> list[list[str]]:
    """The body rows of a table of the page, as text cells."""
    found = re.search(rf'<table id="{table_id}">(.*?)</table>', page, re.DOTALL)
    assert found is not None, table_id
    body = re.search(r"<tbody>(.*?)</tbody>", found.group(1), re.DOTALL)
    assert body is not None
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.DOTALL)
    return [
        [html.unescape(cell.strip()) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in rows
    ]


def _rows(text: str) -> list[list[str]]:
    return [list(row) for row in csv.reader(io.StringIO(text))][1:]


SELECTIONS = [
    ({}, []),
    ({"authority": "lahti"}, ["--authority", "lahti"]),
    ({"authority": "ph"}, ["--authority", "ph"]),
    ({"municipality": "098"}, ["--municipality", "098"]),
    ({"municipality": "111"}, ["--municipality", "111"]),
]


@pytest.mark.usefixtures("filled")
@pytest.mark.parametrize(("params", "options"), SELECTIONS)
@pytest.mark.parametrize("month", ["2025-03", "2025-04"])
def test_the_page_and_its_csv_show_the_clis_statement(
    client: TestClient,
    capsys: pytest.CaptureFixture[str],
    month: str,
    params: dict[str, str],
    options: list[str],
) -> None:
    expected = _cli(capsys, "statement", "--month", month, "--format", "csv", *options)
    sign_in(client, "olli")
    page = client.get("/share", params={"month": month, **params})
    assert page.status_code == 200
    shown = _table(page.text, "share-statement")
    if _rows(expected):
        assert shown == _rows(expected)
    else:
        assert len(shown) == 1
        assert "No payments" in shown[0][0]
    download = client.get("/share/statement.csv", params={"month": month, **params})
    assert download.status_code == 200
    assert download.headers["content-type"] == "text/csv; charset=utf-8"
    assert download.headers["content-disposition"].startswith("attachment; filename=")
    assert download.text == expected
    link = re.search(r'href="(/share/statement.csv\?[^"]+)"', page.text)
    assert link is not None
    assert client.get(html.unescape(link.group(1))).text == expected


@pytest.mark.usefixtures("filled")
def test_the_statement_has_the_figures_per_municipality_and_step(client: TestClient) -> None:
    sign_in(client, "olli")
    page = client.get("/share", params={"month": "2025-03"}).text
    assert [(r[0], r[4], r[5], r[6], r[8]) for r in _table(page, "share-statement")] == [
        ("098", "10", "1", "10", "37.21"),
        ("398", "10", "2", "20", "74.42"),
        ("398", "20", "1", "10", "74.42"),
    ]
    totals = re.search(r'<tr id="share-totals">(.*?)</tr>', page, re.DOTALL)
    assert totals is not None
    assert re.findall(r"<td[^>]*>(.*?)</td>", totals.group(1)) == ["40", "1488.40", "186.05"]


@pytest.mark.usefixtures("filled")
def test_the_rules_line_is_the_clis_with_the_confirmation_note(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    printed = _cli(capsys, "statement", "--month", "2025-03").splitlines()[0]
    assert "NOT yet confirmed by the finance unit" in printed
    sign_in(client, "aino")
    page = client.get("/share", params={"month": "2025-03"}).text
    shown = re.search(r'<p id="share-rules" class="warning">(.*?)</p>', page)
    assert shown is not None
    assert html.unescape(shown.group(1)) == printed


@pytest.mark.usefixtures("filled")
@pytest.mark.parametrize(
    ("params", "options"),
    [
        ({"months": "3"}, ["--months", "3"]),
        ({"months": "2", "budget": "1200"}, ["--months", "2", "--budget", "1200"]),
        ({"months": "1", "authority": "lahti"}, ["--months", "1", "--authority", "lahti"]),
    ],
)
def test_the_chart_is_the_clis_png_and_the_page_links_it(
    client: TestClient,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    params: dict[str, str],
    options: list[str],
) -> None:
    out_dir = tmp_path / "forecast"
    printed = _cli(capsys, "forecast", *options, "--out-dir", str(out_dir))
    sign_in(client, "olli")
    chart = client.get("/share/forecast.png", params={"month": "2025-03", **params})
    assert chart.status_code == 200
    assert chart.headers["content-type"] == "image/png"
    assert chart.content == (out_dir / "share-forecast.png").read_bytes()
    page = client.get("/share", params={"month": "2025-03", **params}).text
    src = re.search(r'<img id="share-chart" src="([^"]+)"', page)
    assert src is not None
    assert client.get(html.unescape(src.group(1))).content == chart.content
    monthly = [
        line.split(":")[0] for line in printed.splitlines() if re.match(r"\d{4}-\d\d:", line)
    ]
    assert [row[0] for row in _table(page, "share-forecast")] == monthly
    shares = re.findall(r"share (\S+) €", printed)
    assert [row[4] for row in _table(page, "share-forecast")] == shares


@pytest.mark.usefixtures("filled")
def test_a_selection_without_a_current_counter_has_no_forecast(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    # Hollola's only person moved to Lahti: their counter, the latest record, is Lahti's.
    assert main(["share", "forecast", "--months", "1", "--municipality", "098"]) == 2
    assert "no payments to forecast from" in capsys.readouterr().err
    sign_in(client, "olli")
    page = client.get("/share", params={"month": "2025-03", "municipality": "098"}).text
    assert _table(page, "share-statement")[0][0] == "098"
    assert "holds no payments for municipality 098 to forecast from" in page
    assert 'id="share-chart"' not in page
    chart = client.get("/share/forecast.png", params={"municipality": "098"})
    assert chart.status_code == 404


@pytest.mark.usefixtures("filled")
def test_the_page_shows_no_identity_code_and_no_person_reference(client: TestClient) -> None:
    secret = pseudonym_secret(load_settings())
    sign_in(client, "aino")
    for month in ("2025-03", "2025-04"):
        page = client.get("/share", params={"month": month}).text
        csv_text = client.get("/share/statement.csv", params={"month": month}).text
        for code in (MOVER, OTHER):
            for text in (page, csv_text):
                assert code not in text
                assert person_ref_for(code, secret) not in text
    assert PERSON_REF.search(client.get("/share", params={"month": "2025-03"}).text) is None


def test_pages_need_a_signed_in_operator_or_auditor(client: TestClient) -> None:
    for path in ("/share", "/share/statement.csv", "/share/forecast.png"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/login"
    for name in ("olli", "aino"):
        sign_in(client, name)
        assert client.get("/share").status_code == 200
        assert 'href="/share"' in client.get("/share").text


def test_without_a_ledger_the_page_says_so_and_makes_none(
    client: TestClient, cli_env: Path
) -> None:
    sign_in(client, "olli")
    page = client.get("/share", params={"month": "2025-03"})
    assert page.status_code == 200
    assert "No payments in 2025-03" in page.text
    assert "holds no payments" in page.text
    assert 'id="share-chart"' not in page.text
    assert client.get("/share/forecast.png").status_code == 404
    assert client.get("/share/statement.csv", params={"month": "2025-03"}).text == (
        "municipality,month,invoice,model,percent,persons,days,euros_paid,municipal_share\n"
    )
    assert not (cli_env / SQLITE_FILE).exists()


@pytest.mark.usefixtures("filled")
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"month": "2025-13"}, "month: &#39;2025-13&#39; is not YYYY-MM"),
        ({"month": "2025-00"}, "is not YYYY-MM"),
        ({"month": "2025-3"}, "is not YYYY-MM"),
        ({"municipality": "98"}, "is not a 3-digit code"),
        ({"authority": "helsinki"}, "is not lahti or ph"),
        ({"authority": "ph", "municipality": "098"}, "not both"),
        ({"months": "0"}, "is not 1-60"),
        ({"months": "61"}, "is not 1-60"),
        ({"months": "-1"}, "is not 1-60"),
        ({"budget": "-0.01"}, "is not euros"),
        ({"budget": "lots"}, "is not euros"),
        ({"budget": "Infinity"}, "is not euros"),
    ],
)
def test_bad_parameters_are_one_clear_line(
    client: TestClient, params: dict[str, str], message: str
) -> None:
    sign_in(client, "olli")
    page = client.get("/share", params={"month": "2025-03", **params})
    assert page.status_code == 400
    error = re.search(r'<p class="error" id="share-error">(.*?)</p>', page.text)
    assert error is not None
    assert message in error.group(1)
    for path in ("/share/statement.csv", "/share/forecast.png"):
        refused = client.get(path, params={"month": "2025-03", **params})
        assert refused.status_code == 400, path
        assert html.unescape(message) in html.unescape(refused.text)


@pytest.mark.parametrize(
    ("params", "months", "budget"),
    [
        ({"months": "1"}, 1, None),
        ({"months": "60"}, 60, None),
        ({"months": ""}, DEFAULT_FORECAST_MONTHS, None),
        ({"budget": "0"}, DEFAULT_FORECAST_MONTHS, Decimal(0)),
        ({"budget": "1 200,50"}, DEFAULT_FORECAST_MONTHS, Decimal("1200.50")),
    ],
)
def test_forecast_parameters_at_their_bounds(
    params: dict[str, str], months: int, budget: Decimal | None
) -> None:
    query = parse_query({"month": "2025-03", **params}, dt.datetime(2025, 5, 1, tzinfo=dt.UTC))
    assert (query.months, query.budget) == (months, budget)


@pytest.mark.parametrize(
    ("now", "month"),
    [
        (dt.datetime(2025, 3, 31, 21, 59, 59, tzinfo=dt.UTC), "2025-02"),  # 23:59:59 in Finland
        (dt.datetime(2025, 3, 31, 22, 0, tzinfo=dt.UTC), "2025-03"),  # midnight in Finland
        (dt.datetime(2025, 1, 15, tzinfo=dt.UTC), "2024-12"),
        (dt.datetime(2025, 12, 31, 12, tzinfo=dt.UTC), "2025-11"),
    ],
)
def test_the_default_month_is_the_last_finished_one(now: dt.datetime, month: str) -> None:
    assert last_finished_month(now) == month
    assert parse_query({}, now).month == month
    assert parse_query({"month": " "}, now).month == month


def test_the_links_carry_the_selection() -> None:
    query = ShareQuery("2025-03", municipality="098", months=3, budget=Decimal("1200"))
    assert query.selection() == "month=2025-03&municipality=098"
    assert query.forecast_query() == "month=2025-03&municipality=098&months=3&budget=1200"
    assert ShareQuery("2025-03", authority="ph").selection() == "month=2025-03&authority=ph"
    assert ShareQuery("2025-03").label() == "all municipalities"
    with pytest.raises(ShareQueryError):
        parse_query({"month": "2025-03", "months": "x"}, dt.datetime.now(dt.UTC))
