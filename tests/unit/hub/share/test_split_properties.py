"""Properties of the split: it adds up, a full reversal nets to zero, order does not matter."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from hub.share.rules import load_rules
from hub.share.split import ShareRecord, split
from hub.share.statement import statement_rows

RULES = load_rules()
MUNICIPALITIES = ("398", "098", "111")


@st.composite
def records(draw: st.DrawFn, record_id: str = "K") -> ShareRecord:
    days = draw(st.integers(1, 25))
    start = draw(st.dates(dt.date(2024, 10, 1), dt.date(2026, 11, 15)))
    length = draw(st.integers(days, days + 20))
    counter = draw(st.integers(days, 1200))
    cents = draw(st.integers(0, 250_000))
    return ShareRecord(
        record_id=f"{record_id}{draw(st.integers(0, 10**9))}",
        person_ref=f"p-{draw(st.integers(0, 5))}",
        municipality=draw(st.sampled_from(MUNICIPALITIES)),
        benefit=draw(st.sampled_from(("TMT", "PPR", "APR", "YLT"))),
        period_start=start,
        period_end=start + dt.timedelta(length - 1),
        paid_days=days,
        amount_paid=Decimal(cents) / 100,
        cumulative_days=counter,
        payment_date=start + dt.timedelta(length + draw(st.integers(0, 40))),
    )


@given(records())
def test_every_day_is_in_exactly_one_line_and_euros_add_up(record: ShareRecord) -> None:
    shared = record.benefit != "APR" and (
        record.period_start >= dt.date(2025, 1, 1) or record.benefit == "TMT"
    )
    lines = split(record, RULES, with_zero=True)
    if shared:
        assert sum(line.days for line in lines) == record.paid_days
        assert abs(sum(line.shared_euros for line in lines) - record.amount_paid) <= Decimal(
            "0.01"
        ) * len(lines)
    for line in lines:
        assert abs(line.share) <= abs(line.shared_euros)


@given(records())
def test_full_reversal_nets_to_zero(record: ShareRecord) -> None:
    reversal = ShareRecord(
        record_id=record.record_id + "R",
        person_ref=record.person_ref,
        municipality=record.municipality,
        benefit=record.benefit,
        period_start=record.period_start,
        period_end=record.period_end,
        paid_days=-record.paid_days,
        amount_paid=-record.amount_paid,
        cumulative_days=record.cumulative_days - record.paid_days,
        payment_date=record.payment_date + dt.timedelta(31),
        corrected_days=record.day_numbers,
    )
    net: Counter[tuple[str, int]] = Counter()
    euros: dict[tuple[str, int], Decimal] = {}
    for line in split(record, RULES) + split(reversal, RULES):
        key = (line.model.value, line.percent)
        net[key] += line.days
        euros[key] = euros.get(key, Decimal(0)) + line.share
    assert all(days == 0 for days in net.values())
    assert all(total == 0 for total in euros.values())


@given(st.lists(records(), max_size=12), st.randoms())
def test_statement_does_not_depend_on_arrival_order(
    batch: list[ShareRecord], shuffler: object
) -> None:
    lines = [line for record in batch for line in split(record, RULES)]
    shuffled = list(lines)
    shuffler.shuffle(shuffled)  # type: ignore[attr-defined]
    assert statement_rows(lines) == statement_rows(shuffled)


@given(st.lists(records(), max_size=12))
def test_statements_add_up_across_municipalities_steps_and_months(
    batch: list[ShareRecord],
) -> None:
    lines = [line for record in batch for line in split(record, RULES)]
    rows = statement_rows(lines)
    assert sum(row.share for row in rows) == sum(line.share for line in lines)
    assert sum(row.days for row in rows) == sum(line.days for line in lines)
    for municipality in MUNICIPALITIES:
        mine = [line for line in lines if line.municipality == municipality]
        assert sum(r.share for r in rows if r.municipality == municipality) == sum(
            line.share for line in mine
        )
    months = {line.month for line in lines}
    assert sum(sum(r.share for r in rows if r.month == month) for month in months) == sum(
        line.share for line in lines
    )
    for row in rows:
        assert row.persons == len(
            {
                line.person_ref
                for line in lines
                if (line.municipality, line.month, line.invoice, line.model, line.percent)
                == (row.municipality, row.month, row.invoice, row.model, row.percent)
            }
        )
