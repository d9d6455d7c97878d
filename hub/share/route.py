"""The share ledger's route: every ``hub.benefit-day.v1`` event into the share ledger.

Publishes nothing of its own; an event that is not a valid canonical benefit-day event is
dead-lettered (``invalid-canonical-event``) like any other bad input, and the events behind it
keep flowing. The record is committed only once the batch is audited, so the audit log's
recorded inputs rebuild the ledger exactly (``hub.share.rebuild``).
"""

from __future__ import annotations

from typing import Final

from pydantic import ValidationError

from hub.pipeline import Accepted, Route
from hub.share.ledger import ShareLedger
from schemas.envelope import BenefitDayEvent
from schemas.rejection import Rejection

__all__ = ["SHARE_CONNECTOR", "SHARE_TOPICS", "share_ledger_route"]

SHARE_CONNECTOR: Final = "share-ledger"
SHARE_TOPICS: Final = ("hub.benefit-day.v1",)


def _invalid(exc: ValidationError) -> Rejection:
    first = exc.errors(include_input=False, include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    return Rejection("invalid-canonical-event", f"{where}: {first['msg']}")


def share_ledger_route(ledger: ShareLedger) -> Route:
    """The route that keeps ``ledger`` in step with the canonical benefit-day topic."""

    def translate(value: bytes) -> Accepted | Rejection:
        try:
            event = BenefitDayEvent.model_validate_json(value)
        except ValidationError as exc:
            return _invalid(exc)
        ledger.stage(event)
        return Accepted([], settle=ledger.commit, abandon=ledger.rollback)

    return Route(SHARE_CONNECTOR, SHARE_TOPICS, translate)
