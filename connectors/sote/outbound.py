"""Referrals out: a projected canonical service referral → Päijät-Sote's FHIR ``ServiceRequest``.

The hub projects each canonical service-referral event addressed to ``sote`` through the
partner's contract and hands the result (envelope attributes and ``data``, pydantic JSON
mode) to :func:`render_service_request`, which returns the JSON Päijät-Sote receives on
``out.sote.service-referral``: an HL7 FHIR R4B ``ServiceRequest`` built and validated with
``fhir.resources``, holding exactly the elements of the table in
``docs/partners/sote.md``::

    identifier[0]                  {system urn:fi:paijathame:hub:referral, value referral_id}
    status / intent                active / order
    code.coding[0]                 {system urn:fi:paijathame:hub:service, code, display}
    subject.identifier             {system urn:oid:1.2.246.21, value person_id}
    requester.identifier.value     sender (lahti | ph)
    performer[0].identifier.value  sote
    reasonCode[0].text             reason
    priority                       routine | urgent
    occurrencePeriod.start         requested_start (a date)
    authoredOn                     sent_at

Decisions the interface document leaves open:

- ``code.coding[0].code`` is the service code of the interface documents
  (``KUNTOUTTAVA_TYOTOIMINTA``, ``TERVEYSTARKASTUS``, ``TYOKYVYN_ARVIOINTI``,
  ``MONIALAINEN_TUKI``), the codes the referral arrived with, not the hub's internal English
  enum values: the code system ``urn:fi:paijathame:hub:service`` is a partner-facing one and
  should not change when the hub renames an enum member. ``display`` is the service's Finnish
  name (:data:`SERVICE_NAMES`). Integration training (``KOTOUTUMISKOULUTUS``) goes between
  the authorities, never to Päijät-Sote: rendering it fails.
- ``requester.identifier`` and ``performer[0].identifier`` carry only a ``value``, as the
  table draws them. No ``system`` is invented: a URI Päijät-Sote has not agreed to would be
  an undocumented interface element it might validate against; FHIR allows an identifier
  without one. (Add it here, and in the table, once the partner names one.)
- ``authoredOn`` keeps ``sent_at``'s own offset and is written to whole seconds, like every
  other timestamp the hub sends: fractions are truncated, never rounded (rounding could
  carry the time into the next second or minute). UTC is written ``Z`` (the library's
  serialisation; FHIR accepts it). Offsets must be whole minutes within ±14:00, all a FHIR
  ``dateTime`` can carry. ``occurrencePeriod.start`` is the bare date ``YYYY-MM-DD``, which a
  FHIR ``dateTime`` allows.
- A reason that is empty or only whitespace is not sent: ``reasonCode`` is left out (FHIR
  refuses an empty string, and a blank reason says nothing). Any other reason is sent as is.
- The output is compact JSON in UTF-8 (non-ASCII characters unescaped), in the element order
  of the FHIR structure definition, as ``fhir.resources`` writes it: deterministic.

This module must never:

- put anything into the resource beyond the table: no consent flag, case-worker data, notes
  or client-status details. The input model forbids unknown ``data`` fields, so a projection
  that leaked one makes rendering fail instead of reaching the partner;
- render a referral not addressed to ``sote``, a service Päijät-Sote does not provide, or an
  event of another type;
- build FHIR JSON by hand: the resource is built from the library's models and validated by
  them;
- echo its input in errors: the input model hides input values, and a FHIR validation
  failure is re-raised as :class:`UnrenderableReferralError` naming only the elements,
  because ``person_id`` is an identity code and ``reason`` may hold health information;
- import the broker, the runtime or the audit store: it is a pure function of its argument.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Final, Literal

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from connectors._timestamps import RealOffsetDatetime
from schemas.codes import Authority, Partner, ReferralService, Urgency
from schemas.identity_code import PersonalIdentityCode
from schemas.service_referral import SERVICE_REFERRAL_V1

__all__ = [
    "PERSONAL_IDENTITY_CODE_SYSTEM",
    "PRIORITIES",
    "REFERRAL_SYSTEM",
    "SERVICE_CODES",
    "SERVICE_NAMES",
    "SERVICE_SYSTEM",
    "ServiceRequestFields",
    "UnrenderableReferralError",
    "WrongEventTypeError",
    "render_service_request",
    "to_service_request",
]

#: ``identifier[0].system`` of a referral, and the system Päijät-Sote's ``Task.basedOn`` uses.
REFERRAL_SYSTEM: Final = "urn:fi:paijathame:hub:referral"
#: ``code.coding[0].system``: the hub's service code system.
SERVICE_SYSTEM: Final = "urn:fi:paijathame:hub:service"
#: ``subject.identifier.system``: the OID of the Finnish personal identity code.
PERSONAL_IDENTITY_CODE_SYSTEM: Final = "urn:oid:1.2.246.21"

#: Canonical service → the interface's service code (``code.coding[0].code``). Only the
#: services Päijät-Sote provides: integration training is not one of them.
SERVICE_CODES: Final[Mapping[ReferralService, str]] = MappingProxyType(
    {
        ReferralService.REHABILITATIVE_WORK_ACTIVITY: "KUNTOUTTAVA_TYOTOIMINTA",
        ReferralService.HEALTH_CHECK: "TERVEYSTARKASTUS",
        ReferralService.WORK_ABILITY_ASSESSMENT: "TYOKYVYN_ARVIOINTI",
        ReferralService.MULTISECTOR_SUPPORT: "MONIALAINEN_TUKI",
    }
)

#: Canonical service → its Finnish name (``code.coding[0].display``).
SERVICE_NAMES: Final[Mapping[ReferralService, str]] = MappingProxyType(
    {
        ReferralService.REHABILITATIVE_WORK_ACTIVITY: "Kuntouttava työtoiminta",
        ReferralService.HEALTH_CHECK: "Työttömien terveystarkastus",
        ReferralService.WORK_ABILITY_ASSESSMENT: "Työkyvyn arviointi",
        ReferralService.MULTISECTOR_SUPPORT: "Monialainen tuki",
    }
)

#: Canonical urgency → ``priority`` (normaali → routine, kiireellinen → urgent).
PRIORITIES: Final[Mapping[Urgency, str]] = MappingProxyType(
    {Urgency.ROUTINE: "routine", Urgency.URGENT: "urgent"}
)

_STATUS: Final = "active"
_INTENT: Final = "order"


class WrongEventTypeError(ValueError):
    """The projected event is not a service-referral event."""


class UnrenderableReferralError(ValueError):
    """The ``ServiceRequest`` failed FHIR validation; the message names elements, not values."""


def _provided_by_sote(service: ReferralService) -> ReferralService:
    if service not in SERVICE_CODES:
        raise ValueError("the service is not one Päijät-Sote provides (integration training?)")
    return service


class ServiceRequestFields(BaseModel):
    """The ``data`` of a projected service-referral event that Päijät-Sote receives.

    The canonical ``ServiceReferral`` without ``consent``: the hub forwards only consented
    referrals, and the flag is not part of the FHIR interface. ``extra="forbid"`` is defence
    in depth: a field the projection should have dropped makes validation fail rather than
    reach the partner.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    referral_id: str = Field(min_length=1, max_length=50, description="Referral id (lahete_id).")
    person_id: PersonalIdentityCode
    sender: Authority = Field(description="The referring authority (lahettaja).")
    recipient: Literal[Partner.SOTE] = Field(description="The receiver: always sote.")
    service: Annotated[ReferralService, AfterValidator(_provided_by_sote)] = Field(
        description="The service asked for (palvelu): one Päijät-Sote provides."
    )
    reason: str = Field(description="Free-text reason (perustelu); may hold health information.")
    urgency: Urgency = Field(description="Urgency (kiireellisyys).")
    requested_start: dt.date = Field(description="Requested start date (toivottu_alku).")
    sent_at: RealOffsetDatetime = Field(description="When the referral was sent (lahetetty).")


def _failed_elements(error: ValidationError) -> str:
    # Locations are the library's element names and list indices; values are never quoted.
    return ", ".join(
        ".".join(str(part) for part in e["loc"]) or "(resource)"
        for e in error.errors(include_input=False, include_url=False)
    )


def to_service_request(fields: ServiceRequestFields) -> ServiceRequest:
    """The FHIR ``ServiceRequest`` of one referral, built and validated by ``fhir.resources``.

    Raises :class:`UnrenderableReferralError` (naming elements, never values) if the library
    refuses it; the input model leaves it nothing to refuse, so that would be a bug.
    """
    reason = fields.reason if fields.reason.strip() else None
    try:
        return ServiceRequest(
            identifier=[Identifier(system=REFERRAL_SYSTEM, value=fields.referral_id)],
            status=_STATUS,
            intent=_INTENT,
            code=CodeableConcept(
                coding=[
                    Coding(
                        system=SERVICE_SYSTEM,
                        code=SERVICE_CODES[fields.service],
                        display=SERVICE_NAMES[fields.service],
                    )
                ]
            ),
            subject=Reference(
                identifier=Identifier(system=PERSONAL_IDENTITY_CODE_SYSTEM, value=fields.person_id)
            ),
            requester=Reference(identifier=Identifier(value=fields.sender.value)),
            performer=[Reference(identifier=Identifier(value=Partner.SOTE.value))],
            reasonCode=None if reason is None else [CodeableConcept(text=reason)],
            priority=PRIORITIES[fields.urgency],
            # The stubs type Period.start as a datetime; a bare date is a valid FHIR dateTime,
            # so the date goes through the library's own validation as its JSON form.
            occurrencePeriod=Period.model_validate({"start": fields.requested_start.isoformat()}),
            authoredOn=fields.sent_at.replace(microsecond=0),
        )
    except ValidationError as error:
        raise UnrenderableReferralError(
            f"the ServiceRequest fails FHIR validation: {error.title} at {_failed_elements(error)}"
        ) from None


def render_service_request(projected: Mapping[str, object]) -> bytes:
    """Päijät-Sote's ``ServiceRequest`` JSON for one projected canonical referral, as UTF-8.

    ``projected`` is the event after Päijät-Sote's contract (envelope attributes and
    ``data``, pydantic JSON mode). A ``data`` field outside the model, a value that does not
    fit (another recipient, integration training, a naive time) raises
    ``pydantic.ValidationError`` with input values hidden; an event of another type raises
    :class:`WrongEventTypeError`. The output is deterministic compact JSON.
    """
    event_type = projected.get("type", SERVICE_REFERRAL_V1)
    if event_type != SERVICE_REFERRAL_V1:
        raise WrongEventTypeError(f"expected a {SERVICE_REFERRAL_V1} event")
    fields = ServiceRequestFields.model_validate(projected.get("data"))
    return to_service_request(fields).model_dump_json(exclude_none=True).encode("utf-8")
