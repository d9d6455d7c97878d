"""Kela's own shapes: the payment-day CSV (maksupäivätiedot) as Kela writes it.

Mirrors ``docs/partners/kela.md``, so the field names are Kela's Finnish column names; the
canonical model (``schemas.benefit_day.BenefitDay``) uses English ones. Turning text into a
``PaymentDayRow`` (with stable rejection reasons) lives in ``connectors.kela.inbound``.

A ``PaymentDayRow`` holds a validated identity code: it must never be logged or echoed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field

from schemas.codes import BenefitV2
from schemas.identity_code import PersonalIdentityCode

__all__ = [
    "BENEFIT_CODES",
    "BLANKS",
    "COLUMNS",
    "HEADER",
    "MAX_DAYS_PER_RECORD",
    "SEPARATOR",
    "KelaBenefit",
    "PaymentDayRow",
]

#: The columns of the file and of a Kafka message value, in Kela's order.
COLUMNS: Final[tuple[str, ...]] = (
    "tapahtumatunnus",
    "hetu",
    "kotikunta",
    "etuus",
    "jakso_alku",
    "jakso_loppu",
    "maksupaivat",
    "maksettu",
    "kertyma",
    "maksupvm",
    "korjattava",
)

SEPARATOR: Final = ";"
#: What may stand around a field's value and is not part of it.
BLANKS: Final = " \t"

#: The file's header line, exactly (after a byte-order mark and the line ending are removed).
HEADER: Final = SEPARATOR.join(COLUMNS)


class KelaBenefit(StrEnum):
    """Kela's benefit codes (``etuus``), as Kela writes them."""

    TMT = "TMT"  # työmarkkinatuki, labour-market subsidy
    PPR = "PPR"  # peruspäiväraha, basic unemployment allowance
    APR = "APR"  # ansiopäivärahan perusosa, basic part of earnings-related allowance
    YLT = "YLT"  # yleistuki, general support: replaced TMT and PPR for periods from 1 May 2026


#: Kela's benefit codes and the canonical benefit each one is (in ``benefit-day.v2``; which of
#: them ``benefit-day.v1`` can carry is ``connectors.kela.versions``).
BENEFIT_CODES: Final[dict[KelaBenefit, BenefitV2]] = {
    KelaBenefit.TMT: BenefitV2.LABOUR_MARKET_SUBSIDY,
    KelaBenefit.PPR: BenefitV2.BASIC_ALLOWANCE,
    KelaBenefit.APR: BenefitV2.EARNINGS_RELATED_BASIC_PART,
    KelaBenefit.YLT: BenefitV2.GENERAL_SUPPORT,
}

#: "0-25 for a normal record"; a correction takes back at most as many.
MAX_DAYS_PER_RECORD: Final = 25

RecordId = Annotated[
    str,
    Field(
        pattern=r"^[!-~]{1,50}$",
        description="Kela's record id: 1-50 visible ASCII characters, e.g. K2025-000123456.",
    ),
]


class PaymentDayRow(BaseModel):
    """One data line of Kela's payment-day CSV, typed: a payment record or a correction."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    tapahtumatunnus: RecordId = Field(description="Kela's record id, unique per record.")
    hetu: PersonalIdentityCode
    kotikunta: str = Field(
        pattern=r"^[0-9]{3}$",
        description="Home municipality on the payment date (3 digits): it finances its share.",
    )
    etuus: KelaBenefit = Field(description="The benefit: TMT, PPR, APR or YLT.")
    jakso_alku: dt.date = Field(description="First day of the payment period.")
    jakso_loppu: dt.date = Field(description="Last day of the payment period.")
    maksupaivat: int = Field(
        ge=-MAX_DAYS_PER_RECORD,
        le=MAX_DAYS_PER_RECORD,
        description="Paid days in this record; negative only in a correction.",
    )
    maksettu: Decimal = Field(
        max_digits=12,
        decimal_places=2,
        description="Euros paid for these days; negative only in a correction (reversal).",
    )
    kertyma: int = Field(ge=0, description="Cumulative payment days after this record.")
    maksupvm: dt.date = Field(description="Payment date.")
    korjattava: RecordId | None = Field(
        default=None, description="For a correction: the tapahtumatunnus it corrects."
    )
    line: int | None = Field(default=None, description="Line number in the file, when known.")
