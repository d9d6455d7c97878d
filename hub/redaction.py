"""Masking personal identity codes in anything the hub writes outside ``data``.

Shape-based on purpose: anything that *looks like* an identity code is masked, valid or not,
so a mistyped code in a partner message cannot slip into a log line either.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any, Final

from schemas.identity_code import IDENTITY_CODE_SHAPE

__all__ = ["MASK", "mask_identity_codes", "redact_identity_codes", "redact_value"]

MASK: Final = "<hetu>"


def mask_identity_codes(text: str) -> str:
    """``text`` with every identity-code-shaped substring replaced by ``<hetu>``."""
    return IDENTITY_CODE_SHAPE.sub(MASK, text)


def redact_value(value: Any) -> Any:
    """Mask identity codes in a string, or recursively inside mappings and sequences.

    Other objects are rendered with ``str`` first when their text would contain a code (an
    exception, say), since a renderer would call ``str`` on them anyway.
    """
    if isinstance(value, str):
        return mask_identity_codes(value)
    if isinstance(value, bytes):
        return mask_identity_codes(value.decode("utf-8", errors="replace"))
    if isinstance(value, Mapping):
        return {redact_value(key): redact_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)
    masked = mask_identity_codes(text)
    return masked if masked != text else value


def redact_identity_codes(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask identity codes in every field, exception text included."""
    for key, value in event_dict.items():
        event_dict[key] = redact_value(value)
    return event_dict
