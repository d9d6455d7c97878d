"""Which topics the labour-authority connector consumes and which format it renders: the only
file of the connector that knows about the broker.

In, for each authority (``lahti``, ``ph``): ``in.<authority>.client-status`` →
``hub.client-status.v1`` and ``in.<authority>.service-referral`` → ``hub.service-referral.v1``,
keyed by the person reference; a duplicate ``muutosId`` / ``lahete_id`` is published once.
Out: the referral-status JSON of the interface document, rendered by the contract-driven
distribution to ``out.<authority>.referral-status``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from connectors.authorities.inbound import (
    parse_referral,
    parse_status_change,
    referral_event,
    status_event,
)
from connectors.authorities.outbound import render_referral_status
from connectors.authorities.state import AuthorityState, Seen
from hub.connector import ConnectorContext
from hub.logs import get_logger
from hub.pipeline import Accepted, Outgoing, Route
from hub.rendering import Renderer
from schemas.client_status import ClientStatus
from schemas.codes import Authority
from schemas.envelope import CLOUDEVENTS_CONTENT_TYPE, CloudEvent
from schemas.rejection import Rejection

__all__ = ["REFERRAL_STATUS_JSON", "build_routes", "client_status_translation"]

log = get_logger(__name__)

#: The referral-status JSON of the labour authorities' interface document.
REFERRAL_STATUS_JSON: Final = Renderer(
    "authority-referral-status-json", "application/json", render_referral_status
)


def _published(
    state: AuthorityState, family: str, message_id: str, event: CloudEvent[Any]
) -> Accepted | Rejection:
    """Publish ``event`` once per message id; record it durably after publishing."""
    value = event.model_dump_json().encode()
    fingerprint = state.fingerprint(event.data.model_dump_json().encode())
    match state.seen(family, message_id, fingerprint):
        case Seen.DUPLICATE:
            log.info("duplicate message accepted once", family=family, event_id=event.id)
            return Accepted([])
        case Seen.CONFLICT:
            return Rejection(
                f"conflicting-duplicate-{family}",
                f"{message_id} was received before with different content",
            )
    state.stage_seen(family, message_id, fingerprint)
    message = Outgoing(
        f"hub.{family}.v1",
        value,
        event.subject.encode(),
        {"content-type": CLOUDEVENTS_CONTENT_TYPE},
        event.id,
    )
    return Accepted([message], settle=state.commit, abandon=state.rollback)


def client_status_translation(
    authority: Authority, state: AuthorityState, secret: bytes
) -> Callable[[bytes], Accepted | Rejection]:
    """Status change notifications of one authority → canonical events, moves detected."""

    def translate(value: bytes) -> Accepted | Rejection:
        status = parse_status_change(value, authority)
        if isinstance(status, Rejection):
            return status
        event = status_event(status, secret)
        known = state.home_of(event.subject)
        moved_from = known[0] if known and known[0] != status.home_municipality else None
        if moved_from is not None:
            update = {"previous_home_municipality": moved_from}
            data = ClientStatus.model_validate({**status.model_dump(), **update})
            event = status_event(data, secret)
        outcome = _published(state, "client-status", f"{authority}/{status.change_id}", event)
        if isinstance(outcome, Accepted) and outcome.messages:
            state.stage_home(event.subject, status.home_municipality, status.changed_at)
        return outcome

    return translate


def build_routes(context: ConnectorContext) -> Sequence[Route]:
    """Both authorities' client-status and referral topics; each route its own state."""
    secret = context.pseudonym_secret
    routes = []
    for authority in Authority:
        status_state = AuthorityState.open(context.settings.data_dir, secret)
        routes.append(
            Route(
                f"{authority.value}.client-status",
                (f"in.{authority.value}.client-status",),
                client_status_translation(authority, status_state, secret),
            )
        )
        referral_state = AuthorityState.open(context.settings.data_dir, secret)

        def referrals(
            value: bytes, authority: Authority = authority, state: AuthorityState = referral_state
        ) -> Accepted | Rejection:
            referral = parse_referral(value, authority)
            if isinstance(referral, Rejection):
                return referral
            event = referral_event(referral, secret)
            # Scoped by authority: the interface document does not say lahete_id is unique
            # across the two authorities.
            message_id = f"{authority}/{referral.referral_id}"
            return _published(state, "service-referral", message_id, event)

        routes.append(
            Route(
                f"{authority.value}.service-referral",
                (f"in.{authority.value}.service-referral",),
                referrals,
            )
        )
    return routes
