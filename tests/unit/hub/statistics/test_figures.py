"""Counting a month's figures from facts: each definition at its boundaries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from hub.statistics.figures import (
    Facts,
    Month,
    OutcomeFact,
    PaymentFact,
    ReferralFact,
    StatusFact,
    month_figures,
)
from schemas.codes import Benefit, EmploymentStatus, ReferralService, ReferralState

MARCH = Month(2025, 3)
U = EmploymentStatus.UNEMPLOYED
E = EmploymentStatus.EMPLOYED


def _at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T12:00:00+02:00")


def _status(
    person: str,
    since: str,
    status: EmploymentStatus = U,
    *,
    made: str | None = None,
    area: str | None = "lahti",
    active: bool = True,
) -> StatusFact:
    return StatusFact(
        person, status, active, dt.date.fromisoformat(since), _at(made or since), area
    )


def _figures(*statuses: StatusFact, month: Month = MARCH) -> tuple[dict[str, int], int, int]:
    figures = month_figures(Facts(statuses=statuses), month, "lahti")
    return figures.jobseekers, figures.spells_begun, figures.long_term_unemployed


@pytest.mark.parametrize(
    ("text", "month"),
    [("2025-03", Month(2025, 3)), ("2025-12", Month(2025, 12)), ("2025-01", Month(2025, 1))],
)
def test_a_month_is_parsed_from_year_and_month(text: str, month: Month) -> None:
    assert Month.parse(text) == month
    assert str(month) == text


@pytest.mark.parametrize("text", ["2025-00", "2025-13", "2025-3", "25-03", "2025-03-01", ""])
def test_anything_else_is_not_a_month(text: str) -> None:
    with pytest.raises(ValueError, match="is not a month"):
        Month.parse(text)


def test_a_month_knows_its_first_and_last_day_and_the_next() -> None:
    assert MARCH.last_day == dt.date(2025, 3, 31)
    assert Month(2024, 2).last_day == dt.date(2024, 2, 29)
    assert Month(2025, 12).next == Month(2026, 1)
    assert dt.date(2025, 3, 31) in MARCH
    assert dt.date(2025, 4, 1) not in MARCH
    assert dt.date(2025, 2, 28) not in MARCH


def test_jobseekers_are_counted_by_their_status_on_the_last_day() -> None:
    jobseekers, _, _ = _figures(
        _status("a", "2025-01-10"),
        _status("b", "2025-03-31", E),
        _status("c", "2025-04-01", E),  # from April: still nothing in March
        _status("d", "2025-02-01", active=False),  # job search not in force
        _status("e", "2025-02-01", area="ph"),
        _status("f", "2025-02-01", area=None),  # lives outside both areas
    )
    assert jobseekers["02"] == 1
    assert jobseekers["01"] == 1
    assert sum(jobseekers.values()) == 2
    assert set(jobseekers) == {"00", "01", "02", "03", "04", "05", "07", "08", "09"}


def test_the_change_made_last_wins_and_a_stale_change_overrides_nothing() -> None:
    made_later = _status("a", "2025-03-01", E, made="2025-03-20")
    stale = _status("a", "2025-03-10", U, made="2025-03-05")  # arrives late, made earlier
    jobseekers, _, _ = _figures(made_later, stale)
    assert (jobseekers["01"], jobseekers["02"]) == (1, 0)


def test_a_backdated_correction_replaces_what_it_corrects() -> None:
    first = _status("a", "2025-02-01", E, made="2025-02-01")
    corrected = _status("a", "2025-03-15", U, made="2025-04-03")
    jobseekers, spells, _ = _figures(first, corrected)
    assert (jobseekers["01"], jobseekers["02"]) == (0, 1)
    assert spells == 1


def test_a_spell_begins_when_unemployment_follows_something_else() -> None:
    _, spells, _ = _figures(
        _status("a", "2025-02-01", E),
        _status("a", "2025-03-01", U),  # begins on the first day: counted
        _status("b", "2025-02-15", U),
        _status("b", "2025-03-05", EmploymentStatus.LAID_OFF),  # still unemployed: not new
        _status("c", "2025-03-31"),  # first known status, on the last day: counted
        _status("d", "2025-04-01"),  # the day after: not March
        _status("e", "2025-02-28"),  # the day before: not March
    )
    assert spells == 2


def test_a_spell_ends_and_a_new_one_begins_within_a_month() -> None:
    _, spells, _ = _figures(
        _status("a", "2025-03-02", U),
        _status("a", "2025-03-10", E),
        _status("a", "2025-03-20", U),
    )
    assert spells == 2


@pytest.mark.parametrize(
    ("since", "long_term"),
    [("2024-03-31", 1), ("2024-04-01", 1), ("2024-04-02", 0), ("2025-03-31", 0)],
)
def test_long_term_means_twelve_months_by_the_day_after_month_end(
    since: str, long_term: int
) -> None:
    assert _figures(_status("a", since))[2] == long_term


def test_a_spell_runs_through_changes_between_unemployed_codes() -> None:
    statuses = (
        _status("a", "2024-01-01", EmploymentStatus.LAID_OFF),
        _status("a", "2024-09-01", U),
        _status("a", "2025-01-01", U),
    )
    assert _figures(*statuses)[2] == 1


def test_a_break_in_unemployment_starts_the_count_again() -> None:
    statuses = (
        _status("a", "2023-01-01"),
        _status("a", "2024-06-01", E),
        _status("a", "2024-06-02"),
    )
    assert _figures(*statuses)[2] == 0


def test_a_long_term_unemployed_without_job_search_is_not_counted() -> None:
    assert _figures(_status("a", "2023-01-01", active=False))[2] == 0


def _referral(rid: str, sent: str, *, sender: str = "lahti", to: str = "sote") -> ReferralFact:
    return ReferralFact(sender, rid, ReferralService.HEALTH_CHECK, to, dt.date.fromisoformat(sent))


def test_referrals_count_by_the_day_sent_service_and_receiver_for_the_sender() -> None:
    facts = Facts(
        referrals=[
            _referral("L-1", "2025-03-01"),
            _referral("L-2", "2025-03-31", to="ph"),
            _referral("L-3", "2025-04-01"),
            _referral("L-4", "2025-02-28"),
            _referral("L-1", "2025-03-02", sender="ph"),  # the other authority's L-1
        ]
    )
    sent = month_figures(facts, MARCH, "lahti").referrals_sent
    assert sent["health_check"] == {"sote": 1, "lahti": 0, "ph": 1}
    assert sum(sent["multisector_support"].values()) == 0
    assert month_figures(facts, MARCH, "ph").referrals_sent["health_check"]["sote"] == 1


def test_outcomes_count_final_states_in_the_month_by_the_referral_service() -> None:
    facts = Facts(
        referrals=[_referral("L-1", "2025-02-01"), _referral("L-1", "2025-02-01", sender="ph")],
        outcomes=[
            OutcomeFact("lahti", "L-1", ReferralState.ACCEPTED, dt.date(2025, 2, 28)),
            OutcomeFact("lahti", "L-1", ReferralState.COMPLETED, dt.date(2025, 3, 31)),
            OutcomeFact("ph", "L-1", ReferralState.REJECTED, dt.date(2025, 3, 1)),
            OutcomeFact("lahti", "L-9", ReferralState.CANCELLED, dt.date(2025, 3, 1)),  # unknown
        ],
    )
    lahti = month_figures(facts, MARCH, "lahti").outcomes["health_check"]
    assert lahti == {"accepted": 0, "rejected": 0, "completed": 1, "cancelled": 0}
    ph = month_figures(facts, MARCH, "ph").outcomes["health_check"]
    assert ph["rejected"] == 1


def _paid(
    seq: int,
    person: str,
    day: str,
    *,
    days: int = 20,
    euros: str = "700.00",
    cumulative: int = 50,
    area: str | None = "lahti",
    benefit: Benefit = Benefit.LABOUR_MARKET_SUBSIDY,
) -> PaymentFact:
    return PaymentFact(
        seq, person, area, benefit, days, Decimal(euros), cumulative, dt.date.fromisoformat(day)
    )


def test_payments_count_persons_days_and_euros_by_payment_date_with_corrections_netted() -> None:
    facts = Facts(
        payments=[
            _paid(1, "a", "2025-03-05"),
            _paid(2, "a", "2025-03-31", days=-5, euros="-175.50"),  # a correction
            _paid(3, "b", "2025-03-01", benefit=Benefit.BASIC_ALLOWANCE),
            _paid(4, "c", "2025-04-01"),
            _paid(5, "d", "2025-03-10", area="ph"),
        ]
    )
    benefits = month_figures(facts, MARCH, "lahti").benefits
    subsidy = benefits["labour_market_subsidy"]
    assert (subsidy.persons, subsidy.days, subsidy.euros) == (1, 15, Decimal("524.50"))
    assert benefits["basic_allowance"].persons == 1
    assert benefits["earnings_related_basic_part"].persons == 0


@pytest.mark.parametrize(("cumulative", "past"), [(100, 0), (101, 1)])
def test_the_counter_is_past_a_threshold_only_above_it(cumulative: int, past: int) -> None:
    facts = Facts(payments=[_paid(1, "a", "2025-03-05", cumulative=cumulative)])
    assert month_figures(facts, MARCH, "lahti").counter_past[100] == past


def test_the_counter_is_the_last_record_on_or_before_month_end() -> None:
    facts = Facts(
        payments=[
            _paid(1, "a", "2025-02-05", cumulative=1001),
            _paid(2, "a", "2025-03-31", cumulative=999, area="ph"),  # moved, a correction
            _paid(3, "a", "2025-04-01", cumulative=2000),
            _paid(4, "b", "2025-01-05", cumulative=301),  # no March payment, still counted
        ]
    )
    lahti = month_figures(facts, MARCH, "lahti").counter_past
    ph = month_figures(facts, MARCH, "ph").counter_past
    assert lahti == {100: 1, 300: 1, 1000: 0}
    assert ph == {100: 1, 300: 1, 1000: 0}


def test_each_person_counts_once_in_their_cell_and_a_skipped_one_stops_nothing() -> None:
    jobseekers, _, long_term = _figures(
        _status("a", "2025-02-01", area=None),  # first, and outside both areas
        _status("b", "2025-02-01", active=False),
        _status("c", "2023-01-01"),
        _status("d", "2023-06-01"),
        _status("e", "2025-03-01"),
    )
    assert jobseekers["02"] == 3
    assert long_term == 2


def test_the_day_before_a_change_decides_whether_a_spell_begins() -> None:
    _, spells, _ = _figures(
        _status("a", "2025-03-01", U),
        _status("a", "2025-03-09", E),  # one day employed
        _status("a", "2025-03-10", U),
    )
    assert spells == 2


@pytest.mark.parametrize(("text", "valid"), [("1899-12", False), ("1900-01", True)])
def test_months_begin_in_1900(text: str, valid: bool) -> None:
    if valid:
        assert Month.parse(text) == Month(1900, 1)
    else:
        with pytest.raises(ValueError, match="is not a month"):
            Month.parse(text)


def test_every_referral_and_outcome_is_counted_and_a_new_receiver_gets_its_column() -> None:
    facts = Facts(
        referrals=[
            _referral("L-1", "2025-03-01"),
            _referral("L-2", "2025-03-02"),
            _referral("L-3", "2025-03-03", to="kela"),
        ],
        outcomes=[
            OutcomeFact("lahti", "L-1", ReferralState.ACCEPTED, dt.date(2025, 3, 5)),
            OutcomeFact("lahti", "L-2", ReferralState.ACCEPTED, dt.date(2025, 3, 6)),
        ],
    )
    figures = month_figures(facts, MARCH, "lahti")
    assert figures.referrals_sent["health_check"] == {"sote": 2, "lahti": 0, "ph": 0, "kela": 1}
    assert figures.outcomes["health_check"]["accepted"] == 2


def test_persons_are_distinct_per_benefit() -> None:
    facts = Facts(
        payments=[
            _paid(1, "a", "2025-03-05"),
            _paid(2, "b", "2025-03-06"),
            _paid(3, "a", "2025-03-07"),
        ]
    )
    assert month_figures(facts, MARCH, "lahti").benefits["labour_market_subsidy"].persons == 2


def test_the_counter_follows_the_payment_date_not_the_arrival() -> None:
    facts = Facts(
        payments=[
            _paid(1, "a", "2025-03-31", cumulative=999),
            _paid(2, "a", "2025-03-05", cumulative=1001),  # arrived later, paid earlier
        ]
    )
    assert month_figures(facts, MARCH, "lahti").counter_past[1000] == 0
