"""Which topics the Kela connector consumes and which format it renders: the only file of the
connector that knows about the broker.

In: ``in.kela.benefit-day`` (one CSV data line per message) → ``hub.benefit-day.v2``, and
``hub.benefit-day.v1`` for the benefits v1 can carry (``connectors.kela.versions``), keyed by
the person reference. Out: Kela's labour-policy XML, rendered by the contract-driven
distribution from ``hub.client-status.v1`` to ``out.kela.client-status``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from connectors.kela.intake import Duplicate, Intake
from connectors.kela.ledger import BenefitLedger
from connectors.kela.outbound import render_statement
from connectors.kela.versions import BENEFIT_DAY_TOPIC, BENEFIT_DAY_V2_TOPIC, published
from hub.connector import (
    Accepted,
    ConnectorContext,
    Outgoing,
    Renderer,
    Route,
    RouteDescription,
    canonical_outgoing,
)
from hub.core.logs import get_logger
from hub.core.topics import inbound_topic
from schemas.envelope import BenefitDayV2Event
from schemas.rejection import Rejection

__all__ = [
    "BENEFIT_DAY_TOPIC",
    "BENEFIT_DAY_V2_TOPIC",
    "IN_TOPIC",
    "ROUTE",
    "STATEMENT_XML",
    "build_routes",
    "canonical_messages",
]

IN_TOPIC: Final = inbound_topic("kela", "benefit-day")
#: The streaming route: Kela's records in, each record's event on both benefit-day versions.
ROUTE: Final = RouteDescription(
    "kela", (IN_TOPIC,), produces=(BENEFIT_DAY_V2_TOPIC, BENEFIT_DAY_TOPIC)
)

log = get_logger(__name__)


def _render(projected: Mapping[str, Any]) -> bytes:
    return render_statement(str(projected["id"]), projected["data"])


#: Kela's labour-policy XML (contracts/kela.yaml names it).
STATEMENT_XML: Final = Renderer("kela-tvpt-xml", "application/xml", _render)


def canonical_messages(event: BenefitDayV2Event) -> list[Outgoing]:
    """The Kafka messages of one record's canonical event: CloudEvents JSON keyed by person,
    on ``hub.benefit-day.v2`` and, when v1 can carry it, on ``hub.benefit-day.v1`` with the
    same event id."""
    return [canonical_outgoing(shown) for _, shown in published(event)]


def build_routes(context: ConnectorContext) -> Sequence[Route]:
    """The streaming path: Kela's per-record messages into the canonical topic."""
    intake = Intake(
        BenefitLedger.open(context.settings.data_dir, context.pseudonym_secret),
        context.pseudonym_secret,
        context.settings.kela_data_start,
    )

    def translate(value: bytes) -> Accepted | Rejection:
        taken = intake.take(value)
        if isinstance(taken, Rejection):
            return taken
        if isinstance(taken, Duplicate):
            log.info("duplicate record accepted once", connector="kela", record_id=taken.record_id)
            return Accepted([])
        return Accepted(taken.messages(), ledger=intake.ledger)

    return [ROUTE.route(translate)]
