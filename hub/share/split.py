"""A payment-day record's municipal share: its days split by model, step and invoice.

Pure: a record and the rules in, share lines out; no store, no broker, no clock. The rules are
configuration (``hub.share.rules``); this module only knows how they apply:

- The days of a record are the person's day numbers ``kertyma - maksupaivat + 1 … kertyma``;
  a correction that takes days back (negative ``maksupaivat``) takes back the day numbers
  ``kertyma + 1 … kertyma - maksupaivat``, at the steps those days had.
- Days before the 2025 model's first day are under the earlier model (also when paid later).
  A period that straddles a year (or the model's first day) is apportioned by calendar days,
  the lower day numbers going to the earlier part, each part rounded so the parts add up.
- Euros shared per day: the euros paid per day (``maksettu / maksupaivat``); for ``APR`` at
  most the basic daily amount of the part's year.
- The earlier model: the record (payment period) that reaches day 300 is the state's whole;
  for a correction that is the record it corrects, when its day numbers are known.
- A record of 0 days that changes euros spreads them over the day numbers of the record it
  corrects (or, when unknown, over the day ``kertyma``), listed with 0 days.
- One line per model and percentage; days at 0 % are neither billed nor listed. Euros are
  rounded to cents per line (half away from zero, so a reversal mirrors its record exactly).

Never sees an identity code: the person is the pseudonymous reference.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Final

from hub.share.rules import ShareRules, Step

__all__ = ["InvoiceGroup", "Model", "ShareLine", "ShareRecord", "invoice_of", "split"]

_CENT: Final = Decimal("0.01")
_HUNDRED: Final = Decimal(100)


class Model(StrEnum):
    """Which financing model a day falls under (Kela's ``malli``)."""

    MODEL_2025 = "2025"
    EARLIER = "vanha"


class InvoiceGroup(StrEnum):
    """Kela's two invoices (``lasku``): TMT, PPR and YLT together, and APR."""

    TMT = "TMT"
    APR = "APR"


@dataclass(frozen=True, slots=True)
class ShareRecord:
    """What the split needs of one payment-day record (``hub.benefit-day``).

    ``municipality`` finances it (for a correction, that of the record it corrects).
    ``corrected_days`` are the first and last day numbers of the record a correction
    corrects, when the hub knows them.
    """

    record_id: str
    person_ref: str
    municipality: str
    benefit: str
    period_start: dt.date
    period_end: dt.date
    paid_days: int
    amount_paid: Decimal
    cumulative_days: int
    payment_date: dt.date
    corrected_days: tuple[int, int] | None = None

    @property
    def day_numbers(self) -> tuple[int, int]:
        """The first and last day number the record pays (or takes back)."""
        if self.paid_days > 0:
            return self.cumulative_days - self.paid_days + 1, self.cumulative_days
        if self.paid_days < 0:
            return self.cumulative_days + 1, self.cumulative_days - self.paid_days
        return self.corrected_days or (self.cumulative_days, self.cumulative_days)


@dataclass(frozen=True, slots=True)
class ShareLine:
    """The days of one record at one model and percentage, with their euros (signed)."""

    record_id: str
    person_ref: str
    municipality: str
    month: str
    invoice: InvoiceGroup
    benefit: str
    model: Model
    percent: int
    days: int
    shared_euros: Decimal
    share: Decimal


def invoice_of(benefit: str) -> InvoiceGroup:
    """The invoice a benefit's share is billed on."""
    return InvoiceGroup.APR if benefit == "APR" else InvoiceGroup.TMT


def _boundaries(start: dt.date, end: dt.date, model_start: dt.date) -> list[dt.date]:
    cuts = {dt.date(year, 1, 1) for year in range(start.year + 1, end.year + 1)}
    if start < model_start <= end:
        cuts.add(model_start)
    return sorted(cuts)


def _parts(record: ShareRecord, count: int, model_start: dt.date) -> Iterator[tuple[dt.date, int]]:
    """(first calendar day, number of day numbers) of each part of the period, in order."""
    starts = [
        record.period_start,
        *_boundaries(record.period_start, record.period_end, model_start),
    ]
    total = (record.period_end - record.period_start).days + 1
    given = 0
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else record.period_end + dt.timedelta(1)
        elapsed = (end - record.period_start).days
        upto = int((Decimal(count * elapsed) / total).to_integral_value(ROUND_HALF_UP))
        yield start, upto - given
        given = upto


def _intervals(steps: tuple[Step, ...], first: int, last: int) -> Iterator[tuple[int, int]]:
    """(percent, days) of the day numbers ``first … last`` per step."""
    if first < steps[0].from_day:
        below = min(last, steps[0].from_day - 1) - first + 1
        if below > 0:
            yield 0, below
    for index, step in enumerate(steps):
        until = steps[index + 1].from_day - 1 if index + 1 < len(steps) else last
        low, high = max(first, step.from_day), min(last, until)
        if high >= low:
            yield step.percent, high - low + 1


def _reaches(record: ShareRecord, day: int) -> bool:
    first, last = record.corrected_days or record.day_numbers
    return first <= day <= last


def _pieces(
    record: ShareRecord, rules: ShareRules, earlier: tuple[Step, ...] | None, first: int, last: int
) -> Iterator[tuple[int, int]]:
    if earlier is None:
        return _intervals(rules.model_2025.steps, first, last)
    if _reaches(record, rules.earlier.state_pays_through):
        return iter([(0, last - first + 1)])
    return _intervals(earlier, first, last)


def split(record: ShareRecord, rules: ShareRules, *, with_zero: bool = False) -> list[ShareLine]:
    """The record's share lines, by model and percentage (``with_zero`` keeps 0 % lines)."""
    if record.paid_days == 0 and record.amount_paid == 0:
        return []
    first, last = record.day_numbers
    count = last - first + 1
    day_sign = (record.paid_days > 0) - (record.paid_days < 0)
    per_day = abs(record.amount_paid) / count
    euro_sign = Decimal((record.amount_paid > 0) - (record.amount_paid < 0))
    model_start = rules.model_2025.valid_from
    totals: dict[tuple[Model, int], tuple[int, Decimal]] = {}
    day = first
    for start, days in _parts(record, count, model_start):
        part_first, day = day, day + days
        if days == 0:
            continue
        if start >= model_start:
            model, shared, steps = Model.MODEL_2025, rules.model_2025.shared_benefits, None
        else:
            model, shared = Model.EARLIER, rules.earlier.shared_benefits
            steps = rules.earlier.steps
        if record.benefit not in shared:
            continue
        euros = per_day
        if record.benefit == "APR":
            euros = min(euros, rules.basic_amounts.of(start.year))
        for percent, piece in _pieces(record, rules, steps, part_first, day - 1):
            before_days, before_euros = totals.get((model, percent), (0, Decimal(0)))
            totals[model, percent] = (before_days + piece, before_euros + euros * piece)
    lines = []
    for (model, percent), (days, euros) in sorted(totals.items()):
        if percent == 0 and not with_zero:
            continue
        lines.append(
            ShareLine(
                record_id=record.record_id,
                person_ref=record.person_ref,
                municipality=record.municipality,
                month=f"{record.payment_date:%Y-%m}",
                invoice=invoice_of(record.benefit),
                benefit=record.benefit,
                model=model,
                percent=percent,
                days=days * day_sign,
                shared_euros=euro_sign * euros.quantize(_CENT, ROUND_HALF_UP),
                share=euro_sign * (euros * percent / _HUNDRED).quantize(_CENT, ROUND_HALF_UP),
            )
        )
    return lines
