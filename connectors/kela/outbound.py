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
- build XML by string concatenation or formatting (only the fixed declaration is a literal),
  so every value is escaped by the serializer;
- echo its input in errors: validation errors hide input values, because ``person_id`` is an
  identity code;
- import the broker, the runtime or the audit store: it is a pure function of its arguments.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Final

from pydantic import BaseModel, ConfigDict, Field

from connectors._timestamps import RealOffsetDatetime
from schemas.client_status import ServicePeriod
from schemas.codes import Authority, EmploymentStatus
from schemas.identity_code import PersonalIdentityCode

__all__ = [
    "KELA_NAMESPACE",
    "MAX_EVENT_ID_LENGTH",
    "InvalidEventIdError",
    "StatementFields",
    "render_statement",
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


def render_statement(event_id: str, projected: Mapping[str, object]) -> bytes:
    """Kela's XML document for one projected client-status event, as UTF-8 bytes.

    ``projected`` is the event's data after Kela's contract, in pydantic JSON mode. A field
    outside the contract, or a value that does not fit, raises ``pydantic.ValidationError``
    (a bug upstream, with input values hidden); an event id that cannot be a ``Tunniste``
    raises ``InvalidEventIdError``. The output is deterministic.
    """
    document = _document(_check_event_id(event_id), StatementFields.model_validate(projected))
    body = ET.tostring(document, encoding="unicode")
    return _XML_DECLARATION + body.encode("utf-8") + b"\n"
