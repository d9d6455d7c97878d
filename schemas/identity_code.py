"""The Finnish personal identity code (henkilötunnus) as a validated type.

``DDMMYY`` + century sign + 3-digit individual number + check character. The century sign is
part of the identity (``100190-999P`` and ``100190Y999P`` are different people), so it is
never normalised away.

Error messages name what is wrong, never the code itself: they travel into logs, dead-letter
headers and CLI output, where identity codes must not appear.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Annotated, Final
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, Field

__all__ = [
    "CENTURY_SIGNS",
    "CHECK_CHARACTERS",
    "IDENTITY_CODE_SHAPE",
    "IdentityCodeError",
    "PersonalIdentityCode",
    "check_character",
    "is_temporary",
    "today_in_finland",
    "validate_identity_code",
]

#: Century sign → the century the two-digit year belongs to.
CENTURY_SIGNS: Final[dict[str, int]] = {
    "+": 1800,
    **dict.fromkeys("-YXWVU", 1900),
    **dict.fromkeys("ABCDEF", 2000),
}

CHECK_CHARACTERS: Final = "0123456789ABCDEFHJKLMNPRSTUVWXY"

#: Anything that looks like an identity code, valid or not: what redaction must catch.
IDENTITY_CODE_SHAPE: Final = re.compile(
    r"(?<![0-9A-Za-z])\d{6}[-+A-FU-Y]\d{3}[0-9A-Y](?![0-9A-Za-z])"
)

_FORMAT: Final = re.compile(r"(\d{2})(\d{2})(\d{2})(.)(\d{3})(.)")
#: A code of the right shape in ASCII: what ``_FORMAT`` and the century sign let through.
_SHAPE: Final = re.compile(r"[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-Y]")
_UNUSED_INDIVIDUAL_NUMBERS: Final = frozenset({"000", "001"})
#: Whose calendar "today" is: a person born just after midnight in Finland is born on that
#: Finnish date, which UTC still calls yesterday for two or three hours.
_FINLAND: Final = ZoneInfo("Europe/Helsinki")


def today_in_finland() -> dt.date:
    """Today's date in Finland, the day an identity code is checked on by default."""
    return dt.datetime.now(_FINLAND).date()


class _DayReached:
    """The latest day in Finland the clock was read on: a birth date on or before it is not
    in the future, whatever the clock says now (the date moves only forwards), so the cheap
    comparison settles nearly every code and the clock is read only for the rest."""

    def __init__(self) -> None:
        self.day = dt.date.min

    def born_after_today(self, born: dt.date) -> bool:
        if born <= self.day:
            return False
        self.day = today_in_finland()
        return born > self.day


_DAY_REACHED: Final = _DayReached()


class IdentityCodeError(ValueError):
    """An identity code is invalid; ``reason`` is a stable code, the message is for people."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_character(birth_date_digits: str, individual_number: str) -> str:
    """The check character for ``DDMMYY`` and a 3-digit individual number."""
    return CHECK_CHARACTERS[int(birth_date_digits + individual_number) % 31]


def validate_identity_code(value: str, today: dt.date | None = None) -> str:
    """Return ``value`` unchanged if it is a valid identity code, else raise IdentityCodeError.

    Checks, in order: length and shape, century sign, birth date (a real date, not after
    ``today``, which defaults to today's date in Finland), individual number, check
    character. The first failure is reported.
    """
    # Nearly every code checked is valid: one pass that only says yes settles it, and the
    # checks in order below (which name the first failure) run for the rest.
    if today is None and type(value) is str and _plainly_valid(value):
        return value
    return _checked_in_order(value, today)


def _plainly_valid(value: str) -> bool:
    """True only for a valid code whose birth date is on or before a day already reached
    (``False`` says nothing: the ordered checks decide)."""
    if _SHAPE.fullmatch(value) is None:
        return False
    born = _birth_date(value[:7])
    individual = value[7:10]
    return (
        born is not None
        and born <= _DAY_REACHED.day
        and individual not in _UNUSED_INDIVIDUAL_NUMBERS
        and CHECK_CHARACTERS[int(value[:6] + individual) % 31] == value[10]
    )


@functools.lru_cache(maxsize=4096)
def _birth_date(date_and_sign: str) -> dt.date | None:
    """``DDMMYY`` and a century sign (checked already) as a date; ``None`` if no real date.

    Cached: a birth date is shared by many people, and the date costs more than the look-up;
    bounded, so memory stays flat however many codes are checked."""
    try:
        return dt.date(
            CENTURY_SIGNS[date_and_sign[6]] + int(date_and_sign[4:6]),
            int(date_and_sign[2:4]),
            int(date_and_sign[:2]),
        )
    except ValueError:
        return None


def _checked_in_order(value: str, today: dt.date | None) -> str:
    if not isinstance(value, str):
        raise IdentityCodeError("not-a-string", "identity code must be a string")
    if len(value) != 11:
        raise IdentityCodeError(
            "bad-length", f"identity code must be 11 characters, got {len(value)}"
        )
    match = _FORMAT.fullmatch(value)
    if match is None or not value.isascii():
        raise IdentityCodeError(
            "bad-format",
            "identity code must be DDMMYY, a century sign, 3 digits and a check character",
        )
    day, month, year, sign, individual, check = match.groups()
    century = CENTURY_SIGNS.get(sign)
    if century is None:
        raise IdentityCodeError(
            "bad-century-sign",
            "identity code has an unknown century sign (expected one of + - Y X W V U A B C D E F)",
        )
    try:
        born = dt.date(century + int(year), int(month), int(day))
    except ValueError:
        raise IdentityCodeError(
            "bad-date", "identity code's first six digits are not a real date (DDMMYY)"
        ) from None
    # Nobody is given a code before they are born: 010150A902E (born in 2050) is a typo or a
    # wrong century sign, and accepting it would file the record under a person who cannot
    # exist yet.
    if _DAY_REACHED.born_after_today(born) if today is None else born > today:
        raise IdentityCodeError(
            "birth-date-in-future", "identity code's birth date lies after the day it is checked"
        )
    if int(individual) < 2:
        raise IdentityCodeError(
            "bad-individual-number", "identity code's individual number must be 002-999"
        )
    if check != check_character(day + month + year, individual):
        raise IdentityCodeError("bad-check-character", "identity code's check character is wrong")
    return value


def is_temporary(code: str) -> bool:
    """True for individual numbers 900-999, which never enter the population register."""
    return int(code[7:10]) >= 900


#: A pydantic field type: a validated personal identity code, serialised as the plain string.
PersonalIdentityCode = Annotated[
    str,
    AfterValidator(validate_identity_code),
    Field(
        description="Personal identity code (henkilötunnus): only ever inside `data`, "
        "never in keys, headers or logs.",
        # The pattern is documentation for consumers; the validator above gives the reasons.
        json_schema_extra={"pattern": r"^\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]$", "x-personal-data": True},
    ),
]
