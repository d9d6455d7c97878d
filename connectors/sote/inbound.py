"""Referral status in: Päijät-Sote's FHIR ``Task`` JSON → a status update → a canonical event.

Päijät-Sote answers a referral with FHIR R4 ``Task`` resources on ``in.sote.referral-status``
(``docs/partners/sote.md``). :func:`parse_task` validates one with ``fhir.resources`` (R4B
models), or reads a Task of the interface's plain shape directly with the same result
(``connectors.sote.task_fields``), and reads::

    basedOn[0].identifier.value   the referral id (the hub's ServiceRequest.identifier[0])
    status                        received | accepted | rejected | in-progress | completed |
                                  cancelled → ReferralState
    statusReason.text             an optional reason
    lastModified                  when the state changed (a date-time with an offset)
    requester.identifier.value    optional: the referring authority, as the ServiceRequest's
                                  requester names it (urn:oid:<its configured OID>) or by
                                  its name (lahti | ph)

:func:`status_event` then makes the canonical referral-status event. Whether the referral
exists, who sent it, and whether its history allows the transition are the hub's questions
(``hub.referrals.tracking``), not this module's.

Pure: no broker, no database, no clock, no logging. Things this module must never do:

* raise on partner bytes: every message becomes a :class:`TaskUpdate` or a ``Rejection``
  with a stable ``reason`` (see :data:`REASONS`);
* put an identity code or free text into a rejection ``detail``. Details name elements,
  expected values and JSON types; a value is quoted only when it looks like a code (visible
  ASCII without spaces, at most 64 characters, fewer digits than an identity code has: the
  hub's one rule, ``hub.core.redaction.shown_value``); identifiers and timestamps are never
  quoted. The FHIR library's messages are used with input values excluded, and withheld when
  they could still quote the input (``hub.core.rejections.rejection_from``);
* guess: a FHIR status outside the interface, a lastModified without a time zone, a referral
  named under another identifier system is a rejection.

Decisions beyond the interface document:

* ``fhir.resources`` checks structure and data types but not code bindings (it accepts
  ``"status": "bogus"``), so the status is checked here against the interface's six codes;
  the other FHIR Task statuses (``draft``, ``requested``, ``ready``, ``on-hold``,
  ``failed``, ``entered-in-error``) are valid FHIR but not part of the interface:
  ``unknown-task-status`` as well.
* ``basedOn[0].identifier.system`` may be absent: the document names only ``value``, and the
  Task is an answer to a ServiceRequest the hub identified under one system only. When
  present it must be ``urn:fi:paijathame:hub:referral``: an id under another system names
  something else, however equal the value looks. Further ``basedOn`` entries are not read.
* The referral id must fit the canonical model (1-50 characters, ``bad-referral-id``):
  nothing longer can be a referral the hub sent.
* ``lastModified`` must be a date-time with an offset. FHIR also allows a bare date, a
  partial date and a leap second there; none of them is a moment the hub can order updates
  by, so each is ``missing-last-modified`` like an absent one. A date-time with a time but no
  offset is not valid FHIR (``invalid-fhir``). Fractions beyond microseconds are truncated by
  the library. The offset is kept as sent.
* ``statusReason.text`` that is absent, empty or only whitespace gives no reason (``None``);
  codings in ``statusReason`` are not read. The text is kept as sent.
* ``fhir.resources`` also accepts its Python field names (``status__ext`` for ``_status``,
  ``for_fhir`` for ``for``, ``resource_type``, ``fhir_comments``); they are not FHIR JSON, so
  any key of that form is ``invalid-fhir``.
* Bytes that are not UTF-8 are ``not-utf8``. A byte-order mark, a key repeated in one object
  (parsers disagree on which value wins, so the hub and an auditor could read different
  statuses) and nesting too deep to parse are ``malformed-json``.
* Checks run in this order and the first failure is reported: encoding, JSON,
  ``resourceType``, FHIR validation, ``basedOn``, referral id, its system, ``status``,
  ``lastModified``, ``requester``.
* ``requester.identifier.value`` is read when present: a referral is named by its sender and
  its id, and both authorities may use the same ``lahete_id``. Päijät-Sote copies it from the
  ServiceRequest's ``requester`` (``urn:oid:`` and the authority's configured OID); the
  authority's name (``lahti``, ``ph``) is read too. Any other value is
  ``unknown-requester``. Without it the hub matches the id alone, which is ambiguous only when
  both authorities sent Päijät-Sote a referral with that id (``hub.referrals`` and the wiring
  decide that, not this module).
* :func:`status_event_id` hashes the referral's sender, its id, the state and
  ``lastModified`` as a UTC instant, so a redelivered Task (or the same update written with
  another offset) gets the same event id; a different reason alone does not make a new
  event, and the same update of two authorities' referrals ``L-1`` makes two.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from fhir.resources.R4B.task import Task
from pydantic import ValidationError

from connectors._refusal import Refusal, refuse
from connectors._strict_json import (
    MALFORMED_JSON,
    NOT_UTF8,
    json_object,
    json_type,
)
from connectors.sote.outbound import DEFAULT_ORGANISATIONS, REFERRAL_SYSTEM, Organisations
from connectors.sote.task_fields import BasedOn, TaskFields, plain_task_fields
from hub.core.redaction import shown_value
from hub.core.rejections import error_location, rejection_from
from schemas._base import trusted
from schemas.codes import Authority, Partner, ReferralState
from schemas.envelope import ReferralStatusEvent, dataschema_for
from schemas.person_ref import PERSON_REF_PATTERN
from schemas.referral_status import REFERRAL_STATUS_V1, ReferralStatus
from schemas.rejection import Rejection

__all__ = [
    "BAD_REFERRAL_ID",
    "EVENT_ID_NAMESPACE",
    "INVALID_FHIR",
    "MALFORMED_JSON",
    "MISSING_BASED_ON",
    "MISSING_LAST_MODIFIED",
    "NOT_A_TASK",
    "NOT_UTF8",
    "OTHER_FHIR_TASK_STATUSES",
    "REASONS",
    "REFERRAL_ID_MAX_LENGTH",
    "SOURCE",
    "TASK_STATES",
    "UNKNOWN_REQUESTER",
    "UNKNOWN_TASK_STATUS",
    "WRONG_REFERRAL_SYSTEM",
    "TaskUpdate",
    "library_task_fields",
    "parse_task",
    "parse_task_with_library",
    "status_event",
    "status_event_id",
]

NOT_A_TASK: Final = "not-a-task"
INVALID_FHIR: Final = "invalid-fhir"
MISSING_BASED_ON: Final = "missing-based-on"
BAD_REFERRAL_ID: Final = "bad-referral-id"
WRONG_REFERRAL_SYSTEM: Final = "wrong-referral-system"
UNKNOWN_TASK_STATUS: Final = "unknown-task-status"
MISSING_LAST_MODIFIED: Final = "missing-last-modified"
UNKNOWN_REQUESTER: Final = "unknown-requester"

#: Every reason :func:`parse_task` can give, with its meaning: the codes partners alert on.
REASONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        NOT_UTF8: "the message is not valid UTF-8",
        MALFORMED_JSON: "the message is not a JSON object (not JSON, another JSON value, a "
        "byte-order mark, a key repeated in one object, or nested too deeply)",
        NOT_A_TASK: "resourceType is missing or is not Task",
        INVALID_FHIR: "the resource is not a valid FHIR R4 Task (the first validation error "
        "is named, without input values)",
        MISSING_BASED_ON: "basedOn[0].identifier.value is absent: the Task names no referral",
        BAD_REFERRAL_ID: "basedOn[0].identifier.value is longer than a referral id can be "
        "(50 characters)",
        WRONG_REFERRAL_SYSTEM: "basedOn[0].identifier.system is present and is not "
        "urn:fi:paijathame:hub:referral",
        UNKNOWN_TASK_STATUS: "status is absent or not one of received, accepted, rejected, "
        "in-progress, completed, cancelled (other FHIR Task statuses included)",
        MISSING_LAST_MODIFIED: "lastModified is absent or is not a date-time with a time zone "
        "(a bare or partial date, a leap second, a moment before year 1 or after year 9999 in "
        "UTC)",
        UNKNOWN_REQUESTER: "requester.identifier.value is present and names neither authority "
        "(lahti, ph, or the urn:oid: of its configured organisation OID)",
    }
)

#: The interface's Task statuses → canonical referral states.
TASK_STATES: Final[Mapping[str, ReferralState]] = MappingProxyType(
    {
        "received": ReferralState.RECEIVED,
        "accepted": ReferralState.ACCEPTED,
        "rejected": ReferralState.REJECTED,
        "in-progress": ReferralState.IN_PROGRESS,
        "completed": ReferralState.COMPLETED,
        "cancelled": ReferralState.CANCELLED,
    }
)

#: FHIR R4 Task statuses that are valid FHIR but not part of the interface.
OTHER_FHIR_TASK_STATUSES: Final = frozenset(
    {"draft", "requested", "ready", "on-hold", "failed", "entered-in-error"}
)

#: The canonical limit of a referral id (``ReferralStatus.referral_id``).
REFERRAL_ID_MAX_LENGTH: Final = 50

#: The CloudEvents ``source`` of the events made from Päijät-Sote's messages.
SOURCE: Final = "urn:fi:paijathame:hub:connector:sote"

#: Namespace of Päijät-Sote's event ids, fixed forever:
#: uuid5(NAMESPACE_URL, "urn:fi:paijathame:hub:connector:sote").
EVENT_ID_NAMESPACE: Final = uuid.UUID("cbc31b36-ae0a-5530-836b-6c6b2ff59150")

_EVENT_ID_PREFIX: Final = "sote.referral-status:"
_DATASCHEMA: Final = dataschema_for(REFERRAL_STATUS_V1)
_PERSON_REF: Final = re.compile(PERSON_REF_PATTERN)
_TASK: Final = "Task"

#: Keys ``fhir.resources`` accepts by their Python names although they are not FHIR JSON
#: (``status__ext`` for ``_status``, ``for_fhir`` for ``for``, ``resource_type``, ...).
_LIBRARY_NAME: Final = re.compile(r"resource_type|fhir_comments|.+__ext|.+_fhir")
_RESOURCE: Final = "(resource)"


@dataclass(frozen=True, slots=True)
class TaskUpdate:
    """One status update of a referral, as Päijät-Sote's Task reports it.

    ``at`` is ``lastModified`` with its own offset (always timezone-aware); ``requester`` is
    the referring authority when the Task names it.
    """

    referral_id: str
    state: ReferralState
    reason: str | None
    at: dt.datetime
    requester: Authority | None = None


# --- bytes → JSON object -------------------------------------------------------------------


# --- JSON object → FHIR Task ---------------------------------------------------------------


def _check_resource_type(obj: Mapping[str, object]) -> None:
    if "resourceType" not in obj:
        refuse(NOT_A_TASK, "resourceType is missing: the message is not a FHIR resource")
    resource_type = obj["resourceType"]
    if not isinstance(resource_type, str):
        refuse(NOT_A_TASK, f"resourceType must be a string, got {json_type(resource_type)}")
    if resource_type != _TASK:
        refuse(NOT_A_TASK, f"resourceType {shown_value(resource_type)} is not Task")


def _check_element_names(obj: dict[str, object]) -> None:
    """Refuse the library's Python field names, which FHIR JSON never uses."""
    pending: list[tuple[tuple[int | str, ...], object]] = [((), obj)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if _LIBRARY_NAME.fullmatch(key):
                    refuse(
                        INVALID_FHIR,
                        f"{error_location((*path, key))}: not a FHIR JSON element name",
                    )
                pending.append(((*path, key), child))
        elif isinstance(item, list):
            pending.extend(((*path, index), child) for index, child in enumerate(item))


def _task(obj: dict[str, object]) -> Task:
    _check_element_names(obj)
    try:
        return Task.model_validate(obj)
    except ValidationError as error:
        rejection = rejection_from(error, INVALID_FHIR, inputs=obj, root=_RESOURCE)
        refuse(rejection.reason, rejection.detail)
    except (KeyError, TypeError):
        # fhir.resources looks up a contained resource's resourceType in its type table
        # without a guard: an unknown name raises KeyError, a non-string TypeError.
        refuse(INVALID_FHIR, "contained: a contained resource has an unknown resourceType")
    except AttributeError:
        # fhir.resources reads a primitive's extension given as a string ("_status": "null")
        # as JSON text and calls .get on whatever that holds (None, a list, a number).
        refuse(INVALID_FHIR, "an extension (a key starting with '_') must be a JSON object")
    except RecursionError:
        refuse(INVALID_FHIR, "the resource is nested too deeply to validate")


# --- FHIR Task → TaskUpdate ----------------------------------------------------------------


def library_task_fields(task: Task) -> TaskFields:
    """The elements the connector reads of a Task the library has validated."""
    based_on = task.basedOn or []
    identifier = based_on[0].identifier if based_on else None
    status_reason = task.statusReason
    requester = task.requester.identifier if task.requester is not None else None
    return TaskFields(
        based_on=None if identifier is None else BasedOn(identifier.system, identifier.value),
        status=task.status,
        reason=status_reason.text if status_reason is not None else None,
        # Typed as a datetime by the library, but a FHIR dateTime may also be read as a date
        # (2025-03-20) or kept as a string (2025, 2025-03, a leap second).
        last_modified=task.lastModified,
        requester=requester.value if requester is not None else None,
    )


def _referral_id(fields: TaskFields) -> str:
    identifier = fields.based_on
    value = identifier.value if identifier is not None else None
    if identifier is None or value is None:
        refuse(
            MISSING_BASED_ON,
            "basedOn[0].identifier.value is missing: the Task does not name the referral",
        )
    system = identifier.system
    if system is not None and system != REFERRAL_SYSTEM:
        refuse(
            WRONG_REFERRAL_SYSTEM,
            f"basedOn[0].identifier.system {shown_value(system)} is not {REFERRAL_SYSTEM}",
        )
    if not 1 <= len(value) <= REFERRAL_ID_MAX_LENGTH:
        # Never quoted: an identifier is long enough to be (or hide) an identity code.
        refuse(
            BAD_REFERRAL_ID,
            f"basedOn[0].identifier.value must be 1-{REFERRAL_ID_MAX_LENGTH} characters "
            f"(got {len(value)})",
        )
    return value


def _state(fields: TaskFields) -> ReferralState:
    status = fields.status
    expected = ", ".join(TASK_STATES)
    if status is None:
        refuse(UNKNOWN_TASK_STATUS, f"status has no value (expected one of {expected})")
    state = TASK_STATES.get(status)
    if state is None:
        if status in OTHER_FHIR_TASK_STATUSES:
            refuse(
                UNKNOWN_TASK_STATUS,
                f"status '{status}' is a FHIR Task status outside the interface "
                f"(expected one of {expected})",
            )
        refuse(
            UNKNOWN_TASK_STATUS,
            f"status {shown_value(status)} is not one of {expected}",
        )
    return state


def _last_modified(fields: TaskFields) -> dt.datetime:
    value = fields.last_modified
    if value is None:
        refuse(MISSING_LAST_MODIFIED, "lastModified is missing: the update has no time")
    if isinstance(value, dt.datetime):
        offset = value.utcoffset()
        if offset is not None:
            at = value.replace(tzinfo=dt.timezone(offset))
            try:
                # The event id names the UTC instant: one before year 1 or after year 9999
                # (0001-01-01T00:00:00+14:00, say) has none.
                at.astimezone(dt.UTC)
            except OverflowError:
                refuse(
                    MISSING_LAST_MODIFIED,
                    "lastModified is not a moment between years 1 and 9999 in UTC",
                )
            return at
    # Never quoted: a timestamp has more digits than an identity code.
    raise Refusal(
        MISSING_LAST_MODIFIED,
        "lastModified is not a date-time with a time zone (a bare or partial date, or a leap "
        "second, is not a moment)",
    )


def _reason(fields: TaskFields) -> str | None:
    text = fields.reason
    if text is None or not text.strip():
        return None
    return text


def _requester_names(organisations: Organisations) -> Mapping[str, Authority]:
    names = {authority.value: authority for authority in Authority}
    names.update({organisations.of(authority): authority for authority in Authority})
    return names


def _requester(fields: TaskFields, organisations: Organisations) -> Authority | None:
    value = fields.requester
    if value is None:
        return None
    authority = _requester_names(organisations).get(value)
    if authority is None:
        refuse(
            UNKNOWN_REQUESTER,
            f"requester.identifier.value {shown_value(value)} names neither authority "
            "(lahti, ph or the urn:oid: of its organisation)",
        )
    return authority


def _update_from(fields: TaskFields, organisations: Organisations) -> TaskUpdate:
    referral_id = _referral_id(fields)
    state = _state(fields)
    at = _last_modified(fields)
    requester = _requester(fields, organisations)
    return TaskUpdate(
        referral_id=referral_id, state=state, reason=_reason(fields), at=at, requester=requester
    )


def _library_fields(obj: dict[str, object]) -> TaskFields:
    return library_task_fields(_task(obj))


def _fields(obj: dict[str, object]) -> TaskFields:
    # The plain shape read directly; anything else through the library (see task_fields).
    plain = plain_task_fields(obj)
    return plain if plain is not None else _library_fields(obj)


def _parse(
    value: bytes, organisations: Organisations, read: Callable[[dict[str, object]], TaskFields]
) -> TaskUpdate | Rejection:
    try:
        obj = json_object(value, duplicate_reason=MALFORMED_JSON, shown=shown_value)
        _check_resource_type(obj)
        return _update_from(read(obj), organisations)
    except Refusal as refusal:
        return Rejection(refusal.reason, refusal.detail)


def parse_task(
    value: bytes, organisations: Organisations = DEFAULT_ORGANISATIONS
) -> TaskUpdate | Rejection:
    """A Task from ``in.sote.referral-status`` as a status update, or why it is rejected.

    ``organisations`` are the OIDs the hub's ServiceRequests name as requester.
    """
    return _parse(value, organisations, _fields)


def parse_task_with_library(
    value: bytes, organisations: Organisations = DEFAULT_ORGANISATIONS
) -> TaskUpdate | Rejection:
    """What :func:`parse_task` gives, with every Task validated by ``fhir.resources``: the
    reference its direct reading of plain Tasks is tested against."""
    return _parse(value, organisations, _library_fields)


# --- canonical events ----------------------------------------------------------------------


def status_event_id(update: TaskUpdate, referral_sender: Authority) -> str:
    """The event id of ``update`` of ``referral_sender``'s referral: the same referral, state
    and instant give the same id.

    The sender (a fixed word) comes first, then the referral id, and the rest has a fixed
    form, so the name is unambiguous whatever characters the referral id holds.
    """
    instant = update.at.astimezone(dt.UTC).isoformat()
    name = (
        f"{_EVENT_ID_PREFIX}{referral_sender.value}/{update.referral_id}/"
        f"{update.state.value}/{instant}"
    )
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, name))


def status_event(
    update: TaskUpdate, person_ref: str, referral_sender: Authority
) -> ReferralStatusEvent:
    """The canonical referral-status event of ``update``.

    ``person_ref`` (the referral's subject) and ``referral_sender`` come from the hub's record
    of the referral: the Task carries neither. Built without validating it again when every
    value already is what the models hold (what :func:`parse_task` and the register give; a
    test holds it to the validated build); anything else is validated, and refused, as before.
    """
    if _fits_the_models(update, person_ref, referral_sender):
        return _trusted_event(update, person_ref, referral_sender)
    return ReferralStatusEvent(
        id=status_event_id(update, referral_sender),
        source=SOURCE,
        subject=person_ref,
        time=update.at,
        dataschema=dataschema_for(REFERRAL_STATUS_V1),
        data=ReferralStatus(
            referral_id=update.referral_id,
            state=update.state,
            reason=update.reason,
            reported_by=Partner.SOTE,
            referral_sender=referral_sender,
            at=update.at,
        ),
    )


def _trusted_event(
    update: TaskUpdate, person_ref: str, referral_sender: Authority
) -> ReferralStatusEvent:
    data = trusted(
        ReferralStatus,
        {
            "referral_id": update.referral_id,
            "state": update.state,
            "reason": update.reason,
            "reported_by": Partner.SOTE,
            "referral_sender": referral_sender,
            "at": update.at,
        },
    )
    return trusted(
        ReferralStatusEvent,
        {
            "specversion": "1.0",
            "id": status_event_id(update, referral_sender),
            "source": SOURCE,
            "subject": person_ref,
            "time": update.at,
            "datacontenttype": "application/json",
            "dataschema": _DATASCHEMA,
            "data": data,
            "type": REFERRAL_STATUS_V1,
        },
    )


def _fits_the_models(update: TaskUpdate, person_ref: str, referral_sender: Authority) -> bool:
    """True if the event's values pass the models' checks as they are (no coercion)."""
    at = update.at
    return (
        type(update.referral_id) is str
        and 1 <= len(update.referral_id) <= REFERRAL_ID_MAX_LENGTH
        and type(update.state) is ReferralState
        and (update.reason is None or type(update.reason) is str)
        and type(at) is dt.datetime
        and at.utcoffset() is not None
        and type(referral_sender) is Authority
        and type(person_ref) is str
        and _PERSON_REF.fullmatch(person_ref) is not None
    )
