"""The referral register, fed by the tracking route from canonical referral events."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from hub.cli import main
from hub.pipeline import Accepted
from hub.referral_tracking import referral_tracking_route
from hub.referrals import SENT, ReferralRegister, Transition, transition
from schemas.codes import ReferralState
from schemas.envelope import ReferralStatusEvent, ServiceReferralEvent, dataschema_for
from schemas.person_ref import person_ref_for
from schemas.rejection import Rejection
from tests.support import CODE, SECRET

REF = person_ref_for(CODE, SECRET)
LATER = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _referral(referral_id: str = "L-2025-000871", recipient: str = "sote") -> bytes:
    return (
        ServiceReferralEvent.model_validate(
            {
                "id": f"ref-{referral_id}",
                "source": "urn:fi:paijathame:hub:connector:lahti",
                "subject": REF,
                "time": "2025-03-14T10:00:00+02:00",
                "dataschema": dataschema_for("fi.paijathame.hub.service-referral.v1"),
                "data": {
                    "referral_id": referral_id,
                    "person_id": CODE,
                    "sender": "lahti",
                    "recipient": recipient,
                    "service": "rehabilitative_work_activity",
                    "reason": "selkävaiva",
                    "urgency": "routine",
                    "requested_start": "2025-04-01",
                    "consent": True,
                    "sent_at": "2025-03-14T10:00:00+02:00",
                },
            }
        )
        .model_dump_json()
        .encode()
    )


def _status(state: str, referral_id: str = "L-2025-000871", **extra: Any) -> bytes:
    return (
        ReferralStatusEvent.model_validate(
            {
                "id": f"st-{referral_id}-{state}",
                "source": "urn:fi:paijathame:hub:connector:sote",
                "subject": REF,
                "time": "2025-03-15T10:00:00+02:00",
                "dataschema": dataschema_for("fi.paijathame.hub.referral-status.v1"),
                "data": {
                    "referral_id": referral_id,
                    "state": state,
                    "reported_by": "sote",
                    "referral_sender": "lahti",
                    "at": "2025-03-15T10:00:00+02:00",
                    **extra,
                },
            }
        )
        .model_dump_json()
        .encode()
    )


@pytest.fixture
def register(tmp_path: Path) -> ReferralRegister:
    return ReferralRegister.open(tmp_path)


def _feed(register: ReferralRegister, *values: bytes) -> None:
    route = referral_tracking_route(register)
    for value in values:
        outcome = route.translate(value)
        assert isinstance(outcome, Accepted)
        assert outcome.messages == []
        outcome.settle()


def test_a_referral_opens_a_relationship_until_a_final_state(register: ReferralRegister) -> None:
    assert not register.has_open_referral(REF, "sote", LATER)
    _feed(register, _referral())
    assert register.has_open_referral(REF, "sote", LATER)
    assert not register.has_open_referral(REF, "ph", LATER)
    _feed(register, _status("accepted"), _status("in_progress"))
    assert register.has_open_referral(REF, "sote", LATER)
    _feed(register, _status("completed"))
    assert not register.has_open_referral(REF, "sote", LATER)


@pytest.mark.parametrize(
    "path", [["rejected"], ["cancelled"], ["accepted", "in_progress", "completed"]]
)
def test_every_final_state_closes(register: ReferralRegister, path: list[str]) -> None:
    _feed(register, _referral(), *(_status(state) for state in path))
    assert not register.has_open_referral(REF, "sote", LATER)


def test_another_open_referral_keeps_the_relationship(register: ReferralRegister) -> None:
    _feed(register, _referral("L-1"), _referral("L-2"), _status("rejected", "L-1"))
    assert register.has_open_referral(REF, "sote", LATER)


def test_a_repeated_referral_does_not_reopen_a_closed_one(register: ReferralRegister) -> None:
    _feed(register, _referral(), _status("rejected"), _referral())
    assert not register.has_open_referral(REF, "sote", LATER)


def test_status_of_an_unknown_referral_changes_nothing(register: ReferralRegister) -> None:
    _feed(register, _status("accepted", "L-unknown"))
    assert register.referral("L-unknown") is None


def test_abandoned_changes_are_not_kept(register: ReferralRegister) -> None:
    outcome = referral_tracking_route(register).translate(_referral())
    assert isinstance(outcome, Accepted)
    outcome.abandon()
    assert not register.has_open_referral(REF, "sote", LATER)


def test_the_register_survives_a_restart(tmp_path: Path) -> None:
    _feed(ReferralRegister.open(tmp_path), _referral())
    again = ReferralRegister.open(tmp_path)
    record = again.referral("L-2025-000871")
    assert record is not None
    assert (record.recipient, record.state) == ("sote", "sent")
    at = dt.datetime(2025, 3, 20, 9, tzinfo=dt.UTC)
    assert again.stage_state("L-2025-000871", ReferralState.ACCEPTED, at) is Transition.ALLOWED


def test_garbage_on_the_referral_topics_is_rejected(register: ReferralRegister) -> None:
    outcome = referral_tracking_route(register).translate(b'{"type": "nonsense"}')
    assert isinstance(outcome, Rejection)
    assert outcome.reason == "invalid-canonical-event"


def test_register_keeps_no_identity_code(tmp_path: Path) -> None:
    _feed(ReferralRegister.open(tmp_path), _referral())
    assert CODE.encode() not in (tmp_path / "referrals.sqlite3").read_bytes()


@pytest.mark.parametrize(
    ("current", "new", "expected"),
    [
        (SENT, "received", Transition.ALLOWED),
        (SENT, "accepted", Transition.ALLOWED),  # "received" may be skipped
        (SENT, "in_progress", Transition.ILLEGAL),
        (SENT, "completed", Transition.ILLEGAL),
        ("received", "rejected", Transition.ALLOWED),
        ("accepted", "in_progress", Transition.ALLOWED),
        ("accepted", "rejected", Transition.ILLEGAL),
        ("in_progress", "completed", Transition.ALLOWED),
        ("in_progress", "cancelled", Transition.ALLOWED),
        ("rejected", "completed", Transition.ILLEGAL),
        ("completed", "cancelled", Transition.ILLEGAL),
        ("cancelled", "accepted", Transition.ILLEGAL),
        ("accepted", "accepted", Transition.REPEAT),
    ],
)
def test_the_referral_state_machine(current: str, new: str, expected: Transition) -> None:
    assert transition(current, ReferralState(new)) is expected


def test_an_illegal_state_changes_nothing_and_history_shows_each_step(
    register: ReferralRegister,
) -> None:
    _feed(register, _referral(), _status("accepted"), _status("completed"), _status("in_progress"))
    record = register.referral("L-2025-000871")
    assert record is not None
    assert record.state == "in_progress"  # completed was skipped as illegal from accepted
    assert [entry.state for entry in register.history("L-2025-000871")] == [
        SENT, "accepted", "in_progress",
    ]  # fmt: skip


@pytest.mark.usefixtures("restore_logging")
def test_referrals_show_prints_the_history_without_identity_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _feed(ReferralRegister.open(tmp_path), _referral(), _status("accepted"))
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HUB_LOG_FORMAT", "json")
    assert main(["referrals", "show", "L-2025-000871"]) == 0
    printed = capsys.readouterr().out
    assert "state      accepted" in printed
    assert "2025-03-14T10:00:00+02:00  sent" in printed
    assert "2025-03-15T10:00:00+02:00  accepted" in printed
    assert REF in printed
    assert CODE not in printed
    assert main(["referrals", "show", "L-404"]) == 1
    assert "no referral L-404" in capsys.readouterr().err


def test_an_open_relationship_is_judged_at_the_events_time(register: ReferralRegister) -> None:
    # Sent 2025-03-14 10:00 +02:00, accepted 03-15, in progress 03-15, completed 03-15 (statuses).
    _feed(register, _referral())

    def at(text: str) -> dt.datetime:
        return dt.datetime.fromisoformat(text)

    assert not register.has_open_referral(REF, "sote", at("2025-03-14T09:59:59+02:00"))
    assert register.has_open_referral(REF, "sote", at("2025-03-14T08:00:00+00:00"))  # 10:00 +2
    _feed(register, _status("rejected"))  # at 2025-03-15T10:00:00+02:00
    assert register.has_open_referral(REF, "sote", at("2025-03-15T09:59:00+02:00"))
    assert not register.has_open_referral(REF, "sote", at("2025-03-15T10:00:00+02:00"))


def test_staged_referral_and_state_are_seen_before_commit_and_forgotten_on_rollback(
    tmp_path: Path,
) -> None:
    # A route that translates several messages before one commit judges each against what
    # the earlier ones staged.
    register = ReferralRegister.open(tmp_path)
    sent = dt.datetime(2025, 3, 14, 10, tzinfo=dt.UTC)
    register.stage_referral("L-1", REF, "lahti", "sote", "health_check", sent)
    assert register.stage_state("L-1", ReferralState.ACCEPTED, sent) is Transition.ALLOWED
    staged = register.referral("L-1")
    assert staged is not None
    assert staged.state == "accepted"
    assert register.stage_state("L-1", ReferralState.ACCEPTED, sent) is Transition.REPEAT
    register.rollback()
    assert register.referral("L-1") is None

    register.stage_referral("L-1", REF, "lahti", "sote", "health_check", sent)
    register.commit()
    register.stage_state("L-1", ReferralState.ACCEPTED, sent)
    register.rollback()
    committed = register.referral("L-1")
    assert committed is not None
    assert committed.state == SENT
    register.close()
