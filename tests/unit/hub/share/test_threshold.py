"""Threshold alerts: each alert day at its boundary, to the financing municipality's authority
only, keyed by the person reference."""

from __future__ import annotations

import sqlite3

import orjson
import pytest

from connectors import CONNECTORS
from hub.app.runtime import renderers_for
from hub.distribution.contracts import load_contract_book
from hub.distribution.routes import route_event
from hub.routing.pipeline import Accepted
from hub.share.ledger import ShareLedger
from hub.share.route import share_ledger_route
from hub.share.rules import load_rules
from hub.share.threshold import THRESHOLD_TOPIC, alert_days, threshold_events
from schemas.envelope import BenefitThresholdEvent
from tests.support import CODE, benefit_day_event

RULES = load_rules()
DAYS = alert_days(RULES, [80])
RENDERERS = renderers_for(CONNECTORS)
BOOK = load_contract_book(RENDERERS)


def _alerts(first: int, last: int, **data: object) -> list[tuple[int, int | None, int]]:
    event = benefit_day_event(
        paid_days=last - first + 1,
        cumulative_days=last,
        period_start="2025-03-03",
        period_end="2025-03-28",
        **data,
    )
    return [
        (a.data.threshold_day, a.data.next_step_day, a.data.current_percent)
        for a in threshold_events(event, RULES, DAYS)
    ]


def test_alert_days_are_the_configured_ones_and_every_step_boundary() -> None:
    assert DAYS == (80, 101, 201, 301, 401)
    assert alert_days(RULES, [0, -1, 90, 101]) == (90, 101, 201, 301, 401)
    assert alert_days(RULES, []) == (101, 201, 301, 401)


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (60, 79, []),  # one short of day 80
        (61, 80, [(80, 101, 0)]),  # reaches day 80 exactly
        (80, 99, [(80, 101, 0)]),  # starts on day 80
        (81, 100, []),  # one past: day 80 was crossed by the record before
        (91, 110, [(101, 201, 10)]),
        (101, 120, [(101, 201, 10)]),
        (102, 121, []),
        (385, 405, [(401, None, 40)]),  # the last step: no next one
        (75, 105, [(80, 201, 10), (101, 201, 10)]),  # two days in one record
    ],
)
def test_a_record_alerts_for_each_alert_day_within_its_days(
    first: int, last: int, expected: list[tuple[int, int | None, int]]
) -> None:
    assert _alerts(first, last) == expected


def test_corrections_empty_records_and_earlier_model_periods_never_alert() -> None:
    correction = benefit_day_event(paid_days=-20, amount_paid="-744.20", cumulative_days=80,
                                   corrects_record_id="K1", corrects_event_id="e-1",
                                   stated_home_municipality="398")  # fmt: skip
    assert threshold_events(correction, RULES, DAYS) == []
    empty = benefit_day_event(paid_days=0, amount_paid="0", cumulative_days=80)
    assert threshold_events(empty, RULES, DAYS) == []
    old = benefit_day_event(paid_days=20, cumulative_days=80, period_start="2024-12-01",
                            period_end="2024-12-31", payment_date="2025-01-03")  # fmt: skip
    assert threshold_events(old, RULES, DAYS) == []
    # A period ending on the model's first day counts.
    new = benefit_day_event(paid_days=20, cumulative_days=80, period_start="2024-12-13",
                            period_end="2025-01-01", payment_date="2025-01-03")  # fmt: skip
    assert len(threshold_events(new, RULES, DAYS)) == 1


def test_the_event_goes_to_the_financing_authority_only_keyed_by_reference() -> None:
    for municipality, partner in (("398", "lahti"), ("098", "ph")):
        event = benefit_day_event(paid_days=20, cumulative_days=80, home_municipality=municipality)
        [alert] = threshold_events(event, RULES, DAYS)
        assert alert.id == "share.benefit-threshold:K2025-000123456:80"
        value = alert.model_dump_json().encode()
        routed = route_event(BOOK, RENDERERS, "benefit-threshold", value)
        assert not isinstance(routed, type(None))
        assert [message.topic for message in routed] == [f"out.{partner}.benefit-threshold"]  # type: ignore[union-attr]
        delivered = orjson.loads(routed[0].value)  # type: ignore[index]
        assert delivered["data"]["person_id"] == CODE
        assert delivered["data"]["step_table_version"] == RULES.version


def test_route_message_key_and_headers_hold_no_identity_code() -> None:
    ledger = ShareLedger(sqlite3.connect(":memory:", check_same_thread=False), postgres=False,
                         name="memory")  # fmt: skip
    event = benefit_day_event(paid_days=20, cumulative_days=80)
    accepted = share_ledger_route(ledger).translate(event.model_dump_json().encode())
    assert isinstance(accepted, Accepted)
    [message] = accepted.messages
    assert message.topic == THRESHOLD_TOPIC
    assert message.key == event.subject.encode()
    assert CODE.encode() not in (message.key or b"")
    assert all(CODE not in value for value in message.headers.values())
    assert BenefitThresholdEvent.model_validate_json(message.value).data.person_id == CODE
