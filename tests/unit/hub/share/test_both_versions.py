"""The share ledger reads benefit-day v1 and v2: a record on both counts once, YLT counts too.

Real SQLite and PostgreSQL, like the other ledger tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from hub.routing.pipeline import Accepted
from hub.share.ledger import ShareLedger, open_share_ledger
from hub.share.route import SHARE_TOPICS, share_ledger_route
from hub.share.split import InvoiceGroup, invoice_of
from schemas.envelope import dataschema_for
from schemas.rejection import Rejection
from tests.support import benefit_day_event

V2 = "fi.paijathame.hub.benefit-day.v2"


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ShareLedger]:
    dsn = None if request.param == "sqlite" else request.getfixturevalue("postgres").new_database()
    opened = open_share_ledger(tmp_path / "share", dsn)
    try:
        yield opened
    finally:
        opened.close()


def _v1(**data: Any) -> bytes:
    fields: dict[str, Any] = {
        "record_id": "K2026-000000001",
        "paid_days": 20,
        "amount_paid": "744.20",
        "cumulative_days": 210,
        "period_start": "2026-03-02",
        "period_end": "2026-03-27",
        "payment_date": "2026-04-01",
        **data,
    }
    return benefit_day_event(**fields).model_dump_json().encode()


def _v2(**data: Any) -> bytes:
    """The same record as ``benefit-day.v2`` (v2's model validates the benefit: general
    support is not accepted through ``benefit_day_event``, so the type is changed on the
    JSON)."""
    event = orjson.loads(_v1())
    event["type"] = V2
    event["dataschema"] = dataschema_for(V2)
    event["data"].update(data)
    return orjson.dumps(event)


def _take(ledger: ShareLedger, value: bytes) -> list[str | None]:
    accepted = share_ledger_route(ledger).translate(value)
    assert isinstance(accepted, Accepted)
    accepted.settle()
    return [message.event_id for message in accepted.messages]


def test_the_route_reads_both_major_versions() -> None:
    assert set(SHARE_TOPICS) == {"hub.benefit-day.v1", "hub.benefit-day.v2"}


@pytest.mark.parametrize("order", ["v1-first", "v2-first"])
def test_the_same_record_on_both_topics_counts_once(ledger: ShareLedger, order: str) -> None:
    first, second = (_v1(), _v2()) if order == "v1-first" else (_v2(), _v1())
    # Days 191-210 cross the step at day 201: alerted once, whichever topic came first.
    assert _take(ledger, first) == ["share.benefit-threshold:K2026-000000001:201"]
    assert _take(ledger, second) == []
    assert ledger.count() == 1
    [record] = ledger.records("2026-04")
    assert (record.share.benefit, record.share.paid_days) == ("TMT", 20)


def test_the_same_record_on_both_topics_in_one_batch_counts_once(ledger: ShareLedger) -> None:
    route = share_ledger_route(ledger)
    staged = [route.translate(value) for value in (_v2(), _v1())]
    assert all(isinstance(outcome, Accepted) for outcome in staged)
    staged[0].settle()  # type: ignore[union-attr]
    assert ledger.count() == 1


def test_two_records_on_v2_are_two(ledger: ShareLedger) -> None:
    _take(ledger, _v2())
    _take(ledger, _v2(record_id="K2026-000000002", cumulative_days=230))
    assert ledger.count() == 2


def test_a_general_support_record_counts_in_the_tmt_ppr_ylt_group(ledger: ShareLedger) -> None:
    _take(
        ledger,
        _v2(
            benefit="general_support",
            period_start="2026-05-04",
            period_end="2026-05-29",
            payment_date="2026-06-02",
        ),
    )
    [record] = ledger.records("2026-06")
    assert record.share.benefit == "YLT"
    assert invoice_of(record.share.benefit) is InvoiceGroup.TMT


def test_general_support_on_v1_is_dead_lettered(ledger: ShareLedger) -> None:
    event = orjson.loads(_v1())
    event["data"]["benefit"] = "general_support"
    outcome = share_ledger_route(ledger).translate(orjson.dumps(event))
    assert isinstance(outcome, Rejection)
    assert outcome.reason == "invalid-canonical-event"
    assert ledger.count() == 0
