"""Which topics the labour-authority connector consumes and which format it renders: the only
file of the connector that knows about the broker.

In, for each authority (``lahti``, ``ph``): ``in.<authority>.client-status`` →
``hub.client-status.v1`` and ``in.<authority>.service-referral`` → ``hub.service-referral.v1``,
keyed by the person reference; a duplicate ``muutosId`` / ``lahete_id`` is published once.
``in.<authority>.referral-status`` → ``hub.referral-status.v1``: the authority's answers to the
integration-training referrals the other authority sent it, checked against the referral
register's state machine like Päijät-Sote's Tasks (``unknown-referral``,
``not-the-recipient``, ``illegal-transition``; a repeated state is accepted once).
Out: the referral-status JSON of the interface document, rendered by the contract-driven
distribution to ``out.<authority>.referral-status`` (of the referral's sender).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Final

from connectors.authorities.inbound import (
    parse_referral,
    parse_status_change,
    referral_event,
    status_event,
)
from connectors.authorities.outbound import render_referral_status
from connectors.authorities.referral_answer import (
    ILLEGAL_TRANSITION,
    NOT_THE_RECIPIENT,
    UNKNOWN_REFERRAL,
    Answer,
    answer_event,
    other_authority,
    parse_answer,
)
from connectors.authorities.state import AuthorityState, Seen
from hub.connector import (
    Accepted,
    CanonicalEvent,
    ConnectorContext,
    Renderer,
    Route,
    RouteDescription,
    canonical_outgoing,
)
from hub.core.logs import get_logger
from hub.core.topics import canonical_topic, inbound_topic
from hub.referrals.register import (
    ReferralKey,
    ReferralRecord,
    ReferralRegister,
    Transition,
    transition,
)
from schemas.client_status import ClientStatus
from schemas.codes import Authority, ReferralService
from schemas.rejection import Rejection

__all__ = [
    "REFERRAL_STATUS_JSON",
    "ROUTES",
    "answer_translation",
    "build_routes",
    "client_status_translation",
    "referral_translation",
]

log = get_logger(__name__)

#: The referral-status JSON of the labour authorities' interface document.
REFERRAL_STATUS_JSON: Final = Renderer(
    "authority-referral-status-json", "application/json", render_referral_status
)


#: The partner's key of each family's message id: a detail names it and never quotes its
#: value, which can be (or hide) an identity code.
_MESSAGE_ID_KEYS: Final = {"client-status": "muutosId", "service-referral": "lahete_id"}


def _repeat(
    state: AuthorityState, family: str, message_id: str, fingerprint: str
) -> Accepted | Rejection | None:
    """The outcome of a message id seen before (None when it is new)."""
    match state.seen(family, message_id, fingerprint):
        case Seen.DUPLICATE:
            log.info("duplicate message accepted once", family=family, message_id=message_id)
            return Accepted([])
        case Seen.CONFLICT:
            return Rejection(
                f"conflicting-duplicate-{family}",
                f"{_MESSAGE_ID_KEYS[family]} was received before with different content",
            )
    return None


def _publish(
    state: AuthorityState, family: str, message_id: str, fingerprint: str, event: CanonicalEvent
) -> Accepted:
    """Publish ``event``; the message id is recorded durably once it is out."""
    state.stage_seen(family, message_id, fingerprint)
    message = canonical_outgoing(event)
    return Accepted([message], ledger=state)


def client_status_translation(
    authority: Authority, state: AuthorityState, secret: bytes
) -> Callable[[bytes], Accepted | Rejection]:
    """Status change notifications of one authority → canonical events, moves detected."""

    def translate(value: bytes) -> Accepted | Rejection:
        status = parse_status_change(value, authority)
        if isinstance(status, Rejection):
            return status
        # Fingerprint what the partner said, before the hub adds what it knows (the previous
        # home municipality changes as the person moves; a redelivery must still match).
        message_id = f"{authority}/{status.change_id}"
        fingerprint = state.fingerprint(status.model_dump_json().encode())
        repeat = _repeat(state, "client-status", message_id, fingerprint)
        if repeat is not None:
            return repeat
        event = status_event(status, secret)
        known = state.home_of(event.subject)
        # Ordered by the change's own time, never by arrival: the two authorities' topics
        # are not ordered against each other. A change older than the last one recorded is
        # stale: it moves nobody (no previous home, so no moved-out notice) and leaves the
        # residence as it is, but is still published and delivered as its contract says.
        stale = known is not None and dt.datetime.fromisoformat(known[1]) > status.changed_at
        if stale:
            log.info("stale change: older than the residence recorded", message_id=message_id)
        elif known is not None and known[0] != status.home_municipality:
            moved = {**status.model_dump(), "previous_home_municipality": known[0]}
            event = status_event(ClientStatus.model_validate(moved), secret)
        state.stage_home(event.subject, status.home_municipality, status.changed_at)
        return _publish(state, "client-status", message_id, fingerprint, event)

    return translate


def referral_translation(
    authority: Authority, state: AuthorityState, secret: bytes
) -> Callable[[bytes], Accepted | Rejection]:
    """Service referrals of one authority → canonical events, each once."""

    def translate(value: bytes) -> Accepted | Rejection:
        referral = parse_referral(value, authority)
        if isinstance(referral, Rejection):
            return referral
        # Scoped by authority: the interface document does not say lahete_id is unique
        # across the two authorities.
        message_id = f"{authority}/{referral.referral_id}"
        fingerprint = state.fingerprint(referral.model_dump_json().encode())
        repeat = _repeat(state, "service-referral", message_id, fingerprint)
        if repeat is not None:
            return repeat
        event = referral_event(referral, secret)
        return _publish(state, "service-referral", message_id, fingerprint, event)

    return translate


def _answered_referral(
    register: ReferralRegister, authority: Authority, answer: Answer
) -> ReferralRecord | Rejection:
    """The integration-training referral the other authority sent ``authority`` that
    ``answer`` is about, or why there is none. Details never quote the referral id."""
    record = register.referral(ReferralKey(other_authority(authority).value, answer.referral_id))
    if (
        record is not None
        and record.recipient == authority.value
        and record.service == ReferralService.INTEGRATION_TRAINING.value
    ):
        return record
    if register.named(answer.referral_id):
        return Rejection(
            NOT_THE_RECIPIENT,
            f"lahete_id names no referral the hub carried from "
            f"{other_authority(authority).value} to {authority.value}: the referral with this "
            "id went elsewhere",
        )
    return Rejection(UNKNOWN_REFERRAL, "lahete_id names no referral the hub carried")


def answer_translation(
    authority: Authority, register: ReferralRegister
) -> Callable[[bytes], Accepted | Rejection]:
    """``authority``'s answers to integration-training referrals → canonical referral-status
    events, through the referral state machine."""

    def translate(value: bytes) -> Accepted | Rejection:
        answer = parse_answer(value)
        if isinstance(answer, Rejection):
            return answer
        record = _answered_referral(register, authority, answer)
        if isinstance(record, Rejection):
            return record
        match transition(record.state, answer.state):
            case Transition.REPEAT:
                log.info("repeated referral status accepted once", referral=str(record.key))
                return Accepted([])
            case Transition.ILLEGAL:
                return Rejection(
                    ILLEGAL_TRANSITION,
                    f"the referral cannot go from {record.state} to {answer.state.value}",
                )
        event = answer_event(answer, authority, record.person_ref, Authority(record.sender))
        # Recorded here as well as by the tracking route, so the next answer is checked
        # against this state even before the canonical event has gone round.
        register.stage_state(record.key, answer.state, answer.at)
        message = canonical_outgoing(event)
        return Accepted([message], ledger=register)

    return translate


def _described(authority: Authority, family: str) -> RouteDescription:
    """One authority's route of one family: its own topic in, the canonical topic out."""
    return RouteDescription(
        f"{authority.value}.{family}",
        (inbound_topic(authority.value, family),),
        (canonical_topic(family),),
    )


#: Every route of the connector, in the order ``build_routes`` builds them.
ROUTES: Final = tuple(
    _described(authority, family)
    for authority in Authority
    for family in ("client-status", "service-referral", "referral-status")
)


def build_routes(context: ConnectorContext) -> Sequence[Route]:
    """Both authorities' client-status, referral and referral-status topics; each route its
    own state."""
    secret = context.pseudonym_secret
    data_dir = context.settings.data_dir
    routes = []
    for authority in Authority:
        for family, translation in (
            ("client-status", client_status_translation),
            ("service-referral", referral_translation),
        ):
            state = AuthorityState.open(data_dir, secret)
            routes.append(
                _described(authority, family).route(translation(authority, state, secret))
            )
        routes.append(
            _described(authority, "referral-status").route(
                answer_translation(authority, ReferralRegister.open(data_dir))
            )
        )
    return routes
