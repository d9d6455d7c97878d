"""The two major versions of the canonical benefit-day event the Kela connector publishes.

Every record goes to ``hub.benefit-day.v2``; the records ``hub.benefit-day.v1`` can carry
(``TMT``, ``PPR``, ``APR``) go to v1 too, with the same event id, while v1 has consumers. A
``YLT`` record (general support) goes to v2 only: v1's released ``benefit`` enum has no value
for it. Pure.
"""

from __future__ import annotations

from typing import Final

from hub.core.topics import canonical_topic
from schemas._base import trusted
from schemas.benefit_day import BENEFIT_DAY_V1, BenefitDay
from schemas.codes import Benefit
from schemas.envelope import BenefitDayEvent, BenefitDayV2Event, dataschema_for

__all__ = ["BENEFIT_DAY_TOPIC", "BENEFIT_DAY_V2_TOPIC", "PublishedEvent", "as_v1", "published"]

BENEFIT_DAY_TOPIC: Final = canonical_topic("benefit-day")
BENEFIT_DAY_V2_TOPIC: Final = canonical_topic("benefit-day", 2)

PublishedEvent = BenefitDayEvent | BenefitDayV2Event

_V1_BENEFITS: Final = frozenset(b.value for b in Benefit)
_V1_DATASCHEMA: Final = dataschema_for(BENEFIT_DAY_V1)


def as_v1(event: BenefitDayV2Event) -> BenefitDayEvent | None:
    """The same event as ``benefit-day.v1`` (same id, same data), or ``None`` when v1 cannot
    carry its benefit (general support)."""
    benefit = event.data.benefit.value
    if benefit not in _V1_BENEFITS:
        return None
    # The v2 event was built from checked values, and v1 differs only in the benefit's enum
    # and the type: the same values need no second validation (``schemas._base.trusted``).
    data = trusted(BenefitDay, {**event.data.__dict__, "benefit": Benefit(benefit)})
    return trusted(
        BenefitDayEvent,
        {**event.__dict__, "dataschema": _V1_DATASCHEMA, "data": data, "type": BENEFIT_DAY_V1},
    )


def published(event: BenefitDayV2Event) -> list[tuple[str, PublishedEvent]]:
    """Each topic a record's event goes to, with the event as published there: v2 first."""
    older = as_v1(event)
    both: list[tuple[str, PublishedEvent]] = [(BENEFIT_DAY_V2_TOPIC, event)]
    return both if older is None else [*both, (BENEFIT_DAY_TOPIC, older)]
