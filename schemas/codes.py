"""Code lists of the canonical model (written out in docs/codes.md and the partner pages).

Canonical values are English; the partners' own codes live beside them only where the mapping
is part of the canonical meaning (the national employment-status codes). Unknown codes are
never guessed: a lookup raises ``UnknownCodeError``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

__all__ = [
    "Authority",
    "Benefit",
    "BenefitV2",
    "EmploymentStatus",
    "Partner",
    "ReferralService",
    "ReferralState",
    "ServiceCode",
    "UnknownCodeError",
    "Urgency",
    "employment_status_from_code",
]


class UnknownCodeError(ValueError):
    """A code is not in its code list; ``reason`` is a stable code."""

    def __init__(self, code_list: str, code: str) -> None:
        super().__init__(f"{code_list} code {code!r} is not in the code list")
        self.reason = f"unknown-{code_list}-code"
        self.code_list = code_list


class Partner(StrEnum):
    """The organisations the hub exchanges data with."""

    LAHTI = "lahti"
    PH = "ph"
    KELA = "kela"
    SOTE = "sote"
    KEHA = "keha"


class Authority(StrEnum):
    """The two labour authorities (työvoimaviranomainen) of Päijät-Häme."""

    LAHTI = "lahti"
    PH = "ph"


class EmploymentStatus(StrEnum):
    """Employment status of a jobseeker (työllisyystilanne)."""

    SUBSIDISED_EMPLOYMENT = "subsidised_employment"
    EMPLOYED = "employed"
    UNEMPLOYED = "unemployed"
    LAID_OFF = "laid_off"
    SHORTENED_WEEK = "shortened_week"
    OUTSIDE_LABOUR_FORCE = "outside_labour_force"
    IN_SERVICE = "in_service"
    IN_EDUCATION = "in_education"
    PART_TIME_WORK = "part_time_work"

    @property
    def national_code(self) -> str:
        """The national customer information system's code (``tyollkoodi``)."""
        return _STATUS_TO_CODE[self]


_STATUS_TO_CODE: Final[dict[EmploymentStatus, str]] = {
    EmploymentStatus.SUBSIDISED_EMPLOYMENT: "00",
    EmploymentStatus.EMPLOYED: "01",
    EmploymentStatus.UNEMPLOYED: "02",
    EmploymentStatus.LAID_OFF: "03",
    EmploymentStatus.SHORTENED_WEEK: "04",
    EmploymentStatus.OUTSIDE_LABOUR_FORCE: "05",
    EmploymentStatus.IN_SERVICE: "07",
    EmploymentStatus.IN_EDUCATION: "08",
    EmploymentStatus.PART_TIME_WORK: "09",
}
_CODE_TO_STATUS: Final = {code: status for status, code in _STATUS_TO_CODE.items()}


def employment_status_from_code(code: str) -> EmploymentStatus:
    """Map a national ``tyollkoodi`` to the canonical status; ``06`` and unknowns raise."""
    try:
        return _CODE_TO_STATUS[code]
    except KeyError:
        raise UnknownCodeError("employment-status", code) from None


class ServiceCode(StrEnum):
    """Services during which a jobseeker is "in service" (``palvelu.koodi``)."""

    TKO = "TKO"  # työvoimakoulutus, labour-market training
    TKE = "TKE"  # työkokeilu, work trial
    KTT = "KTT"  # kuntouttava työtoiminta, rehabilitative work activity
    OMO = "OMO"  # omaehtoinen opiskelu, self-motivated study with benefit
    VAL = "VAL"  # valmennus, coaching
    KOT = "KOT"  # kotoutumiskoulutus, integration training


class Benefit(StrEnum):
    """Unemployment benefits Kela reports payment days for (``etuus``)."""

    LABOUR_MARKET_SUBSIDY = "labour_market_subsidy"  # TMT työmarkkinatuki
    BASIC_ALLOWANCE = "basic_allowance"  # PPR peruspäiväraha
    EARNINGS_RELATED_BASIC_PART = "earnings_related_basic_part"  # APR ansiopäivärahan perusosa


class BenefitV2(StrEnum):
    """The benefits of ``benefit-day.v2``: those of ``Benefit`` and general support.

    A separate enum, not a fourth ``Benefit`` value: ``benefit-day.v1`` is released with three
    values, and a consumer of that release would reject a fourth.
    """

    LABOUR_MARKET_SUBSIDY = "labour_market_subsidy"  # TMT työmarkkinatuki
    BASIC_ALLOWANCE = "basic_allowance"  # PPR peruspäiväraha
    EARNINGS_RELATED_BASIC_PART = "earnings_related_basic_part"  # APR ansiopäivärahan perusosa
    GENERAL_SUPPORT = "general_support"  # YLT yleistuki, from 1 May 2026


class ReferralService(StrEnum):
    """Services a referral can ask for (``palvelu`` of a referral)."""

    REHABILITATIVE_WORK_ACTIVITY = "rehabilitative_work_activity"  # KUNTOUTTAVA_TYOTOIMINTA
    HEALTH_CHECK = "health_check"  # TERVEYSTARKASTUS
    WORK_ABILITY_ASSESSMENT = "work_ability_assessment"  # TYOKYVYN_ARVIOINTI
    MULTISECTOR_SUPPORT = "multisector_support"  # MONIALAINEN_TUKI, law 381/2023
    INTEGRATION_TRAINING = "integration_training"  # KOTOUTUMISKOULUTUS


class Urgency(StrEnum):
    """Urgency of a referral (``kiireellisyys``)."""

    ROUTINE = "routine"  # normaali
    URGENT = "urgent"  # kiireellinen


class ReferralState(StrEnum):
    """Where a referral stands, as reported by its receiver."""

    RECEIVED = "received"  # VASTAANOTETTU
    ACCEPTED = "accepted"  # HYVAKSYTTY
    REJECTED = "rejected"  # HYLATTY
    IN_PROGRESS = "in_progress"  # ALKANUT
    COMPLETED = "completed"  # PAATTYNYT
    CANCELLED = "cancelled"  # PERUTTU
