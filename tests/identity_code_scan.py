"""Finding identity codes in text the hub wrote: the fuzz tests' rejection details, and the
end-to-end scan of everything a running hub writes.

Two nets, because either alone has holes: the exact codes a test planted (found whatever
surrounds them, also inside a longer token), and anything shaped like an identity code. The
shape is matched without word boundaries and with any Unicode digit, so it is stricter than
the hub's own redaction pattern (``schemas.identity_code.IDENTITY_CODE_SHAPE``), which this
module does not import: a scan that borrowed the code under test would agree with its bugs.
The check character is computed from ``tests.strategies`` (CODES.md's rule, written out).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from tests.strategies import expected_check_character

__all__ = ["IDENTITY_CODE_LIKE", "identity_codes_in"]

#: DDMMYY, a century sign, three digits, a check character: no boundaries on purpose.
IDENTITY_CODE_LIKE: Final = re.compile(r"(\d{6})[-+A-FU-Y](\d{3})([0-9A-Y])")


def _has_valid_check_character(match: re.Match[str]) -> bool:
    digits, individual, check = match.groups()
    if not (digits + individual).isascii():
        return False
    return expected_check_character(digits, individual) == check


def identity_codes_in(
    text: str, planted: Iterable[str] = (), *, valid_check_only: bool = False
) -> list[str]:
    """Every planted code in ``text``, then every other identity-code-shaped substring.

    With ``valid_check_only`` a shaped substring counts only if its check character is right
    (what a real code has; a running hub's output has many digits that are no code at all).
    """
    found = [code for code in planted if code and code in text]
    for match in IDENTITY_CODE_LIKE.finditer(text):
        if not valid_check_only or _has_valid_check_character(match):
            found.append(match.group())
    return list(dict.fromkeys(found))
