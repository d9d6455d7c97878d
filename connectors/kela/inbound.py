"""Kela's payment days in: partner bytes → ``PaymentDayRow`` → canonical ``BenefitDayEvent``.

The same functions serve the monthly file (``hub ingest kela FILE``: ``decode_line``, then
``check_header`` on line 1 and ``parse_line`` on every other line) and the Kafka topic
``in.kela.benefit-day`` (one data line per message value: ``decode_line``, ``parse_line``).

Pure: no broker, no database, no clock, no logging. Two things this module must never do:

* raise on partner bytes: every line becomes a ``PaymentDayRow`` or a ``Rejection`` with a
  stable ``reason`` (see ``REASONS``) and the line number;
* put an identity code into a rejection ``detail``: the identity-code message never quotes
  the code, and any other raw field is quoted only when it cannot contain one (the hub's one
  rule, ``hub.core.redaction.shown_value``: visible ASCII with fewer than nine digits, as an
  identity code has nine).

Parsing decisions beyond the interface document: spaces and tabs around each field are
stripped (Kela's file is machine-written, so they carry no meaning); there is no CSV quoting;
digits are ASCII digits only; fields are checked in column order and the first failure is
reported, then the rules across fields (period order, negatives only in corrections, the
day range, plausibility). Plausibility reads "``maksupaivat`` is at most the calendar days of
the period" for a correction as the days it takes back: they lie in its period too.

What needs the records received before (duplicates, corrections) is ``connectors.kela.ledger``
and ``connectors.kela.corrections``; ``to_event`` takes their verdict on a correction as an
``Attribution``.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

from connectors._refusal import Refusal, refuse
from connectors.kela.native import (
    BENEFIT_CODES,
    BLANKS,
    COLUMNS,
    HEADER,
    MAX_DAYS_PER_RECORD,
    SEPARATOR,
    KelaBenefit,
    PaymentDayRow,
)
from connectors.kela.one_pass import CENT, calendar_date, row_in_one_pass, row_of
from hub.core.redaction import shown_value
from schemas._base import trusted
from schemas.benefit_day import BENEFIT_DAY_V2, BenefitDayV2
from schemas.envelope import BenefitDayV2Event, dataschema_for
from schemas.identity_code import IdentityCodeError, validate_identity_code
from schemas.person_ref import person_ref_for
from schemas.rejection import Rejection

__all__ = [
    "BAD_AMOUNT",
    "BAD_DATE",
    "BAD_HEADER",
    "BAD_INTEGER",
    "BAD_MUNICIPALITY_CODE",
    "BAD_RECORD_ID",
    "DAYS_OUT_OF_RANGE",
    "DECIMAL_POINT_NOT_COMMA",
    "EVENT_ID_NAMESPACE",
    "IMPLAUSIBLE_RECORD",
    "INVALID_IDENTITY_CODE",
    "INVALID_ROW",
    "MISSING_RECORD_ID",
    "NEGATIVE_CUMULATIVE_DAYS",
    "NEGATIVE_WITHOUT_CORRECTION",
    "NOT_UTF8",
    "PERIOD_END_BEFORE_START",
    "REASONS",
    "SOURCE",
    "UNKNOWN_BENEFIT_CODE",
    "WRONG_COLUMN_COUNT",
    "Attribution",
    "MissingAttributionError",
    "check_header",
    "decode_line",
    "event_id_for",
    "parse_fields",
    "parse_line",
    "to_event",
]

NOT_UTF8: Final = "not-utf8"
BAD_HEADER: Final = "bad-header"
WRONG_COLUMN_COUNT: Final = "wrong-column-count"
MISSING_RECORD_ID: Final = "missing-record-id"
BAD_RECORD_ID: Final = "bad-record-id"
INVALID_IDENTITY_CODE: Final = "invalid-identity-code"
BAD_MUNICIPALITY_CODE: Final = "bad-municipality-code"
UNKNOWN_BENEFIT_CODE: Final = "unknown-benefit-code"
BAD_DATE: Final = "bad-date"
PERIOD_END_BEFORE_START: Final = "period-end-before-start"
BAD_INTEGER: Final = "bad-integer"
DECIMAL_POINT_NOT_COMMA: Final = "decimal-point-not-comma"
BAD_AMOUNT: Final = "bad-amount"
NEGATIVE_CUMULATIVE_DAYS: Final = "negative-cumulative-days"
NEGATIVE_WITHOUT_CORRECTION: Final = "negative-without-correction"
DAYS_OUT_OF_RANGE: Final = "days-out-of-range"
IMPLAUSIBLE_RECORD: Final = "implausible-record"
INVALID_ROW: Final = "invalid-row"

#: Every reason this module can give, with its meaning: the codes partners alert on.
REASONS: Final[dict[str, str]] = {
    NOT_UTF8: "the line is not valid UTF-8",
    BAD_HEADER: "the file's first line is not exactly the documented header",
    WRONG_COLUMN_COUNT: "the line does not have 11 ';'-separated fields",
    MISSING_RECORD_ID: "tapahtumatunnus is empty",
    BAD_RECORD_ID: "tapahtumatunnus or korjattava is longer than 50 characters or has "
    "characters other than visible ASCII",
    INVALID_IDENTITY_CODE: "hetu is not a valid personal identity code (shape, date, "
    "check character; a birth date after the day of checking is refused)",
    BAD_MUNICIPALITY_CODE: "kotikunta is not exactly 3 ASCII digits",
    UNKNOWN_BENEFIT_CODE: "etuus is not TMT, PPR, APR or YLT",
    BAD_DATE: "a date is not dd.mm.yyyy or is not a real date",
    PERIOD_END_BEFORE_START: "jakso_loppu is before jakso_alku",
    BAD_INTEGER: "maksupaivat or kertyma is not an integer",
    DECIMAL_POINT_NOT_COMMA: "maksettu uses a decimal point instead of a decimal comma",
    BAD_AMOUNT: "maksettu is not euros with at most 2 decimals (decimal comma)",
    NEGATIVE_CUMULATIVE_DAYS: "kertyma is negative",
    NEGATIVE_WITHOUT_CORRECTION: "negative days or euros in a record that is not a correction",
    DAYS_OUT_OF_RANGE: "maksupaivat is above 25 (or below -25 in a correction)",
    IMPLAUSIBLE_RECORD: "maksupaivat (in a correction: the days it takes back) is more than the "
    "calendar days of the period, or in a record that corrects nothing kertyma is less than "
    "maksupaivat",
    INVALID_ROW: "the row failed the native model's checks (not expected to happen)",
}

#: The CloudEvents ``source`` of every event this connector produces.
SOURCE: Final = "urn:fi:paijathame:hub:connector:kela"

#: Namespace of Kela's event ids, fixed forever: uuid5(NAMESPACE_URL, SOURCE).
EVENT_ID_NAMESPACE: Final = uuid.UUID("8cf5d775-28bb-59fc-949d-eda5724095e6")

_EVENT_ID_PREFIX: Final = "kela.benefit-day:"
_NAMESPACE_BYTES: Final = EVENT_ID_NAMESPACE.bytes
#: A hex digit with its two top bits set to the RFC 4122 variant, 10.
_VARIANT_DIGIT: Final = {f"{value:x}": f"{value & 0x3 | 0x8:x}" for value in range(16)}
_DATASCHEMA: Final = dataschema_for(BENEFIT_DAY_V2)
_HELSINKI: Final = ZoneInfo("Europe/Helsinki")
_BOM: Final = "\ufeff"

_INTEGER: Final = re.compile(r"-?[0-9]{1,9}")
_AMOUNT: Final = re.compile(r"-?([0-9]+)(?:,([0-9]+))?")
_AMOUNT_WITH_POINT: Final = re.compile(r"-?[0-9]+\.[0-9]+")
_MUNICIPALITY: Final = re.compile(r"[0-9]{3}")
_RECORD_ID: Final = re.compile(r"[!-~]{1,50}")
_MAX_INTEGER_DIGITS: Final = 10  # BenefitDay.amount_paid: 12 digits, 2 of them decimals.


def _strip_line(text: str) -> str:
    return text.removeprefix(_BOM).rstrip("\r\n")


def decode_line(raw: bytes, line_number: int | None = None) -> str | Rejection:
    """One line's bytes as text: UTF-8, without a leading BOM or the trailing CR/LF."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return Rejection(
            NOT_UTF8,
            f"byte {raw[error.start]:#04x} at position {error.start} is not valid UTF-8",
            line=line_number,
        )
    return _strip_line(text)


def check_header(line: str) -> Rejection | None:
    """``None`` if ``line`` is exactly ``HEADER`` (BOM and line ending aside), else why not."""
    text = _strip_line(line)
    if text == HEADER:
        return None
    names = text.split(SEPARATOR)
    for position, (expected, got) in enumerate(zip(COLUMNS, names, strict=False), start=1):
        if got != expected:
            return Rejection(
                BAD_HEADER,
                f"header column {position} must be '{expected}', got {shown_value(got)}",
                line=1,
            )
    return Rejection(
        BAD_HEADER, f"header must have {len(COLUMNS)} columns, got {len(names)}", line=1
    )


def parse_line(line: str, line_number: int | None = None) -> PaymentDayRow | Rejection:
    """One data line (no header) as a ``PaymentDayRow``, or the first reason it is not one."""
    # The common case in one pass; the checks field by field below for everything else.
    row = row_in_one_pass(_strip_line(line), line_number)
    return parse_fields(line, line_number) if row is None else row


def parse_fields(line: str, line_number: int | None = None) -> PaymentDayRow | Rejection:
    """``parse_line`` field by field: each field checked in column order, then the rules
    across fields; the first failure is the rejection. What ``parse_line`` falls back on when
    ``connectors.kela.one_pass`` does not settle a line."""
    fields = [field.strip(BLANKS) for field in _strip_line(line).split(SEPARATOR)]
    if len(fields) != len(COLUMNS):
        return Rejection(
            WRONG_COLUMN_COUNT,
            f"expected {len(COLUMNS)} ';'-separated fields, got {len(fields)}",
            line=line_number,
        )
    try:
        return _row_from(fields, line_number)
    except Refusal as refusal:
        return Rejection(refusal.reason, refusal.detail, line=line_number)


def _row_from(fields: list[str], line_number: int | None) -> PaymentDayRow:
    (
        record_id_text,
        hetu_text,
        municipality_text,
        benefit_text,
        start_text,
        end_text,
        days_text,
        amount_text,
        cumulative_text,
        payment_date_text,
        corrects_text,
    ) = fields
    if not record_id_text:
        refuse(MISSING_RECORD_ID, "tapahtumatunnus is empty")
    record_id = _record_id("tapahtumatunnus", record_id_text)
    hetu = _identity_code(hetu_text)
    municipality = _municipality(municipality_text)
    benefit = _benefit(benefit_text)
    start = _date("jakso_alku", start_text)
    end = _date("jakso_loppu", end_text)
    days = _integer("maksupaivat", days_text)
    amount = _amount(amount_text)
    cumulative = _integer("kertyma", cumulative_text)
    if cumulative < 0:
        refuse(NEGATIVE_CUMULATIVE_DAYS, f"kertyma {cumulative} is negative")
    payment_date = _date("maksupvm", payment_date_text)
    corrects = _record_id("korjattava", corrects_text) if corrects_text else None

    if end < start:
        refuse(
            PERIOD_END_BEFORE_START,
            f"jakso_loppu {end:%d.%m.%Y} is before jakso_alku {start:%d.%m.%Y}",
        )
    if corrects is None and (days < 0 or amount < 0):
        refuse(
            NEGATIVE_WITHOUT_CORRECTION,
            f"maksupaivat {days} and maksettu {amount} may be negative only in a correction "
            "(korjattava is empty)",
        )
    if abs(days) > MAX_DAYS_PER_RECORD:
        refuse(
            DAYS_OUT_OF_RANGE,
            f"maksupaivat {days} is outside {-MAX_DAYS_PER_RECORD if corrects else 0}"
            f"..{MAX_DAYS_PER_RECORD}",
        )
    calendar_days = (end - start).days + 1
    if abs(days) > calendar_days:
        refuse(
            IMPLAUSIBLE_RECORD,
            f"maksupaivat {days} is more days than the {calendar_days} calendar days of the period",
        )
    if corrects is None and cumulative < days:
        refuse(
            IMPLAUSIBLE_RECORD,
            f"kertyma {cumulative} is less than maksupaivat {days}: the cumulative count "
            "includes this record's days",
        )
    return row_of(
        record_id,
        hetu,
        municipality,
        benefit,
        (start, end, payment_date),
        (days, amount, cumulative),
        corrects,
        line_number,
    )


def _record_id(column: str, text: str) -> str:
    # Never quoted: a record id is long enough to be (or hide) an identity code.
    if not _RECORD_ID.fullmatch(text):
        refuse(
            BAD_RECORD_ID,
            f"{column} must be 1-50 visible ASCII characters (got {len(text)} characters)",
        )
    return text


def _identity_code(text: str) -> str:
    try:
        return validate_identity_code(text)
    except IdentityCodeError as error:
        # The message names what is wrong and never quotes the code.
        refuse(INVALID_IDENTITY_CODE, f"hetu: {error}")


def _municipality(text: str) -> str:
    if not _MUNICIPALITY.fullmatch(text):
        refuse(BAD_MUNICIPALITY_CODE, f"kotikunta {shown_value(text)} is not a 3-digit code")
    return text


def _benefit(text: str) -> KelaBenefit:
    if text not in KelaBenefit.__members__:
        refuse(
            UNKNOWN_BENEFIT_CODE,
            f"etuus {shown_value(text)} is not one of {', '.join(KelaBenefit)}",
        )
    return KelaBenefit.__members__[text]  # each member is named as its value


def _date(column: str, text: str) -> dt.date:
    try:
        date = calendar_date(text)
    except ValueError:
        refuse(BAD_DATE, f"{column} {shown_value(text)} is not a date")
    if date is None:
        refuse(BAD_DATE, f"{column} {shown_value(text)} is not a date in the form dd.mm.yyyy")
    return date


def _integer(column: str, text: str) -> int:
    if not _INTEGER.fullmatch(text):
        refuse(BAD_INTEGER, f"{column} {shown_value(text)} is not an integer")
    return int(text)


def _amount(text: str) -> Decimal:
    match = _AMOUNT.fullmatch(text)
    if match is None:
        if _AMOUNT_WITH_POINT.fullmatch(text):
            refuse(
                DECIMAL_POINT_NOT_COMMA,
                f"maksettu {shown_value(text)} has a decimal point; Kela writes a decimal comma",
            )
        refuse(BAD_AMOUNT, f"maksettu {shown_value(text)} is not an amount like 737,55")
    whole, cents = match.groups()
    if cents is not None and len(cents) > 2:
        refuse(BAD_AMOUNT, f"maksettu {shown_value(text)} has more than 2 decimals")
    if len(whole) > _MAX_INTEGER_DIGITS:
        refuse(BAD_AMOUNT, f"maksettu has {len(whole)} digits before the comma, at most 10")
    amount = Decimal(text.replace(",", ".")).quantize(CENT)
    # "-0,00" is zero, not a reversal: drop the sign so the event reads 0.00.
    return abs(amount) if amount.is_zero() else amount


def event_id_for(record_id: str) -> str:
    """The canonical event id of Kela record ``record_id``: the same record, the same id.

    ``str(uuid.uuid5(EVENT_ID_NAMESPACE, "kela.benefit-day:" + record_id))``, computed without
    the two ``UUID`` objects (a test holds the two equal).
    """
    name = _NAMESPACE_BYTES + (_EVENT_ID_PREFIX + record_id).encode()
    # SHA-1 because UUID version 5 is defined with it; an id, not a security measure. The
    # version (5) replaces the 13th hex digit, the RFC 4122 variant (10xx) the top bits of the
    # 17th.
    text = hashlib.sha1(name, usedforsecurity=False).hexdigest()
    return (
        f"{text[:8]}-{text[8:12]}-5{text[13:16]}-{_VARIANT_DIGIT[text[16]]}{text[17:20]}-"
        f"{text[20:32]}"
    )


@functools.lru_cache(maxsize=1024)
def _event_time(payment_date: dt.date) -> dt.datetime:
    return dt.datetime.combine(payment_date, dt.time(), tzinfo=_HELSINKI)


@dataclass(frozen=True, slots=True)
class Attribution:
    """Where a correction belongs, as the records received before decide it.

    ``municipality`` finances the correction: the corrected record's (or the correction's
    own kotikunta when the hub never saw that record, ``unseen``). ``corrects_event_id`` is
    the corrected record's canonical event id, ``None`` when it was never published.
    """

    municipality: str
    corrects_event_id: str | None
    unseen: bool = False


class MissingAttributionError(ValueError):
    """``to_event`` was given a correction without its ``Attribution`` (a programming error)."""


def to_event(
    row: PaymentDayRow,
    secret: bytes,
    attribution: Attribution | None = None,
    person_ref: str | None = None,
) -> BenefitDayV2Event:
    """The canonical ``benefit-day.v2`` event of ``row`` (every benefit, general support too;
    ``connectors.kela.versions.as_v1`` gives the v1 event of the records v1 can carry); the
    person reference is keyed by ``secret``.

    A correction needs its ``attribution`` (``connectors.kela.corrections``): it is financed
    by the municipality of the record it corrects, whatever its own kotikunta says.
    Deterministic: the same row, secret and attribution give a byte-identical
    ``model_dump_json()``. The event's time is the payment date at 00:00 in Helsinki.
    ``person_ref`` is ``person_ref_for(row.hetu, secret)`` when the caller has it already.

    The event is built from what the row already guarantees (a validated identity code,
    3-digit municipalities, the period in order, days and euros in range), so it is not
    validated a second time.
    """
    if row.korjattava is None:
        attribution = None  # a record that corrects nothing is financed by its own kotikunta
    elif attribution is None:
        raise MissingAttributionError("a correction needs the attribution of its record")
    data = trusted(
        BenefitDayV2,
        {
            "record_id": row.tapahtumatunnus,
            "person_id": row.hetu,
            "home_municipality": row.kotikunta if attribution is None else attribution.municipality,
            "benefit": BENEFIT_CODES[row.etuus],
            "period_start": row.jakso_alku,
            "period_end": row.jakso_loppu,
            "paid_days": row.maksupaivat,
            "amount_paid": row.maksettu,
            "cumulative_days": row.kertyma,
            "payment_date": row.maksupvm,
            "corrects_record_id": row.korjattava,
            "corrects_event_id": None if attribution is None else attribution.corrects_event_id,
            "stated_home_municipality": None if attribution is None else row.kotikunta,
            "corrects_unseen_record": attribution is not None and attribution.unseen,
        },
    )
    return trusted(
        BenefitDayV2Event,
        {
            "specversion": "1.0",
            "id": event_id_for(row.tapahtumatunnus),
            "source": SOURCE,
            "subject": person_ref_for(row.hetu, secret) if person_ref is None else person_ref,
            "time": _event_time(row.maksupvm),
            "datacontenttype": "application/json",
            "dataschema": _DATASCHEMA,
            "data": data,
            "type": BENEFIT_DAY_V2,
        },
    )
