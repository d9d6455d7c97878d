"""The look-ups auditors make (one event, one person, a time window) are answered through an
index, not by reading the whole log: a log of a year holds many millions of records. Both real
stores, each asked by its own planner how it would read the page ``select`` reads."""

from __future__ import annotations

import re

import pytest

from hub.audit.records import AuditDraft, Direction, EventFacts
from hub.audit.replay import replay_selection
from hub.audit.store import AuditStore, RecordQuery
from tests.audit.tampering import Insider

pytestmark = pytest.mark.audit

SINCE, UNTIL = "2026-11-01T00:00:00.000000Z", "2026-11-02T00:00:00.000000Z"


def _plan(insider: Insider, store: AuditStore, query: RecordQuery) -> str:
    statement, parameters = store.page_statement(query)
    if insider.postgres:
        # On a small table a sequential scan is cheapest whatever the indexes: the question is
        # whether an index can answer at all, and which.
        insider.sql("SET enable_seqscan = off")
        rows = insider.rows(f"EXPLAIN {statement}", *parameters)
    else:
        # A plan is made from the schema the connection last read, and ``EXPLAIN QUERY PLAN``
        # reads none: a read first, so that an index another connection made is seen.
        insider.rows("SELECT COUNT(*) FROM sqlite_master")
        rows = insider.rows(f"EXPLAIN QUERY PLAN {statement}", *parameters)
    return "\n".join(str(row[-1]) for row in rows)


@pytest.fixture
def filled(audit_store: AuditStore) -> AuditStore:
    """A store holding records of many events and people over a day."""
    entries = [
        (
            f"hub.example/in.example/{n % 3}",
            AuditDraft(
                Direction.CONSUMED,
                b"{}",
                "in.example",
                n % 3,
                n,
                EventFacts(f"e-{n}", "t", f"p-{n % 50}"),
                recorded_at=f"2026-11-01T{n % 24:02d}:00:00.000000Z",
            ),
        )
        for n in range(300)
    ]
    audit_store.append(entries)
    return audit_store


@pytest.mark.parametrize(
    ("query", "index"),
    [
        (RecordQuery(event_id="e-7"), "audit_records_event"),
        (RecordQuery(person_ref="p-7"), "audit_records_person"),
        (RecordQuery(since=SINCE, until=UNTIL), "audit_records_time"),
    ],
    ids=["event", "person", "window"],
)
def test_a_look_up_is_answered_through_its_index(
    filled: AuditStore, insider: Insider, query: RecordQuery, index: str
) -> None:
    assert index in _plan(insider, filled, query)


def test_the_event_index_is_made_for_a_store_that_lacks_it(
    filled: AuditStore, insider: Insider
) -> None:
    # A store made before the index existed gets it when the hub next opens it.
    insider.sql("DROP INDEX audit_records_event")
    assert "audit_records_event" not in _plan(insider, filled, RecordQuery(event_id="e-7"))
    filled.create_schema()
    assert "audit_records_event" in _plan(insider, filled, RecordQuery(event_id="e-7"))


def test_a_look_up_of_one_event_finds_its_records_only(filled: AuditStore) -> None:
    found = list(filled.select(RecordQuery(event_id="e-7")))
    assert [(r.event_id, r.offset) for r in found] == [("e-7", 7)]


@pytest.fixture
def weeks(audit_store: AuditStore, insider: Insider) -> AuditStore:
    """A store of many events over weeks, its statistics taken as the server's own would be."""
    entries = [
        (
            f"hub.example/in.example/{n % 3}",
            AuditDraft(
                Direction.PRODUCED if n % 3 else Direction.CONSUMED,
                b"{}",
                ("hub.benefit-day.v2", "in.kela.benefit-day", "out.lahti.x")[n % 3],
                n % 3,
                n,
                EventFacts(f"e-{n // 5}", "t", f"p-{n % 500}"),
                recorded_at=f"2026-11-{1 + n // 1_000:02d}T00:00:00.{n % 1_000:06d}Z",
            ),
        )
        for n in range(20_000)
    ]
    audit_store.append(entries)
    insider.sql("ANALYZE audit_records" if insider.postgres else "ANALYZE")
    return audit_store


def _sorts_everything(plan: str) -> bool:
    """Whether the plan sorts all it reads before the first row comes (not a run of records of
    one moment at a time: SQLite's "RIGHT PART", PostgreSQL's "Incremental Sort")."""
    lines = [line.strip().removeprefix("->").strip() for line in plan.splitlines()]
    return "USE TEMP B-TREE FOR ORDER BY" in lines or any(
        re.match(r"Sort\s+\(cost", line) for line in lines
    )


WINDOW = RecordQuery(since=SINCE, until="2026-11-20T00:00:00.000000Z")


@pytest.mark.parametrize(
    "query",
    [RecordQuery(), WINDOW, replay_selection(RecordQuery()), replay_selection(WINDOW)],
    ids=["all", "window", "replay", "replay-window"],
)
@pytest.mark.parametrize("after", [None, ("2026-11-03T00:00:00.000500Z", "hub.example/x/1", 9)])
def test_a_page_is_read_in_time_order(
    weeks: AuditStore, insider: Insider, query: RecordQuery, after: tuple[str, str, int] | None
) -> None:
    # Every export, replay and rebuild reads the log page by page. A plan that reads and sorts
    # all records (after the page before) for each page reads a log of N records N/1,000
    # times. A replay also looks each record's earlier records of its event up by the index.
    statement, parameters = weeks.page_statement(query, after)
    explain = "EXPLAIN" if insider.postgres else "EXPLAIN QUERY PLAN"
    plan = "\n".join(str(row[-1]) for row in insider.rows(f"{explain} {statement}", *parameters))
    assert "audit_records_time" in plan
    assert not _sorts_everything(plan)
    assert "Seq Scan" not in plan
    assert ("audit_records_event" in plan) is query.first_of_event
