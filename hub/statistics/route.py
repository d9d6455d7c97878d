"""Keeping the statistics store in step with the canonical topics.

One route consumes the four canonical topics and publishes nothing: each event becomes a fact
in the statistics store, committed once the message is handled (and audited). Invalid
canonical events are dead-lettered like any other bad input. The same translation refills
the store from the audit log (``hub.statistics.rebuild``).
"""

from __future__ import annotations

from typing import Final

import orjson
from pydantic import ValidationError

from hub.core.rejections import INVALID_CANONICAL_EVENT, rejection_from
from hub.core.topics import canonical_topic
from hub.routing.description import RouteDescription
from hub.routing.pipeline import Accepted, Route
from hub.statistics.figures import HELSINKI, OUTCOME_STATES
from hub.statistics.store import StatisticsStore
from schemas.benefit_day import BENEFIT_DAY_V1, BENEFIT_DAY_V2
from schemas.client_status import CLIENT_STATUS_V1
from schemas.codes import BenefitV2
from schemas.envelope import (
    BenefitDayEvent,
    BenefitDayV2Event,
    ClientStatusEvent,
    ReferralStatusEvent,
    ServiceReferralEvent,
)
from schemas.referral_status import REFERRAL_STATUS_V1
from schemas.rejection import Rejection
from schemas.service_referral import SERVICE_REFERRAL_V1

__all__ = [
    "STATISTICS",
    "STATISTICS_CONNECTOR",
    "STATISTICS_SOURCES",
    "statistics_route",
    "take_event",
]

STATISTICS_CONNECTOR: Final = "statistics"
#: The canonical topics the figures are counted from.
STATISTICS_SOURCES: Final = (
    canonical_topic("client-status"),
    # Both benefit-day versions: a record v1 can carry comes on both with one event id, and
    # the store keeps a payment once by event id; general support (YLT) comes on v2 only.
    canonical_topic("benefit-day"),
    canonical_topic("benefit-day", 2),
    canonical_topic("service-referral"),
    canonical_topic("referral-status"),
)
#: The route, described: it publishes nothing (documents go out by ``hub stats send``).
STATISTICS: Final = RouteDescription(STATISTICS_CONNECTOR, STATISTICS_SOURCES)


def _event_type(value: bytes) -> str | None:
    try:
        document = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    kind = document.get("type") if isinstance(document, dict) else None
    return kind if isinstance(kind, str) else None


def take_event(store: StatisticsStore, value: bytes) -> Rejection | None:
    """Stage the fact one canonical event holds; a rejection if it is no valid event."""
    kind = _event_type(value)
    try:
        if kind == CLIENT_STATUS_V1:
            status = ClientStatusEvent.model_validate_json(value)
            data = status.data
            store.stage_status(
                status.id,
                status.subject,
                data.employment_status,
                data.job_search_active,
                data.status_since,
                data.changed_at,
                data.home_municipality,
            )
        elif kind in {BENEFIT_DAY_V1, BENEFIT_DAY_V2}:
            model = BenefitDayEvent if kind == BENEFIT_DAY_V1 else BenefitDayV2Event
            paid = model.model_validate_json(value)
            record = paid.data
            store.stage_payment(
                paid.id,
                paid.subject,
                record.home_municipality,
                BenefitV2(record.benefit.value),
                record.paid_days,
                record.amount_paid,
                record.cumulative_days,
                record.payment_date,
            )
        elif kind == SERVICE_REFERRAL_V1:
            referral = ServiceReferralEvent.model_validate_json(value).data
            store.stage_referral(
                referral.sender.value,
                referral.referral_id,
                referral.service.value,
                referral.recipient.value,
                referral.sent_at.astimezone(HELSINKI).date(),
            )
        elif kind == REFERRAL_STATUS_V1:
            update = ReferralStatusEvent.model_validate_json(value).data
            if update.state in OUTCOME_STATES:
                store.stage_outcome(
                    update.referral_sender.value,
                    update.referral_id,
                    update.state.value,
                    update.at.astimezone(HELSINKI).date(),
                )
        else:
            return Rejection(INVALID_CANONICAL_EVENT, "not a canonical event the figures use")
    except ValidationError as exc:
        return rejection_from(exc, INVALID_CANONICAL_EVENT)
    return None


def statistics_route(store: StatisticsStore) -> Route:
    """The route that keeps ``store`` in step with the canonical topics."""

    def translate(value: bytes) -> Accepted | Rejection:
        refused = take_event(store, value)
        if refused is not None:
            return refused
        return Accepted([], ledger=store)

    return STATISTICS.route(translate)
