"""Kela corrections: whose record a correction corrects, and whether it may.

A correction (``korjattava`` set) belongs to the record it corrects: it must name the same
person and the same benefit (else ``correction-mismatch``), all corrections of one record
together may take back at most what that record paid, in days and in euros (else
``over-correction``), and it is financed by that record's municipality, whatever its own
``kotikunta`` says. A correction of a correction belongs to the same record as the one it
corrects, so the limit holds for the whole chain.

The corrected record must be known (else ``unknown-corrected-record``), except when the
correction's period ends before the day the hub began receiving Kela's data
(``HUB_KELA_DATA_START``): the record it corrects was then paid before, the hub never saw it,
and the correction is accepted, attributed by its own ``kotikunta`` and marked as such.

Pure: the caller looks up what the ledger knows (``CorrectedRecord``). Details never quote a
record id or an identity code: a record id can be, or hide, one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from connectors.kela.inbound import Attribution
from connectors.kela.native import PaymentDayRow
from schemas.rejection import Rejection

__all__ = [
    "CORRECTION_MISMATCH",
    "OVER_CORRECTION",
    "REASONS",
    "UNKNOWN_CORRECTED_RECORD",
    "CorrectedRecord",
    "attribute",
]

CORRECTION_MISMATCH: Final = "correction-mismatch"
OVER_CORRECTION: Final = "over-correction"
UNKNOWN_CORRECTED_RECORD: Final = "unknown-corrected-record"

#: Every reason this module can give, with its meaning.
REASONS: Final[dict[str, str]] = {
    UNKNOWN_CORRECTED_RECORD: "korjattava names a record the hub never received, and the "
    "correction's period does not end before the hub began receiving Kela's data",
    CORRECTION_MISMATCH: "the correction names another person or another benefit than the "
    "record it corrects",
    OVER_CORRECTION: "the corrections of one record would together take back more days or "
    "more euros than that record paid",
}


@dataclass(frozen=True, slots=True)
class CorrectedRecord:
    """What the ledger knows of the record a correction names, and of the record it belongs to.

    ``person_ref``, ``benefit`` and ``municipality`` are ``None`` for a record the ledger
    took before it remembered them; ``paid_days`` and ``amount_paid`` (of the record the
    chain belongs to) are ``None`` when the hub never saw that record.
    """

    event_id: str
    person_ref: str | None
    benefit: str | None
    municipality: str | None
    belongs_to: str
    paid_days: int | None
    amount_paid: Decimal | None
    taken_days: int = 0
    taken_amount: Decimal = Decimal(0)


def attribute(
    row: PaymentDayRow,
    person_ref: str,
    corrected: CorrectedRecord | None,
    data_start: dt.date | None,
) -> Attribution | Rejection:
    """Where the correction ``row`` (of the person ``person_ref``) belongs, or why it may not."""
    if corrected is None:
        if data_start is not None and row.jakso_loppu < data_start:
            return Attribution(row.kotikunta, None, unseen=True)
        return Rejection(
            UNKNOWN_CORRECTED_RECORD,
            "korjattava names a record the hub never received"
            + (
                f" (the period ends on or after {data_start:%d.%m.%Y}, when the hub began "
                "receiving Kela's data)"
                if data_start is not None
                else ""
            ),
            row.line,
        )
    if corrected.person_ref is not None and corrected.person_ref != person_ref:
        return Rejection(
            CORRECTION_MISMATCH,
            "hetu is not the person of the record korjattava names",
            row.line,
        )
    if corrected.benefit is not None and corrected.benefit != row.etuus.value:
        return Rejection(
            CORRECTION_MISMATCH,
            f"etuus {row.etuus} is not the benefit of the record korjattava names "
            f"({corrected.benefit})",
            row.line,
        )
    over = _over_correction(row, corrected)
    if over is not None:
        return over
    return Attribution(corrected.municipality or row.kotikunta, corrected.event_id)


def _over_correction(row: PaymentDayRow, corrected: CorrectedRecord) -> Rejection | None:
    if corrected.paid_days is None or corrected.amount_paid is None:
        return None
    days_left = corrected.paid_days + corrected.taken_days + row.maksupaivat
    euros_left = corrected.amount_paid + corrected.taken_amount + row.maksettu
    if days_left >= 0 and euros_left >= 0:
        return None
    return Rejection(
        OVER_CORRECTION,
        f"the record paid {corrected.paid_days} days and {corrected.amount_paid} euros, its "
        f"corrections so far changed them by {corrected.taken_days} days and "
        f"{corrected.taken_amount} euros; with {row.maksupaivat} days and {row.maksettu} euros "
        f"more, {days_left} days and {euros_left} euros would remain",
        row.line,
    )
