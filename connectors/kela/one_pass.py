"""A valid Kela data line's row in one pass: the common case, checked before the field-by-field
parser of ``connectors.kela.inbound`` runs.

Nearly every line of a payment-day file is valid and written plainly (no blanks around a
field, ASCII digits). One regular expression takes such a line apart and checks every field's
form at once; the values are then checked as the parser checks them (the identity code, real
dates, the rules across fields). ``row_in_one_pass`` only ever says yes: ``None`` means "not
settled here", and the parser, which names the first failure, decides. So a line is accepted
here only if the parser accepts it, as the same row (a property test holds the two together),
and every rejection is still the parser's.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal
from typing import Final

from connectors.kela.native import MAX_DAYS_PER_RECORD, KelaBenefit, PaymentDayRow
from schemas._base import trusted
from schemas.identity_code import IdentityCodeError, validate_identity_code

__all__ = ["CENT", "calendar_date", "row_in_one_pass", "row_of"]

#: Euros have two decimals: every amount is quantized to this.
CENT: Final = Decimal("0.01")

_RECORD_ID: Final = r"[!-:<-~]"  # visible ASCII without the separator
_DATE: Final = r"([0-9]{2}\.[0-9]{2}\.[0-9]{4})"
#: A plainly written valid-looking line: each group is a field in a form its check accepts
#: (``kertyma`` not negative, at most 10 digits before the comma and 2 after it in
#: ``maksettu``), ``korjattava`` possibly empty.
_LINE: Final = re.compile(
    rf"({_RECORD_ID}{{1,50}});"
    r"([0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-Y]);"
    r"([0-9]{3});"
    r"(TMT|PPR|APR|YLT);"
    rf"{_DATE};{_DATE};"
    r"(-?[0-9]{1,9});"
    r"(-?[0-9]{1,10}(?:,[0-9]{1,2})?);"
    r"([0-9]{1,9});"
    rf"{_DATE};"
    rf"({_RECORD_ID}{{0,50}})"
)
_DATE_FORM: Final = re.compile(r"([0-9]{2})\.([0-9]{2})\.([0-9]{4})")
_BENEFITS: Final = KelaBenefit.__members__  # each member is named as its value


@functools.lru_cache(maxsize=4096)
def calendar_date(text: str) -> dt.date | None:
    """``dd.mm.yyyy`` as a date, ``None`` in another form; ValueError if no real date.

    Cached (a file holds few distinct dates; a failure raises and is not cached); bounded,
    so memory does not grow with the file.
    """
    match = _DATE_FORM.fullmatch(text)
    if match is None:
        return None
    day, month, year = match.groups()
    return dt.date(int(year), int(month), int(day))


def row_in_one_pass(text: str, line_number: int | None) -> PaymentDayRow | None:
    """The row of data line ``text`` (BOM and line ending removed) if it is plainly written
    and valid, else ``None``: the field-by-field parser then decides, and explains."""
    match = _LINE.fullmatch(text)
    if match is None:
        return None
    (
        record_id,
        hetu,
        municipality,
        benefit,
        start_text,
        end_text,
        days_text,
        amount_text,
        cumulative_text,
        payment_text,
        corrects_text,
    ) = match.groups()
    try:
        validate_identity_code(hetu)
        start = calendar_date(start_text)
        end = calendar_date(end_text)
        payment_date = calendar_date(payment_text)
    except (IdentityCodeError, ValueError):
        return None
    if start is None or end is None or payment_date is None:
        return None  # not reached: the expression matched the form
    days = int(days_text)
    cumulative = int(cumulative_text)
    amount = Decimal(amount_text.replace(",", ".")).quantize(CENT)
    if amount.is_zero():
        amount = abs(amount)  # "-0,00" is zero, not a reversal: the event reads 0.00
    corrects = corrects_text or None
    if (
        end < start
        or abs(days) > MAX_DAYS_PER_RECORD
        or abs(days) > (end - start).days + 1
        or (corrects is None and (days < 0 or amount < 0 or cumulative < days))
    ):
        return None
    return row_of(
        record_id,
        hetu,
        municipality,
        _BENEFITS[benefit],
        (start, end, payment_date),
        (days, amount, cumulative),
        corrects,
        line_number,
    )


def row_of(
    record_id: str,
    hetu: str,
    municipality: str,
    benefit: KelaBenefit,
    dates: tuple[dt.date, dt.date, dt.date],
    figures: tuple[int, Decimal, int],
    corrects: str | None,
    line_number: int | None,
) -> PaymentDayRow:
    """The row of values that passed the parser's checks (``dates``: the period's start and
    end and the payment date; ``figures``: days, euros, cumulative days).

    Validated once, by those checks: every field has passed a check at least as strict as
    the model's (tests hold the two together), so the model is built without checking it
    all again."""
    start, end, payment_date = dates
    days, amount, cumulative = figures
    return trusted(
        PaymentDayRow,
        {
            "tapahtumatunnus": record_id,
            "hetu": hetu,
            "kotikunta": municipality,
            "etuus": benefit,
            "jakso_alku": start,
            "jakso_loppu": end,
            "maksupaivat": days,
            "maksettu": amount,
            "kertyma": cumulative,
            "maksupvm": payment_date,
            "korjattava": corrects,
            "line": line_number,
        },
    )
