"""The labour authorities' own shapes: the JSON they send and the codes they write.

Mirrors ``docs/partners/authorities.md``, so the field names are the partner's
Finnish keys; the canonical models (``schemas.client_status``, ``schemas.service_referral``)
use English ones. Both authorities (``lahti`` and ``ph``) send the same shapes: which one sent
a message is known from its topic, not from these models. Turning bytes into these models,
with stable rejection reasons, lives in ``connectors.authorities.inbound``.

Which keys must be present (decided here, from the document, and enforced by the parser):

- every key of the document's examples is required, with a non-null value, except:
- ``palvelu`` is required and may be ``null`` ("null when the person is not in a service");
  a missing key means a message built wrong, not "no service";
- ``palvelu.paattyy`` may be ``null`` or absent: the end of a service is often not known;
- ``vastuuvirkailija`` and ``muistiinpano`` may be ``null`` or absent: they are the
  authority's internal free text (no case worker assigned yet, no note written).

Any key the document does not show is refused, not ignored (see ``inbound``).

These models hold validated identity codes and free text that may contain health
information: they must never be logged or echoed.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Final

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.codes import (
    Authority,
    EmploymentStatus,
    Partner,
    ReferralService,
    ReferralState,
    ServiceCode,
    Urgency,
)
from schemas.identity_code import PersonalIdentityCode

__all__ = [
    "CHANGE_ID_MAX_LENGTH",
    "CLIENT_NUMBER_MAX_LENGTH",
    "NOTIFICATION_FIELDS",
    "OPTIONAL_NOTIFICATION_FIELDS",
    "OPTIONAL_SERVICE_FIELDS",
    "REFERRAL_FIELDS",
    "REFERRAL_ID_MAX_LENGTH",
    "REFERRAL_SERVICES",
    "REFERRAL_STATES",
    "SERVICE_FIELDS",
    "SOTE_SERVICES",
    "URGENCY",
    "NotifiedService",
    "ServiceReferralMessage",
    "StatusChangeNotification",
]

#: The canonical limits the partner's identifiers must fit (ClientStatus, ServiceReferral).
CHANGE_ID_MAX_LENGTH: Final = 100
CLIENT_NUMBER_MAX_LENGTH: Final = 50
REFERRAL_ID_MAX_LENGTH: Final = 50

#: The keys of a client-status change notification, in the document's order.
NOTIFICATION_FIELDS: Final[tuple[str, ...]] = (
    "muutosId",
    "asiakasnumero",
    "hetu",
    "kotikunta",
    "tyollisyystilanne",
    "tilanneAlkaa",
    "tyonhakuVoimassa",
    "palvelu",
    "vastuuvirkailija",
    "muistiinpano",
    "muutettu",
)

#: Keys of a notification that may be absent (and then mean the same as ``null``).
OPTIONAL_NOTIFICATION_FIELDS: Final = frozenset({"vastuuvirkailija", "muistiinpano"})

#: The keys of ``palvelu``, in the document's order.
SERVICE_FIELDS: Final[tuple[str, ...]] = ("koodi", "alkaa", "paattyy")

#: Keys of ``palvelu`` that may be absent (and then mean the same as ``null``).
OPTIONAL_SERVICE_FIELDS: Final = frozenset({"paattyy"})

#: The keys of a service referral, in the document's order; all are required.
REFERRAL_FIELDS: Final[tuple[str, ...]] = (
    "lahete_id",
    "hetu",
    "lahettaja",
    "vastaanottaja",
    "palvelu",
    "perustelu",
    "kiireellisyys",
    "toivottu_alku",
    "suostumus",
    "lahetetty",
)

#: A referral's ``palvelu`` and the canonical service it is.
REFERRAL_SERVICES: Final[dict[str, ReferralService]] = {
    "KUNTOUTTAVA_TYOTOIMINTA": ReferralService.REHABILITATIVE_WORK_ACTIVITY,
    "TERVEYSTARKASTUS": ReferralService.HEALTH_CHECK,
    "TYOKYVYN_ARVIOINTI": ReferralService.WORK_ABILITY_ASSESSMENT,
    "MONIALAINEN_TUKI": ReferralService.MULTISECTOR_SUPPORT,
    "KOTOUTUMISKOULUTUS": ReferralService.INTEGRATION_TRAINING,
}

#: Services a referral sends to ``sote``; the only other one, integration training, goes
#: from one authority to the other.
SOTE_SERVICES: Final = frozenset(
    {
        ReferralService.REHABILITATIVE_WORK_ACTIVITY,
        ReferralService.HEALTH_CHECK,
        ReferralService.WORK_ABILITY_ASSESSMENT,
        ReferralService.MULTISECTOR_SUPPORT,
    }
)

#: ``kiireellisyys`` and the canonical urgency it is.
URGENCY: Final[dict[str, Urgency]] = {
    "normaali": Urgency.ROUTINE,
    "kiireellinen": Urgency.URGENT,
}

#: Canonical referral state → the ``tila`` the authorities receive.
REFERRAL_STATES: Final[dict[ReferralState, str]] = {
    ReferralState.RECEIVED: "VASTAANOTETTU",
    ReferralState.ACCEPTED: "HYVAKSYTTY",
    ReferralState.REJECTED: "HYLATTY",
    ReferralState.IN_PROGRESS: "ALKANUT",
    ReferralState.COMPLETED: "PAATTYNYT",
    ReferralState.CANCELLED: "PERUTTU",
}

_NATIVE_CONFIG: Final = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

#: Identifiers are visible ASCII (no spaces or control characters): safe in any log line.
_VISIBLE_ASCII: Final = r"^[!-~]+$"

ChangeId = Annotated[
    str, Field(min_length=1, max_length=CHANGE_ID_MAX_LENGTH, pattern=_VISIBLE_ASCII)
]
ClientNumber = Annotated[
    str, Field(min_length=1, max_length=CLIENT_NUMBER_MAX_LENGTH, pattern=_VISIBLE_ASCII)
]
ReferralId = Annotated[
    str, Field(min_length=1, max_length=REFERRAL_ID_MAX_LENGTH, pattern=_VISIBLE_ASCII)
]


class NotifiedService(BaseModel):
    """The service a jobseeker is in (``palvelu`` of a notification)."""

    model_config = _NATIVE_CONFIG

    koodi: ServiceCode = Field(description="Service code: TKO, TKE, KTT, OMO, VAL or KOT.")
    alkaa: dt.date = Field(description="First day of the service.")
    paattyy: dt.date | None = Field(default=None, description="Last day, if known.")


class StatusChangeNotification(BaseModel):
    """A client-status change notification from the national customer information system."""

    model_config = _NATIVE_CONFIG

    muutosId: ChangeId = Field(description="Unique per change; a repeat is a duplicate.")  # noqa: N815 - the partner's key.
    asiakasnumero: ClientNumber = Field(description="The authority's client number.")
    hetu: PersonalIdentityCode
    kotikunta: str = Field(pattern=r"^[0-9]{3}$", description="Home municipality, 3 digits.")
    tyollisyystilanne: EmploymentStatus = Field(
        description="Employment status, mapped from the national code (00-09, not 06)."
    )
    tilanneAlkaa: dt.date = Field(description="The status applies from.")  # noqa: N815 - the partner's key.
    tyonhakuVoimassa: bool = Field(description="Job search is in force.")  # noqa: N815 - the partner's key.
    palvelu: NotifiedService | None = Field(description="The service, or null if none.")
    vastuuvirkailija: str | None = Field(
        default=None, description="Responsible case worker; internal to the authority."
    )
    muistiinpano: str | None = Field(
        default=None, description="Case worker's free-text note; internal to the authority."
    )
    muutettu: AwareDatetime = Field(description="When the change was made, with its offset.")


class ServiceReferralMessage(BaseModel):
    """A service referral (lähete) from a labour authority."""

    model_config = _NATIVE_CONFIG

    lahete_id: ReferralId = Field(description="The referral's id.")
    hetu: PersonalIdentityCode
    lahettaja: Authority = Field(description="The referring authority: lahti or ph.")
    vastaanottaja: Partner = Field(description="The receiver: sote, or the other authority.")
    palvelu: ReferralService = Field(description="The service, mapped from REFERRAL_SERVICES.")
    perustelu: str = Field(description="Why the referral is made; may hold health information.")
    kiireellisyys: Urgency = Field(description="Urgency, mapped from normaali / kiireellinen.")
    toivottu_alku: dt.date = Field(description="Requested start date.")
    suostumus: bool = Field(description="The person consented to the referral.")
    lahetetty: AwareDatetime = Field(description="When the referral was sent, with its offset.")
