"""The stateful part of the labour-authority connector: each message once, moves detected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors import CONNECTORS
from connectors.authorities.inbound import status_event_id
from connectors.authorities.state import AuthorityState
from connectors.authorities.wiring import client_status_translation, referral_translation
from hub.app.runtime import renderers_for
from hub.distribution.contracts import load_contract_book
from hub.distribution.delivery_log import DeliveryLog
from hub.distribution.routes import distribution_routes
from hub.routing.pipeline import Accepted
from schemas.codes import Authority
from schemas.rejection import Rejection
from tests.support import CODE, SECRET


def _status(change: str, municipality: str, at: str = "2025-03-01T08:12:00+02:00") -> bytes:
    return json.dumps(
        {
            "muutosId": change, "asiakasnumero": "A-1", "hetu": CODE, "kotikunta": municipality,
            "tyollisyystilanne": "02", "tilanneAlkaa": "2025-03-01", "tyonhakuVoimassa": True,
            "palvelu": None, "vastuuvirkailija": None, "muistiinpano": None, "muutettu": at,
        }
    ).encode()  # fmt: skip


def _data(outcome: Accepted | Rejection) -> dict[str, Any]:
    assert isinstance(outcome, Accepted)
    [message] = outcome.messages
    outcome.settle()
    return dict(json.loads(message.value)["data"])


@pytest.fixture
def lahti(tmp_path: Path) -> Any:
    return client_status_translation(Authority.LAHTI, AuthorityState.open(tmp_path, SECRET), SECRET)


@pytest.fixture
def ph(tmp_path: Path) -> Any:
    return client_status_translation(Authority.PH, AuthorityState.open(tmp_path, SECRET), SECRET)


def test_first_status_has_no_previous_municipality(lahti: Any) -> None:
    assert _data(lahti(_status("m1", "398")))["previous_home_municipality"] is None


def test_a_move_from_lahti_to_hollola_names_where_from(lahti: Any, ph: Any) -> None:
    _data(lahti(_status("m1", "398")))
    moved = _data(ph(_status("m2", "098", at="2025-05-02T09:30:00+03:00")))
    assert (moved["home_municipality"], moved["previous_home_municipality"]) == ("098", "398")


def test_a_move_back_works_in_the_other_direction(lahti: Any, ph: Any) -> None:
    _data(ph(_status("m1", "098")))
    back = _data(lahti(_status("m2", "398", at="2025-06-01T10:00:00+03:00")))
    assert back["previous_home_municipality"] == "098"


def test_staying_put_is_not_a_move(lahti: Any) -> None:
    _data(lahti(_status("m1", "398")))
    assert _data(lahti(_status("m2", "398", at="2025-04-01T08:00:00+03:00")))[
        "previous_home_municipality"
    ] is None  # fmt: skip


def test_redelivery_after_a_move_is_still_a_duplicate(lahti: Any, ph: Any) -> None:
    _data(lahti(_status("m1", "398")))
    _data(ph(_status("m2", "098", at="2025-05-02T09:30:00+03:00")))
    assert lahti(_status("m1", "398")) == Accepted([])


def test_same_change_id_with_other_content_is_a_conflict(lahti: Any) -> None:
    _data(lahti(_status("m1", "398")))
    outcome = lahti(_status("m1", "560"))
    assert isinstance(outcome, Rejection)
    assert outcome.reason == "conflicting-duplicate-client-status"


def test_a_conflict_does_not_quote_a_change_id_that_is_an_identity_code(lahti: Any) -> None:
    _data(lahti(_status(CODE, "398")))
    outcome = lahti(_status(CODE, "560"))
    assert isinstance(outcome, Rejection)
    assert outcome.reason == "conflicting-duplicate-client-status"
    assert CODE not in outcome.detail


def test_abandoned_message_is_not_remembered(lahti: Any) -> None:
    first = lahti(_status("m1", "398"))
    assert isinstance(first, Accepted)
    first.abandon()
    assert len(_data_list(lahti(_status("m1", "398")))) == 1


def _data_list(outcome: Accepted | Rejection) -> list[Any]:
    assert isinstance(outcome, Accepted)
    return outcome.messages


def test_the_same_referral_id_from_both_authorities_is_two_referrals(tmp_path: Path) -> None:
    def referral(sender: str, recipient: str) -> bytes:
        return json.dumps(
            {
                "lahete_id": "L-2025-000871", "hetu": CODE, "lahettaja": sender,
                "vastaanottaja": recipient, "palvelu": "KOTOUTUMISKOULUTUS", "perustelu": "x",
                "kiireellisyys": "normaali", "toivottu_alku": "2025-04-01", "suostumus": True,
                "lahetetty": "2025-03-14T10:00:00+02:00",
            }
        ).encode()  # fmt: skip

    state = AuthorityState.open(tmp_path, SECRET)
    from_lahti = referral_translation(Authority.LAHTI, state, SECRET)(referral("lahti", "ph"))
    assert isinstance(from_lahti, Accepted)
    from_lahti.settle()
    from_ph = referral_translation(Authority.PH, state, SECRET)(referral("ph", "lahti"))
    assert isinstance(from_ph, Accepted)
    assert len(from_ph.messages) == 1


# --- order by the change's own time (muutettu), never by arrival ---------------------------

#: Client-status events through the real contracts and a delivery log, as the hub routes them.
RENDERERS = renderers_for(CONNECTORS)
BOOK = load_contract_book(RENDERERS)


def _notice(value: bytes) -> str | None:
    """The CloudEvents ``hubnotice`` of a partner message (Kela's XML has none)."""
    return None if value.startswith(b"<") else json.loads(value).get("hubnotice")


def _delivered(tmp_path: Path, *outcomes: Accepted | Rejection) -> list[tuple[str, str | None]]:
    """(topic, hubnotice) of every partner message the canonical events of ``outcomes`` make."""
    [route] = [
        r
        for r in distribution_routes(BOOK, RENDERERS, lambda: DeliveryLog.open(tmp_path / "d"))
        if r.topics == ("hub.client-status.v1",)
    ]
    sent = []
    for outcome in outcomes:
        assert isinstance(outcome, Accepted)
        for message in outcome.messages:
            routed = route.translate(message.value)
            assert isinstance(routed, Accepted)
            routed.settle()
            sent += [(m.topic, _notice(m.value)) for m in routed.messages]
    return sent


def test_a_late_older_change_moves_nobody_and_sends_no_moved_out_notice(
    tmp_path: Path, lahti: Any, ph: Any
) -> None:
    # Hollola's record of the move in (changed 1 April) is handled before Lahti's record
    # changed 15 March, which arrives late on the other authority's topic.
    moved_in = ph(_status("p1", "098", at="2025-04-01T09:00:00+03:00"))
    assert isinstance(moved_in, Accepted)
    moved_in.settle()
    late = lahti(_status("l1", "398", at="2025-03-15T09:00:00+02:00"))
    assert isinstance(late, Accepted)
    assert [m.topic for m in late.messages] == ["hub.client-status.v1"]  # still recorded
    late_data = json.loads(late.messages[0].value)["data"]
    assert late_data["previous_home_municipality"] is None
    assert ("out.ph.client-status", "moved-out") not in _delivered(tmp_path, moved_in, late)
    # The residence stays Hollola: the next change in Hollola is no move either.
    again = _data(ph(_status("p2", "098", at="2025-04-02T09:00:00+03:00")))
    assert again["previous_home_municipality"] is None


@pytest.mark.parametrize(
    ("at", "moves"),
    [
        ("2025-04-01T08:59:59+03:00", False),  # one second older than the recorded change
        ("2025-04-01T09:00:00+03:00", True),  # the same instant: not older, so it counts
        ("2025-04-01T06:00:00+00:00", True),  # the same instant in UTC
        ("2025-04-01T09:00:01+03:00", True),  # one second newer
    ],
)
def test_a_change_is_stale_only_when_older_than_the_recorded_one(
    lahti: Any, ph: Any, at: str, moves: bool
) -> None:
    _data(ph(_status("p1", "098", at="2025-04-01T09:00:00+03:00")))
    data = _data(lahti(_status("l1", "398", at=at)))
    assert data["previous_home_municipality"] == ("098" if moves else None)


def test_a_stale_change_is_delivered_where_its_contract_says(
    tmp_path: Path, lahti: Any, ph: Any
) -> None:
    # A late Päijät-Häme record of a Lahti resident still reaches Lahti (its area, the other
    # authority's record), as a full event, not as a move.
    first = lahti(_status("l1", "398", at="2025-04-01T09:00:00+03:00"))
    assert isinstance(first, Accepted)
    first.settle()
    late = ph(_status("p1", "398", at="2025-03-15T09:00:00+02:00"))
    assert _delivered(tmp_path, first, late).count(("out.lahti.client-status", None)) == 1


# --- event ids and duplicates per authority ------------------------------------------------


def test_the_same_change_id_from_both_authorities_is_two_events_both_delivered(
    tmp_path: Path, lahti: Any, ph: Any
) -> None:
    from_lahti = lahti(_status("m1", "398"))
    from_ph = ph(_status("m1", "398", at="2025-03-02T08:12:00+02:00"))
    assert isinstance(from_lahti, Accepted)
    assert isinstance(from_ph, Accepted)
    ids = {json.loads(o.messages[0].value)["id"] for o in (from_lahti, from_ph)}
    assert len(ids) == 2
    assert ids == {status_event_id("m1", Authority.LAHTI), status_event_id("m1", Authority.PH)}
    # Kela receives both changes (one event id would have let its delivery log drop the
    # second as a repeat); Lahti receives Päijät-Häme's record of its resident.
    sent = _delivered(tmp_path, from_lahti, from_ph)
    assert sent.count(("out.kela.client-status", None)) == 2
    assert sent.count(("out.lahti.client-status", None)) == 1
    assert _delivered(tmp_path, from_lahti, from_ph) == []  # each delivered once, not again
