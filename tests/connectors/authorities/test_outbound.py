"""Referral status updates to the authorities: exactly the document's four keys, nothing else."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from connectors.authorities.native import REFERRAL_STATES
from connectors.authorities.outbound import WrongEventTypeError, render_referral_status
from schemas.codes import Authority, Partner, ReferralState
from schemas.envelope import ReferralStatusEvent, dataschema_for
from schemas.person_ref import person_ref_for
from schemas.referral_status import ReferralStatus

CODE: Final = "131052-930V"
SECRET: Final = b"test-secret-for-authorities-0123456789"
DATA_FIELDS: Final = ("referral_id", "state", "reason", "at")


def canonical_event(**data: Any) -> ReferralStatusEvent:
    """A complete canonical referral-status event from sote; ``data`` overrides fields."""
    fields: dict[str, Any] = {
        "referral_id": "L-2025-000871",
        "state": "accepted",
        "reason": None,
        "reported_by": "sote",
        "referral_sender": "lahti",
        "at": "2025-03-20T09:30:00+02:00",
        **data,
    }
    return ReferralStatusEvent.model_validate(
        {
            "id": "2f1d7c1e-8f0b-5d0e-9b8a-0c3c3d1f0a11",
            "source": "urn:fi:paijathame:hub:connector:sote",
            "subject": person_ref_for(CODE, SECRET),
            "time": fields["at"],
            "dataschema": dataschema_for("fi.paijathame.hub.referral-status.v1"),
            "data": fields,
        }
    )


def projected(**data: Any) -> dict[str, Any]:
    """The event as the authority's contract would project it: envelope and four fields."""
    event = canonical_event(**data).model_dump(mode="json")
    event["data"] = {name: event["data"][name] for name in DATA_FIELDS}
    return event


def rendered(**data: Any) -> dict[str, Any]:
    result = orjson.loads(render_referral_status(projected(**data)))
    assert isinstance(result, dict)
    return result


def test_accepted_referral_renders_exactly_the_document_shape() -> None:
    assert render_referral_status(projected()) == (
        b'{"lahete_id":"L-2025-000871","tila":"HYVAKSYTTY","syy":null,'
        b'"aika":"2025-03-20T09:30:00+02:00"}'
    )


def test_keys_are_the_documents_four_in_its_order() -> None:
    assert list(rendered()) == ["lahete_id", "tila", "syy", "aika"]


@pytest.mark.parametrize(
    ("state", "tila"),
    [
        ("received", "VASTAANOTETTU"),
        ("accepted", "HYVAKSYTTY"),
        ("rejected", "HYLATTY"),
        ("in_progress", "ALKANUT"),
        ("completed", "PAATTYNYT"),
        ("cancelled", "PERUTTU"),
    ],
)
def test_each_state_renders_as_its_tila(state: str, tila: str) -> None:
    assert rendered(state=state)["tila"] == tila


def test_every_canonical_state_has_a_tila() -> None:
    assert set(REFERRAL_STATES) == set(ReferralState)
    assert len(set(REFERRAL_STATES.values())) == len(ReferralState)


def test_reason_is_rendered_as_written_in_utf8() -> None:
    reason = "Asiakas ei täytä kriteerejä \u2603"
    raw = render_referral_status(projected(state="rejected", reason=reason))
    assert reason.encode("utf-8") in raw
    assert orjson.loads(raw)["syy"] == reason


@pytest.mark.parametrize("reason", [None, ""], ids=["none", "empty"])
def test_no_reason_is_null(reason: str | None) -> None:
    assert rendered(reason=reason)["syy"] is None


def test_a_projection_without_reason_renders_null() -> None:
    event = projected()
    del event["data"]["reason"]
    assert orjson.loads(render_referral_status(event))["syy"] is None


@pytest.mark.parametrize(
    ("at", "aika"),
    [
        ("2025-03-20T09:30:00+02:00", "2025-03-20T09:30:00+02:00"),
        ("2025-07-20T09:30:00+03:00", "2025-07-20T09:30:00+03:00"),
        ("2025-03-20T07:30:00Z", "2025-03-20T07:30:00+00:00"),
        ("2025-03-20T09:30:00.999999+02:00", "2025-03-20T09:30:00+02:00"),
        ("2025-03-20T04:00:00+05:30", "2025-03-20T04:00:00+05:30"),
    ],
)
def test_aika_keeps_its_offset_and_whole_seconds(at: str, aika: str) -> None:
    assert rendered(at=at)["aika"] == aika


def test_envelope_attributes_are_not_rendered() -> None:
    raw = render_referral_status(projected())
    assert b"urn:fi:paijathame" not in raw
    assert person_ref_for(CODE, SECRET).encode() not in raw


@pytest.mark.parametrize(
    ("name", "value"),
    [("reported_by", "sote"), ("referral_sender", "lahti"), ("person_id", CODE)],
)
def test_a_data_field_the_projection_should_have_dropped_fails_rendering(
    name: str, value: str
) -> None:
    event = projected()
    event["data"][name] = value
    with pytest.raises(ValidationError) as raised:
        render_referral_status(event)
    assert CODE not in str(raised.value)


def test_the_unprojected_canonical_event_is_refused() -> None:
    with pytest.raises(ValidationError):
        render_referral_status(canonical_event().model_dump(mode="json"))


def test_an_event_of_another_type_is_refused() -> None:
    event = projected()
    event["type"] = "fi.paijathame.hub.client-status.v1"
    with pytest.raises(WrongEventTypeError):
        render_referral_status(event)


@pytest.mark.parametrize(
    "data",
    [
        None,
        {},
        {"referral_id": "L-1", "state": "accepted", "at": "2025-03-20T09:30:00+02:00", "x": 1},
        {"referral_id": "", "state": "accepted", "at": "2025-03-20T09:30:00+02:00"},
        {"referral_id": "L" * 51, "state": "accepted", "at": "2025-03-20T09:30:00+02:00"},
        {"referral_id": "L-1", "state": "HYVAKSYTTY", "at": "2025-03-20T09:30:00+02:00"},
        {"referral_id": "L-1", "state": "accepted", "at": "2025-03-20T09:30:00"},
        {"referral_id": "L-1", "state": "accepted"},
        {
            "referral_id": "L-1",
            "state": "accepted",
            "at": dt.datetime(2025, 3, 20, tzinfo=dt.timezone(dt.timedelta(seconds=30))),
        },
    ],
    ids=[
        "no-data",
        "empty",
        "extra",
        "empty-id",
        "long-id",
        "native-state",
        "naive-at",
        "no-at",
        "seconds-offset",
    ],
)
def test_data_that_does_not_fit_fails_rendering(data: object) -> None:
    with pytest.raises(ValidationError):
        render_referral_status({"type": "fi.paijathame.hub.referral-status.v1", "data": data})


def test_rendering_is_deterministic() -> None:
    assert render_referral_status(projected()) == render_referral_status(projected())


_OFFSETS: Final = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)


@settings(max_examples=200)
@given(
    referral_id=st.text(min_size=1, max_size=50),
    state=st.sampled_from(ReferralState),
    reason=st.none() | st.text(),
    at=st.datetimes(timezones=_OFFSETS),
)
def test_every_status_renders_and_reads_back(
    referral_id: str, state: ReferralState, reason: str | None, at: dt.datetime
) -> None:
    status = ReferralStatus(
        referral_id=referral_id,
        state=state,
        reason=reason,
        reported_by=Partner.SOTE,
        referral_sender=Authority.PH,
        at=at,
    )
    data = status.model_dump(mode="json")
    raw = render_referral_status({"data": {name: data[name] for name in DATA_FIELDS}})

    document = orjson.loads(raw)
    assert list(document) == ["lahete_id", "tila", "syy", "aika"]
    assert document["lahete_id"] == referral_id
    assert document["tila"] == REFERRAL_STATES[state]
    assert document["syy"] == (reason or None)
    aika = dt.datetime.fromisoformat(document["aika"])
    assert aika == at.replace(microsecond=0)
    assert aika.utcoffset() == at.utcoffset()
