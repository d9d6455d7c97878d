"""``fi.paijathame.hub.benefit-day.v1`` and ``.v2``: Kela paid (or took back) benefit days.

v2 is v1 with general support (``YLT``) among the benefits, nothing else changed: one generic
model, so the two can never drift apart in anything but the benefit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Final, Generic, TypeVar

from pydantic import Field, model_validator

from schemas._base import CanonicalModel, MunicipalityCode
from schemas.codes import Benefit, BenefitV2
from schemas.identity_code import PersonalIdentityCode

__all__ = ["BENEFIT_DAY_V1", "BENEFIT_DAY_V2", "BenefitDay", "BenefitDayV2"]

BENEFIT_DAY_V1: Final = "fi.paijathame.hub.benefit-day.v1"
BENEFIT_DAY_V2: Final = "fi.paijathame.hub.benefit-day.v2"

BenefitT = TypeVar("BenefitT", Benefit, BenefitV2)


class _BenefitDayRecord(CanonicalModel, Generic[BenefitT]):
    """The fields of every major version; the benefit's enum is the version's."""

    record_id: str = Field(
        min_length=1, max_length=50, description="Kela's record id (tapahtumatunnus)."
    )
    person_id: PersonalIdentityCode
    home_municipality: MunicipalityCode = Field(
        description="The municipality that finances this record's share: the home municipality "
        "on the payment date (kotikunta); for a correction, that of the record it corrects "
        "(the correction's own kotikunta is in stated_home_municipality)."
    )
    benefit: BenefitT = Field(description="The benefit paid (etuus).")
    period_start: dt.date = Field(description="First day of the payment period (jakso_alku).")
    period_end: dt.date = Field(description="Last day of the payment period (jakso_loppu).")
    paid_days: int = Field(
        ge=-366, le=366, description="Days paid in this record; negative in a correction."
    )
    amount_paid: Decimal = Field(
        max_digits=12,
        decimal_places=2,
        description="Euros paid (maksettu); negative in a reversal.",
    )
    cumulative_days: int = Field(
        ge=0, description="Cumulative payment days after this record (kertymä)."
    )
    payment_date: dt.date = Field(description="Payment date (maksupvm).")
    corrects_record_id: str | None = Field(
        default=None, description="For a correction: the record id it corrects (korjattava)."
    )
    corrects_event_id: str | None = Field(
        default=None,
        description="For a correction: the canonical event id of that record; empty when the "
        "hub never received it (corrects_unseen_record).",
    )
    stated_home_municipality: MunicipalityCode | None = Field(
        default=None,
        description="For a correction: the kotikunta written on the correction itself. It "
        "may differ from home_municipality, which is the corrected record's and finances the "
        "correction. Empty in a record that corrects nothing.",
    )
    corrects_unseen_record: bool = Field(
        default=False,
        description="True for a correction of a record paid before the hub began receiving "
        "Kela's data: the hub never saw that record, so the correction is attributed by its "
        "own kotikunta and how much it may take back could not be checked.",
    )

    @model_validator(mode="after")
    def _period_in_order(self) -> _BenefitDayRecord[BenefitT]:
        if self.period_end < self.period_start:
            raise ValueError("period end is before period start")
        return self


class BenefitDay(_BenefitDayRecord[Benefit]):
    """One Kela payment-day record (maksupäivätieto), or a correction of an earlier one."""


class BenefitDayV2(_BenefitDayRecord[BenefitV2]):
    """One Kela payment-day record (maksupäivätieto), or a correction of an earlier one."""
