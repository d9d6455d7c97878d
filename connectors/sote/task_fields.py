"""The elements the Päijät-Sote connector reads of a FHIR Task, and a direct reading of the
plain Tasks Päijät-Sote sends.

``fhir.resources`` builds eight models for one Task of the interface's shape (the Task, its
references, identifiers and codeable concept) and checks each element with its FHIR type:
most of the connector's time per message. :func:`plain_task_fields` reads the same elements
from the parsed JSON directly, but only when the Task has the plain shape of the interface
document, with every value of a kind the library is known to take as it is:

* top-level elements among ``resourceType``, ``id``, ``basedOn``, ``status``,
  ``statusReason``, ``intent``, ``for``, ``owner``, ``requester``, ``lastModified``, with
  ``status`` and ``intent`` present;
* ``id`` 1-64 of the FHIR id characters; ``status`` and ``intent`` visible ASCII;
* ``basedOn`` a list and ``for``, ``owner``, ``requester`` objects, each reference holding
  only an ``identifier`` with at most a ``system`` and a ``value``; ``statusReason`` an
  object with at most a ``text``; every such string printable (no control characters or
  separators but the space), 1-10,000 characters;
* ``lastModified`` a date-time with seconds, an optional fraction of up to 9 digits and an
  offset (``Z`` or within ±14:00), naming a real moment with a second below 60.

Anything else (other elements, extensions, nulls, other value types, a bare date, a leap
second...) returns ``None``, and the caller validates the Task with the library as before.
A property test holds the two readings together for generated valid and broken Tasks
(``tests/connectors/sote/test_plain_task.py``). Pure.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final

__all__ = ["BasedOn", "TaskFields", "plain_task_fields"]


@dataclass(frozen=True, slots=True)
class BasedOn:
    """``basedOn[0].identifier``: the referral the Task answers (either part may be absent)."""

    system: str | None
    value: str | None


@dataclass(frozen=True, slots=True)
class TaskFields:
    """What the connector reads of a valid Task; ``None`` where an element is absent.

    ``last_modified`` is what the library makes of the element: a datetime, a date, or the
    string it keeps for a partial date or a leap second.
    """

    based_on: BasedOn | None
    status: str | None
    reason: str | None
    last_modified: dt.datetime | dt.date | str | None
    requester: str | None


_ELEMENTS: Final = frozenset(
    {
        "resourceType",
        "id",
        "basedOn",
        "status",
        "statusReason",
        "intent",
        "for",
        "owner",
        "requester",
        "lastModified",
    }
)
_IDENTIFIER_KEYS: Final = frozenset({"system", "value"})
_ID: Final = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_CODE: Final = re.compile(r"[!-~]+")
_MAX_TEXT: Final = 10_000
_DATE_TIME: Final = re.compile(
    r"([0-9]{4})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9])(?:\.([0-9]{1,9}))?"
    r"(?:Z|([+-])(?:(0[0-9]|1[0-3]):([0-5][0-9])|(14):(00)))"
)


class _NotPlainError(Exception):
    """The Task is not of the plain shape: the library reads it."""


def _text(value: object) -> str:
    if type(value) is not str or not 0 < len(value) <= _MAX_TEXT or not value.isprintable():
        raise _NotPlainError
    return value


def _code(value: object) -> str:
    if type(value) is not str or not _CODE.fullmatch(value):
        raise _NotPlainError
    return value


def _object(value: object, keys: frozenset[str]) -> dict[str, object]:
    if type(value) is not dict or not value.keys() <= keys:
        raise _NotPlainError
    return value


def _optional_text(element: dict[str, object], key: str) -> str | None:
    return _text(element[key]) if key in element else None


def _identifier(reference: object) -> BasedOn:
    """The identifier of a reference that holds nothing else."""
    holder = _object(reference, frozenset({"identifier"}))
    if "identifier" not in holder:
        raise _NotPlainError
    identifier = _object(holder["identifier"], _IDENTIFIER_KEYS)
    return BasedOn(_optional_text(identifier, "system"), _optional_text(identifier, "value"))


def _date_time(value: object) -> dt.datetime:
    if type(value) is not str:
        raise _NotPlainError
    match = _DATE_TIME.fullmatch(value)
    if match is None:
        raise _NotPlainError
    year, month, day, hour, minute, second, fraction, sign, hours, minutes, h14, m14 = (
        match.groups()
    )
    offset = dt.timedelta(0)
    if sign is not None:
        offset = dt.timedelta(hours=int(hours or h14), minutes=int(minutes or m14))
        offset = -offset if sign == "-" else offset
    try:
        return dt.datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int(fraction[:6].ljust(6, "0")) if fraction else 0,
            tzinfo=dt.timezone(offset),
        )
    except ValueError:  # a day the month does not have, year 0
        raise _NotPlainError from None


def plain_task_fields(task: dict[str, object]) -> TaskFields | None:
    """The elements of a Task of the plain shape (see the module docstring), read from its
    JSON object (``resourceType`` already checked); ``None`` for any other Task."""
    try:
        if not task.keys() <= _ELEMENTS or "status" not in task or "intent" not in task:
            raise _NotPlainError
        if "id" in task:
            identifier = task["id"]
            if type(identifier) is not str or not _ID.fullmatch(identifier):
                raise _NotPlainError
        status = _code(task["status"])
        _code(task["intent"])
        based_on = None
        if "basedOn" in task:
            references = task["basedOn"]
            if type(references) is not list:
                raise _NotPlainError
            read = [_identifier(reference) for reference in references]
            based_on = read[0] if read else None
        reason = None
        if "statusReason" in task:
            reason = _optional_text(_object(task["statusReason"], frozenset({"text"})), "text")
        for element in ("for", "owner"):
            if element in task:
                _identifier(task[element])
        requester = _identifier(task["requester"]).value if "requester" in task else None
        last_modified = _date_time(task["lastModified"]) if "lastModified" in task else None
    except _NotPlainError:
        return None
    return TaskFields(based_on, status, reason, last_modified, requester)
