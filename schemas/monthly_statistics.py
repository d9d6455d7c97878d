"""``fi.paijathame.hub.monthly-statistics.v1``: one area's monthly figures for the state.

Not a canonical event about a person: an aggregate document the hub publishes on
``out.keha.statistics`` (docs/partners/keha.md). Its ``subject`` names the area and month, never
a person. Every count is a ``Count``: the number, or ``null`` with ``suppressed: true`` where
disclosure control hides it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final, Literal

from pydantic import AwareDatetime, Field, model_validator

from schemas._base import CanonicalModel
from schemas.codes import Authority

__all__ = [
    "MONTHLY_STATISTICS_V1",
    "Amount",
    "BenefitPayments",
    "Count",
    "CountRow",
    "DayCount",
    "MonthlyStatistics",
    "MonthlyStatisticsEvent",
]

MONTHLY_STATISTICS_V1: Final = "fi.paijathame.hub.monthly-statistics.v1"


class Count(CanonicalModel):
    """A count of persons (or of events about persons), or its suppression."""

    value: int | None = Field(ge=0, description="The count; null when suppressed.")
    suppressed: bool = Field(description="True when the count is hidden by disclosure control.")

    @model_validator(mode="after")
    def _value_xor_suppressed(self) -> Count:
        if (self.value is None) != self.suppressed:
            raise ValueError("a count is either shown or suppressed")
        return self


class DayCount(CanonicalModel):
    """A sum of payment days (negative corrections included), or its suppression."""

    value: int | None = Field(description="Payment days; null when suppressed.")
    suppressed: bool = Field(description="True when fewer than 5 persons stand behind it.")


class Amount(CanonicalModel):
    """A sum of euros, or its suppression."""

    value: Decimal | None = Field(
        max_digits=14, decimal_places=2, description="Euros; null when suppressed."
    )
    suppressed: bool = Field(description="True when fewer than 5 persons stand behind it.")


class CountRow(CanonicalModel):
    """A breakdown: one count per category and the row's total (the sum of its cells)."""

    cells: dict[str, Count] = Field(description="Category → count.")
    total: Count = Field(description="The sum of the cells (suppressed when it would tell).")


class BenefitPayments(CanonicalModel):
    """Kela's payments of one benefit (or of all) in the month."""

    persons: Count = Field(description="Persons with a payment record dated in the month.")
    payment_days: DayCount = Field(description="Payment days paid in the month.")
    euros_paid: Amount = Field(description="Euros paid in the month (corrections netted).")


class MonthlyStatistics(CanonicalModel):
    """One employment area's figures for one calendar month."""

    area: Authority = Field(description="The employment area (lahti or ph).")
    month: str = Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="The month, YYYY-MM.")
    version: int = Field(ge=1, description="1 for the first document; each correction adds 1.")
    replaces_version: int | None = Field(
        default=None, ge=1, description="The version this one corrects (null in version 1)."
    )
    reason: str | None = Field(
        default=None,
        max_length=1000,
        description="Why the figures were corrected (required from version 2 on).",
    )
    produced_at: AwareDatetime = Field(description="When this version was produced.")
    minimum_count: int = Field(
        description="Counts from 1 to minimum_count - 1 are suppressed (5: no cell of 1-4)."
    )
    jobseekers_by_status: CountRow = Field(
        description="Jobseekers at month end by employment status code (00-09, not 06)."
    )
    unemployment_spells_begun: Count = Field(description="Unemployment spells begun in the month.")
    long_term_unemployed: Count = Field(
        description="Unemployed at month end continuously for 12 months or more."
    )
    referrals_sent: dict[str, CountRow] = Field(
        description="Service referrals sent in the month: service → receiver → count."
    )
    referral_outcomes: dict[str, CountRow] = Field(
        description="Referrals that reached a final state in the month: service → state → count."
    )
    benefit_payments: dict[str, BenefitPayments] = Field(
        description="Payments by benefit (labour_market_subsidy, basic_allowance, "
        "earnings_related_basic_part)."
    )
    benefit_payments_total: BenefitPayments = Field(
        description="The sums of benefit_payments (persons counted once per benefit)."
    )
    payment_day_counter_past: dict[str, Count] = Field(
        description="Persons whose payment-day counter is past 100, 300 and 1000 days at month "
        "end (keys '100', '300', '1000')."
    )
    municipal_share: None = Field(
        default=None,
        description="The municipal share of the month: always null until the hub computes it.",
    )

    @model_validator(mode="after")
    def _corrections_have_reasons(self) -> MonthlyStatistics:
        if self.version > 1 and not (self.reason and self.replaces_version):
            raise ValueError("a correction (version 2 or later) needs its reason")
        if self.version == 1 and (self.reason is not None or self.replaces_version is not None):
            raise ValueError("version 1 corrects nothing")
        return self


class MonthlyStatisticsEvent(CanonicalModel):
    """The document as a CloudEvents 1.0 event (structured mode) on ``out.keha.statistics``."""

    specversion: Literal["1.0"] = Field(default="1.0", description="CloudEvents version.")
    id: str = Field(
        pattern=r"^statistics-(lahti|ph)-[0-9]{4}-[0-9]{2}-v[1-9][0-9]*$",
        description="statistics-<area>-<month>-v<version>: the same for a repeated send.",
    )
    source: str = Field(min_length=1, description="urn:fi:paijathame:hub:statistics.")
    type: Literal["fi.paijathame.hub.monthly-statistics.v1"] = MONTHLY_STATISTICS_V1
    subject: str = Field(
        pattern=r"^(lahti|ph)/[0-9]{4}-[0-9]{2}$",
        description="<area>/<month>: the Kafka key too. Never a person.",
    )
    time: AwareDatetime = Field(description="When this version was produced (RFC 3339).")
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str = Field(description="URI of the JSON Schema of this type.")
    data: MonthlyStatistics
