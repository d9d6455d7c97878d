"""A month's figures for one area, counted from the facts the statistics store keeps.

Pure: facts in, raw counts out (disclosure control comes after, in ``hub.statistics.document``).
The definitions, as docs/partners/keha.md states them for the statistician:

- a person's status on a day is the change in force that day: of the changes whose status
  applies from (``status_since``) that day or earlier, the one made last (``changed_at``), so
  a late correction replaces what it corrects and a stale change never overrides a newer one;
- a jobseeker is a person whose status at month end has job search in force; the area is that
  of the home municipality on that status;
- unemployed means the national codes 02 (unemployed) and 03 (fully laid off), as in TEM's
  employment-service statistics; a spell begins on a day a person's status is unemployed with
  job search in force and the day before it was not (or the hub knows nothing earlier);
- long-term unemployed: unemployed at month end, continuously since a day at least 12 months
  before the day after month end (on 31 March 2025: since 1 April 2024 or earlier);
- referrals count by the day they were sent (Helsinki time), outcomes by the day the referral
  reached the state, both for the area that sent the referral;
- payments count by payment date and the area of the record's home municipality; persons are
  distinct per benefit; the counter is each person's last cumulative payment days on or
  before month end (in the area of that last record).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

from schemas.codes import BenefitV2, EmploymentStatus, ReferralService, ReferralState

__all__ = [
    "COUNTER_THRESHOLDS",
    "HELSINKI",
    "OUTCOME_STATES",
    "RECEIVERS",
    "UNEMPLOYED",
    "BenefitFigures",
    "Facts",
    "Month",
    "MonthFigures",
    "OutcomeFact",
    "PaymentFact",
    "ReferralFact",
    "StatusFact",
    "month_figures",
]

HELSINKI: Final = ZoneInfo("Europe/Helsinki")
#: The statuses counted as unemployed (TEM: unemployed and fully laid off).
UNEMPLOYED: Final = frozenset({EmploymentStatus.UNEMPLOYED, EmploymentStatus.LAID_OFF})
#: The final states of a referral the outcomes count.
OUTCOME_STATES: Final = (
    ReferralState.ACCEPTED,
    ReferralState.REJECTED,
    ReferralState.COMPLETED,
    ReferralState.CANCELLED,
)
#: Who receives referrals: the columns of the referral table.
RECEIVERS: Final = ("sote", "lahti", "ph")
#: The payment-day counter's thresholds: persons *past* each (more days than it).
COUNTER_THRESHOLDS: Final = (100, 300, 1000)

_MONTH: Final = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """A calendar month."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """``YYYY-MM``; ``ValueError`` with a readable message otherwise."""
        match = _MONTH.match(text)
        if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
            raise ValueError(f"{text!r} is not a month (YYYY-MM, e.g. 2025-03)")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def first_day(self) -> dt.date:
        """The first day of the month."""
        return dt.date(self.year, self.month, 1)

    @property
    def next(self) -> Month:
        """The month after this one."""
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    @property
    def last_day(self) -> dt.date:
        """The last day of the month."""
        return self.next.first_day - dt.timedelta(days=1)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and (day.year, day.month) == (self.year, self.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True, slots=True)
class StatusFact:
    """One client-status change, as the statistics need it."""

    person: str
    status: EmploymentStatus
    job_search_active: bool
    since: dt.date
    changed_at: dt.datetime
    area: str | None

    @property
    def unemployed(self) -> bool:
        """Unemployed (or fully laid off) with job search in force."""
        return self.job_search_active and self.status in UNEMPLOYED


@dataclass(frozen=True, slots=True)
class ReferralFact:
    """A referral that was sent."""

    sender: str
    referral_id: str
    service: ReferralService
    recipient: str
    sent_on: dt.date


@dataclass(frozen=True, slots=True)
class OutcomeFact:
    """A referral that reached a final state."""

    sender: str
    referral_id: str
    state: ReferralState
    on: dt.date


@dataclass(frozen=True, slots=True)
class PaymentFact:
    """One Kela payment-day record (or a correction of one), in arrival order ``seq``."""

    seq: int
    person: str
    area: str | None
    benefit: BenefitV2
    days: int
    euros: Decimal
    cumulative_days: int
    payment_date: dt.date


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything the store knows that a month's figures may need."""

    statuses: Sequence[StatusFact] = ()
    referrals: Sequence[ReferralFact] = ()
    outcomes: Sequence[OutcomeFact] = ()
    payments: Sequence[PaymentFact] = ()


@dataclass(frozen=True, slots=True)
class BenefitFigures:
    """Payments of one benefit in a month."""

    persons: int = 0
    days: int = 0
    euros: Decimal = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """The raw (unprotected) figures of one area and month."""

    jobseekers: dict[str, int]
    spells_begun: int
    long_term_unemployed: int
    referrals_sent: dict[str, dict[str, int]]
    outcomes: dict[str, dict[str, int]]
    benefits: dict[str, BenefitFigures]
    counter_past: dict[int, int] = field(default_factory=dict)


def _status_on(history: Sequence[StatusFact], day: dt.date) -> StatusFact | None:
    in_force = [fact for fact in history if fact.since <= day]
    return max(in_force, key=lambda f: (f.changed_at, f.since)) if in_force else None


def _spells_begun(history: Sequence[StatusFact], month: Month, area: str) -> int:
    begun = 0
    for day in sorted({fact.since for fact in history if fact.since in month}):
        today = _status_on(history, day)
        before = _status_on(history, day - dt.timedelta(days=1))
        if (
            today is not None
            and today.unemployed
            and today.area == area
            and not (before is not None and before.unemployed)
        ):
            begun += 1
    return begun


def _spell_start(history: Sequence[StatusFact], current: StatusFact) -> dt.date:
    start = current.since
    while (before := _status_on(history, start - dt.timedelta(days=1))) is not None:
        if not before.unemployed:
            break
        start = before.since
    return start


def _long_term_from(month: Month) -> dt.date:
    after = month.next.first_day
    return after.replace(year=after.year - 1)


def _status_figures(
    statuses: Iterable[StatusFact], month: Month, area: str
) -> tuple[dict[str, int], int, int]:
    by_person: dict[str, list[StatusFact]] = defaultdict(list)
    for fact in statuses:
        by_person[fact.person].append(fact)
    jobseekers = {status.national_code: 0 for status in EmploymentStatus}
    spells = long_term = 0
    for history in by_person.values():
        spells += _spells_begun(history, month, area)
        at_end = _status_on(history, month.last_day)
        if at_end is None or at_end.area != area or not at_end.job_search_active:
            continue
        jobseekers[at_end.status.national_code] += 1
        if at_end.unemployed and _spell_start(history, at_end) <= _long_term_from(month):
            long_term += 1
    return jobseekers, spells, long_term


def _referral_figures(
    facts: Facts, month: Month, area: str
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    sent = {s.value: dict.fromkeys(RECEIVERS, 0) for s in ReferralService}
    outcomes = {s.value: {state.value: 0 for state in OUTCOME_STATES} for s in ReferralService}
    services: dict[tuple[str, str], ReferralService] = {}
    for referral in facts.referrals:
        services[(referral.sender, referral.referral_id)] = referral.service
        if referral.sender == area and referral.sent_on in month:
            row = sent[referral.service.value]
            row[referral.recipient] = row.get(referral.recipient, 0) + 1
    for outcome in facts.outcomes:
        service = services.get((outcome.sender, outcome.referral_id))
        if (
            service is not None
            and outcome.sender == area
            and outcome.on in month
            and outcome.state in OUTCOME_STATES
        ):
            outcomes[service.value][outcome.state.value] += 1
    return sent, outcomes


def _payment_figures(
    payments: Sequence[PaymentFact], month: Month, area: str
) -> tuple[dict[str, BenefitFigures], dict[int, int]]:
    persons: dict[BenefitV2, set[str]] = defaultdict(set)
    days: dict[BenefitV2, int] = defaultdict(int)
    euros: dict[BenefitV2, Decimal] = defaultdict(Decimal)
    last: dict[str, PaymentFact] = {}
    for payment in payments:
        if payment.area == area and payment.payment_date in month:
            persons[payment.benefit].add(payment.person)
            days[payment.benefit] += payment.days
            euros[payment.benefit] += payment.euros
        if payment.payment_date <= month.last_day:
            known = last.get(payment.person)
            if known is None or (payment.payment_date, payment.seq) > (
                known.payment_date,
                known.seq,
            ):
                last[payment.person] = payment
    benefits = {
        b.value: BenefitFigures(len(persons[b]), days[b], euros[b].quantize(Decimal("0.01")))
        for b in BenefitV2
    }
    counter = {
        threshold: sum(1 for p in last.values() if p.area == area and p.cumulative_days > threshold)
        for threshold in COUNTER_THRESHOLDS
    }
    return benefits, counter


def month_figures(facts: Facts, month: Month, area: str) -> MonthFigures:
    """The raw figures of ``area`` (``lahti`` or ``ph``) for ``month``."""
    jobseekers, spells, long_term = _status_figures(facts.statuses, month, area)
    sent, outcomes = _referral_figures(facts, month, area)
    benefits, counter = _payment_figures(facts.payments, month, area)
    return MonthFigures(jobseekers, spells, long_term, sent, outcomes, benefits, counter)
