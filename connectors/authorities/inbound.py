"""The labour authorities' messages in: JSON bytes → native model → canonical event.

Two families arrive from each authority (``lahti``, ``ph``), and the authority is known from
the topic a message came on, which the caller passes in:

* ``in.<authority>.client-status``: ``parse_status_change`` → ``ClientStatus``, then
  ``status_event`` → ``ClientStatusEvent``;
* ``in.<authority>.service-referral``: ``parse_referral`` → ``ServiceReferral``, then
  ``referral_event`` → ``ServiceReferralEvent``.

Pure: no broker, no database, no clock, no logging. Things this module must never do:

* raise on partner bytes: every message becomes a canonical model or a ``Rejection`` with a
  stable ``reason`` (see ``REASONS``);
* put an identity code or free text (``muistiinpano``, ``vastuuvirkailija``, ``perustelu``)
  into a rejection ``detail``. Details name fields, expected types and code lists; the value
  of a code field is quoted only when it looks like a code (the hub's one rule,
  ``hub.core.redaction.shown_value``); identifiers, identity codes, free text and timestamps are
  never quoted;
* guess: an unknown code, a key the document does not show, a missing offset is a rejection.

Decisions beyond the interface document:

* Bytes that are not UTF-8 are ``not-utf8`` (a separate reason from ``malformed-json``, as in
  the Kela connector: it points at an encoding problem, not a JSON one). A byte-order mark is
  ``malformed-json``: JSON text exchanged between systems must not start with one (RFC 8259).
* A key that appears twice in one object is ``duplicate-field``: parsers disagree on which
  value wins, so a second ``hetu`` could make the hub and an auditor see different people.
* A key the document does not show is ``unknown-field``, not ignored: the document fixes the
  shape, and a new key means the interface changed under us. Silently dropping it could drop
  something that must change how the message is handled (a non-disclosure flag, a
  correction marker), and nobody would notice.
* A referral with ``suostumus: false`` is ``no-consent``: the hub does not forward a referral
  (which may carry health information) that the person has not agreed to, and the sending
  authority sees the rejection instead of a silent drop.
* Which keys may be absent or ``null`` is listed in ``connectors.authorities.native``.
* Identifiers (``muutosId``, ``asiakasnumero``, ``lahete_id``) are visible ASCII within the
  canonical lengths (``bad-identifier``). Dates are ``YYYY-MM-DD``; timestamps are RFC 3339
  (``T``, seconds, an optional fraction of up to 9 digits truncated to microseconds, ``Z`` or
  ``±HH:MM``) and must carry an offset within ±14:00 (the range of real time zones, and
  all that Kela's ``xs:dateTime`` takes when the status is passed on). Digits are ASCII
  digits only. JSON types are strict: ``"true"`` is not a boolean and ``398`` is not a
  municipality code (``098`` would lose its zero).
* Checks run in this order and the first failure is reported: encoding, JSON, duplicate
  keys, missing keys, unknown keys, each field in the document's order, then the rules across
  fields (service period order; recipient for the service; consent).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Final, NamedTuple

from pydantic import ValidationError

from connectors._refusal import Refusal, refuse
from connectors._strict_json import (
    MALFORMED_JSON,
    NOT_UTF8,
    json_object,
    json_type,
)
from connectors._timestamps import has_real_offset
from connectors.authorities.native import (
    CHANGE_ID_MAX_LENGTH,
    CLIENT_NUMBER_MAX_LENGTH,
    NOTIFICATION_FIELDS,
    OPTIONAL_NOTIFICATION_FIELDS,
    OPTIONAL_SERVICE_FIELDS,
    REFERRAL_FIELDS,
    REFERRAL_ID_MAX_LENGTH,
    REFERRAL_SERVICES,
    SERVICE_FIELDS,
    SOTE_SERVICES,
    URGENCY,
    ServiceReferralMessage,
    StatusChangeNotification,
)
from hub.core.redaction import shown_value
from hub.core.rejections import rejection_from
from schemas._base import trusted
from schemas.client_status import CLIENT_STATUS_V1, ClientStatus, ServicePeriod
from schemas.codes import (
    Authority,
    EmploymentStatus,
    Partner,
    ReferralService,
    ServiceCode,
    UnknownCodeError,
    Urgency,
    employment_status_from_code,
)
from schemas.envelope import ClientStatusEvent, ServiceReferralEvent, dataschema_for
from schemas.identity_code import IdentityCodeError, validate_identity_code
from schemas.person_ref import person_ref_for
from schemas.rejection import Rejection
from schemas.service_referral import SERVICE_REFERRAL_V1, ServiceReferral

__all__ = [
    "BAD_DATE",
    "BAD_IDENTIFIER",
    "BAD_MUNICIPALITY_CODE",
    "BAD_TIMESTAMP",
    "DUPLICATE_FIELD",
    "EVENT_ID_NAMESPACE",
    "INVALID_IDENTITY_CODE",
    "INVALID_MESSAGE",
    "MALFORMED_JSON",
    "MISSING_FIELD",
    "NOT_UTF8",
    "NO_CONSENT",
    "REASONS",
    "REFERRAL_REASONS",
    "SENDER_MISMATCH",
    "SERVICE_END_BEFORE_START",
    "STATUS_CHANGE_REASONS",
    "UNKNOWN_EMPLOYMENT_STATUS_CODE",
    "UNKNOWN_FIELD",
    "UNKNOWN_REFERRAL_SERVICE",
    "UNKNOWN_SERVICE_CODE",
    "UNKNOWN_URGENCY",
    "WRONG_FIELD_TYPE",
    "WRONG_RECIPIENT",
    "parse_referral",
    "parse_referral_with_models",
    "parse_status_change",
    "parse_status_change_with_models",
    "referral_event",
    "referral_event_id",
    "source_for",
    "status_event",
    "status_event_id",
    "to_client_status",
    "to_service_referral",
]

DUPLICATE_FIELD: Final = "duplicate-field"
MISSING_FIELD: Final = "missing-field"
UNKNOWN_FIELD: Final = "unknown-field"
WRONG_FIELD_TYPE: Final = "wrong-field-type"
BAD_IDENTIFIER: Final = "bad-identifier"
INVALID_IDENTITY_CODE: Final = "invalid-identity-code"
BAD_MUNICIPALITY_CODE: Final = "bad-municipality-code"
UNKNOWN_EMPLOYMENT_STATUS_CODE: Final = "unknown-employment-status-code"
UNKNOWN_SERVICE_CODE: Final = "unknown-service-code"
BAD_DATE: Final = "bad-date"
BAD_TIMESTAMP: Final = "bad-timestamp"
SERVICE_END_BEFORE_START: Final = "service-end-before-start"
SENDER_MISMATCH: Final = "sender-mismatch"
WRONG_RECIPIENT: Final = "wrong-recipient"
UNKNOWN_REFERRAL_SERVICE: Final = "unknown-referral-service"
UNKNOWN_URGENCY: Final = "unknown-urgency"
NO_CONSENT: Final = "no-consent"
INVALID_MESSAGE: Final = "invalid-message"

#: Every reason this module can give, with its meaning: the codes partners alert on.
REASONS: Final[dict[str, str]] = {
    NOT_UTF8: "the message is not valid UTF-8",
    MALFORMED_JSON: "the message is not a JSON object (not JSON, another JSON value, a "
    "byte-order mark, or nested too deeply)",
    DUPLICATE_FIELD: "a key appears more than once in one JSON object",
    MISSING_FIELD: "a required key is absent",
    UNKNOWN_FIELD: "a key the interface document does not show is present",
    WRONG_FIELD_TYPE: "a value has the wrong JSON type (e.g. a number for a string, null for "
    "a required value)",
    BAD_IDENTIFIER: "muutosId, asiakasnumero or lahete_id is empty, too long or has spaces",
    INVALID_IDENTITY_CODE: "hetu is not a valid personal identity code (shape, date, "
    "check character; a birth date after the day of checking is refused)",
    BAD_MUNICIPALITY_CODE: "kotikunta is not exactly 3 ASCII digits",
    UNKNOWN_EMPLOYMENT_STATUS_CODE: "tyollisyystilanne is not in the national code list "
    "(00-05, 07-09; 06 is retired)",
    UNKNOWN_SERVICE_CODE: "palvelu.koodi is not TKO, TKE, KTT, OMO, VAL or KOT",
    BAD_DATE: "a date is not YYYY-MM-DD or is not a real date",
    BAD_TIMESTAMP: "muutettu or lahetetty is not an RFC 3339 date-time with an offset within "
    "±14:00",
    SERVICE_END_BEFORE_START: "palvelu.paattyy is before palvelu.alkaa",
    SENDER_MISMATCH: "lahettaja is not the authority whose topic the referral came on",
    WRONG_RECIPIENT: "vastaanottaja is not the receiver of the service (sote, or for "
    "KOTOUTUMISKOULUTUS the other authority)",
    UNKNOWN_REFERRAL_SERVICE: "a referral's palvelu is not one of the five services",
    UNKNOWN_URGENCY: "kiireellisyys is not normaali or kiireellinen",
    NO_CONSENT: "suostumus is false: a referral without consent is not forwarded",
    INVALID_MESSAGE: "the message failed the models' checks (not expected to happen)",
}

_COMMON_REASONS: Final = (
    NOT_UTF8,
    MALFORMED_JSON,
    DUPLICATE_FIELD,
    MISSING_FIELD,
    UNKNOWN_FIELD,
    WRONG_FIELD_TYPE,
    BAD_IDENTIFIER,
    INVALID_IDENTITY_CODE,
    BAD_DATE,
    BAD_TIMESTAMP,
    INVALID_MESSAGE,
)

#: The reasons ``parse_status_change`` can give.
STATUS_CHANGE_REASONS: Final = frozenset(
    {
        *_COMMON_REASONS,
        BAD_MUNICIPALITY_CODE,
        UNKNOWN_EMPLOYMENT_STATUS_CODE,
        UNKNOWN_SERVICE_CODE,
        SERVICE_END_BEFORE_START,
    }
)

#: The reasons ``parse_referral`` can give.
REFERRAL_REASONS: Final = frozenset(
    {
        *_COMMON_REASONS,
        SENDER_MISMATCH,
        WRONG_RECIPIENT,
        UNKNOWN_REFERRAL_SERVICE,
        UNKNOWN_URGENCY,
        NO_CONSENT,
    }
)

#: Namespace of the authorities' event ids, fixed forever:
#: uuid5(NAMESPACE_URL, "urn:fi:paijathame:hub:connector:authorities").
EVENT_ID_NAMESPACE: Final = uuid.UUID("ced692a0-4e27-5d49-98e5-4de75033b435")

_STATUS_ID_PREFIX: Final = "authorities.client-status:"
_REFERRAL_ID_PREFIX: Final = "authorities.service-referral:"
_SOURCE_PREFIX: Final = "urn:fi:paijathame:hub:connector:"

_DATE: Final = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIMESTAMP: Final = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]{1,9}))?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?"
)
_MUNICIPALITY: Final = re.compile(r"[0-9]{3}")
_IDENTIFIER: Final = re.compile(r"[!-~]+")
_SERVICE_CODES: Final = {code.value: code for code in ServiceCode}
_STATUS_DATASCHEMA: Final = dataschema_for(CLIENT_STATUS_V1)
_REFERRAL_DATASCHEMA: Final = dataschema_for(SERVICE_REFERRAL_V1)
_PARTNERS: Final = {partner.value: partner for partner in Partner}

# --- bytes → JSON object -------------------------------------------------------------------


def _check_keys(
    obj: Mapping[str, object], fields: tuple[str, ...], optional: frozenset[str], where: str
) -> None:
    for name in fields:
        if name not in obj and name not in optional:
            refuse(MISSING_FIELD, f"{where}{name} is missing")
    for key in obj:
        if key not in fields:
            refuse(
                UNKNOWN_FIELD,
                f"{where}{shown_value(key)} is not a field of the interface "
                f"(expected: {', '.join(fields)})",
            )


# --- field readers: each returns the typed value or refuses --------------------------------


def _string(obj: Mapping[str, object], name: str, where: str = "") -> str:
    value = obj.get(name)
    if not isinstance(value, str):
        refuse(WRONG_FIELD_TYPE, f"{where}{name} must be a string, got {json_type(value)}")
    return value


def _optional_string(obj: Mapping[str, object], name: str) -> str | None:
    if obj.get(name) is None:
        return None
    return _string(obj, name)


def _boolean(obj: Mapping[str, object], name: str) -> bool:
    value = obj.get(name)
    if not isinstance(value, bool):
        refuse(WRONG_FIELD_TYPE, f"{name} must be a boolean, got {json_type(value)}")
    return value


def _identifier(obj: Mapping[str, object], name: str, max_length: int) -> str:
    # Never quoted: an identifier is long enough to be (or hide) an identity code.
    text = _string(obj, name)
    if len(text) > max_length or not _IDENTIFIER.fullmatch(text):
        refuse(
            BAD_IDENTIFIER,
            f"{name} must be 1-{max_length} visible ASCII characters without spaces "
            f"(got {len(text)} characters)",
        )
    return text


def _identity_code(obj: Mapping[str, object]) -> str:
    text = _string(obj, "hetu")
    try:
        return validate_identity_code(text)
    except IdentityCodeError as error:
        # The message names what is wrong and never quotes the code.
        refuse(INVALID_IDENTITY_CODE, f"hetu: {error}")


def _municipality(obj: Mapping[str, object]) -> str:
    text = _string(obj, "kotikunta")
    if not _MUNICIPALITY.fullmatch(text):
        refuse(BAD_MUNICIPALITY_CODE, f"kotikunta {shown_value(text)} is not a 3-digit code")
    return text


def _employment_status_code(obj: Mapping[str, object]) -> str:
    text = _string(obj, "tyollisyystilanne")
    try:
        employment_status_from_code(text)
    except UnknownCodeError:
        retired = " (06 is retired)" if text == "06" else ""
        refuse(
            UNKNOWN_EMPLOYMENT_STATUS_CODE,
            f"tyollisyystilanne {shown_value(text)} is not in the national code list "
            f"00-05, 07-09{retired}",
        )
    return text


def _date(obj: Mapping[str, object], name: str, where: str = "") -> dt.date:
    text = _string(obj, name, where)
    match = _DATE.fullmatch(text)
    if match is None:
        refuse(BAD_DATE, f"{where}{name} {shown_value(text)} is not a date in the form YYYY-MM-DD")
    year, month, day = (int(part) for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        refuse(BAD_DATE, f"{where}{name} {shown_value(text)} is not a date")


def _optional_date(obj: Mapping[str, object], name: str, where: str) -> dt.date | None:
    if obj.get(name) is None:
        return None
    return _date(obj, name, where)


def _timestamp(obj: Mapping[str, object], name: str) -> dt.datetime:
    # Never quoted: a timestamp has more digits than an identity code.
    text = _string(obj, name)
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        refuse(
            BAD_TIMESTAMP,
            f"{name} is not an RFC 3339 date-time like 2025-03-01T08:12:00+02:00",
        )
    date, time, fraction, offset = match.groups()
    if offset is None:
        refuse(BAD_TIMESTAMP, f"{name} has no time-zone offset (Z or ±HH:MM)")
    micro = f".{fraction[:6].ljust(6, '0')}" if fraction else ""
    normalised = f"{date}T{time}{micro}{'+00:00' if offset == 'Z' else offset}"
    try:
        moment = dt.datetime.fromisoformat(normalised)
    except ValueError:
        refuse(BAD_TIMESTAMP, f"{name} is not a real date and time with a valid offset")
    if not has_real_offset(moment):
        refuse(BAD_TIMESTAMP, f"{name} has an offset beyond ±14:00")
    return moment


class _Service(NamedTuple):
    """``palvelu`` of a notification, checked, in the document's order (``SERVICE_FIELDS``)."""

    code: ServiceCode
    start: dt.date
    end: dt.date | None


def _notified_service(obj: Mapping[str, object]) -> _Service | None:
    raw = obj["palvelu"]
    if raw is None:
        return None
    if not isinstance(raw, dict):
        refuse(WRONG_FIELD_TYPE, f"palvelu must be an object or null, got {json_type(raw)}")
    _check_keys(raw, SERVICE_FIELDS, OPTIONAL_SERVICE_FIELDS, "palvelu.")
    code_text = _string(raw, "koodi", "palvelu.")
    code = _SERVICE_CODES.get(code_text)
    if code is None:
        refuse(
            UNKNOWN_SERVICE_CODE,
            f"palvelu.koodi {shown_value(code_text)} is not one of {', '.join(_SERVICE_CODES)}",
        )
    return _Service(
        code, _date(raw, "alkaa", "palvelu."), _optional_date(raw, "paattyy", "palvelu.")
    )


# --- client-status change notification ---------------------------------------------------


class _Notification(NamedTuple):
    """A change notification whose every field has passed its check, in the document's
    order (``NOTIFICATION_FIELDS``), the codes as the models hold them."""

    change_id: str
    client_number: str
    hetu: str
    municipality: str
    status: EmploymentStatus
    status_since: dt.date
    job_search: bool
    service: _Service | None
    case_worker: str | None
    note: str | None
    changed_at: dt.datetime


def _checked_notification(obj: dict[str, object]) -> _Notification:
    _check_keys(obj, NOTIFICATION_FIELDS, OPTIONAL_NOTIFICATION_FIELDS, "")
    change_id = _identifier(obj, "muutosId", CHANGE_ID_MAX_LENGTH)
    client_number = _identifier(obj, "asiakasnumero", CLIENT_NUMBER_MAX_LENGTH)
    hetu = _identity_code(obj)
    municipality = _municipality(obj)
    status_code = _employment_status_code(obj)
    status_since = _date(obj, "tilanneAlkaa")
    job_search = _boolean(obj, "tyonhakuVoimassa")
    service = _notified_service(obj)
    case_worker = _optional_string(obj, "vastuuvirkailija")
    note = _optional_string(obj, "muistiinpano")
    changed_at = _timestamp(obj, "muutettu")

    if service is not None and service.end is not None and service.end < service.start:
        refuse(
            SERVICE_END_BEFORE_START,
            f"palvelu.paattyy {service.end.isoformat()} is before palvelu.alkaa "
            f"{service.start.isoformat()}",
        )
    return _Notification(
        change_id,
        client_number,
        hetu,
        municipality,
        employment_status_from_code(status_code),
        status_since,
        job_search,
        service,
        case_worker,
        note,
        changed_at,
    )


def _notification_from(checked: _Notification) -> StatusChangeNotification:
    """The native model of a checked notification, validated by pydantic."""
    fields: dict[str, object] = dict(zip(NOTIFICATION_FIELDS, checked, strict=True))
    if checked.service is not None:
        fields["palvelu"] = dict(zip(SERVICE_FIELDS, checked.service, strict=True))
    return StatusChangeNotification.model_validate(fields)


def _trusted_status(checked: _Notification, authority: Authority) -> ClientStatus:
    """The canonical status of a checked notification, built without validating it again:
    every field has passed a check at least as strict as the model's (a property test holds
    it to the validated build)."""
    service = checked.service
    return trusted(
        ClientStatus,
        {
            "change_id": checked.change_id,
            "authority": authority,
            "client_number": checked.client_number,
            "person_id": checked.hetu,
            "home_municipality": checked.municipality,
            "previous_home_municipality": None,
            "employment_status": checked.status,
            "status_since": checked.status_since,
            "job_search_active": checked.job_search,
            "service": None
            if service is None
            else trusted(
                ServicePeriod, {"code": service.code, "start": service.start, "end": service.end}
            ),
            "case_worker": checked.case_worker,
            "note": checked.note,
            "changed_at": checked.changed_at,
        },
    )


def to_client_status(notification: StatusChangeNotification, authority: Authority) -> ClientStatus:
    """The canonical client status of a notification that came on ``authority``'s topic.

    ``previous_home_municipality`` is left empty: the hub sets it from the person's previous
    event, which a pure translation cannot see.
    """
    service = notification.palvelu
    return ClientStatus(
        change_id=notification.muutosId,
        authority=authority,
        client_number=notification.asiakasnumero,
        person_id=notification.hetu,
        home_municipality=notification.kotikunta,
        employment_status=notification.tyollisyystilanne,
        status_since=notification.tilanneAlkaa,
        job_search_active=notification.tyonhakuVoimassa,
        service=None
        if service is None
        else ServicePeriod(code=service.koodi, start=service.alkaa, end=service.paattyy),
        case_worker=notification.vastuuvirkailija,
        note=notification.muistiinpano,
        changed_at=notification.muutettu,
    )


def _parse_status_change(
    value: bytes, authority: Authority, build: Callable[[_Notification, Authority], ClientStatus]
) -> ClientStatus | Rejection:
    try:
        obj = json_object(value, duplicate_reason=DUPLICATE_FIELD, shown=shown_value)
        return build(_checked_notification(obj), authority)
    except Refusal as refusal:
        return Rejection(refusal.reason, refusal.detail)
    except ValidationError as error:
        # The explicit checks leave the models nothing to refuse; if they ever drift apart
        # the message is still rejected, not raised.
        return rejection_from(error, INVALID_MESSAGE)


def _validated_status(checked: _Notification, authority: Authority) -> ClientStatus:
    return to_client_status(_notification_from(checked), authority)


def parse_status_change(value: bytes, authority: Authority) -> ClientStatus | Rejection:
    """A change notification from ``in.<authority>.client-status`` as a canonical status."""
    return _parse_status_change(value, authority, _trusted_status)


def parse_status_change_with_models(value: bytes, authority: Authority) -> ClientStatus | Rejection:
    """What :func:`parse_status_change` gives, with the checked notification validated by the
    native and the canonical models: the reference its direct build is tested against."""
    return _parse_status_change(value, authority, _validated_status)


# --- service referral ----------------------------------------------------------------------


def _recipient_for(service: ReferralService, sender: Authority) -> Partner:
    if service in SOTE_SERVICES:
        return Partner.SOTE
    return Partner.PH if sender is Authority.LAHTI else Partner.LAHTI


class _Referral(NamedTuple):
    """A referral whose every field has passed its check, in the document's order
    (``REFERRAL_FIELDS``)."""

    referral_id: str
    hetu: str
    sender: Authority
    recipient: Partner
    service: ReferralService
    reason: str
    urgency: Urgency
    requested_start: dt.date
    consent: bool
    sent_at: dt.datetime


def _checked_referral(obj: dict[str, object], authority: Authority) -> _Referral:
    _check_keys(obj, REFERRAL_FIELDS, frozenset(), "")
    referral_id = _identifier(obj, "lahete_id", REFERRAL_ID_MAX_LENGTH)
    hetu = _identity_code(obj)
    sender_text = _string(obj, "lahettaja")
    if sender_text != authority.value:
        refuse(
            SENDER_MISMATCH,
            f"lahettaja {shown_value(sender_text)} is not '{authority.value}', whose topic the "
            "referral came on",
        )
    recipient_text = _string(obj, "vastaanottaja")
    recipient = _PARTNERS.get(recipient_text)
    if recipient is None:
        refuse(
            WRONG_RECIPIENT,
            f"vastaanottaja {shown_value(recipient_text)} is not a partner of the hub "
            f"({', '.join(_PARTNERS)})",
        )
    service_text = _string(obj, "palvelu")
    service = REFERRAL_SERVICES.get(service_text)
    if service is None:
        refuse(
            UNKNOWN_REFERRAL_SERVICE,
            f"palvelu {shown_value(service_text)} is not one of {', '.join(REFERRAL_SERVICES)}",
        )
    reason = _string(obj, "perustelu")
    urgency_text = _string(obj, "kiireellisyys")
    urgency = URGENCY.get(urgency_text)
    if urgency is None:
        refuse(
            UNKNOWN_URGENCY,
            f"kiireellisyys {shown_value(urgency_text)} is not one of {', '.join(URGENCY)}",
        )
    requested_start = _date(obj, "toivottu_alku")
    consent = _boolean(obj, "suostumus")
    sent_at = _timestamp(obj, "lahetetty")

    expected = _recipient_for(service, authority)
    if recipient is not expected:
        refuse(
            WRONG_RECIPIENT,
            f"{service_text} from '{authority.value}' goes to '{expected.value}', "
            f"not '{recipient.value}'",
        )
    if not consent:
        refuse(NO_CONSENT, "suostumus is false: a referral without consent is not forwarded")
    return _Referral(
        referral_id,
        hetu,
        authority,
        recipient,
        service,
        reason,
        urgency,
        requested_start,
        consent,
        sent_at,
    )


def _referral_from(checked: _Referral) -> ServiceReferralMessage:
    """The native model of a checked referral, validated by pydantic."""
    return ServiceReferralMessage.model_validate(dict(zip(REFERRAL_FIELDS, checked, strict=True)))


def _trusted_referral(checked: _Referral) -> ServiceReferral:
    """The canonical referral of a checked one, built without validating it again (as
    ``_trusted_status``)."""
    return trusted(
        ServiceReferral,
        {
            "referral_id": checked.referral_id,
            "person_id": checked.hetu,
            "sender": checked.sender,
            "recipient": checked.recipient,
            "service": checked.service,
            "reason": checked.reason,
            "urgency": checked.urgency,
            "requested_start": checked.requested_start,
            "consent": checked.consent,
            "sent_at": checked.sent_at,
        },
    )


def _validated_referral(checked: _Referral) -> ServiceReferral:
    return to_service_referral(_referral_from(checked))


def to_service_referral(message: ServiceReferralMessage) -> ServiceReferral:
    """The canonical service referral of a native referral message."""
    return ServiceReferral(
        referral_id=message.lahete_id,
        person_id=message.hetu,
        sender=message.lahettaja,
        recipient=message.vastaanottaja,
        service=message.palvelu,
        reason=message.perustelu,
        urgency=message.kiireellisyys,
        requested_start=message.toivottu_alku,
        consent=message.suostumus,
        sent_at=message.lahetetty,
    )


def _parse_referral(
    value: bytes, authority: Authority, build: Callable[[_Referral], ServiceReferral]
) -> ServiceReferral | Rejection:
    try:
        obj = json_object(value, duplicate_reason=DUPLICATE_FIELD, shown=shown_value)
        return build(_checked_referral(obj, authority))
    except Refusal as refusal:
        return Rejection(refusal.reason, refusal.detail)
    except ValidationError as error:
        # The explicit checks leave the models nothing to refuse; if they ever drift apart
        # the message is still rejected, not raised.
        return rejection_from(error, INVALID_MESSAGE)


def parse_referral(value: bytes, authority: Authority) -> ServiceReferral | Rejection:
    """A referral from ``in.<authority>.service-referral`` as a canonical referral."""
    return _parse_referral(value, authority, _trusted_referral)


def parse_referral_with_models(value: bytes, authority: Authority) -> ServiceReferral | Rejection:
    """What :func:`parse_referral` gives, with the checked referral validated by the native
    and the canonical models: the reference its direct build is tested against."""
    return _parse_referral(value, authority, _validated_referral)


# --- canonical events ----------------------------------------------------------------------


def source_for(authority: Authority) -> str:
    """The CloudEvents ``source`` of the events made from ``authority``'s messages."""
    return _SOURCE_PREFIX + authority.value


def status_event_id(change_id: str, authority: Authority) -> str:
    """The event id of change ``change_id`` (muutosId) of ``authority``: a redelivery gets the
    same id.

    The authority is part of it: ``muutosId`` is unique per change within one authority's
    system, and the two authorities' ``m1`` are two changes (consumers deduplicate on the id).
    """
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{_STATUS_ID_PREFIX}{authority.value}/{change_id}"))


def referral_event_id(referral_id: str, sender: Authority) -> str:
    """The event id of referral ``referral_id`` (lahete_id) sent by ``sender``: a redelivery
    gets the same id.

    The sender is part of it: the interface document does not say that ``lahete_id`` is
    unique across the two authorities, and two referrals must never share an event id
    (consumers deduplicate on it).
    """
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{_REFERRAL_ID_PREFIX}{sender.value}/{referral_id}"))


def status_event(status: ClientStatus, secret: bytes) -> ClientStatusEvent:
    """The canonical client-status event; the person reference is keyed by ``secret``.

    Not validated again: ``status`` is a canonical model, and the envelope is made of what it
    guarantees (a test holds it to the validated build)."""
    return trusted(
        ClientStatusEvent,
        {
            "specversion": "1.0",
            "id": status_event_id(status.change_id, status.authority),
            "source": source_for(status.authority),
            "subject": person_ref_for(status.person_id, secret),
            "time": status.changed_at,
            "datacontenttype": "application/json",
            "dataschema": _STATUS_DATASCHEMA,
            "data": status,
            "type": CLIENT_STATUS_V1,
        },
    )


def referral_event(referral: ServiceReferral, secret: bytes) -> ServiceReferralEvent:
    """The canonical service-referral event; the person reference is keyed by ``secret``.

    Not validated again, as :func:`status_event`."""
    return trusted(
        ServiceReferralEvent,
        {
            "specversion": "1.0",
            "id": referral_event_id(referral.referral_id, referral.sender),
            "source": source_for(referral.sender),
            "subject": person_ref_for(referral.person_id, secret),
            "time": referral.sent_at,
            "datacontenttype": "application/json",
            "dataschema": _REFERRAL_DATASCHEMA,
            "data": referral,
            "type": SERVICE_REFERRAL_V1,
        },
    )
