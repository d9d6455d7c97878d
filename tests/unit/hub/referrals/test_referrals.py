"""The referral register, fed by the tracking route from canonical referral events."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from hub.cli import main
from hub.referrals.register import SENT, ReferralKey, ReferralRegister, Transition, transition
from hub.referrals.tracking import referral_tracking_route
from hub.routing.pipeline import Accepted
from schemas.codes import ReferralState
from schemas.envelope import ReferralStatusEvent, ServiceReferralEvent, dataschema_for
from schemas.person_ref import person_ref_for
from schemas.rejection import Rejection
from tests.support import CODE, SECRET

REF = person_ref_for(CODE, SECRET)
LATER = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
L871 = ReferralKey("lahti", "L-2025-000871")


def _referral(
    referral_id: str = "L-2025-000871", recipient: str = "sote", sender: str = "lahti"
) -> bytes:
    return (
        ServiceReferralEvent.model_validate(
            {
                "id": f"ref-{sender}-{referral_id}",
                "source": f"urn:fi:paijathame:hub:connector:{sender}",
                "subject": REF,
                "time": "2025-03-14T10:00:00+02:00",
                "dataschema": dataschema_for("fi.paijathame.hub.service-referral.v1"),
                "data": {
                    "referral_id": referral_id,
                    "person_id": CODE,
                    "sender": sender,
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


def _status(
    state: str, referral_id: str = "L-2025-000871", sender: str = "lahti", **extra: Any
) -> bytes:
    return (
        ReferralStatusEvent.model_validate(
            {
                "id": f"st-{sender}-{referral_id}-{state}",
                "source": "urn:fi:paijathame:hub:connector:sote",
                "subject": REF,
                "time": "2025-03-15T10:00:00+02:00",
                "dataschema": dataschema_for("fi.paijathame.hub.referral-status.v1"),
                "data": {
                    "referral_id": referral_id,
                    "state": state,
                    "reported_by": "sote",
                    "referral_sender": sender,
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
    assert register.referral(ReferralKey("lahti", "L-unknown")) is None


def test_abandoned_changes_are_not_kept(register: ReferralRegister) -> None:
    outcome = referral_tracking_route(register).translate(_referral())
    assert isinstance(outcome, Accepted)
    outcome.abandon()
    assert not register.has_open_referral(REF, "sote", LATER)


def test_the_register_survives_a_restart(tmp_path: Path) -> None:
    _feed(ReferralRegister.open(tmp_path), _referral())
    again = ReferralRegister.open(tmp_path)
    record = again.referral(L871)
    assert record is not None
    assert (record.recipient, record.state) == ("sote", "sent")
    at = dt.datetime(2025, 3, 20, 9, tzinfo=dt.UTC)
    assert again.stage_state(L871, ReferralState.ACCEPTED, at) is Transition.ALLOWED


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
        ("accepted", "completed", Transition.ALLOWED),  # a one-visit service: in_progress skipped
        ("accepted", "cancelled", Transition.ALLOWED),
        ("accepted", "received", Transition.ILLEGAL),
        ("accepted", "rejected", Transition.ILLEGAL),
        ("received", "completed", Transition.ILLEGAL),
        ("received", "in_progress", Transition.ILLEGAL),
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
    _feed(register, _status("rejected"))
    record = register.referral(L871)
    assert record is not None
    assert record.state == "completed"  # in_progress after completed was illegal
    assert [entry.state for entry in register.history(L871)] == [
        SENT, "accepted", "completed",
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
    l1 = ReferralKey("lahti", "L-1")
    register.stage_referral("L-1", REF, "lahti", "sote", "health_check", sent)
    assert register.stage_state(l1, ReferralState.ACCEPTED, sent) is Transition.ALLOWED
    staged = register.referral(l1)
    assert staged is not None
    assert staged.state == "accepted"
    assert [r.key for r in register.named("L-1")] == [l1]
    assert register.stage_state(l1, ReferralState.ACCEPTED, sent) is Transition.REPEAT
    register.rollback()
    assert register.referral(l1) is None
    assert register.named("L-1") == []

    register.stage_referral("L-1", REF, "lahti", "sote", "health_check", sent)
    register.commit()
    register.stage_state(l1, ReferralState.ACCEPTED, sent)
    register.rollback()
    committed = register.referral(l1)
    assert committed is not None
    assert committed.state == SENT
    register.close()


# --- a referral is named by its sender and its id ------------------------------------------


def test_the_same_id_from_both_authorities_is_two_referrals(register: ReferralRegister) -> None:
    _feed(register, _referral("L-1", sender="lahti"), _referral("L-1", sender="ph"))
    lahti, ph = ReferralKey("lahti", "L-1"), ReferralKey("ph", "L-1")
    assert [r.key for r in register.named("L-1")] == [lahti, ph]
    _feed(register, _status("rejected", "L-1", sender="ph"))
    lahti_record, ph_record = register.referral(lahti), register.referral(ph)
    assert lahti_record is not None
    assert ph_record is not None
    assert (lahti_record.state, ph_record.state) == (SENT, "rejected")
    assert [e.state for e in register.history(lahti)] == [SENT]
    assert [e.state for e in register.history(ph)] == [SENT, "rejected"]
    # Päijät-Häme's rejection closes its referral only: Lahti's keeps the relationship open.
    assert register.has_open_referral(REF, "sote", LATER)
    _feed(register, _status("cancelled", "L-1", sender="lahti"))
    assert not register.has_open_referral(REF, "sote", LATER)


#: The register's layout before referrals were keyed by sender.
_ID_ONLY_LAYOUT = """
CREATE TABLE referrals (
    referral_id TEXT PRIMARY KEY, person_ref TEXT NOT NULL, sender TEXT NOT NULL,
    recipient TEXT NOT NULL, service TEXT NOT NULL, state TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX referrals_by_person ON referrals (person_ref, recipient);
CREATE TABLE referral_history (
    referral_id TEXT NOT NULL, state TEXT NOT NULL, at TEXT NOT NULL, at_utc TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX history_by_referral ON referral_history (referral_id);
INSERT INTO referrals VALUES ('L-1', 'ref-a', 'ph', 'sote', 'health_check', 'accepted', 'x');
INSERT INTO referrals VALUES ('L-2', 'ref-b', 'lahti', 'ph', 'integration_training', 'sent',
    'x');
INSERT INTO referral_history VALUES ('L-1', 'sent', '2025-03-14T10:00:00+02:00',
    '2025-03-14T08:00:00.000000Z', 'r1');
INSERT INTO referral_history VALUES ('L-2', 'sent', '2025-03-14T11:00:00+02:00',
    '2025-03-14T09:00:00.000000Z', 'r2');
INSERT INTO referral_history VALUES ('L-1', 'accepted', '2025-03-15T10:00:00+02:00',
    '2025-03-15T08:00:00.000000Z', 'r3');
"""


def test_a_register_of_the_id_only_layout_is_migrated_with_its_history(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "referrals.sqlite3")
    db.executescript(_ID_ONLY_LAYOUT)
    db.close()
    register = ReferralRegister.open(tmp_path)
    l1, l2 = ReferralKey("ph", "L-1"), ReferralKey("lahti", "L-2")
    record = register.referral(l1)
    assert record is not None
    assert (record.person_ref, record.recipient, record.state) == ("ref-a", "sote", "accepted")
    assert [(e.state, e.recorded_at) for e in register.history(l1)] == [
        (SENT, "r1"), ("accepted", "r3"),
    ]  # fmt: skip
    assert [e.state for e in register.history(l2)] == [SENT]
    assert register.has_open_referral("ref-a", "sote", LATER)
    # Lahti's L-1 can now be recorded beside Päijät-Häme's.
    register.stage_referral("L-1", REF, "lahti", "sote", "health_check", LATER)
    register.commit()
    assert [r.sender for r in register.named("L-1")] == ["lahti", "ph"]
    register.close()
    # Opening again migrates nothing and loses nothing.
    again = ReferralRegister.open(tmp_path)
    assert [r.sender for r in again.named("L-1")] == ["lahti", "ph"]
    assert [e.state for e in again.history(l1)] == [SENT, "accepted"]


@pytest.mark.usefixtures("restore_logging")
def test_referrals_show_lists_each_senders_referral_and_from_narrows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _feed(
        ReferralRegister.open(tmp_path),
        _referral("L-1", sender="lahti"),
        _referral("L-1", sender="ph"),
        _status("accepted", "L-1", sender="ph"),
    )
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HUB_LOG_FORMAT", "json")
    assert main(["referrals", "show", "L-1"]) == 0
    printed = capsys.readouterr().out
    assert "from       lahti" in printed
    assert "from       ph" in printed
    assert main(["referrals", "show", "L-1", "--from", "ph"]) == 0
    printed = capsys.readouterr().out
    assert "from       lahti" not in printed
    assert "state      accepted" in printed
    assert main(["referrals", "show", "L-2", "--from", "ph"]) == 1
    assert "no referral L-2 from ph" in capsys.readouterr().err
