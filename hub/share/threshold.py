"""Threshold alerts: a record that carries a person's counter over a day that matters.

Pure: a canonical benefit-day event and the rules in, ``hub.benefit-threshold.v1`` events
out. The days that matter are the configured alert days (``HUB_SHARE_ALERT_DAYS``, default
80: time for a service before day 101) and every step boundary of the 2025 model. A record
paying the person's days ``first … last`` crosses each such day within them. Corrections (days
taken back), records of 0 days and records whose period ended before the 2025 model never
alert. The event id is derived from the record and the day, so a redelivered or recomputed
record gives the same event, which consumers deduplicate.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from hub.core.topics import canonical_topic
from hub.share.rules import ShareRules
from schemas.benefit_threshold import BENEFIT_THRESHOLD_V1, BenefitThreshold
from schemas.envelope import AnyBenefitDayEvent, BenefitThresholdEvent, dataschema_for

__all__ = ["DEFAULT_ALERT_DAYS", "SOURCE", "THRESHOLD_TOPIC", "alert_days", "threshold_events"]

THRESHOLD_TOPIC: Final = canonical_topic("benefit-threshold")
SOURCE: Final = "urn:fi:paijathame:hub:share"
DEFAULT_ALERT_DAYS: Final = (80,)


def alert_days(rules: ShareRules, configured: Iterable[int]) -> tuple[int, ...]:
    """The configured days and every step boundary (a step's first day after day 1), sorted."""
    boundaries = {step.from_day for step in rules.model_2025.steps if step.from_day > 1}
    return tuple(sorted(boundaries | {day for day in configured if day >= 1}))


def threshold_events(
    event: AnyBenefitDayEvent, rules: ShareRules, days: Iterable[int]
) -> list[BenefitThresholdEvent]:
    """The alerts ``event``'s record raises: one per day of ``days`` it crosses."""
    data = event.data
    if data.paid_days <= 0 or data.period_end < rules.model_2025.valid_from:
        return []
    first, last = data.cumulative_days - data.paid_days + 1, data.cumulative_days
    steps = rules.model_2025.steps
    upcoming = next((step for step in steps if step.from_day > last), None)
    alerts = []
    for day in days:
        if not first <= day <= last:
            continue
        alerts.append(
            BenefitThresholdEvent(
                id=f"share.benefit-threshold:{data.record_id}:{day}",
                source=SOURCE,
                subject=event.subject,
                time=event.time,
                dataschema=dataschema_for(BENEFIT_THRESHOLD_V1),
                data=BenefitThreshold(
                    person_id=data.person_id,
                    home_municipality=data.home_municipality,
                    threshold_day=day,
                    day_count=last,
                    current_percent=rules.model_2025.percent(last),
                    next_step_day=None if upcoming is None else upcoming.from_day,
                    next_step_percent=None if upcoming is None else upcoming.percent,
                    record_id=data.record_id,
                    payment_date=data.payment_date,
                    step_table_version=rules.version,
                ),
            )
        )
    return alerts
