"""The share ledger's route: every benefit-day event, of either major version, into the ledger.

The route reads ``hub.benefit-day.v1`` and ``hub.benefit-day.v2``: while both run, the Kela
connector publishes a record v1 can carry on both with the same event id, and the ledger keeps
a record once by Kela's record id (``ShareLedger.holds``), so it is counted, and alerted on,
once. General support (``YLT``) arrives on v2 only.

A record seen for the first time that carries the person's counter over an alert day or a step
boundary publishes a ``hub.benefit-threshold.v1`` event (``hub.share.threshold``); the
contracts then decide which authority receives it. An event that is not a valid canonical
benefit-day event is dead-lettered (``invalid-canonical-event``) like any other bad input, and
the events behind it keep flowing. The record is committed only once the batch is audited, so
the audit log's recorded inputs rebuild the ledger exactly (``hub.share.rebuild``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Final

from pydantic import Field, TypeAdapter, ValidationError

from hub.core.rejections import INVALID_CANONICAL_EVENT, rejection_from
from hub.core.topics import canonical_topic
from hub.routing.canonical_outgoing import canonical_outgoing
from hub.routing.description import RouteDescription
from hub.routing.pipeline import Accepted, Outgoing, Route
from hub.share.ledger import ShareLedger
from hub.share.rules import ShareRules, load_rules
from hub.share.threshold import DEFAULT_ALERT_DAYS, THRESHOLD_TOPIC, alert_days, threshold_events
from schemas.envelope import (
    AnyBenefitDayEvent,
    BenefitThresholdEvent,
)
from schemas.rejection import Rejection

__all__ = ["SHARE_CONNECTOR", "SHARE_LEDGER", "SHARE_TOPICS", "share_ledger_route"]

SHARE_CONNECTOR: Final = "share-ledger"
SHARE_TOPICS: Final = (canonical_topic("benefit-day"), canonical_topic("benefit-day", 2))
#: The route, described: threshold alerts are all it publishes.
SHARE_LEDGER: Final = RouteDescription(SHARE_CONNECTOR, SHARE_TOPICS, (THRESHOLD_TOPIC,))

#: Either version, told apart by the CloudEvents ``type``.
_EVENTS: Final[TypeAdapter[AnyBenefitDayEvent]] = TypeAdapter(
    Annotated[AnyBenefitDayEvent, Field(discriminator="type")]
)


def _message(alert: BenefitThresholdEvent) -> Outgoing:
    return canonical_outgoing(alert)


def share_ledger_route(
    ledger: ShareLedger,
    rules: ShareRules | None = None,
    configured_days: Iterable[int] = DEFAULT_ALERT_DAYS,
) -> Route:
    """The route that keeps ``ledger`` in step with the canonical benefit-day topic and
    raises threshold alerts by ``rules`` (the packaged ones by default)."""
    used = rules or load_rules()
    days = alert_days(used, configured_days)

    def translate(value: bytes) -> Accepted | Rejection:
        try:
            event = _EVENTS.validate_json(value)
        except ValidationError as exc:
            return rejection_from(exc, INVALID_CANONICAL_EVENT)
        known = ledger.holds(event.data.record_id)
        ledger.stage(event)
        alerts = [] if known else threshold_events(event, used, days)
        return Accepted([_message(alert) for alert in alerts], ledger=ledger)

    return SHARE_LEDGER.route(translate)
