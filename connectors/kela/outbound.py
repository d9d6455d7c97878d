"""Kela's labour-policy information (työvoimapoliittinen tieto): one client-status change as XML.

The hub projects each canonical client-status event through Kela's data contract and hands
the surviving fields to :func:`render_statement`, which returns the document Kela receives on
``out.kela.client-status``, exactly as ``docs/partners/kela.md`` draws it (and as
``contracts/kela/tvpt.xsd`` checks it)::

    <?xml version="1.0" encoding="UTF-8"?>
    <TyovoimapoliittinenTieto xmlns="urn:fi:kela:tvpt:1" versio="1">
      <Tunniste>…</Tunniste> <Antaja/> <Henkilotunnus/> <Tilanne koodi alkaa/>
      <TyonhakuVoimassa/> [<Palvelu koodi alkaa [paattyy]/>] <Aikaleima/>
    </TyovoimapoliittinenTieto>

Decisions the spec leaves open:

- ``Aikaleima`` is ``changed_at`` in ISO 8601 with its original offset, to whole seconds, as
  in the spec's example: microseconds are truncated (never rounded, which could carry the time
  into the next second or minute). A UTC time is written ``+00:00``. Offsets must be whole
  minutes within ±14:00, the range ``xs:dateTime`` allows.
- The default namespace is declared by an ``xmlns`` attribute on the root element; the
  children inherit it. ElementTree's ``default_namespace`` option cannot be used because it
  refuses the document's unqualified attributes (``versio``, ``koodi``, ...), and
  ``register_namespace`` would change process-wide state.
- The document is indented by two spaces, like the spec; whitespace between elements carries
  no meaning in it.

This module must never:

- put anything into the document beyond the spec's fields: no case-worker names, notes,
  client numbers, home municipalities, referral reasons or health information. The input
  model forbids unknown fields, so a projection that leaked one makes rendering fail instead;
- put a value into the document unescaped: the document is fixed markup around values escaped
  exactly as ElementTree escapes them, and a property test holds it byte for byte to the
  document ElementTree writes (:func:`render_statement_with_element_tree`, the reference);
- echo its input in errors: validation errors hide input values, because ``person_id`` is an
  identity code;
- import the broker, the runtime or the audit store: it is a pure function of its arguments.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Final, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from connectors._timestamps import RealOffsetDatetime, has_real_offset
from schemas.client_status import ServicePeriod
from schemas.codes import Authority, EmploymentStatus, ServiceCode
from schemas.identity_code import IdentityCodeError, PersonalIdentityCode, validate_identity_code

__all__ = [
    "KELA_NAMESPACE",
    "MAX_EVENT_ID_LENGTH",
    "InvalidEventIdError",
    "StatementFields",
    "render_statement",
    "render_statement_with_element_tree",
]

KELA_NAMESPACE: Final = "urn:fi:kela:tvpt:1"

#: The schema's limit on ``Tunniste``, the same as the canonical event id's.
MAX_EVENT_ID_LENGTH: Final = 200

_XML_DECLARATION: Final = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_VERSION: Final = "1"
_INDENT: Final = "  "

#: Control characters (a parser drops or rewrites the few XML allows), surrogates and the
#: two non-characters XML forbids: none belongs in an event id.
_UNRENDERABLE: Final = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


class InvalidEventIdError(ValueError):
    """The event id cannot be a ``Tunniste``: empty, too long, or holding control characters."""


class StatementFields(BaseModel):
    """The fields Kela's contract lets through, typed as in the canonical ``ClientStatus``.

    ``extra="forbid"`` is defence in depth: a field the projection should have dropped makes
    validation fail rather than reach Kela.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    authority: Authority = Field(description="The labour authority that made the change (Antaja).")
    person_id: PersonalIdentityCode
    employment_status: EmploymentStatus = Field(
        description="Employment status (Tilanne/@koodi, as the national code)."
    )
    status_since: dt.date = Field(description="The status applies from (Tilanne/@alkaa).")
    job_search_active: bool = Field(description="Job search is in force (TyonhakuVoimassa).")
    service: ServicePeriod | None = Field(
        default=None, description="The service the person is in, if any (Palvelu)."
    )
    changed_at: RealOffsetDatetime = Field(description="When the change was made (Aikaleima).")


def _check_event_id(event_id: str) -> str:
    # The message never quotes the id: it is not personal data, but errors travel far.
    if not 1 <= len(event_id) <= MAX_EVENT_ID_LENGTH:
        raise InvalidEventIdError(
            f"event id must be 1-{MAX_EVENT_ID_LENGTH} characters, got {len(event_id)}"
        )
    if _UNRENDERABLE.search(event_id):
        raise InvalidEventIdError("event id holds control or non-XML characters")
    return event_id


def _timestamp(value: dt.datetime) -> str:
    return value.isoformat(timespec="seconds")


class _Statement(NamedTuple):
    """The document's values, as written (before escaping)."""

    authority: str
    person_id: str
    status_code: str
    status_since: str
    job_search: str
    service: tuple[str, str, str | None] | None
    changed_at: str


def _statement(fields: StatementFields) -> _Statement:
    service = fields.service
    return _Statement(
        fields.authority.value,
        fields.person_id,
        fields.employment_status.national_code,
        fields.status_since.isoformat(),
        "true" if fields.job_search_active else "false",
        None
        if service is None
        else (
            service.code.value,
            service.start.isoformat(),
            None if service.end is None else service.end.isoformat(),
        ),
        _timestamp(fields.changed_at),
    )


# --- the projection as distribution hands it over, read directly --------------------------

_FIELDS: Final = frozenset(StatementFields.model_fields)
_REQUIRED: Final = _FIELDS - {"service"}
_SERVICE_FIELDS: Final = frozenset({"code", "start", "end"})
_AUTHORITIES: Final = frozenset(authority.value for authority in Authority)
_STATUS_CODES: Final = {status.value: status.national_code for status in EmploymentStatus}
_SERVICE_CODES: Final = frozenset(code.value for code in ServiceCode)
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: What pydantic writes for an aware datetime in JSON mode.
_DATE_TIME: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})"
)


class _NotPlainError(Exception):
    """Not the projection's plain JSON form: the model reads it."""


def _date(value: object) -> dt.date:
    if type(value) is not str or not _DATE.fullmatch(value):
        raise _NotPlainError
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _NotPlainError from None


def _service(value: object) -> tuple[str, str, str | None] | None:
    if value is None:
        return None
    if type(value) is not dict or not value.keys() <= _SERVICE_FIELDS:
        raise _NotPlainError
    code = value.get("code")
    if type(code) is not str or code not in _SERVICE_CODES or "start" not in value:
        raise _NotPlainError
    start = _date(value["start"])
    end = value.get("end")
    if end is not None and _date(end) < start:
        raise _NotPlainError
    return code, start.isoformat(), None if end is None else _date(end).isoformat()


def _changed_at(value: object) -> str:
    if type(value) is not str or not _DATE_TIME.fullmatch(value):
        raise _NotPlainError
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _NotPlainError from None
    if not has_real_offset(moment):
        raise _NotPlainError
    return _timestamp(moment)


def _plain_statement(projected: Mapping[str, object]) -> _Statement | None:
    """The values of a projection in the plain JSON form distribution hands over (every
    field of a kind the model takes as it is), or None: the model then reads it."""
    try:
        if type(projected) is not dict or not _REQUIRED <= projected.keys() <= _FIELDS:
            raise _NotPlainError
        authority = projected["authority"]
        person_id = projected["person_id"]
        status = projected["employment_status"]
        job_search = projected["job_search_active"]
        if (
            type(authority) is not str
            or authority not in _AUTHORITIES
            or type(person_id) is not str
            or type(status) is not str
            or status not in _STATUS_CODES
            or type(job_search) is not bool
        ):
            raise _NotPlainError
        try:
            validate_identity_code(person_id)
        except IdentityCodeError:
            raise _NotPlainError from None
        return _Statement(
            authority,
            person_id,
            _STATUS_CODES[status],
            _date(projected["status_since"]).isoformat(),
            "true" if job_search else "false",
            _service(projected.get("service")),
            _changed_at(projected["changed_at"]),
        )
    except _NotPlainError:
        return None


# --- the document --------------------------------------------------------------------------


def _text(value: str) -> str:
    # ElementTree's escaping of character data, to the byte.
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attribute(value: str) -> str:
    # ElementTree's escaping of attribute values, to the byte.
    return (
        _text(value)
        .replace('"', "&quot;")
        .replace("\r", "&#13;")
        .replace("\n", "&#10;")
        .replace("\t", "&#09;")
    )


def _element(tag: str, text: str) -> str:
    return f"{_INDENT}<{tag}>{_text(text)}</{tag}>\n" if text else f"{_INDENT}<{tag} />\n"


def _empty(tag: str, attributes: tuple[tuple[str, str], ...]) -> str:
    written = "".join(f' {name}="{_attribute(value)}"' for name, value in attributes)
    return f"{_INDENT}<{tag}{written} />\n"


def _rendered(event_id: str, statement: _Statement) -> bytes:
    service = statement.service
    palvelu = ""
    if service is not None:
        code, start, end = service
        palvelu = _empty(
            "Palvelu",
            (("koodi", code), ("alkaa", start)) + (() if end is None else (("paattyy", end),)),
        )
    body = "".join(
        (
            f'<TyovoimapoliittinenTieto xmlns="{KELA_NAMESPACE}" versio="{_VERSION}">\n',
            _element("Tunniste", event_id),
            _element("Antaja", statement.authority),
            _element("Henkilotunnus", statement.person_id),
            _empty(
                "Tilanne",
                (("koodi", statement.status_code), ("alkaa", statement.status_since)),
            ),
            _element("TyonhakuVoimassa", statement.job_search),
            palvelu,
            _element("Aikaleima", statement.changed_at),
            "</TyovoimapoliittinenTieto>",
        )
    )
    return _XML_DECLARATION + body.encode("utf-8") + b"\n"


def render_statement(event_id: str, projected: Mapping[str, object]) -> bytes:
    """Kela's XML document for one projected client-status event, as UTF-8 bytes.

    ``projected`` is the event's data after Kela's contract, in pydantic JSON mode. A field
    outside the contract, or a value that does not fit, raises ``pydantic.ValidationError``
    (a bug upstream, with input values hidden); an event id that cannot be a ``Tunniste``
    raises ``InvalidEventIdError``. The output is deterministic.
    """
    checked_id = _check_event_id(event_id)
    # The plain JSON form read directly; anything else validated by the model (which raises).
    statement = _plain_statement(projected)
    if statement is None:
        statement = _statement(StatementFields.model_validate(projected))
    return _rendered(checked_id, statement)


# --- the reference: the same document built and written by ElementTree ---------------------


def _text_element(parent: ET.Element, tag: str, text: str) -> None:
    ET.SubElement(parent, tag).text = text


def _document(event_id: str, fields: StatementFields) -> ET.Element:
    # Attribute order is insertion order: xmlns first, as in the spec.
    root = ET.Element("TyovoimapoliittinenTieto", {"xmlns": KELA_NAMESPACE, "versio": _VERSION})
    _text_element(root, "Tunniste", event_id)
    _text_element(root, "Antaja", fields.authority.value)
    _text_element(root, "Henkilotunnus", fields.person_id)
    ET.SubElement(
        root,
        "Tilanne",
        {
            "koodi": fields.employment_status.national_code,
            "alkaa": fields.status_since.isoformat(),
        },
    )
    _text_element(root, "TyonhakuVoimassa", "true" if fields.job_search_active else "false")
    if fields.service is not None:
        service = {"koodi": fields.service.code.value, "alkaa": fields.service.start.isoformat()}
        if fields.service.end is not None:
            service["paattyy"] = fields.service.end.isoformat()
        ET.SubElement(root, "Palvelu", service)
    _text_element(root, "Aikaleima", _timestamp(fields.changed_at))
    ET.indent(root, space=_INDENT)
    return root


def render_statement_with_element_tree(event_id: str, projected: Mapping[str, object]) -> bytes:
    """What :func:`render_statement` gives, with every projection validated by the model and
    the document built and written by ElementTree: the reference it is tested against."""
    document = _document(_check_event_id(event_id), StatementFields.model_validate(projected))
    body = ET.tostring(document, encoding="unicode")
    return _XML_DECLARATION + body.encode("utf-8") + b"\n"
