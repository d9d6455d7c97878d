"""Keeping the referral register in step with the canonical referral topics.

One route consumes ``hub.service-referral.v1`` (a referral opens) and
``hub.referral-status.v1`` (it moves on); it publishes nothing. A referral is named by its
sender and its id (a status event's ``referral_sender`` and ``referral_id``). A state the state
machine does not allow from the referral's current state is ignored: the receiver's connector
has already recorded a newer state, or refused the update. Invalid canonical events are
dead-lettered like any other bad input.
"""

from __future__ import annotations

from typing import Final

import orjson
from pydantic import ValidationError

from hub.core.rejections import INVALID_CANONICAL_EVENT, rejection_from
from hub.core.topics import canonical_topic
from hub.referrals.register import ReferralKey, ReferralRegister
from hub.routing.description import RouteDescription
from hub.routing.pipeline import Accepted, Route
from schemas.envelope import ReferralStatusEvent, ServiceReferralEvent
from schemas.referral_status import REFERRAL_STATUS_V1
from schemas.rejection import Rejection

__all__ = ["REFERRAL_TOPICS", "REFERRAL_TRACKING", "referral_tracking_route", "tracked_event"]

REFERRAL_TOPICS = (canonical_topic("service-referral"), canonical_topic("referral-status"))
#: The route, described: it publishes nothing.
REFERRAL_TRACKING: Final = RouteDescription("referral-register", REFERRAL_TOPICS)


def _says_status(value: bytes) -> bool:
    """True if ``value`` is a JSON object whose ``type`` is the referral-status type."""
    try:
        document = orjson.loads(value)
    except orjson.JSONDecodeError:
        return False
    return isinstance(document, dict) and document.get("type") == REFERRAL_STATUS_V1


def tracked_event(value: bytes) -> ServiceReferralEvent | ReferralStatusEvent | Rejection:
    """The referral or status event ``value`` holds, or why it holds neither."""
    if _says_status(value):
        # A status event can never be a referral event (their types differ): validated as a
        # status first, it needs no failed referral validation on the way.
        try:
            return ReferralStatusEvent.model_validate_json(value)
        except ValidationError:
            pass
    try:
        return ServiceReferralEvent.model_validate_json(value)
    except ValidationError as referral_error:
        try:
            return ReferralStatusEvent.model_validate_json(value)
        except ValidationError:
            return rejection_from(referral_error, INVALID_CANONICAL_EVENT)


def referral_tracking_route(register: ReferralRegister) -> Route:
    """The route that records referrals and their states in ``register``."""

    def translate(value: bytes) -> Accepted | Rejection:
        event = tracked_event(value)
        if isinstance(event, Rejection):
            return event
        if isinstance(event, ReferralStatusEvent):
            data = event.data
            register.stage_state(
                ReferralKey(data.referral_sender, data.referral_id), data.state, data.at
            )
        else:
            sent = event.data
            register.stage_referral(
                sent.referral_id,
                event.subject,
                sent.sender,
                sent.recipient,
                sent.service,
                sent.sent_at,
            )
        return Accepted([], ledger=register)

    return REFERRAL_TRACKING.route(translate)
