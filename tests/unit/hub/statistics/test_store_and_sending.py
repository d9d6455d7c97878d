"""The statistics store (SQLite and PostgreSQL), its route, its rebuild from the audit log,
and closing a month: version 1, nothing for unchanged figures, version 2 with a reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.audit.recorder import Consumed, drafts_for
from hub.audit.records import Direction
from hub.audit.store import AuditStore, RecordQuery
from hub.routing.pipeline import Accepted
from hub.statistics.figures import Month
from hub.statistics.rebuild import rebuild
from hub.statistics.route import STATISTICS_SOURCES, statistics_route
from hub.statistics.sending import (
    MonthNotEndedError,
    NothingToCorrectError,
    ReasonRequiredError,
    month_state,
    prepare_send,
    sent_version,
)
from hub.statistics.store import StatisticsStore, open_store
from schemas.codes import Authority, ReferralState
from schemas.rejection import Rejection
from tests.unit.hub.statistics.events import paid, referral, referral_state, status

pytestmark = pytest.mark.audit

MARCH = Month(2025, 3)
TOWNS = {"398": "lahti", "098": "ph"}
APRIL_FIRST = dt.datetime(2025, 4, 1, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))


@pytest.fixture
def store(audit_dsn: str | None, tmp_path: Path) -> Iterator[StatisticsStore]:
    """An empty statistics store of either kind (the audit tests' database choice)."""
    opened = open_store(tmp_path / "data", audit_dsn)
    try:
        yield opened
    finally:
        opened.close()


def _take(store: StatisticsStore, *values: bytes) -> None:
    route = statistics_route(store)
    for value in values:
        outcome = route.translate(value)
        assert isinstance(outcome, Accepted), outcome
        assert outcome.messages == []
        outcome.settle()


def _march(persons: range = range(6)) -> list[bytes]:
    return [
        *(status(n, "2025-03-03") for n in persons),
        *(paid(n, f"K-{n}", "2025-03-20") for n in persons),
        *(referral(n, f"L-{n}", "2025-03-04") for n in persons),
    ]


def test_the_route_reads_the_four_canonical_topics_and_publishes_nothing(
    store: StatisticsStore,
) -> None:
    route = statistics_route(store)
    assert set(route.topics) == set(STATISTICS_SOURCES)
    assert route.consumer_group == "hub.statistics"
    _take(store, *_march(range(1)))
    assert store.fact_count() == 3


def test_a_repeated_event_changes_nothing(store: StatisticsStore) -> None:
    _take(store, *_march(), *_march())
    figures = month_state(store, TOWNS, Authority.LAHTI, MARCH, APRIL_FIRST).event.data
    assert figures.jobseekers_by_status.cells["02"].value == 6
    assert figures.benefit_payments["labour_market_subsidy"].persons.value == 6
    assert figures.referrals_sent["health_check"].cells["sote"].value == 6


@pytest.mark.parametrize("value", [b"", b"[]", b'{"type": "fi.paijathame.hub.other.v1"}'])
def test_what_is_no_canonical_event_is_refused(store: StatisticsStore, value: bytes) -> None:
    outcome = statistics_route(store).translate(value)
    assert isinstance(outcome, Rejection)
    assert outcome.reason == "invalid-canonical-event"


def test_an_invalid_event_of_a_known_type_is_refused_and_stages_nothing(
    store: StatisticsStore,
) -> None:
    broken = status(1, "2025-03-03").replace(b'"398"', b'"39"')
    outcome = statistics_route(store).translate(broken)
    assert isinstance(outcome, Rejection)
    assert outcome.reason == "invalid-canonical-event"
    store.commit()
    assert store.fact_count() == 0


def test_an_abandoned_message_leaves_no_fact(store: StatisticsStore) -> None:
    outcome = statistics_route(store).translate(status(1, "2025-03-03"))
    assert isinstance(outcome, Accepted)
    outcome.abandon()
    store.commit()
    assert store.fact_count() == 0


def test_outcomes_are_counted_for_the_referral_service(store: StatisticsStore) -> None:
    _take(
        store,
        *_march(),
        *(referral_state(n, f"L-{n}", ReferralState.ACCEPTED, "2025-03-10") for n in range(5)),
        referral_state(5, "L-5", ReferralState.RECEIVED, "2025-03-10"),  # not an outcome
    )
    data = month_state(store, TOWNS, Authority.LAHTI, MARCH, APRIL_FIRST).event.data
    row = data.referral_outcomes["health_check"]
    assert row.cells["accepted"].value == 5
    assert row.total.value == 5


@pytest.mark.parametrize(
    ("now", "ended"),
    [
        (dt.datetime(2025, 3, 31, 12, 0, tzinfo=dt.UTC), False),
        (dt.datetime(2025, 3, 31, 20, 59, 59, tzinfo=dt.UTC), False),  # 23:59:59 EEST
        (dt.datetime(2025, 3, 31, 21, 0, tzinfo=dt.UTC), True),  # 00:00 on 1 April, Helsinki
        (APRIL_FIRST, True),
    ],
)
def test_a_month_is_sent_only_once_it_has_ended_in_helsinki(
    store: StatisticsStore, now: dt.datetime, ended: bool
) -> None:
    if ended:
        assert prepare_send(store, TOWNS, Authority.LAHTI, MARCH, now).event is not None
    else:
        with pytest.raises(MonthNotEndedError, match="from 2025-04-01 on"):
            prepare_send(store, TOWNS, Authority.LAHTI, MARCH, now)


def _send(store: StatisticsStore, reason: str | None = None) -> int | None:
    prepared = prepare_send(store, TOWNS, Authority.LAHTI, MARCH, APRIL_FIRST, reason)
    if prepared.event is None:
        return None
    payload = prepared.event.model_dump_json().encode()
    store.record_sent(sent_version(prepared.event, payload))
    return prepared.event.data.version


def test_a_correction_after_the_month_was_sent_is_version_two_with_its_reason(
    store: StatisticsStore,
) -> None:
    _take(store, *_march())
    assert _send(store) == 1
    assert _send(store) is None  # nothing changed: nothing to send
    _take(store, paid(0, "K-0-fix", "2025-03-28", days=-5, euros="-175.00"))
    state = month_state(store, TOWNS, Authority.LAHTI, MARCH, APRIL_FIRST)
    assert state.changed
    with pytest.raises(ReasonRequiredError, match="give --reason to send version 2"):
        _send(store)
    assert _send(store, "Kela corrected a payment of March") == 2
    [first, second] = store.sent("lahti", "2025-03")
    assert (first.version, first.reason) == (1, None)
    assert (second.version, second.reason) == (2, "Kela corrected a payment of March")
    assert '"replaces_version":1' in second.document
    assert not month_state(store, TOWNS, Authority.LAHTI, MARCH, APRIL_FIRST).changed


def test_a_reason_for_a_month_never_sent_is_refused(store: StatisticsStore) -> None:
    with pytest.raises(NothingToCorrectError, match="version 1 needs no --reason"):
        _send(store, "why not")


def test_a_month_shows_the_version_sent_while_its_figures_stand(store: StatisticsStore) -> None:
    _take(store, *_march())
    _send(store)
    later = APRIL_FIRST + dt.timedelta(days=30)
    state = month_state(store, TOWNS, Authority.LAHTI, MARCH, later)
    assert (state.event.data.version, state.changed) == (1, False)
    assert state.event.data.produced_at == APRIL_FIRST


def _audit(audit: AuditStore, values: list[bytes]) -> None:
    for offset, value in enumerate(values):
        topic = STATISTICS_SOURCES[0] if b"client-status" in value else STATISTICS_SOURCES[1]
        if b"service-referral" in value:
            topic = "hub.service-referral.v1"
        consumed = Consumed(topic, 0, offset, value)
        audit.append([("hub.statistics/x/0", d) for d in drafts_for(consumed, [])])


def test_a_rebuild_from_the_audit_log_gives_the_same_figures(
    store: StatisticsStore, audit_store: AuditStore
) -> None:
    events = _march()
    _take(store, *events)
    _send(store)
    before = month_state(store, TOWNS, Authority.LAHTI, MARCH, APRIL_FIRST)
    _audit(audit_store, [*events, *events])  # each event recorded twice: read once
    assert {r.direction for r in audit_store.select(RecordQuery())} == {Direction.CONSUMED}
    summary = rebuild(store, audit_store)
    assert (summary.taken, summary.refused, summary.pruned) == (18, 0, 0)
    after = month_state(store, TOWNS, Authority.LAHTI, MARCH, APRIL_FIRST)
    assert after.event == before.event
    assert not after.changed
    assert len(store.sent("lahti", "2025-03")) == 1


def test_a_rebuild_starts_from_an_empty_store(
    store: StatisticsStore, audit_store: AuditStore
) -> None:
    _take(store, *_march())
    assert rebuild(store, audit_store).taken == 0
    assert store.fact_count() == 0
