"""The Päijät-Sote route's own rejections: unknown referrals and illegal transitions."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from connectors.sote.wiring import task_translation
from hub.referrals.register import ReferralKey, ReferralRegister
from hub.routing.pipeline import Accepted
from schemas.person_ref import person_ref_for
from schemas.rejection import Rejection
from tests.support import CODE, SECRET

SENT_AT = dt.datetime(2025, 3, 14, 10, tzinfo=dt.UTC)


@pytest.fixture
def register(tmp_path: Path) -> ReferralRegister:
    return ReferralRegister.open(tmp_path)


def _task(referral_id: str, status: str) -> bytes:
    return json.dumps(
        {
            "resourceType": "Task",
            "basedOn": [{"identifier": {"value": referral_id}}],
            "status": status,
            "intent": "order",
            "lastModified": "2025-05-12T10:20:00+03:00",
        }
    ).encode()


def test_a_task_for_an_unknown_referral_does_not_quote_the_identity_code_it_names(
    register: ReferralRegister,
) -> None:
    # Found by tests/fuzz: a Task whose referral id is an identity code.
    task = (
        b'{"resourceType":"Task","id":"t-6001","basedOn":[{"identifier":{"value":"010199+9001"}}],'
        b'"status":"cancelled","statusReason":{"text":"Asiakas muutti toiselle paikkakunnalle."},'
        b'"intent":"order","for":{"identifier":{"system":"urn:oid:1.2.246.21",'
        b'"value":"131052-930V"}},"owner":{},"lastModified":"2025-05-12T10:20:00+03:00"}'
    )
    outcome = task_translation(register)(task)
    assert isinstance(outcome, Rejection)
    assert outcome.reason == "unknown-referral"
    assert "010199+9001" not in outcome.detail


def test_an_illegal_transition_names_the_states_but_not_a_referral_id_that_is_a_code(
    register: ReferralRegister,
) -> None:
    register.stage_referral(
        CODE, person_ref_for(CODE, SECRET), "lahti", "sote", "health_check", SENT_AT
    )
    register.commit()
    translate = task_translation(register)
    accepted = translate(_task(CODE, "rejected"))
    assert isinstance(accepted, Accepted)
    accepted.settle()
    outcome = translate(_task(CODE, "in-progress"))
    assert isinstance(outcome, Rejection)
    assert outcome.reason == "illegal-transition"
    assert outcome.detail == "the referral cannot go from rejected to in_progress"
    assert CODE not in outcome.detail


def _task_of(referral_id: str, status: str, requester: str | None) -> bytes:
    task = json.loads(_task(referral_id, status))
    if requester is not None:
        task["requester"] = {"identifier": {"value": requester}}
    return json.dumps(task).encode()


def _sent(register: ReferralRegister, *senders: str) -> None:
    for sender in senders:
        register.stage_referral(
            "L-1", person_ref_for(CODE, SECRET), sender, "sote", "health_check", SENT_AT
        )
    register.commit()


def _sender_of(outcome: Accepted | Rejection) -> str:
    assert isinstance(outcome, Accepted), outcome
    [message] = outcome.messages
    outcome.settle()
    return str(json.loads(message.value)["data"]["referral_sender"])


@pytest.mark.parametrize("sender", ["lahti", "ph"])
def test_a_task_for_the_only_referral_with_its_id_needs_no_requester(
    register: ReferralRegister, sender: str
) -> None:
    _sent(register, sender)
    assert _sender_of(task_translation(register)(_task_of("L-1", "accepted", None))) == sender


def test_when_both_authorities_sent_the_id_the_requester_says_whose(
    register: ReferralRegister,
) -> None:
    _sent(register, "lahti", "ph")
    translate = task_translation(register)
    ambiguous = translate(_task_of("L-1", "accepted", None))
    assert isinstance(ambiguous, Rejection)
    assert ambiguous.reason == "ambiguous-referral"
    assert _sender_of(translate(_task_of("L-1", "accepted", "ph"))) == "ph"
    # Päijät-Häme's referral moved on; Lahti's is still only sent.
    assert _sender_of(translate(_task_of("L-1", "rejected", "lahti"))) == "lahti"
    lahti = register.referral(ReferralKey("lahti", "L-1"))
    ph = register.referral(ReferralKey("ph", "L-1"))
    assert lahti is not None
    assert ph is not None
    assert (lahti.state, ph.state) == ("rejected", "accepted")


def test_a_requester_that_sent_no_such_referral_is_told_unknown(
    register: ReferralRegister,
) -> None:
    _sent(register, "lahti")
    outcome = task_translation(register)(_task_of("L-1", "accepted", "ph"))
    assert isinstance(outcome, Rejection)
    assert outcome.reason == "unknown-referral"


def test_a_one_visit_service_goes_from_accepted_to_completed(register: ReferralRegister) -> None:
    _sent(register, "lahti")
    translate = task_translation(register)
    _sender_of(translate(_task_of("L-1", "accepted", None)))
    completed = translate(_task_of("L-1", "completed", None))
    assert isinstance(completed, Accepted)
    [message] = completed.messages
    assert json.loads(message.value)["data"]["state"] == "completed"
