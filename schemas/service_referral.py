"""``fi.paijathame.hub.service-referral.v1``: an authority refers a person to a service."""

from __future__ import annotations

import datetime as dt
from typing import Final

from pydantic import AwareDatetime, Field

from schemas._base import CanonicalModel
from schemas.codes import Authority, Partner, ReferralService, Urgency
from schemas.identity_code import PersonalIdentityCode

__all__ = ["SERVICE_REFERRAL_V1", "ServiceReferral"]

SERVICE_REFERRAL_V1: Final = "fi.paijathame.hub.service-referral.v1"


class ServiceReferral(CanonicalModel):
    """A service referral (lähete) from a labour authority."""

    referral_id: str = Field(min_length=1, max_length=50, description="Referral id (lahete_id).")
    person_id: PersonalIdentityCode
    sender: Authority = Field(description="The referring authority (lahettaja).")
    recipient: Partner = Field(description="The receiving partner (vastaanottaja).")
    service: ReferralService = Field(description="The service asked for (palvelu).")
    reason: str = Field(description="Free-text reason (perustelu); may contain health information.")
    urgency: Urgency = Field(description="Urgency (kiireellisyys).")
    requested_start: dt.date = Field(description="Requested start date (toivottu_alku).")
    consent: bool = Field(description="The person consented to the referral (suostumus).")
    sent_at: AwareDatetime = Field(description="When the referral was sent (lahetetty).")
