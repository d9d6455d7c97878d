"""Masking personal identity codes in anything the hub writes outside ``data``.

Shape-based on purpose: anything that *looks like* an identity code is masked, valid or not,
so a mistyped code in a partner message cannot slip into a log line either. That includes a
code in lower case and one glued to letters (``hetu131052-930V``, ``131052-930Vx``); only a
longer run of digits around it, or an identifier of the hub's own making that merely contains
such digits (a UUID, a hex digest or pseudonym), is left alone.

What a dead letter may show has one rule, here: a detail is masked and bounded
(``shown_detail``), and a partner's raw value is quoted in a rejection detail only when it
cannot be personal data (``shown_value``); every connector and the dead-letter code use these.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from typing import Any, Final

__all__ = [
    "CODE_SHAPE",
    "MASK",
    "MAX_DETAIL",
    "OWN_IDENTIFIER",
    "identity_codes_in",
    "mask_identity_codes",
    "quotable",
    "redact_identity_codes",
    "redact_value",
    "shown_detail",
    "shown_value",
]

#: Plain text in every format the hub shows a message in: inside XML it is character data
#: (no ``<``, ``>`` or ``&``, so it cannot look like an element), inside a JSON string it
#: needs no escaping.
MASK: Final = "[hetu]"

_HEX: Final = "[0-9a-fA-F]"
#: Event ids, digests and pseudonyms: whole tokens, so a code glued to letters is not one.
OWN_IDENTIFIER: Final = (
    rf"(?<![0-9A-Za-z]){_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"
    rf"(?![0-9A-Za-z])|(?<![0-9A-Za-z]){_HEX}{{16,}}(?![0-9A-Za-z]|[-+]\d)"
)
#: Date, century sign, individual number, check character; any case, not inside more digits.
CODE_SHAPE: Final = r"(?<!\d)\d{6}[-+A-FU-Ya-fu-y]\d{3}[0-9A-Ya-y](?!\d)"
_MASKABLE: Final = re.compile(rf"(?P<own>{OWN_IDENTIFIER})|(?P<code>{CODE_SHAPE})")

#: The longest detail a dead letter shows (header, audit, console); longer ones are cut.
MAX_DETAIL: Final = 1000
#: Raw partner text a detail may quote: visible ASCII without spaces (never a sentence of
#: free text), at most 64 characters (a code, a URI), with fewer digits than an identity code
#: has (nine), so it cannot hold one in any form.
_QUOTABLE: Final = re.compile(r"[!-~]{0,64}")
_IDENTITY_CODE_DIGITS: Final = 9


def _mask(match: re.Match[str]) -> str:
    return MASK if match.group("code") is not None else match.group(0)


def mask_identity_codes(text: str) -> str:
    """``text`` with every identity-code-shaped substring replaced by ``[hetu]``."""
    return _MASKABLE.sub(_mask, text)


def identity_codes_in(text: str) -> list[str]:
    """Every substring of ``text`` that ``mask_identity_codes`` would mask, in order."""
    return [m.group("code") for m in _MASKABLE.finditer(text) if m.group("code") is not None]


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


def shown_detail(detail: str) -> str:
    """``detail`` as a dead letter may show it anywhere (header, audit, console): identity
    codes masked, at most ``MAX_DETAIL`` characters (a cut one ends in ``…``)."""
    masked = mask_identity_codes(detail)
    return masked if len(masked) <= MAX_DETAIL else masked[: MAX_DETAIL - 1] + "…"


def quotable(text: str) -> bool:
    """Whether a rejection detail may quote ``text``, a partner's raw value or key: visible
    ASCII without spaces, at most 64 characters, fewer than nine digits."""
    return bool(_QUOTABLE.fullmatch(text)) and (
        sum(c.isdigit() for c in text) < _IDENTITY_CODE_DIGITS
    )


def shown_value(text: str) -> str:
    """``text`` quoted for a rejection detail (``'TMT'``), or only its length when it could
    be personal data (``<11 characters, not shown>``)."""
    return f"'{text}'" if quotable(text) else f"<{len(text)} characters, not shown>"
