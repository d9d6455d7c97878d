"""The look-ups auditors make (one event, one person, a time window) are answered through an
index, not by reading the whole log: a log of a year holds many millions of records. Both real
stores, each asked by its own planner how it would read the page ``select`` reads."""

from __future__ import annotations

import pytest

from hub.audit.records import AuditDraft, Direction, EventFacts
from hub.audit.store import AuditStore, RecordQuery, page_statement
from tests.audit.tampering import Insider

pytestmark = pytest.mark.audit

SINCE, UNTIL = "2026-11-01T00:00:00.000000Z", "2026-11-02T00:00:00.000000Z"


def _plan(insider: Insider, query: RecordQuery) -> str:
    statement, parameters = page_statement(query)
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
    assert index in _plan(insider, query)


def test_the_event_index_is_made_for_a_store_that_lacks_it(
    filled: AuditStore, insider: Insider
) -> None:
    # A store made before the index existed gets it when the hub next opens it.
    insider.sql("DROP INDEX audit_records_event")
    assert "audit_records_event" not in _plan(insider, RecordQuery(event_id="e-7"))
    filled.create_schema()
    assert "audit_records_event" in _plan(insider, RecordQuery(event_id="e-7"))


def test_a_look_up_of_one_event_finds_its_records_only(filled: AuditStore) -> None:
    found = list(filled.select(RecordQuery(event_id="e-7")))
    assert [(r.event_id, r.offset) for r in found] == [("e-7", 7)]
