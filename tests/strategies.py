"""Reusable hypothesis strategies and builders for test data.

The identity-code rules are written out here again, from docs/identity-code.md, instead of being
imported from ``schemas.identity_code``: a test that borrowed the code under test's check
character would agree with any bug in it.

Only temporary individual numbers (900-999) appear in examples and fixtures; they never enter
the population register. ``identity_codes(temporary_only=False)`` exists for property tests of
the validator's full range and draws numbers nobody writes down.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from hypothesis import strategies as st

__all__ = [
    "CHECK_ALPHABET",
    "SIGNS_BY_CENTURY",
    "build_identity_code",
    "century_of",
    "expected_check_character",
    "identity_codes",
    "person_secrets",
]

#: CODES.md: the 9-digit number DDMMYY + individual number, modulo 31, indexes this string.
CHECK_ALPHABET: Final = "0123456789ABCDEFHJKLMNPRSTUVWXY"

#: CODES.md: century → every sign valid for it (the extra signs exist since 2023).
SIGNS_BY_CENTURY: Final[dict[int, str]] = {1800: "+", 1900: "-YXWVU", 2000: "ABCDEF"}

_EARLIEST: Final = dt.date(1800, 1, 1)
#: Yesterday: a code born after the day it is checked is invalid, and "today" differs by a
#: day between time zones around midnight.
_LATEST: Final = dt.date.today() - dt.timedelta(days=1)


def century_of(sign: str) -> int:
    """The century a sign stands for, per CODES.md (KeyError for a non-sign)."""
    for century, signs in SIGNS_BY_CENTURY.items():
        if sign in signs:
            return century
    raise KeyError(sign)


def expected_check_character(birth_date_digits: str, individual_number: str) -> str:
    """The check character of ``DDMMYY`` + ``NNN``, computed from CODES.md's rule."""
    return CHECK_ALPHABET[int(birth_date_digits + individual_number) % 31]


def build_identity_code(birth_date: dt.date, individual: int, sign: str | None = None) -> str:
    """A valid identity code for ``birth_date``; ``sign`` defaults to the century's first."""
    if sign is None:
        sign = SIGNS_BY_CENTURY[birth_date.year // 100 * 100][0]
    ddmmyy = birth_date.strftime("%d%m") + f"{birth_date.year % 100:02d}"
    number = f"{individual:03d}"
    return f"{ddmmyy}{sign}{number}{expected_check_character(ddmmyy, number)}"


@st.composite
def _identity_codes(draw: st.DrawFn, temporary_only: bool) -> str:
    birth_date = draw(st.dates(min_value=_EARLIEST, max_value=_LATEST))
    sign = draw(st.sampled_from(SIGNS_BY_CENTURY[birth_date.year // 100 * 100]))
    individual = draw(st.integers(min_value=900 if temporary_only else 2, max_value=999))
    return build_identity_code(birth_date, individual, sign)


def identity_codes(temporary_only: bool = True) -> st.SearchStrategy[str]:
    """Valid Finnish personal identity codes born 1800-01-01..2099-12-31.

    Every sign valid for the birth century can appear (``-YXWVU`` and ``ABCDEF`` included).
    The individual number is 900-999 (temporary) unless ``temporary_only`` is false, then
    002-999.
    """
    return _identity_codes(temporary_only)


def person_secrets() -> st.SearchStrategy[bytes]:
    """Pseudonym secrets long enough to be keys (at least 32 bytes)."""
    return st.binary(min_size=32, max_size=96)
