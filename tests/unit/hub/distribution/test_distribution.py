"""Canonical event → partner messages, decided by the contracts (no broker)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from lxml import etree

from connectors import CONNECTORS
from contracts import CONTRACT_DIR
from hub.app.runtime import renderers_for
from hub.core.rejections import KEY_NOT_SHOWN
from hub.distribution.contracts import load_contract_book
from hub.distribution.delivery_log import DeliveryLog
from hub.distribution.routes import NOT_ROUTED, distribution_routes, route_event
from hub.routing.pipeline import Accepted, Outgoing
from schemas.rejection import Rejection
from tests.support import CODE, benefit_day_event, client_status_event

RENDERERS = renderers_for(CONNECTORS)
BOOK = load_contract_book(RENDERERS)
XSD = etree.XMLSchema(etree.parse(str(CONTRACT_DIR / "kela" / "tvpt.xsd")))


def _route(family: str, value: bytes) -> list[Outgoing] | Rejection:
    return route_event(BOOK, RENDERERS, family, value)


def test_lahti_benefit_day_goes_to_lahti_only_as_cloudevents_json() -> None:
    event = benefit_day_event()
    [message] = _route("benefit-day", event.model_dump_json().encode())  # type: ignore[misc]
    assert message.topic == "out.lahti.benefit-day"
    assert message.key == event.subject.encode()
    assert message.headers == {"content-type": "application/cloudevents+json"}
    sent = orjson.loads(message.value)
    assert sent["id"] == event.id
    assert sent["data"]["amount_paid"] == "737.55"


def test_hollola_resident_goes_to_ph() -> None:
    value = benefit_day_event(home_municipality="098").model_dump_json().encode()
    assert [m.topic for m in _route("benefit-day", value)] == ["out.ph.benefit-day"]  # type: ignore[union-attr]


def test_municipality_outside_the_region_is_counted_not_routed() -> None:
    before = NOT_ROUTED["benefit-day"]
    value = benefit_day_event(home_municipality="091").model_dump_json().encode()
    assert _route("benefit-day", value) == []
    assert NOT_ROUTED["benefit-day"] == before + 1


def test_client_status_reaches_kela_as_valid_xml_without_internal_fields() -> None:
    event = client_status_event()
    [message] = _route("client-status", event.model_dump_json().encode())  # type: ignore[misc]
    assert message.topic == "out.kela.client-status"
    assert message.headers == {"content-type": "application/xml"}
    assert XSD.validate(etree.fromstring(message.value))
    text = message.value.decode()
    assert CODE in text  # Kela's contract lists the identity code
    for internal in ("Virtanen", "selkävaivoista", "A-1002345", "<Kotikunta", "398"):
        assert internal not in text


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"not json", "malformed-canonical-event"),
        (b"[1, 2]", "malformed-canonical-event"),
        (b'{"type": "fi.paijathame.hub.client-status.v1"}', "unexpected-event-type"),
        (b'{"type": "something.else"}', "unexpected-event-type"),
        (b'{"type": "fi.paijathame.hub.benefit-day.v1", "id": "x"}', "invalid-canonical-event"),
    ],
)
def test_bad_canonical_events_are_rejected_with_a_reason(value: bytes, reason: str) -> None:
    outcome = _route("benefit-day", value)
    assert isinstance(outcome, Rejection)
    assert outcome.reason == reason


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        (
            b'{"type": "fi.paijathame.hub.client-status.v1"}',
            "type 'fi.paijathame.hub.client-status.v1' on the benefit-day topic",
        ),
        (f'{{"type": "{CODE}"}}'.encode(), "a type that is no event type on the benefit-day topic"),
    ],
)
def test_a_wrong_type_is_named_only_when_it_is_an_event_type(value: bytes, detail: str) -> None:
    # Found by tests/fuzz/test_distribution.py: a stray type was quoted into the detail.
    outcome = _route("benefit-day", value)
    assert isinstance(outcome, Rejection)
    assert outcome.detail == detail


@pytest.mark.parametrize(
    ("key", "where"),
    [
        ("hetu", "data.hetu"),
        (CODE, f"data.{KEY_NOT_SHOWN}"),
        (CODE.lower(), f"data.{KEY_NOT_SHOWN}"),
    ],
)
def test_an_unknown_key_is_named_only_when_it_is_a_field_name(key: str, where: str) -> None:
    event = benefit_day_event().model_dump(mode="json")
    event["data"][key] = 1
    outcome = _route("benefit-day", orjson.dumps(event))
    assert isinstance(outcome, Rejection)
    assert outcome.detail == f"{where}: Extra inputs are not permitted"


def test_invalid_canonical_event_detail_never_shows_the_identity_code() -> None:
    raw = orjson.loads(benefit_day_event().model_dump_json())
    raw["data"]["person_id"] = "131052-930X"  # wrong check character
    outcome = _route("benefit-day", orjson.dumps(raw))
    assert isinstance(outcome, Rejection)
    assert "131052-930X" not in outcome.detail
    assert outcome.detail.startswith("data.person_id")


def test_a_redelivered_event_reaches_each_partner_once(tmp_path: Path) -> None:
    [route] = [
        r
        for r in distribution_routes(BOOK, RENDERERS, lambda: DeliveryLog.open(tmp_path))
        if "benefit-day" in r.topics[0]
    ]
    value = benefit_day_event().model_dump_json().encode()
    first = route.translate(value)
    assert isinstance(first, Accepted)
    assert [m.topic for m in first.messages] == ["out.lahti.benefit-day"]
    first.settle()
    again = route.translate(value)
    assert isinstance(again, Accepted)
    assert again.messages == []
    # Survives a restart: a new log over the same data directory still knows.
    [reopened] = [
        r
        for r in distribution_routes(BOOK, RENDERERS, lambda: DeliveryLog.open(tmp_path))
        if "benefit-day" in r.topics[0]
    ]
    assert reopened.translate(value).messages == []  # type: ignore[union-attr]


def test_an_abandoned_delivery_is_attempted_again(tmp_path: Path) -> None:
    [route] = [
        r
        for r in distribution_routes(BOOK, RENDERERS, lambda: DeliveryLog.open(tmp_path))
        if "benefit-day" in r.topics[0]
    ]
    value = benefit_day_event(record_id="K2025-000000777").model_dump_json().encode()
    failed = route.translate(value)
    assert isinstance(failed, Accepted)
    failed.abandon()  # publishing failed
    retried = route.translate(value)
    assert isinstance(retried, Accepted)
    assert len(retried.messages) == 1


def test_one_routes_commit_never_settles_another_routes_staged_delivery(tmp_path: Path) -> None:
    routes = {
        r.topics[0]: r
        for r in distribution_routes(BOOK, RENDERERS, lambda: DeliveryLog.open(tmp_path))
    }
    benefit = routes["hub.benefit-day.v1"].translate(benefit_day_event().model_dump_json().encode())
    status = routes["hub.client-status.v1"].translate(
        client_status_event().model_dump_json().encode()
    )
    assert isinstance(benefit, Accepted)
    assert isinstance(status, Accepted)
    status.settle()  # the client-status route published and committed ...
    benefit.abandon()  # ... while the benefit-day route's publish failed
    retried = routes["hub.benefit-day.v1"].translate(benefit_day_event().model_dump_json().encode())
    assert isinstance(retried, Accepted)
    assert [m.topic for m in retried.messages] == ["out.lahti.benefit-day"]
