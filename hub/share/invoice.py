"""Kela's invoice specification file (kuntalaskun erittely): reading it line by line.

UTF-8 (an optional byte-order mark), ``;`` as separator, one header line, CRLF or LF, decimal
comma. Columns, in this order: ``laskukuukausi`` (yyyy-mm), ``kunta`` (3 digits), ``lasku``
(``TMT`` or ``APR``), ``hetu``, ``tapahtumatunnus``, ``etuus`` (``TMT``, ``PPR``, ``YLT``,
``APR``), ``paivat``, ``osuus_pros``, ``kunnan_osuus`` (euros, negative for a correction),
``malli`` (``2025`` or ``vanha``).

A file that cannot be read at all (missing, or without that header) is an
``InvoiceFileError``; a line that does not parse is a ``BadLine`` with its line number and a
reason, and the lines after it are still read. Reads one line at a time: memory does not grow
with the file. Details never quote an identity code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Final

from hub.core.errors import ConfigurationError
from hub.share.split import InvoiceGroup, Model, invoice_of
from schemas.identity_code import IdentityCodeError, validate_identity_code

__all__ = [
    "COLUMNS",
    "BadLine",
    "InvoiceFileError",
    "InvoiceLine",
    "parse_invoice_line",
    "read_invoice",
]

COLUMNS: Final = (
    "laskukuukausi",
    "kunta",
    "lasku",
    "hetu",
    "tapahtumatunnus",
    "etuus",
    "paivat",
    "osuus_pros",
    "kunnan_osuus",
    "malli",
)
_MONTH: Final = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_MUNICIPALITY: Final = re.compile(r"^\d{3}$")
_DAYS: Final = re.compile(r"^-?\d{1,4}$")
_PERCENT: Final = re.compile(r"^\d{1,3}$")
_EUROS: Final = re.compile(r"^-?\d{1,12}(,\d{1,2})?$")
_BENEFITS: Final = frozenset({"TMT", "PPR", "YLT", "APR"})
_RECORD_ID: Final = re.compile(r"^[^\s;]{1,50}$")


class InvoiceFileError(ConfigurationError):
    """The file cannot be read as an invoice specification at all (exit 2)."""


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One line of the specification: days of one record at one percentage."""

    line: int
    month: str
    municipality: str
    invoice: InvoiceGroup
    person_id: str
    record_id: str
    benefit: str
    days: int
    percent: int
    share: Decimal
    model: Model


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that does not parse: its number, a stable reason and a detail for people."""

    line: int
    reason: str
    detail: str


def _bad(line: int, reason: str, detail: str) -> BadLine:
    return BadLine(line, reason, detail)


def parse_invoice_line(text: str, line: int) -> InvoiceLine | BadLine:  # noqa: PLR0911
    """One data line (without its line ending) as an ``InvoiceLine``, or why not."""
    cells = text.split(";")
    if len(cells) != len(COLUMNS):
        return _bad(line, "wrong-column-count", f"{len(cells)} columns, expected {len(COLUMNS)}")
    month, kunta, lasku, hetu, record_id, etuus, days, percent, euros, model = (
        cell.strip() for cell in cells
    )
    if not _MONTH.match(month):
        return _bad(line, "bad-month", f"laskukuukausi {month!r} is not yyyy-mm")
    if not _MUNICIPALITY.match(kunta):
        return _bad(line, "bad-municipality", f"kunta {kunta!r} is not 3 digits")
    if lasku not in {group.value for group in InvoiceGroup}:
        return _bad(line, "bad-invoice", f"lasku {lasku!r} is not TMT or APR")
    try:
        person_id = validate_identity_code(hetu)
    except IdentityCodeError as exc:
        return _bad(line, "invalid-identity-code", f"hetu is not valid ({exc.reason})")
    if not _RECORD_ID.match(record_id):
        return _bad(line, "bad-record-id", "tapahtumatunnus is empty or not 1-50 characters")
    if etuus not in _BENEFITS:
        return _bad(line, "unknown-benefit", f"etuus {etuus!r} is not TMT, PPR, YLT or APR")
    if invoice_of(etuus).value != lasku:
        return _bad(line, "benefit-on-wrong-invoice", f"etuus {etuus} is not billed on {lasku}")
    if not _DAYS.match(days):
        return _bad(line, "bad-number", f"paivat {days!r} is not a whole number")
    if not _PERCENT.match(percent) or int(percent) > 100:
        return _bad(line, "bad-number", f"osuus_pros {percent!r} is not 0-100")
    if not _EUROS.match(euros):
        return _bad(line, "bad-number", f"kunnan_osuus {euros!r} is not euros with a comma")
    if model not in {m.value for m in Model}:
        return _bad(line, "bad-model", f"malli {model!r} is not 2025 or vanha")
    return InvoiceLine(
        line=line,
        month=month,
        municipality=kunta,
        invoice=InvoiceGroup(lasku),
        person_id=person_id,
        record_id=record_id,
        benefit=etuus,
        days=int(days),
        percent=int(percent),
        share=Decimal(euros.replace(",", ".")),
        model=Model(model),
    )


def read_invoice(path: Path) -> Iterator[InvoiceLine | BadLine]:
    """The lines of the file at ``path``, in order (``InvoiceFileError`` if unreadable)."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InvoiceFileError(f"{path}: cannot be read ({exc.strerror})") from None
    with handle:
        header = handle.readline().decode("utf-8", "replace").removeprefix("\ufeff")
        if tuple(cell.strip() for cell in header.rstrip("\r\n").split(";")) != COLUMNS:
            raise InvoiceFileError(
                f"{path}: not an invoice specification (the header is not {';'.join(COLUMNS)})"
            )
        for number, raw in enumerate(handle, start=2):
            body = raw.rstrip(b"\r\n")
            if not body.strip():
                continue
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                yield _bad(number, "bad-encoding", "the line is not UTF-8")
                continue
            yield parse_invoice_line(text, number)
