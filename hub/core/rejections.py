"""A ``pydantic.ValidationError`` as a ``Rejection``: the one way a refused model becomes a
dead letter's reason and detail.

The reason is the caller's (``invalid-canonical-event``, ``invalid-fhir``, ...: each place
keeps the code its partners and docs know). The detail is the first error, as
``<location>: <message>``, with `` (and N more)`` when there are more:

- the location is the path of element names and list indices (``basedOn[0].identifier``);
  a key that could be personal data (``hub.core.redaction.quotable`` says no, or it does not look
  like an element name) is shown as ``<key not shown>``;
- the message is pydantic's (or the library's) without the input, and withheld when it could
  still quote the input: an error type known to quote it, an identity-code shape, or any
  string of the input (``inputs``) of five characters or more found in it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from hub.core.redaction import identity_codes_in, quotable
from schemas.rejection import Rejection

__all__ = [
    "INVALID_CANONICAL_EVENT",
    "KEY_NOT_SHOWN",
    "error_location",
    "rejection_from",
    "strings_in",
]

#: The reason of a canonical event its model refuses (the distribution and the hub's own
#: routes consume canonical topics; a producer of another version can put one there).
INVALID_CANONICAL_EVENT: Final = "invalid-canonical-event"

#: What stands for a key of the input that may not be shown.
KEY_NOT_SHOWN: Final = "<key not shown>"
#: A location part is shown when it looks like an element name (or an event type's name).
_ELEMENT_NAME: Final = re.compile(r"_?[A-Za-z][A-Za-z0-9_.\-]{0,63}")
#: Input strings at least this long are looked for in the messages.
_SECRET_MIN_LENGTH: Final = 5
#: Error types whose messages are known to quote the input.
_QUOTING_ERROR_TYPES: Final = frozenset(
    {"fhir-validation-wrong-resource-type", "union_tag_invalid", "union_tag_not_found"}
)
_ESCAPES: Final = str.maketrans({"\r": "\\r", "\n": "\\n", "\t": "\\t"})


def error_location(loc: tuple[int | str, ...]) -> str:
    """A path-like location of an error (``a.b[0].c``), with any key that could be personal
    data shown as ``<key not shown>``; ``(root)`` for the whole input."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _ELEMENT_NAME.fullmatch(part) and quotable(part):
            text += f".{part}" if text else part
        else:
            text += f".{KEY_NOT_SHOWN}" if text else KEY_NOT_SHOWN
    return text or "(root)"


def _message(error: ErrorDetails, secrets: Iterable[str]) -> str:
    message = error["msg"].translate(_ESCAPES)
    if (
        error["type"] in _QUOTING_ERROR_TYPES
        or identity_codes_in(message)
        or any(secret in message for secret in secrets if len(secret) >= _SECRET_MIN_LENGTH)
    ):
        return f"{error['type']} (the message is withheld: it could quote the input)"
    return message


def strings_in(value: object) -> set[str]:
    """Every string value (not key) in a parsed JSON value, without recursion: what a
    message must not quote."""
    found: set[str] = set()
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            found.add(item)
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return found


def rejection_from(
    error: ValidationError, reason: str, *, inputs: object = None, root: str = "(root)"
) -> Rejection:
    """The rejection of input a model refused with ``error``: ``reason`` as given, the first
    error as the detail (see the module). ``inputs`` is the parsed input, when there is one,
    whose strings no message may quote; ``root`` names a location of the whole input."""
    # Only each error's location, type and message are read, never its input.
    errors = error.errors()
    if not errors:  # pydantic never raises one, but from_exception_data can make one
        return Rejection(reason, f"{root}: refused by its model")
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    location = error_location(first["loc"])
    where = root if location == "(root)" else location
    return Rejection(reason, f"{where}: {_message(first, strings_in(inputs))}{more}")
