"""Partner JSON, read strictly: UTF-8, no byte-order mark, one object, no repeated keys.

Shared by the connectors whose partners send JSON. Pure; raises only ``Refusal`` (which
the parsers turn into a rejection) and never quotes message content in a detail except
through the caller's ``shown`` policy.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Final

import orjson

from connectors._refusal import Refusal

__all__ = ["MALFORMED_JSON", "NOT_UTF8", "json_object", "json_type"]

NOT_UTF8: Final = "not-utf8"
MALFORMED_JSON: Final = "malformed-json"
_BOM: Final = b"\xef\xbb\xbf"


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


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    found: dict[str, object] = {}
    for key, item in pairs:
        if key in found:
            raise _DuplicateKeyError(key)
        found[key] = item
    return found


def json_object(
    value: bytes, *, duplicate_reason: str, shown: Callable[[str], str]
) -> dict[str, object]:
    """The one JSON object in ``value``, or ``Refusal``.

    ``duplicate_reason`` is the code for a repeated key; ``shown`` decides how a key may be
    quoted in the detail (it could be anything the partner wrote).
    """
    try:
        text = value.decode("utf-8")
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
    # orjson keeps the last of repeated keys silently; the standard parser's hook sees them.
    try:
        json.loads(text, object_pairs_hook=_no_duplicates)
    except _DuplicateKeyError as duplicate:
        raise Refusal(
            duplicate_reason, f"key {shown(duplicate.key)} appears more than once"
        ) from None
    except RecursionError:
        raise Refusal(MALFORMED_JSON, "the message is nested too deeply") from None
    return parsed
