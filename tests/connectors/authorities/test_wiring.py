"""The stateful part of the labour-authority connector: each message once, moves detected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.authorities.state import AuthorityState
from connectors.authorities.wiring import client_status_translation, referral_translation
from hub.pipeline import Accepted
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
