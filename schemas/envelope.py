"""CloudEvents 1.0 envelopes in the Kafka protocol binding's structured mode.

The Kafka value is the whole event as JSON and the ``content-type`` header is
``application/cloudevents+json``. ``subject`` (and the Kafka key) is the pseudonymous person
reference; the identity code exists only inside ``data``.
"""

from __future__ import annotations

from typing import Final, Generic, Literal, TypeVar

from pydantic import AwareDatetime, Field

from schemas._base import CanonicalModel
from schemas.benefit_day import BENEFIT_DAY_V1, BENEFIT_DAY_V2, BenefitDay, BenefitDayV2
from schemas.benefit_threshold import BENEFIT_THRESHOLD_V1, BenefitThreshold
from schemas.client_status import CLIENT_STATUS_V1, ClientStatus
from schemas.person_ref import PersonRef
from schemas.referral_status import REFERRAL_STATUS_V1, ReferralStatus
from schemas.service_referral import SERVICE_REFERRAL_V1, ServiceReferral

__all__ = [
    "CLOUDEVENTS_CONTENT_TYPE",
    "AnyBenefitDayEvent",
    "BenefitDayEvent",
    "BenefitDayV2Event",
    "BenefitThresholdEvent",
    "ClientStatusEvent",
    "CloudEvent",
    "ReferralStatusEvent",
    "ServiceReferralEvent",
    "dataschema_for",
]

#: The ``content-type`` header of every canonical Kafka message (structured mode).
CLOUDEVENTS_CONTENT_TYPE: Final = "application/cloudevents+json"

DataT = TypeVar("DataT", bound=CanonicalModel)


def dataschema_for(event_type: str) -> str:
    """The ``dataschema`` URI of a canonical type: the URN of its committed JSON Schema."""
    return f"urn:fi:paijathame:hub:schema:{event_type}"


class CloudEvent(CanonicalModel, Generic[DataT]):
    """A CloudEvents 1.0 event with typed ``data``; subclasses fix ``type``."""

    specversion: Literal["1.0"] = Field(default="1.0", description="CloudEvents version.")
    id: str = Field(
        min_length=1,
        max_length=200,
        description="Event id, unique per source; deterministic from the partner's own id, so "
        "a redelivery carries the same id (consumers dedupe on it).",
    )
    source: str = Field(
        min_length=1,
        description="URI reference of the producing connector, e.g. "
        "urn:fi:paijathame:hub:connector:kela.",
    )
    subject: PersonRef
    time: AwareDatetime = Field(description="When the occurrence happened (RFC 3339).")
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str = Field(description="URI of the JSON Schema of this event type.")
    data: DataT


class ClientStatusEvent(CloudEvent[ClientStatus]):
    """Canonical client-status event (hub.client-status.v1)."""

    type: Literal["fi.paijathame.hub.client-status.v1"] = CLIENT_STATUS_V1


class BenefitDayEvent(CloudEvent[BenefitDay]):
    """Canonical benefit-day event (hub.benefit-day.v1)."""

    type: Literal["fi.paijathame.hub.benefit-day.v1"] = BENEFIT_DAY_V1


class BenefitDayV2Event(CloudEvent[BenefitDayV2]):
    """Canonical benefit-day event, major version 2 (hub.benefit-day.v2): general support too."""

    type: Literal["fi.paijathame.hub.benefit-day.v2"] = BENEFIT_DAY_V2


#: A benefit-day event of either major version (the hub's own consumers read both topics).
AnyBenefitDayEvent = BenefitDayEvent | BenefitDayV2Event


class BenefitThresholdEvent(CloudEvent[BenefitThreshold]):
    """Canonical benefit-threshold event (hub.benefit-threshold.v1)."""

    type: Literal["fi.paijathame.hub.benefit-threshold.v1"] = BENEFIT_THRESHOLD_V1


class ServiceReferralEvent(CloudEvent[ServiceReferral]):
    """Canonical service-referral event (hub.service-referral.v1)."""

    type: Literal["fi.paijathame.hub.service-referral.v1"] = SERVICE_REFERRAL_V1


class ReferralStatusEvent(CloudEvent[ReferralStatus]):
    """Canonical referral-status event (hub.referral-status.v1)."""

    type: Literal["fi.paijathame.hub.referral-status.v1"] = REFERRAL_STATUS_V1
