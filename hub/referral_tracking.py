"""Keeping the referral register in step with the canonical referral topics.

One route consumes ``hub.service-referral.v1`` (a referral opens) and
``hub.referral-status.v1`` (it moves on); it publishes nothing. Invalid canonical events are
dead-lettered like any other bad input.
"""

from __future__ import annotations

from pydantic import ValidationError

from hub.pipeline import Accepted, Route
from hub.referrals import ReferralRegister
from schemas.envelope import ReferralStatusEvent, ServiceReferralEvent
from schemas.rejection import Rejection

__all__ = ["REFERRAL_TOPICS", "referral_tracking_route"]

REFERRAL_TOPICS = ("hub.service-referral.v1", "hub.referral-status.v1")


def _invalid(exc: ValidationError) -> Rejection:
    first = exc.errors(include_input=False, include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    return Rejection("invalid-canonical-event", f"{where}: {first['msg']}")


def referral_tracking_route(register: ReferralRegister) -> Route:
    """The route that records referrals and their states in ``register``."""

    def translate(value: bytes) -> Accepted | Rejection:
        try:
            referral = ServiceReferralEvent.model_validate_json(value)
        except ValidationError as referral_error:
            try:
                status = ReferralStatusEvent.model_validate_json(value)
            except ValidationError:
                return _invalid(referral_error)
            register.stage_state(status.data.referral_id, status.data.state)
        else:
            data = referral.data
            register.stage_referral(
                data.referral_id, referral.subject, data.sender, data.recipient, data.service
            )
        return Accepted([], settle=register.commit, abandon=register.rollback)

    return Route("referral-register", REFERRAL_TOPICS, translate)
