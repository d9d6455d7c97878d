"""``fi.paijathame.hub.benefit-threshold.v1``: a person's payment-day counter crossed a day
that matters for the municipal share (a configured day such as 80, or a step boundary)."""

from __future__ import annotations

import datetime as dt
from typing import Final

from pydantic import Field

from schemas._base import CanonicalModel, MunicipalityCode
from schemas.identity_code import PersonalIdentityCode

__all__ = ["BENEFIT_THRESHOLD_V1", "BenefitThreshold"]

BENEFIT_THRESHOLD_V1: Final = "fi.paijathame.hub.benefit-threshold.v1"


class BenefitThreshold(CanonicalModel):
    """The counter (kertymä) of a person's unemployment benefit days crossed ``threshold_day``
    with the record ``record_id``: time to act before the municipality's share grows."""

    person_id: PersonalIdentityCode
    home_municipality: MunicipalityCode = Field(
        description="The municipality that finances the record's share (kotikunta on the "
        "payment date): its labour authority is told."
    )
    threshold_day: int = Field(ge=1, description="The day number the counter reached or passed.")
    day_count: int = Field(
        ge=1, description="The person's cumulative payment days after the record (kertymä)."
    )
    current_percent: int = Field(
        ge=0, le=100, description="The municipality's percentage of the person's last day."
    )
    next_step_day: int | None = Field(
        default=None,
        ge=1,
        description="The day number where the next step starts; empty at the last step.",
    )
    next_step_percent: int | None = Field(
        default=None, ge=0, le=100, description="The municipality's percentage from that day."
    )
    record_id: str = Field(
        min_length=1, max_length=50, description="Kela's record that crossed (tapahtumatunnus)."
    )
    payment_date: dt.date = Field(description="The payment date of that record (maksupvm).")
    step_table_version: str = Field(
        min_length=1, max_length=40, description="The step table the steps come from."
    )
