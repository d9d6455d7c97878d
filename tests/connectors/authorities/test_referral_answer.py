"""An authority's answers to the integration-training referrals the other one sent it."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from connectors import CONNECTORS
from connectors.authorities.inbound import EVENT_ID_NAMESPACE
from connectors.authorities.referral_answer import (
    ANSWER_REASONS,
    ROUTE_REASONS,
    Answer,
    answer_event,
    answer_event_id,
    parse_answer,
)
from connectors.authorities.wiring import answer_translation
from hub.app.runtime import renderers_for
from hub.distribution.contracts import load_contract_book
from hub.distribution.delivery_log import DeliveryLog
from hub.distribution.routes import distribution_routes
from hub.referrals.register import ReferralKey, ReferralRegister
from hub.routing.pipeline import Accepted
from schemas.codes import Authority, ReferralState
from schemas.identity_code import IDENTITY_CODE_SHAPE
from schemas.person_ref import person_ref_for
from schemas.rejection import Rejection
from tests.support import CODE, SECRET

REF = person_ref_for(CODE, SECRET)
SENT_AT = dt.datetime(2025, 3, 14, 10, tzinfo=dt.UTC)
RENDERERS = renderers_for(CONNECTORS)
BOOK = load_contract_book(RENDERERS)


def _answer(**changes: Any) -> bytes:
    message = {
        "lahete_id": "L-1",
        "tila": "HYVAKSYTTY",
        "syy": None,
        "aika": "2025-03-20T09:30:00+02:00",
        **changes,
    }
    return json.dumps({k: v for k, v in message.items() if v != "<absent>"}).encode()


def _rejected(value: bytes) -> str:
    outcome = parse_answer(value)
    assert isinstance(outcome, Rejection), outcome
    assert not IDENTITY_CODE_SHAPE.search(outcome.detail)
    return outcome.reason


# --- reading the answer ----------------------------------------------------------------------


def test_an_answer_is_read_with_its_offset() -> None:
    assert parse_answer(_answer(syy="Kurssi alkaa elokuussa.")) == Answer(
        "L-1",
        ReferralState.ACCEPTED,
        "Kurssi alkaa elokuussa.",
        dt.datetime(2025, 3, 20, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    )


@pytest.mark.parametrize(
    ("tila", "state"),
    [
        ("VASTAANOTETTU", ReferralState.RECEIVED),
        ("HYVAKSYTTY", ReferralState.ACCEPTED),
        ("HYLATTY", ReferralState.REJECTED),
        ("ALKANUT", ReferralState.IN_PROGRESS),
        ("PAATTYNYT", ReferralState.COMPLETED),
        ("PERUTTU", ReferralState.CANCELLED),
    ],
)
def test_every_documented_state_is_read(tila: str, state: ReferralState) -> None:
    answer = parse_answer(_answer(tila=tila))
    assert isinstance(answer, Answer)
    assert answer.state is state


@pytest.mark.parametrize("syy", [None, "", "   "])
def test_no_reason_is_none(syy: str | None) -> None:
    answer = parse_answer(_answer(syy=syy))
    assert isinstance(answer, Answer)
    assert answer.reason is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"\xff", "not-utf8"),
        (b"[]", "malformed-json"),
        (b'{"lahete_id": "L-1", "lahete_id": "L-2"}', "duplicate-field"),
        (_answer(syy="<absent>"), "missing-field"),
        (_answer(hetu=CODE), "unknown-field"),
        (_answer(tila=3), "wrong-field-type"),
        (_answer(lahete_id=""), "bad-identifier"),
        (_answer(lahete_id="L" * 51), "bad-identifier"),
        (_answer(lahete_id=CODE + " x"), "bad-identifier"),
        (_answer(tila="hyvaksytty"), "unknown-referral-state"),
        (_answer(tila="accepted"), "unknown-referral-state"),
        (_answer(aika="2025-03-20T09:30:00"), "bad-timestamp"),
        (_answer(aika="2025-03-20"), "bad-timestamp"),
        (_answer(aika="2025-03-20T09:30:00+14:01"), "bad-timestamp"),
    ],
)
def test_bad_answers_are_rejected_with_their_reason(value: bytes, reason: str) -> None:
    assert _rejected(value) == reason
    assert reason in ANSWER_REASONS


def test_a_referral_id_of_fifty_characters_is_read() -> None:
    assert isinstance(parse_answer(_answer(lahete_id="L" * 50)), Answer)


def test_the_event_names_the_answering_authority_and_the_sender() -> None:
    answer = parse_answer(_answer())
    assert isinstance(answer, Answer)
    event = answer_event(answer, Authority.PH, REF, Authority.LAHTI)
    assert event.source == "urn:fi:paijathame:hub:connector:ph"
    assert event.subject == REF
    assert event.id == answer_event_id(answer, Authority.LAHTI)
    assert event.model_dump(mode="json")["data"] == {
        "referral_id": "L-1",
        "state": "accepted",
        "reason": None,
        "reported_by": "ph",
        "referral_sender": "lahti",
        "at": "2025-03-20T09:30:00+02:00",
    }
    assert answer_event_id(answer, Authority.LAHTI) != answer_event_id(answer, Authority.PH)
    utc = parse_answer(_answer(aika="2025-03-20T07:30:00Z"))
    assert isinstance(utc, Answer)
    assert answer_event_id(utc, Authority.LAHTI) == answer_event_id(answer, Authority.LAHTI)


# --- the route: the referral, who answers, the state machine ---------------------------------


@pytest.fixture
def register(tmp_path: Path) -> ReferralRegister:
    return ReferralRegister.open(tmp_path)


def _sent(
    register: ReferralRegister,
    sender: str,
    recipient: str,
    service: str = "integration_training",
    referral_id: str = "L-1",
) -> None:
    register.stage_referral(referral_id, REF, sender, recipient, service, SENT_AT)
    register.commit()


def _event(outcome: Accepted | Rejection) -> dict[str, Any]:
    assert isinstance(outcome, Accepted), outcome
    [message] = outcome.messages
    assert message.topic == "hub.referral-status.v1"
    assert message.key == REF.encode()
    outcome.settle()
    return dict(json.loads(message.value))


def _reason(outcome: Accepted | Rejection) -> str:
    assert isinstance(outcome, Rejection), outcome
    assert "L-1" not in outcome.detail
    return outcome.reason


def test_ph_answers_lahtis_integration_training_referral(register: ReferralRegister) -> None:
    _sent(register, "lahti", "ph")
    event = _event(answer_translation(Authority.PH, register)(_answer()))
    assert event["data"]["reported_by"] == "ph"
    assert event["data"]["referral_sender"] == "lahti"
    record = register.referral(ReferralKey("lahti", "L-1"))
    assert record is not None
    assert record.state == "accepted"


def test_lahti_answers_phs_referral(register: ReferralRegister) -> None:
    _sent(register, "ph", "lahti")
    assert _event(answer_translation(Authority.LAHTI, register)(_answer()))["data"][
        "referral_sender"
    ] == "ph"  # fmt: skip


def test_an_answer_for_a_referral_nobody_sent_is_unknown(register: ReferralRegister) -> None:
    assert _reason(answer_translation(Authority.PH, register)(_answer())) == "unknown-referral"


@pytest.mark.parametrize(
    ("sender", "recipient", "service"),
    [
        ("lahti", "sote", "health_check"),  # Lahti's L-1 went to Päijät-Sote
        ("ph", "lahti", "integration_training"),  # Päijät-Häme's own L-1, to Lahti
        ("ph", "sote", "health_check"),
    ],
)
def test_an_authority_answering_for_a_referral_not_sent_to_it_is_refused(
    register: ReferralRegister, sender: str, recipient: str, service: str
) -> None:
    _sent(register, sender, recipient, service)
    outcome = answer_translation(Authority.PH, register)(_answer())
    assert _reason(outcome) == "not-the-recipient"
    for key in (ReferralKey("lahti", "L-1"), ReferralKey("ph", "L-1")):
        record = register.referral(key)
        assert record is None or record.state == "sent"


def test_the_other_authoritys_same_id_does_not_confuse_the_answer(
    register: ReferralRegister,
) -> None:
    # Both sent an L-1: Lahti's to Päijät-Häme (integration training), Päijät-Häme's to sote.
    _sent(register, "lahti", "ph")
    _sent(register, "ph", "sote", "health_check")
    assert _event(answer_translation(Authority.PH, register)(_answer()))["data"][
        "referral_sender"
    ] == "lahti"  # fmt: skip
    ph_own = register.referral(ReferralKey("ph", "L-1"))
    assert ph_own is not None
    assert ph_own.state == "sent"


def test_the_state_machine_holds_repeats_once_and_illegal_refused(
    register: ReferralRegister,
) -> None:
    _sent(register, "lahti", "ph")
    translate = answer_translation(Authority.PH, register)
    _event(translate(_answer(tila="HYVAKSYTTY")))
    assert translate(_answer(tila="HYVAKSYTTY")) == Accepted([])
    illegal = translate(_answer(tila="HYLATTY"))
    assert _reason(illegal) == "illegal-transition"
    assert isinstance(illegal, Rejection)
    assert illegal.detail == "the referral cannot go from accepted to rejected"
    # A course done at once: accepted straight to completed.
    _event(translate(_answer(tila="PAATTYNYT", aika="2025-06-01T12:00:00+03:00")))
    assert _reason(translate(_answer(tila="PERUTTU"))) == "illegal-transition"


def test_an_abandoned_answer_changes_nothing(register: ReferralRegister) -> None:
    _sent(register, "lahti", "ph")
    outcome = answer_translation(Authority.PH, register)(_answer())
    assert isinstance(outcome, Accepted)
    outcome.abandon()
    record = register.referral(ReferralKey("lahti", "L-1"))
    assert record is not None
    assert record.state == "sent"


def test_the_route_reasons_are_documented() -> None:
    assert set(ROUTE_REASONS) == {"unknown-referral", "not-the-recipient", "illegal-transition"}


def test_the_answer_reaches_the_sender_only_as_its_referral_status_json(
    register: ReferralRegister, tmp_path: Path
) -> None:
    _sent(register, "lahti", "ph")
    outcome = answer_translation(Authority.PH, register)(_answer(syy="Alkaa 1.8."))
    assert isinstance(outcome, Accepted)
    [canonical] = outcome.messages
    [route] = [
        r
        for r in distribution_routes(BOOK, RENDERERS, lambda: DeliveryLog.open(tmp_path / "d"))
        if r.topics == ("hub.referral-status.v1",)
    ]
    routed = route.translate(canonical.value)
    assert isinstance(routed, Accepted)
    [delivered] = routed.messages
    assert delivered.topic == "out.lahti.referral-status"
    assert json.loads(delivered.value) == {
        "lahete_id": "L-1",
        "tila": "HYVAKSYTTY",
        "syy": "Alkaa 1.8.",
        "aika": "2025-03-20T09:30:00+02:00",
    }


# Any bytes and answer-shaped objects through the route: tests/fuzz/test_authorities.py.


def test_details_name_the_field_and_the_states_expected() -> None:
    unknown = parse_answer(_answer(hetu=CODE))
    assert isinstance(unknown, Rejection)
    assert unknown.detail.startswith("'hetu' is not a field of the interface")
    state = parse_answer(_answer(tila="accepted"))
    assert isinstance(state, Rejection)
    assert state.detail == (
        "tila 'accepted' is not one of VASTAANOTETTU, HYVAKSYTTY, HYLATTY, ALKANUT, PAATTYNYT, "
        "PERUTTU"
    )


def test_the_event_id_is_uuid5_of_sender_id_state_and_utc_instant() -> None:
    answer = parse_answer(_answer())
    later = parse_answer(_answer(aika="2025-03-20T09:30:01+02:00"))
    assert isinstance(answer, Answer)
    assert isinstance(later, Answer)
    assert answer_event_id(answer, Authority.LAHTI) == str(
        uuid.uuid5(
            EVENT_ID_NAMESPACE,
            "authorities.referral-status:lahti/L-1/accepted/2025-03-20T07:30:00+00:00",
        )
    )
    assert answer_event_id(later, Authority.LAHTI) != answer_event_id(answer, Authority.LAHTI)
    event = answer_event(answer, Authority.PH, REF, Authority.LAHTI)
    assert event.dataschema == "urn:fi:paijathame:hub:schema:fi.paijathame.hub.referral-status.v1"
    assert event.type == "fi.paijathame.hub.referral-status.v1"
