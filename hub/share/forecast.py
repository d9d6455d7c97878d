"""``hub share forecast``: the share of the coming months if everybody stays unemployed.

From each person's current counter (their latest paying record in the ledger), the person is
assumed to go on being paid every weekday (Kela pays unemployment benefits for five days a
week; public holidays are not left out) at the euros per day of that record, financed by the
same municipality. Each future month's days are split with the same rules as a statement, so
the forecast says who reaches the next step in which month and what the share will be.

Pure computation and rendering: CSV text and a PNG (matplotlib's Agg backend, no display).
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Final

from hub.share.ledger import PersonCounter
from hub.share.rules import ShareRules
from hub.share.split import ShareRecord, split

__all__ = [
    "MONTH_COLUMNS",
    "STEP_COLUMNS",
    "Forecast",
    "ForecastMonth",
    "StepReached",
    "forecast",
    "months_after",
    "render_chart",
    "render_months_csv",
    "render_steps_csv",
    "weekdays_in",
]

MONTH_COLUMNS: Final = (
    "month",
    "persons",
    "days",
    "euros_paid",
    "municipal_share",
    "persons_reaching_a_step",
    "budget",
)
STEP_COLUMNS: Final = ("person", "municipality", "month", "day", "percent")
_SATURDAY: Final = 5


@dataclass
class ForecastMonth:
    """The forecast of one month over the persons forecast."""

    month: str
    persons: int = 0
    days: int = 0
    euros_paid: Decimal = Decimal(0)
    share: Decimal = Decimal(0)
    reaching: int = 0


@dataclass(frozen=True, slots=True)
class StepReached:
    """A person's counter reaches ``day``, where ``percent`` starts, in ``month``."""

    person_ref: str
    municipality: str
    month: str
    day: int
    percent: int


@dataclass
class Forecast:
    """Months in order, and who reaches which step when."""

    months: list[ForecastMonth]
    steps: list[StepReached] = field(default_factory=list)


def months_after(month: str, count: int) -> list[str]:
    """The ``count`` months after ``month`` (``YYYY-MM``)."""
    year, number = (int(part) for part in month.split("-"))
    found = []
    for _ in range(count):
        year, number = (year + 1, 1) if number == 12 else (year, number + 1)
        found.append(f"{year:04d}-{number:02d}")
    return found


def weekdays_in(month: str) -> int:
    """Monday to Friday in ``month``."""
    year, number = (int(part) for part in month.split("-"))
    days = calendar.monthrange(year, number)[1]
    return sum(1 for day in range(1, days + 1) if dt.date(year, number, day).weekday() < _SATURDAY)


def forecast(counters: Iterable[PersonCounter], rules: ShareRules, months: list[str]) -> Forecast:
    """The share of ``months`` if every person of ``counters`` is paid every weekday."""
    result = Forecast([ForecastMonth(month) for month in months])
    starts = [step.from_day for step in rules.model_2025.steps if step.from_day > 1]
    for person in counters:
        counter = person.cumulative_days
        for slot in result.months:
            days = weekdays_in(slot.month)
            year, number = (int(part) for part in slot.month.split("-"))
            first = dt.date(year, number, 1)
            last = dt.date(year, number, calendar.monthrange(year, number)[1])
            record = ShareRecord(
                record_id="forecast",
                person_ref=person.person_ref,
                municipality=person.municipality,
                benefit=person.benefit,
                period_start=first,
                period_end=last,
                paid_days=days,
                amount_paid=person.euros_per_day * days,
                cumulative_days=counter + days,
                payment_date=last,
            )
            lines = split(record, rules)
            slot.persons += 1
            slot.days += sum(line.days for line in lines)
            slot.euros_paid += sum((line.shared_euros for line in lines), Decimal(0))
            slot.share += sum((line.share for line in lines), Decimal(0))
            for start in starts:
                if counter < start <= counter + days:
                    slot.reaching += 1
                    result.steps.append(
                        StepReached(
                            person.person_ref,
                            person.municipality,
                            slot.month,
                            start,
                            rules.model_2025.percent(start),
                        )
                    )
            counter += days
    return result


def _csv(header: tuple[str, ...], rows: Iterable[tuple[object, ...]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def render_months_csv(result: Forecast, monthly_budget: Decimal | None) -> str:
    """The monthly figures as CSV (``budget`` empty without one)."""
    budget = "" if monthly_budget is None else str(monthly_budget)
    return _csv(
        MONTH_COLUMNS,
        (
            (m.month, m.persons, m.days, m.euros_paid, m.share, m.reaching, budget)
            for m in result.months
        ),
    )


def render_steps_csv(result: Forecast) -> str:
    """Who reaches which step in which month, by person reference."""
    return _csv(
        STEP_COLUMNS,
        ((s.person_ref, s.municipality, s.month, s.day, s.percent) for s in result.steps),
    )


def render_chart(result: Forecast, monthly_budget: Decimal | None, title: str, path: Path) -> None:
    """A bar chart of the monthly share, with the budget line, written as PNG to ``path``."""
    import matplotlib as mpl  # noqa: PLC0415 - heavy: only the forecast draws.

    mpl.use("Agg")
    from matplotlib import pyplot as plt  # noqa: PLC0415

    figure, axes = plt.subplots(figsize=(9, 4.5), dpi=100)
    try:
        labels = [m.month for m in result.months]
        axes.bar(labels, [float(m.share) for m in result.months], label="municipal share")
        if monthly_budget is not None:
            axes.axhline(float(monthly_budget), color="tab:red", linestyle="--", label="budget")
        axes.set_title(title)
        axes.set_ylabel("euros")
        axes.legend()
        axes.tick_params(axis="x", labelrotation=45)
        figure.tight_layout()
        figure.savefig(path, format="png", metadata={"Software": None})
    finally:
        plt.close(figure)
