"""Partner JSON, read strictly: UTF-8, no byte-order mark, one object, no repeated keys.

Shared by the connectors whose partners send JSON. Pure; raises only ``Refusal`` (which
the parsers turn into a rejection) and never quotes message content in a detail except
through the caller's ``shown`` policy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Final

import orjson

from connectors._refusal import Refusal

__all__ = [
    "MALFORMED_JSON",
    "NOT_UTF8",
    "json_object",
    "json_object_read_twice",
    "json_type",
]

NOT_UTF8: Final = "not-utf8"
MALFORMED_JSON: Final = "malformed-json"
_BOM: Final = b"\xef\xbb\xbf"
#: A backslash and the character it escapes.
_ESCAPE: Final = re.compile(rb"\\.", re.DOTALL)
#: Nesting the standard parser surely takes without a RecursionError (its limit is the
#: interpreter's, about 1,000 less the caller's frames): deeper documents take its path.
_PLAIN_DEPTH: Final = 100


class _DuplicateKeyError(Exception):
    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key


def json_type(value: object) -> str:
    """The JSON name of a parsed value's type, for details."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _members_within(parsed: object, depth: int) -> int | None:
    """How many members the objects in ``parsed`` hold together; None if it nests deeper than
    ``depth``."""
    members = 0
    level = [parsed]
    for _ in range(depth):
        nested: list[object] = []
        for item in level:
            children: Iterable[object] = item  # type: ignore[assignment]
            if type(item) is dict:
                members += len(item)
                children = item.values()
            for child in children:
                if type(child) is dict or type(child) is list:
                    nested.append(child)
        if not nested:
            return members
        level = nested
    return None


def _keys_written(value: bytes) -> int:
    """How many keys a valid JSON document writes: the colons outside its strings.

    Without escapes a quote only opens or closes a string, so every other piece between
    quotes is outside them.
    """
    unescaped = _ESCAPE.sub(b"", value) if b"\\" in value else value
    return b"".join(unescaped.split(b'"')[::2]).count(b":")


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    found: dict[str, object] = {}
    for key, item in pairs:
        if key in found:
            raise _DuplicateKeyError(key)
        found[key] = item
    return found


def _object_of(value: bytes) -> dict[str, object]:
    """The JSON object in ``value`` as orjson reads it (repeated keys not yet looked at)."""
    try:
        value.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Refusal(
            NOT_UTF8, f"byte {value[error.start]:#04x} at position {error.start} is not valid UTF-8"
        ) from None
    if value.startswith(_BOM):
        raise Refusal(
            MALFORMED_JSON, "the message starts with a byte-order mark, which JSON forbids"
        )
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError as error:
        # orjson's message is not quoted: only the position, which holds no personal data.
        raise Refusal(
            MALFORMED_JSON, f"not valid JSON at line {error.lineno}, column {error.colno}"
        ) from None
    if not isinstance(parsed, dict):
        raise Refusal(MALFORMED_JSON, f"the message must be a JSON object, got {json_type(parsed)}")
    return parsed


def _refuse_repeated_keys(value: bytes, duplicate_reason: str, shown: Callable[[str], str]) -> None:
    # orjson keeps the last of repeated keys silently; the standard parser's hook sees them.
    try:
        json.loads(value.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except _DuplicateKeyError as duplicate:
        raise Refusal(
            duplicate_reason, f"key {shown(duplicate.key)} appears more than once"
        ) from None
    except RecursionError:
        raise Refusal(MALFORMED_JSON, "the message is nested too deeply") from None


def json_object(
    value: bytes, *, duplicate_reason: str, shown: Callable[[str], str]
) -> dict[str, object]:
    """The one JSON object in ``value``, or ``Refusal``.

    ``duplicate_reason`` is the code for a repeated key; ``shown`` decides how a key may be
    quoted in the detail (it could be anything the partner wrote).
    """
    parsed = _object_of(value)
    # A document whose objects hold as many members as it writes keys repeats none: only one
    # that differs (or nests deeply) is read again by the standard parser, which names the
    # first repeated key (or finds the nesting too deep for it).
    if _members_within(parsed, _PLAIN_DEPTH) != _keys_written(value):
        _refuse_repeated_keys(value, duplicate_reason, shown)
    return parsed


def json_object_read_twice(
    value: bytes, *, duplicate_reason: str, shown: Callable[[str], str]
) -> dict[str, object]:
    """What :func:`json_object` gives, with every document read again by the standard
    parser: the reference its count of keys is tested against."""
    parsed = _object_of(value)
    _refuse_repeated_keys(value, duplicate_reason, shown)
    return parsed
