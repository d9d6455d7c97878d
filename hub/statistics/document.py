"""A month's figures, protected, as the document the state receives, and as CSV rows.

Pure: ``MonthFigures`` (raw counts) in, ``MonthlyStatisticsEvent`` out. Every count passes
through :mod:`hub.statistics.disclosure` here and nowhere else, so no unprotected number can
reach the document.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from hub.statistics.disclosure import (
    MINIMUM_COUNT,
    Published,
    PublishedRow,
    protect_count,
    protect_row,
    protect_sum,
)
from hub.statistics.figures import BenefitFigures, Month, MonthFigures
from schemas.codes import Authority
from schemas.envelope import dataschema_for
from schemas.monthly_statistics import (
    MONTHLY_STATISTICS_V1,
    Amount,
    BenefitPayments,
    Count,
    CountRow,
    DayCount,
    MonthlyStatistics,
    MonthlyStatisticsEvent,
)

__all__ = [
    "CSV_COLUMNS",
    "HIDDEN_COUNT",
    "HIDDEN_SUM",
    "STATISTICS_SOURCE",
    "Correction",
    "build_event",
    "csv_rows",
    "figures_of",
    "render_csv",
]

STATISTICS_SOURCE: Final = "urn:fi:paijathame:hub:statistics"
CSV_COLUMNS: Final = ("area", "month", "version", "figure", "category", "subcategory", "value")
#: How a suppressed count is written in CSV (keha's interface document).
HIDDEN_COUNT: Final = "<5"
#: How a suppressed sum (days, euros) is written in CSV.
HIDDEN_SUM: Final = ".."
#: Fields of the document that are not figures: a new version with equal figures is none.
_NOT_FIGURES: Final = frozenset({"version", "replaces_version", "reason", "produced_at"})


def _count(published: Published[int]) -> Count:
    return Count(value=published.value, suppressed=published.suppressed)


def _row(published: PublishedRow) -> CountRow:
    return CountRow(
        cells={key: _count(cell) for key, cell in published.cells.items()},
        total=_count(published.total),
    )


def _payments(figures: BenefitFigures, persons: Published[int]) -> BenefitPayments:
    days = protect_sum(figures.days, persons)
    euros = protect_sum(figures.euros, persons)
    return BenefitPayments(
        persons=_count(persons),
        payment_days=DayCount(value=days.value, suppressed=days.suppressed),
        euros_paid=Amount(value=euros.value, suppressed=euros.suppressed),
    )


def _benefits(
    benefits: Mapping[str, BenefitFigures],
) -> tuple[dict[str, BenefitPayments], BenefitPayments]:
    persons = protect_row({name: figures.persons for name, figures in benefits.items()})
    by_benefit = {
        name: _payments(figures, persons.cells[name]) for name, figures in benefits.items()
    }
    total = BenefitFigures(
        sum(f.persons for f in benefits.values()),
        sum(f.days for f in benefits.values()),
        sum((f.euros for f in benefits.values()), Decimal("0.00")),
    )
    return by_benefit, _payments(total, persons.total)


@dataclass(frozen=True, slots=True)
class Correction:
    """What makes a document a correction: the version it replaces, and why."""

    replaces_version: int
    reason: str


def build_event(
    figures: MonthFigures,
    area: Authority,
    month: Month,
    produced_at: dt.datetime,
    correction: Correction | None = None,
) -> MonthlyStatisticsEvent:
    """The protected document of one area and month (version 1, or the correction's next)."""
    version = 1 if correction is None else correction.replaces_version + 1
    by_benefit, total = _benefits(figures.benefits)
    data = MonthlyStatistics(
        area=area,
        month=str(month),
        version=version,
        replaces_version=None if correction is None else correction.replaces_version,
        reason=None if correction is None else correction.reason,
        produced_at=produced_at,
        minimum_count=MINIMUM_COUNT,
        jobseekers_by_status=_row(protect_row(figures.jobseekers)),
        unemployment_spells_begun=_count(protect_count(figures.spells_begun)),
        long_term_unemployed=_count(protect_count(figures.long_term_unemployed)),
        referrals_sent={s: _row(protect_row(r)) for s, r in figures.referrals_sent.items()},
        referral_outcomes={s: _row(protect_row(r)) for s, r in figures.outcomes.items()},
        benefit_payments=by_benefit,
        benefit_payments_total=total,
        payment_day_counter_past={
            str(threshold): _count(protect_count(count))
            for threshold, count in figures.counter_past.items()
        },
    )
    return MonthlyStatisticsEvent(
        id=f"statistics-{area.value}-{month}-v{version}",
        source=STATISTICS_SOURCE,
        subject=f"{area.value}/{month}",
        time=produced_at,
        dataschema=dataschema_for(MONTHLY_STATISTICS_V1),
        data=data,
    )


def figures_of(document: MonthlyStatistics) -> dict[str, Any]:
    """The published figures alone (JSON mode): equal figures mean nothing to correct."""
    return document.model_dump(mode="json", exclude=set(_NOT_FIGURES))


def _shown(value: object, suppressed: bool, hidden: str) -> str:
    return hidden if suppressed else str(value)


def csv_rows(document: MonthlyStatistics) -> Iterator[tuple[str, ...]]:
    """One row per published figure: area, month, version, figure, category, subcategory,
    value (``<5`` for a suppressed count, ``..`` for a suppressed sum)."""
    head = (document.area.value, document.month, str(document.version))

    def count(figure: str, category: str, subcategory: str, cell: Count) -> tuple[str, ...]:
        return (
            *head,
            figure,
            category,
            subcategory,
            _shown(cell.value, cell.suppressed, HIDDEN_COUNT),
        )

    row = document.jobseekers_by_status
    for code, cell in row.cells.items():
        yield count("jobseekers_at_month_end", code, "", cell)
    yield count("jobseekers_at_month_end", "total", "", row.total)
    yield count("unemployment_spells_begun", "", "", document.unemployment_spells_begun)
    yield count("long_term_unemployed", "", "", document.long_term_unemployed)
    for figure, table in (
        ("referrals_sent", document.referrals_sent),
        ("referral_outcomes", document.referral_outcomes),
    ):
        for service, service_row in table.items():
            for key, cell in service_row.cells.items():
                yield count(figure, service, key, cell)
            yield count(figure, service, "total", service_row.total)
    payments = [*document.benefit_payments.items(), ("total", document.benefit_payments_total)]
    for benefit, paid in payments:
        yield count("benefit_persons", benefit, "", paid.persons)
        days, euros = paid.payment_days, paid.euros_paid
        yield (
            *head,
            "benefit_payment_days",
            benefit,
            "",
            _shown(days.value, days.suppressed, HIDDEN_SUM),
        )
        yield (
            *head,
            "benefit_euros_paid",
            benefit,
            "",
            _shown(euros.value, euros.suppressed, HIDDEN_SUM),
        )
    for threshold, cell in document.payment_day_counter_past.items():
        yield count("payment_day_counter_past", threshold, "", cell)


def render_csv(documents: list[MonthlyStatistics]) -> str:
    """The documents as one CSV text with a header row (RFC 4180, comma, CRLF)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for document in documents:
        writer.writerows(csv_rows(document))
    return buffer.getvalue()
