"""Which topics the Päijät-Sote connector consumes and which format it renders: the only file
of the connector that knows about the broker.

In: FHIR ``Task`` resources on ``in.sote.referral-status`` → ``hub.referral-status.v1``, checked
against the referral register's state machine: a status for a referral the hub never sent to
Päijät-Sote is dead-lettered as ``unknown-referral``, a transition the referral's history does
not allow as ``illegal-transition`` - and the referral's sender hears nothing of either. A
referral is named by its sender and its id: the Task's ``requester`` names the sender; without
one the id alone must name exactly one referral sent to Päijät-Sote, else the Task is
``ambiguous-referral`` (both authorities sent one with that id). A repeated identical status
is accepted once. A rejection's detail never quotes the referral id:
an id can be, or hide, an identity code (the dead letter keeps the Task for people to read).
Out: FHIR ``ServiceRequest`` resources, rendered by the contract-driven distribution to
``out.sote.service-referral``, naming the organisations by the OIDs of the hub's settings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from connectors.sote.inbound import TaskUpdate, parse_task, status_event
from connectors.sote.outbound import DEFAULT_ORGANISATIONS, Organisations, render_service_request
from hub.connector import (
    Accepted,
    ConnectorContext,
    Renderer,
    Route,
    RouteDescription,
    canonical_outgoing,
)
from hub.core.logs import get_logger
from hub.core.settings import HubSettings
from hub.core.topics import canonical_topic, inbound_topic
from hub.referrals.register import ReferralRecord, ReferralRegister, Transition, transition
from schemas.codes import Authority, Partner
from schemas.rejection import Rejection

__all__ = [
    "IN_TOPIC",
    "ROUTE",
    "SERVICE_REQUEST_JSON",
    "build_routes",
    "configured_renderers",
    "organisations",
    "service_request_json",
    "task_translation",
]

IN_TOPIC: Final = inbound_topic("sote", "referral-status")
#: Päijät-Sote's Tasks in, referral-status events out.
ROUTE: Final = RouteDescription("sote", (IN_TOPIC,), (canonical_topic("referral-status"),))

log = get_logger(__name__)


def service_request_json(names: Organisations) -> Renderer:
    """FHIR R4 ServiceRequest JSON (contracts/sote.yaml names it), naming these OIDs."""

    def render(projected: Mapping[str, Any]) -> bytes:
        return render_service_request(projected, names)

    return Renderer("fhir-servicerequest", "application/fhir+json", render)


#: The ServiceRequest renderer with the default (placeholder) organisation OIDs.
SERVICE_REQUEST_JSON: Final = service_request_json(DEFAULT_ORGANISATIONS)


def organisations(settings: HubSettings) -> Organisations:
    """The organisation OIDs the hub's settings name."""
    return Organisations(
        lahti=settings.organisation_oid_lahti,
        ph=settings.organisation_oid_ph,
        sote=settings.organisation_oid_sote,
    )


def configured_renderers(settings: HubSettings) -> tuple[Renderer, ...]:
    """The connector's renderers with the organisation OIDs of ``settings``."""
    return (service_request_json(organisations(settings)),)


def _referral_of(register: ReferralRegister, update: TaskUpdate) -> ReferralRecord | Rejection:
    """The referral sent to Päijät-Sote that ``update`` is about, or why there is none."""
    candidates = [
        record
        for record in register.named(update.referral_id)
        if record.recipient == Partner.SOTE.value
        and (update.requester is None or record.sender == update.requester.value)
    ]
    if not candidates:
        whose = "" if update.requester is None else f" by {update.requester.value}"
        return Rejection(
            "unknown-referral",
            f"basedOn[0].identifier.value names no referral the hub sent to Päijät-Sote{whose}",
        )
    if len(candidates) > 1:
        return Rejection(
            "ambiguous-referral",
            "basedOn[0].identifier.value names referrals of "
            f"{' and '.join(r.sender for r in candidates)}: requester.identifier.value must "
            "say whose",
        )
    return candidates[0]


def task_translation(
    register: ReferralRegister, names: Organisations = DEFAULT_ORGANISATIONS
) -> Callable[[bytes], Accepted | Rejection]:
    """FHIR Tasks → canonical referral-status events, through the referral state machine.

    ``names`` are the organisation OIDs the hub's ServiceRequests carry, which a Task's
    ``requester`` copies.
    """

    def translate(value: bytes) -> Accepted | Rejection:
        update = parse_task(value, names)
        if isinstance(update, Rejection):
            return update
        record = _referral_of(register, update)
        if isinstance(record, Rejection):
            return record
        match transition(record.state, update.state):
            case Transition.REPEAT:
                log.info("repeated referral status accepted once", referral=record.referral_id)
                return Accepted([])
            case Transition.ILLEGAL:
                return Rejection(
                    "illegal-transition",
                    f"the referral cannot go from {record.state} to {update.state.value}",
                )
        event = status_event(update, record.person_ref, Authority(record.sender))
        # Recorded here as well as by the tracking route, so the next Task is checked against
        # this state even before the canonical event has gone round.
        register.stage_state(record.key, update.state, update.at)
        message = canonical_outgoing(event)
        return Accepted([message], ledger=register)

    return translate


def build_routes(context: ConnectorContext) -> Sequence[Route]:
    """Päijät-Sote's Task topic."""
    register = ReferralRegister.open(context.settings.data_dir)
    return [ROUTE.route(task_translation(register, organisations(context.settings)))]
