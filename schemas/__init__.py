"""Canonical event models (pydantic v2) and their generated JSON Schema files.

Never imports the runtime (``hub``) or the connectors: everything else depends on this, not
the other way round.
"""

from __future__ import annotations

from schemas.benefit_day import BENEFIT_DAY_V1, BenefitDay
from schemas.client_status import CLIENT_STATUS_V1, ClientStatus, ServicePeriod
from schemas.envelope import (
    CLOUDEVENTS_CONTENT_TYPE,
    BenefitDayEvent,
    ClientStatusEvent,
    CloudEvent,
    ReferralStatusEvent,
    ServiceReferralEvent,
)
from schemas.identity_code import IdentityCodeError, PersonalIdentityCode, validate_identity_code
from schemas.person_ref import PersonRef, person_ref_for
from schemas.referral_status import REFERRAL_STATUS_V1, ReferralStatus
from schemas.rejection import Rejection
from schemas.service_referral import SERVICE_REFERRAL_V1, ServiceReferral

__all__ = [
    "BENEFIT_DAY_V1",
    "CLIENT_STATUS_V1",
    "CLOUDEVENTS_CONTENT_TYPE",
    "REFERRAL_STATUS_V1",
    "SERVICE_REFERRAL_V1",
    "BenefitDay",
    "BenefitDayEvent",
    "ClientStatus",
    "ClientStatusEvent",
    "CloudEvent",
    "IdentityCodeError",
    "PersonRef",
    "PersonalIdentityCode",
    "ReferralStatus",
    "ReferralStatusEvent",
    "Rejection",
    "ServicePeriod",
    "ServiceReferral",
    "ServiceReferralEvent",
    "person_ref_for",
    "validate_identity_code",
]
