"""``fi.paijathame.hub.referral-status.v1``: the receiver of a referral reports its state."""

from __future__ import annotations

from typing import Final

from pydantic import AwareDatetime, Field

from schemas._base import CanonicalModel
from schemas.codes import Authority, Partner, ReferralState

__all__ = ["REFERRAL_STATUS_V1", "ReferralStatus"]

REFERRAL_STATUS_V1: Final = "fi.paijathame.hub.referral-status.v1"


class ReferralStatus(CanonicalModel):
    """A status update of a referral (tila), from its receiver to its sender."""

    referral_id: str = Field(min_length=1, max_length=50, description="Referral id (lahete_id).")
    state: ReferralState = Field(description="The referral's new state (tila).")
    reason: str | None = Field(default=None, description="Optional reason (syy).")
    reported_by: Partner = Field(description="The partner that reported the state.")
    referral_sender: Authority = Field(description="The authority that sent the referral.")
    at: AwareDatetime = Field(description="When the state changed (aika).")
