"""The Päijät-Sote route's own rejections: unknown referrals and illegal transitions."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from connectors.sote.wiring import task_translation
from hub.pipeline import Accepted
from hub.referrals import ReferralRegister
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
