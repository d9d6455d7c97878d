"""Referrals out: a projected canonical service referral → Päijät-Sote's FHIR ``ServiceRequest``.

The hub projects each canonical service-referral event addressed to ``sote`` through the
partner's contract and hands the result (envelope attributes and ``data``, pydantic JSON
mode) to :func:`render_service_request`, which returns the JSON Päijät-Sote receives on
``out.sote.service-referral``: an HL7 FHIR R4B ``ServiceRequest`` (built directly from the
validated fields, byte for byte what ``fhir.resources`` builds; strings FHIR might refuse go
through the library), holding the elements of the table in ``docs/partners/sote.md`` and
what a FHIR server needs to store it::

    id                             uuid5 of sender and referral id (stable: the same referral
                                   always gets the same id, two senders' equal ids never meet)
    meta.profile[0]                the hub's profile (contracts/sote/fhir/StructureDefinition-…)
    identifier[0]                  {system urn:fi:paijathame:hub:referral, value referral_id}
    status / intent                active / order
    code.coding[0]                 {system = the url of contracts/sote/fhir/CodeSystem-service
                                   .json (urn:fi:paijathame:hub:service), code, display}
    subject.identifier             {system urn:oid:1.2.246.21, value person_id}
    requester                      {type Organization, identifier {system urn:ietf:rfc:3986,
                                   value urn:oid:<the sender's configured OID>}}
    performer[0]                   {type Organization, identifier {system urn:ietf:rfc:3986,
                                   value urn:oid:<Päijät-Sote's configured OID>}}
    reasonCode[0].text             reason
    priority                       routine | urgent
    occurrencePeriod.start         requested_start (a date)
    authoredOn                     sent_at

Decisions the interface document leaves open:

- ``code.coding[0].code`` is the service code of the interface documents
  (``KUNTOUTTAVA_TYOTOIMINTA``, ``TERVEYSTARKASTUS``, ``TYOKYVYN_ARVIOINTI``,
  ``MONIALAINEN_TUKI``), the codes the referral arrived with, not the hub's internal English
  enum values: the code system ``urn:fi:paijathame:hub:service`` is a partner-facing one and
  should not change when the hub renames an enum member. The code system is published as a
  FHIR ``CodeSystem`` in ``contracts/sote/fhir/``; its ``url`` is ``code.coding[0].system``
  and each code's ``display`` there is the service's Finnish name (:data:`SERVICE_NAMES`).
  Integration training (``KOTOUTUMISKOULUTUS``) goes between the authorities, never to
  Päijät-Sote: rendering it fails.
- Organisations are identified the way Finnish health-care FHIR does: by their OID as a URI
  (``system`` ``urn:ietf:rfc:3986``, ``value`` ``urn:oid:…``). The OIDs are configuration
  (:class:`Organisations`, from the ``HUB_ORGANISATION_OID_*`` settings), not code.
- ``id`` is a name-based UUID (version 5) of ``<sender>/<referral_id>``: it never changes for
  a referral, so a repeated delivery updates the same resource on the partner's FHIR server,
  it fits FHIR's id rules whatever characters the referral id holds, and two authorities'
  equal referral ids get different resources. (The sender holds no ``/``, so the name is
  unambiguous.)
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
- import the broker, the runtime or the audit store: it is a pure function of its arguments.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated, Any, Final, Literal

import orjson
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.meta import Meta
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from connectors._timestamps import RealOffsetDatetime
from contracts import CONTRACT_DIR
from schemas.codes import Authority, Partner, ReferralService, Urgency
from schemas.identity_code import PersonalIdentityCode
from schemas.service_referral import SERVICE_REFERRAL_V1

__all__ = [
    "CONFORMANCE_DIR",
    "DEFAULT_ORGANISATIONS",
    "ORGANISATION_SYSTEM",
    "PERSONAL_IDENTITY_CODE_SYSTEM",
    "PRIORITIES",
    "PROFILE",
    "REFERRAL_SYSTEM",
    "SERVICE_CODES",
    "SERVICE_NAMES",
    "SERVICE_SYSTEM",
    "Organisations",
    "ServiceRequestFields",
    "UnrenderableReferralError",
    "WrongEventTypeError",
    "render_service_request",
    "resource_id",
    "service_request_document",
    "to_service_request",
]

#: The FHIR conformance resources Päijät-Sote is given: the service CodeSystem and ValueSet,
#: the referral-status CodeSystem, ValueSet and ConceptMap, and the ServiceRequest profile.
CONFORMANCE_DIR: Final = CONTRACT_DIR / "sote" / "fhir"


def _conformance(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((CONFORMANCE_DIR / name).read_text(encoding="utf-8"))
    return loaded


_SERVICE_CODE_SYSTEM: Final = _conformance("CodeSystem-service.json")

#: ``identifier[0].system`` of a referral, and the system Päijät-Sote's ``Task.basedOn`` uses.
REFERRAL_SYSTEM: Final = "urn:fi:paijathame:hub:referral"
#: ``code.coding[0].system``: the url of the hub's published service CodeSystem.
SERVICE_SYSTEM: Final[str] = _SERVICE_CODE_SYSTEM["url"]
#: ``meta.profile[0]``: the url of the hub's published ServiceRequest profile.
PROFILE: Final[str] = _conformance("StructureDefinition-service-request.json")["url"]
#: ``subject.identifier.system``: the OID of the Finnish personal identity code.
PERSONAL_IDENTITY_CODE_SYSTEM: Final = "urn:oid:1.2.246.21"
#: ``requester`` / ``performer`` ``identifier.system``: the value is a URI (``urn:oid:…``).
ORGANISATION_SYSTEM: Final = "urn:ietf:rfc:3986"
#: Name space of the resource ids (uuid5 of ``<sender>/<referral_id>``); never change it, or
#: every referral gets a new id on the partner's server.
_ID_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, REFERRAL_SYSTEM)
_OID: Final = re.compile(r"[0-2](\.(0|[1-9][0-9]*))+")

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

_DISPLAYS: Final[Mapping[str, str]] = {
    concept["code"]: concept["display"] for concept in _SERVICE_CODE_SYSTEM["concept"]
}

#: Canonical service → its Finnish name (``code.coding[0].display``), from the CodeSystem.
SERVICE_NAMES: Final[Mapping[ReferralService, str]] = MappingProxyType(
    {service: _DISPLAYS[code] for service, code in SERVICE_CODES.items()}
)


@dataclass(frozen=True, slots=True)
class Organisations:
    """The OIDs (bare, ``1.2.246.…``) of the organisations a ServiceRequest names."""

    lahti: str
    ph: str
    sote: str

    def __post_init__(self) -> None:
        for name in ("lahti", "ph", "sote"):
            if not _OID.fullmatch(getattr(self, name)):
                raise ValueError(f"the organisation OID of {name} is not an OID")

    def of(self, organisation: Authority | Literal[Partner.SOTE]) -> str:
        """``urn:oid:…`` of an authority or of Päijät-Sote."""
        oid: str = getattr(self, organisation.value)
        return f"urn:oid:{oid}"


#: The OIDs when none are configured: placeholders in the form THL's organisation register
#: gives (``1.2.246.10.<number>.10``), equal to the ``HUB_ORGANISATION_OID_*`` defaults.
#: Production sets each organisation's registered OID.
DEFAULT_ORGANISATIONS: Final = Organisations(
    lahti="1.2.246.10.9990001.10", ph="1.2.246.10.9990002.10", sote="1.2.246.10.9990003.10"
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


def resource_id(sender: Authority, referral_id: str) -> str:
    """The ``ServiceRequest.id`` of a referral: stable, and distinct per sender."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{sender.value}/{referral_id}"))


def _organisation(uri: str) -> Reference:
    return Reference(
        type="Organization", identifier=Identifier(system=ORGANISATION_SYSTEM, value=uri)
    )


def to_service_request(
    fields: ServiceRequestFields, organisations: Organisations = DEFAULT_ORGANISATIONS
) -> ServiceRequest:
    """The FHIR ``ServiceRequest`` of one referral, built and validated by ``fhir.resources``.

    Raises :class:`UnrenderableReferralError` (naming elements, never values) if the library
    refuses it; the input model leaves it nothing to refuse, so that would be a bug.
    """
    reason = fields.reason if fields.reason.strip() else None
    try:
        return ServiceRequest(
            id=resource_id(fields.sender, fields.referral_id),
            meta=Meta(profile=[PROFILE]),
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
            requester=_organisation(organisations.of(fields.sender)),
            performer=[_organisation(organisations.of(Partner.SOTE))],
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


def render_service_request(
    projected: Mapping[str, object], organisations: Organisations = DEFAULT_ORGANISATIONS
) -> bytes:
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
    # A blank reason is left out either way; any other string must be one FHIR takes as it is.
    if not _plain(fields.referral_id) or (fields.reason.strip() and not _plain(fields.reason)):
        # A string the fast path cannot vouch for: let fhir.resources judge it.
        resource = to_service_request(fields, organisations)
        return resource.model_dump_json(exclude_none=True).encode("utf-8")
    return orjson.dumps(service_request_document(fields, organisations))


#: Text the FHIR ``string`` type takes as it is: no control character but tab, CR and LF, and
#: something other than whitespace (what ``fhir.resources`` checks beyond the input model).
_PLAIN: Final = re.compile(
    r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*\S[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*"
)


def _plain(text: str) -> bool:
    return _PLAIN.fullmatch(text) is not None


def _fhir_datetime(moment: dt.datetime) -> str:
    """As ``fhir.resources`` writes a dateTime: seconds, and ``Z`` for UTC."""
    text = moment.replace(microsecond=0).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def service_request_document(
    fields: ServiceRequestFields, organisations: Organisations = DEFAULT_ORGANISATIONS
) -> dict[str, Any]:
    """The ``ServiceRequest`` of one referral as the JSON document ``to_service_request``
    gives, built directly: ``ServiceRequestFields`` already guarantees every value, and the
    library's model costs more than everything else the referral flow does. Element order is
    the library's (FHIR's); the tests compare both ways byte for byte and validate the result
    with ``fhir.resources``."""
    reason = fields.reason if fields.reason.strip() else None
    document: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": resource_id(fields.sender, fields.referral_id),
        "meta": {"profile": [PROFILE]},
        "identifier": [{"system": REFERRAL_SYSTEM, "value": fields.referral_id}],
        "status": _STATUS,
        "intent": _INTENT,
        "priority": PRIORITIES[fields.urgency],
        "code": {
            "coding": [
                {
                    "system": SERVICE_SYSTEM,
                    "code": SERVICE_CODES[fields.service],
                    "display": SERVICE_NAMES[fields.service],
                }
            ]
        },
        "subject": {
            "identifier": {"system": PERSONAL_IDENTITY_CODE_SYSTEM, "value": fields.person_id}
        },
        "occurrencePeriod": {"start": fields.requested_start.isoformat()},
        "authoredOn": _fhir_datetime(fields.sent_at),
        "requester": _organisation_document(organisations.of(fields.sender)),
        "performer": [_organisation_document(organisations.of(Partner.SOTE))],
    }
    if reason is not None:
        document["reasonCode"] = [{"text": reason}]
    return document


def _organisation_document(uri: str) -> dict[str, Any]:
    return {"type": "Organization", "identifier": {"system": ORGANISATION_SYSTEM, "value": uri}}
