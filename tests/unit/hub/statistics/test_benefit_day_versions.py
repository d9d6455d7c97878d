"""The statistics read benefit-day v1 and v2: one payment once, general support counted too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from hub.routing.pipeline import Accepted
from hub.statistics.figures import Month
from hub.statistics.route import STATISTICS_SOURCES, statistics_route
from hub.statistics.sending import month_state
from hub.statistics.store import StatisticsStore, open_store
from schemas.codes import Authority
from schemas.envelope import dataschema_for
from tests.unit.hub.statistics.events import paid

MARCH = Month(2025, 3)
TOWNS = {"398": "lahti", "098": "ph"}
APRIL_FIRST = dt.datetime(2025, 4, 1, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))
V2 = "fi.paijathame.hub.benefit-day.v2"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StatisticsStore]:
    opened = open_store(tmp_path / "data", None)
    try:
        yield opened
    finally:
        opened.close()


def _as_v2(value: bytes, benefit: str | None = None) -> bytes:
    event = orjson.loads(value)
    event["type"] = V2
    event["dataschema"] = dataschema_for(V2)
    if benefit is not None:
        event["data"]["benefit"] = benefit
    return orjson.dumps(event)


def _take(store: StatisticsStore, *values: bytes) -> None:
    route = statistics_route(store)
    for value in values:
        outcome = route.translate(value)
        assert isinstance(outcome, Accepted), outcome
        outcome.settle()


def _payments(store: StatisticsStore) -> dict[str, int | None]:
    figures = month_state(store, TOWNS, Authority.LAHTI, MARCH, APRIL_FIRST).event.data
    return {name: row.payment_days.value for name, row in figures.benefit_payments.items()}


def test_both_versions_are_read() -> None:
    assert {"hub.benefit-day.v1", "hub.benefit-day.v2"} <= set(STATISTICS_SOURCES)


def test_a_payment_on_both_topics_counts_once(store: StatisticsStore) -> None:
    records = [paid(n, f"K-{n}", "2025-03-20") for n in range(6)]
    _take(store, *records, *(_as_v2(value) for value in records))
    assert store.fact_count() == 6
    assert _payments(store)["labour_market_subsidy"] == 6 * 20


def test_general_support_is_counted_as_its_own_benefit(store: StatisticsStore) -> None:
    records = [paid(n, f"Y-{n}", "2025-03-20") for n in range(6)]
    _take(store, *(_as_v2(value, "general_support") for value in records))
    payments = _payments(store)
    assert payments["general_support"] == 6 * 20
    assert payments["labour_market_subsidy"] == 0
