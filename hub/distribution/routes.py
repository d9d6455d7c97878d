"""From canonical topics to partner topics, through the contracts and nothing else.

For every canonical family and major version some partner receives, one route consumes
``hub.<family>.v<N>`` and,
for each event: validates it against its canonical model, asks the contract book who may
receive it, projects it for each recipient, renders it in the recipient's format and publishes
it to the recipient's topic, keyed by the person reference. An event nobody may receive (a
home municipality outside Päijät-Häme, say) is logged and counted as not routed. Each route's
outputs and offsets commit in one Kafka transaction (``hub.routing.transactions``); the delivery log
suppresses a canonical event that reaches the route twice (published twice upstream).

Never logs identity codes or payloads: only event ids, types, partners and reasons. A
rejection's detail quotes nothing of the input but known event types and field names: a
stray ``type`` or an unknown key may be an identity code.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, Final

import orjson
from pydantic import ValidationError

from hub.audit.records import EventFacts
from hub.core.logs import get_logger
from hub.core.rejections import INVALID_CANONICAL_EVENT, rejection_from
from hub.core.topics import canonical_topic
from hub.distribution.contracts import ContractBook, Relationships, project
from hub.distribution.delivery_log import DeliveryLog
from hub.distribution.rendering import Renderer
from hub.routing.description import RouteDescription
from hub.routing.pipeline import Accepted, Outgoing, Route
from schemas.catalogue import EVENT_TYPES
from schemas.rejection import Rejection

__all__ = ["NOT_ROUTED", "distribution_descriptions", "distribution_routes", "route_event"]

log = get_logger(__name__)

#: Events nobody may receive, by family: what ``hub up`` reports (and metrics will export).
NOT_ROUTED: Final[Counter[str]] = Counter()

_CONTENT_TYPE: Final = "content-type"


def route_event(
    book: ContractBook,
    renderers: Mapping[str, Renderer],
    family: str,
    value: bytes,
    relationships: Relationships | None = None,
    version: int = 1,
) -> list[Outgoing] | Rejection:
    """Every partner message one canonical event of major ``version`` yields (possibly none):
    only partners whose contract names that version receive it. Pure but for logs (and the
    read-only ``relationships`` lookup)."""
    try:
        raw = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        return Rejection("malformed-canonical-event", f"not JSON: {exc.msg}")
    if not isinstance(raw, dict):
        return Rejection("malformed-canonical-event", "not a JSON object")
    model = EVENT_TYPES.get(str(raw.get("type")))
    if model is None or model.model_fields["type"].default.split(".")[-2:] != [
        family,
        f"v{version}",
    ]:
        shown = f"type {raw['type']!r}" if model is not None else "a type that is no event type"
        return Rejection("unexpected-event-type", f"{shown} on the {family} topic")
    try:
        event = model.model_validate(raw).model_dump(mode="json")
    except ValidationError as exc:
        return rejection_from(exc, INVALID_CANONICAL_EVENT)
    disclosures = book.disclosures_for(
        family,
        event["data"],
        event["subject"],
        relationships,
        dt.datetime.fromisoformat(event["time"]),
        version,
    )
    if not disclosures:
        NOT_ROUTED[family] += 1
        # Routine (every resident outside the region): counted in hub_events_not_routed and
        # audited; one info line per event would bury what needs attention.
        log.debug("event not routed", family=family, event_id=event["id"], reason="no-recipient")
        return []
    messages = []
    for disclosure in disclosures:
        receipt = disclosure.receipt
        renderer = renderers[receipt.format]
        projected = project(event, receipt)
        rendered = renderer.render(projected)
        facts = EventFacts(
            event_id=str(event["id"]),
            event_type=str(event["type"]),
            person_ref=str(event["subject"]),
            partner=disclosure.partner.value,
            legal_basis=f"{receipt.legal_basis.statute}, {receipt.legal_basis.section}",
            fields=tuple(projected["data"]),
        )
        messages.append(
            Outgoing(
                receipt.topic,
                rendered,
                str(event["subject"]).encode(),
                {_CONTENT_TYPE: renderer.content_type},
                str(event["id"]),
                facts,
            )
        )
        log.debug(
            "event disclosed", family=family, event_id=event["id"], partner=disclosure.partner
        )
    return messages


def _first_deliveries(deliveries: DeliveryLog, messages: list[Outgoing]) -> Accepted:
    """Drop what was delivered before (the same canonical event published twice upstream);
    stage the rest, committed once their Kafka transaction is."""
    fresh = []
    for message in messages:
        event_id = str(message.event_id)
        if deliveries.delivered(message.topic, event_id):
            log.info("redelivered event not sent again", topic=message.topic, event_id=event_id)
            continue
        deliveries.stage(message.topic, event_id)
        fresh.append(message)
    return Accepted(fresh, ledger=deliveries)


def distribution_descriptions(book: ContractBook) -> list[RouteDescription]:
    """The distribution routes ``book`` calls for, described: one per canonical family and
    major version some partner receives, publishing to the topics of its receipts."""
    # v1 keeps its route name (and so its consumer group); a later version gets its own.
    return [
        RouteDescription(
            f"distribution.{family}" + ("" if version == 1 else f".v{version}"),
            (canonical_topic(family, version),),
            tuple(
                dict.fromkeys(
                    receipt.topic
                    for contract in book.contracts.values()
                    for receipt in contract.receives
                    if (receipt.family, receipt.version) == (family, version)
                )
            ),
        )
        for family, version in sorted(book.sources())
    ]


def distribution_routes(
    book: ContractBook,
    renderers: Mapping[str, Renderer],
    open_deliveries: Callable[[], DeliveryLog],
    relationships: Relationships | None = None,
) -> list[Route]:
    """One route per canonical family that any contract lets a partner receive.

    Each route gets a delivery log of its own (its own connection, so its own transaction):
    routes run concurrently, and one route's commit must never make another route's staged,
    not yet published deliveries durable.
    """

    def translation(family: str, version: int) -> Any:
        deliveries = open_deliveries()

        def translate(value: bytes) -> Accepted | Rejection:
            routed = route_event(book, renderers, family, value, relationships, version)
            if isinstance(routed, Rejection):
                return routed
            if not routed:
                return Accepted([], not_routed=True)
            return _first_deliveries(deliveries, routed)

        return translate

    return [
        described.route(translation(family, version))
        for (family, version), described in zip(
            sorted(book.sources()), distribution_descriptions(book), strict=True
        )
    ]
