"""The document the state receives: protected figures, versions, CSV."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from pydantic import ValidationError

from hub.statistics.document import (
    CSV_COLUMNS,
    Correction,
    build_event,
    csv_rows,
    figures_of,
    render_csv,
)
from hub.statistics.figures import BenefitFigures, Month, MonthFigures
from schemas.codes import Authority
from schemas.monthly_statistics import MonthlyStatistics

MARCH = Month(2025, 3)
AT = dt.datetime(2025, 4, 10, 6, 0, tzinfo=dt.UTC)


def _figures(persons: tuple[int, int, int] = (40, 9, 0), jobseekers_02: int = 212) -> MonthFigures:
    jobseekers = dict.fromkeys(["00", "01", "02", "03", "04", "05", "07", "08", "09"], 0)
    jobseekers["02"], jobseekers["03"] = jobseekers_02, 3
    names = ("labour_market_subsidy", "basic_allowance", "earnings_related_basic_part")
    benefits = {
        name: BenefitFigures(count, count * 20, Decimal(count * 700) + Decimal("0.55"))
        if count
        else BenefitFigures()
        for name, count in zip(names, persons, strict=True)
    }
    return MonthFigures(
        jobseekers=jobseekers,
        spells_begun=4,
        long_term_unemployed=5,
        referrals_sent={"health_check": {"sote": 9, "lahti": 0, "ph": 1}},
        outcomes={"health_check": {"accepted": 0, "rejected": 0, "completed": 0, "cancelled": 0}},
        benefits=benefits,
        counter_past={100: 88, 300: 1, 1000: 0},
    )


def _document(figures: MonthFigures | None = None) -> MonthlyStatistics:
    return build_event(figures or _figures(), Authority.LAHTI, MARCH, AT).data


def test_every_count_of_one_to_four_is_suppressed_and_its_row_protected() -> None:
    document = _document()
    row = document.jobseekers_by_status
    assert row.cells["03"].suppressed  # 3 persons
    assert row.cells["02"].suppressed  # 215 - 212 would give the 3 away
    assert row.cells["00"].value == 0
    assert row.total.value == 215
    assert document.unemployment_spells_begun.suppressed  # 4
    assert document.long_term_unemployed.value == 5  # 5 stands
    assert document.payment_day_counter_past["300"].suppressed
    assert document.payment_day_counter_past["1000"].value == 0
    sent = document.referrals_sent["health_check"]
    assert sent.cells["ph"].suppressed
    assert sent.cells["sote"].suppressed
    assert sent.total.value == 10


@pytest.mark.parametrize(("persons", "shown"), [(4, False), (5, True)])
def test_days_and_euros_are_shown_only_behind_five_persons(persons: int, shown: bool) -> None:
    document = _document(_figures(persons=(40, persons, 6)))
    basic = document.benefit_payments["basic_allowance"]
    assert basic.persons.suppressed is not shown
    assert basic.payment_days.suppressed is not shown
    assert basic.euros_paid.suppressed is not shown
    if shown:
        assert basic.euros_paid.value == Decimal(persons * 700) + Decimal("0.55")


def test_a_sum_behind_a_secondarily_suppressed_count_is_hidden_too() -> None:
    document = _document(_figures(persons=(40, 9, 2)))
    payments = document.benefit_payments
    assert payments["earnings_related_basic_part"].euros_paid.suppressed
    assert payments["basic_allowance"].persons.suppressed  # the next smallest, 9
    assert payments["basic_allowance"].euros_paid.suppressed
    assert payments["labour_market_subsidy"].euros_paid.value == Decimal("28000.55")
    total = document.benefit_payments_total
    assert total.persons.value == 51
    assert total.euros_paid.value == Decimal("28000.55") + Decimal("6300.55") + Decimal("1400.55")


def test_nobody_paid_shows_zero_days_and_euros() -> None:
    nobody = _document().benefit_payments["earnings_related_basic_part"]
    assert (nobody.persons.value, nobody.payment_days.value) == (0, 0)
    assert nobody.euros_paid.value == Decimal("0.00")


def test_the_event_names_the_area_and_month_never_a_person() -> None:
    event = build_event(_figures(), Authority.PH, MARCH, AT)
    assert (event.subject, event.id) == ("ph/2025-03", "statistics-ph-2025-03-v1")
    assert event.type == "fi.paijathame.hub.monthly-statistics.v1"
    assert (event.data.version, event.data.reason, event.data.replaces_version) == (1, None, None)
    assert not re.search(r"p-[0-9a-f]{32}", event.model_dump_json())


def test_a_correction_is_the_next_version_with_its_reason() -> None:
    event = build_event(_figures(), Authority.LAHTI, MARCH, AT, Correction(2, "Kela fixed"))
    assert (event.id, event.data.version) == ("statistics-lahti-2025-03-v3", 3)
    assert (event.data.replaces_version, event.data.reason) == (2, "Kela fixed")
    assert figures_of(event.data) == figures_of(_document())


def test_a_version_after_the_first_without_reason_is_not_a_document() -> None:
    data = _document().model_dump()
    with pytest.raises(ValidationError, match="needs its reason"):
        MonthlyStatistics.model_validate({**data, "version": 2, "replaces_version": 1})
    with pytest.raises(ValidationError, match="version 1 corrects nothing"):
        MonthlyStatistics.model_validate({**data, "reason": "because"})


def test_figures_differ_when_one_count_differs() -> None:
    assert figures_of(_document(_figures(jobseekers_02=212))) != figures_of(
        _document(_figures(jobseekers_02=213))
    )


def test_csv_marks_suppressed_counts_and_hidden_sums() -> None:
    document = _document(_figures(persons=(40, 9, 2)))
    rows = {(r[3], r[4], r[5]): r[6] for r in csv_rows(document)}
    assert rows[("jobseekers_at_month_end", "03", "")] == "<5"
    assert rows[("jobseekers_at_month_end", "02", "")] == "<5"  # secondary: also <5
    assert rows[("jobseekers_at_month_end", "total", "")] == "215"
    assert rows[("referrals_sent", "health_check", "total")] == "10"
    assert rows[("benefit_euros_paid", "basic_allowance", "")] == ".."
    assert rows[("benefit_payment_days", "labour_market_subsidy", "")] == "800"
    assert rows[("payment_day_counter_past", "1000", "")] == "0"
    text = render_csv([document, _document()])
    lines = text.splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS)
    assert lines[1].startswith("lahti,2025-03,1,jobseekers_at_month_end,00,,0")
    assert len(lines) == 1 + 2 * len(rows)
