"""Canonical events for the statistics tests: built with the canonical models themselves."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Final

from schemas.benefit_day import BenefitDay
from schemas.client_status import ClientStatus
from schemas.codes import (
    Authority,
    Benefit,
    EmploymentStatus,
    Partner,
    ReferralService,
    ReferralState,
    Urgency,
)
from schemas.envelope import (
    BenefitDayEvent,
    ClientStatusEvent,
    ReferralStatusEvent,
    ServiceReferralEvent,
    dataschema_for,
)
from schemas.person_ref import person_ref_for
from schemas.referral_status import ReferralStatus
from schemas.service_referral import ServiceReferral
from tests.strategies import build_identity_code

__all__ = ["SECRET", "code_of", "paid", "referral", "referral_state", "status"]

SECRET: Final = b"statistics-test-pseudonym-secret-0123456789"


def code_of(number: int) -> str:
    """A temporary identity code (individual number 900-999) per test person."""
    return build_identity_code(dt.date(1980, 1, 1) + dt.timedelta(days=number), 900 + number)


def _at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T10:00:00+02:00")


def status(
    number: int,
    since: str,
    employment: EmploymentStatus = EmploymentStatus.UNEMPLOYED,
    municipality: str = "398",
    change: str | None = None,
) -> bytes:
    """A client-status event of person ``number``."""
    code = code_of(number)
    data = ClientStatus(
        change_id=change or f"m-{number}-{since}",
        authority=Authority.LAHTI,
        person_id=code,
        home_municipality=municipality,
        employment_status=employment,
        status_since=dt.date.fromisoformat(since),
        job_search_active=True,
        changed_at=_at(since),
    )
    event = ClientStatusEvent(
        id=f"cs-{data.change_id}",
        source="urn:test",
        subject=person_ref_for(code, SECRET),
        time=data.changed_at,
        dataschema=dataschema_for("fi.paijathame.hub.client-status.v1"),
        data=data,
    )
    return event.model_dump_json().encode()


def paid(
    number: int,
    record: str,
    day: str,
    days: int = 20,
    euros: str = "700.00",
    municipality: str = "398",
) -> bytes:
    """A benefit-day event of person ``number`` (negative days: a correction)."""
    code = code_of(number)
    data = BenefitDay(
        record_id=record,
        person_id=code,
        home_municipality=municipality,
        benefit=Benefit.LABOUR_MARKET_SUBSIDY,
        period_start=dt.date(2025, 3, 1),
        period_end=dt.date(2025, 3, 28),
        paid_days=days,
        amount_paid=Decimal(euros),
        cumulative_days=150,
        payment_date=dt.date.fromisoformat(day),
    )
    event = BenefitDayEvent(
        id=f"bd-{record}",
        source="urn:test",
        subject=person_ref_for(code, SECRET),
        time=_at(day),
        dataschema=dataschema_for("fi.paijathame.hub.benefit-day.v1"),
        data=data,
    )
    return event.model_dump_json().encode()


def referral(number: int, referral_id: str, day: str, sender: Authority = Authority.LAHTI) -> bytes:
    """A service-referral event of person ``number`` to Päijät-Sote."""
    code = code_of(number)
    data = ServiceReferral(
        referral_id=referral_id,
        person_id=code,
        sender=sender,
        recipient=Partner.SOTE,
        service=ReferralService.HEALTH_CHECK,
        reason="terveystarkastus",
        urgency=Urgency.ROUTINE,
        requested_start=dt.date.fromisoformat(day),
        consent=True,
        sent_at=_at(day),
    )
    event = ServiceReferralEvent(
        id=f"sr-{sender.value}-{referral_id}",
        source="urn:test",
        subject=person_ref_for(code, SECRET),
        time=data.sent_at,
        dataschema=dataschema_for("fi.paijathame.hub.service-referral.v1"),
        data=data,
    )
    return event.model_dump_json().encode()


def referral_state(number: int, referral_id: str, state: ReferralState, day: str) -> bytes:
    """A referral-status event from Päijät-Sote about a Lahti referral."""
    data = ReferralStatus(
        referral_id=referral_id,
        state=state,
        reported_by=Partner.SOTE,
        referral_sender=Authority.LAHTI,
        at=_at(day),
    )
    event = ReferralStatusEvent(
        id=f"rs-{referral_id}-{state.value}",
        source="urn:test",
        subject=person_ref_for(code_of(number), SECRET),
        time=data.at,
        dataschema=dataschema_for("fi.paijathame.hub.referral-status.v1"),
        data=data,
    )
    return event.model_dump_json().encode()
