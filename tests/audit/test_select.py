"""What ``AuditStore.select`` returns: every record a query asks for, once each, in recorded
order, whatever the page boundaries; a time window from its start (inclusive) to its end
(exclusive); event type, person and direction filters. On both real stores, over a log longer
than two of the pages ``select`` reads, with many records sharing a moment (the keyset's ties).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from hub.audit.records import AuditDraft, AuditRecord, Direction, EventFacts
from hub.audit.replay import CANONICAL_TOPICS
from hub.audit.store import AuditStore, RecordQuery, TopicFamily
from hub.core.topics import TopicKind, kind_of

pytestmark = pytest.mark.audit

RECORDS = 3_200  # three pages of select's and a part
CHAINS = 3
MOMENTS = tuple(f"2026-11-01T{hour:02d}:00:00.000000Z" for hour in range(7))
DIRECTIONS = (Direction.CONSUMED, Direction.PRODUCED, Direction.DEAD_LETTERED)


def _later(moment: str, microseconds: int) -> str:
    """``moment`` (at a whole second, as MOMENTS are) moved by a few microseconds."""
    return f"{moment[:-7]}{microseconds:06d}Z"


def _earlier(moment: str) -> str:
    """The last microsecond before ``moment`` (a whole hour, as MOMENTS are)."""
    hour = int(moment[11:13])
    return f"{moment[:11]}{hour - 1:02d}:59:59.999999Z"


@pytest.fixture
def log(audit_store: AuditStore) -> list[AuditRecord]:
    """Every record of a store holding RECORDS records of three chains at seven moments, as
    ``select`` returns them unfiltered (checked by the first test)."""
    entries = [
        (
            f"hub.example/in.example/{n % CHAINS}",
            AuditDraft(
                DIRECTIONS[n % len(DIRECTIONS)],
                b"{}",
                "in.example",
                n % CHAINS,
                n,
                EventFacts(f"e-{n}", "a" if n % 4 else "b", f"p-{n % 11}"),
                # Non-decreasing in each chain; a page boundary falls inside a moment's records
                # of one chain (the 1,000th, 2,000th and 3,000th records).
                recorded_at=MOMENTS[n * len(MOMENTS) // RECORDS],
            ),
        )
        for n in range(RECORDS)
    ]
    audit_store.append(entries)
    return list(audit_store.select(RecordQuery()))


def _key(record: AuditRecord) -> tuple[str, str, int]:
    return (record.recorded_at, record.chain, record.seq)


def test_every_record_comes_once_in_recorded_order(log: list[AuditRecord]) -> None:
    assert sorted(record.offset for record in log) == list(range(RECORDS))
    assert [_key(record) for record in log] == sorted(_key(record) for record in log)
    assert len({(record.chain, record.seq) for record in log}) == RECORDS


def test_the_page_boundaries_fall_inside_ties_of_moment_and_chain(
    log: list[AuditRecord],
) -> None:
    # Else the keyset's tie-breaks (chain, then seq) would go untested.
    for boundary in (1_000, 2_000, 3_000):
        before, after = log[boundary - 1], log[boundary]
        assert (before.recorded_at, before.chain) == (after.recorded_at, after.chain)


def _expect(log: list[AuditRecord], keep: Callable[[AuditRecord], bool]) -> list[AuditRecord]:
    return [record for record in log if keep(record)]


@pytest.mark.parametrize(
    ("query", "moments"),
    [
        # The start is inclusive: one microsecond before a moment, or at it, takes its records.
        (RecordQuery(since=_earlier(MOMENTS[3])), MOMENTS[3:]),
        (RecordQuery(since=MOMENTS[3]), MOMENTS[3:]),
        (RecordQuery(since=_later(MOMENTS[3], 1)), MOMENTS[4:]),
        # The end is exclusive: only one microsecond after a moment takes its records.
        (RecordQuery(until=_earlier(MOMENTS[4])), MOMENTS[:4]),
        (RecordQuery(until=MOMENTS[4]), MOMENTS[:4]),
        (RecordQuery(until=_later(MOMENTS[4], 1)), MOMENTS[:5]),
    ],
    ids=["since-before", "since-at", "since-after", "until-before", "until-at", "until-after"],
)
def test_a_window_end_at_a_moment(
    audit_store: AuditStore, log: list[AuditRecord], query: RecordQuery, moments: tuple[str, ...]
) -> None:
    found = list(audit_store.select(query))
    assert found == _expect(log, lambda r: r.recorded_at in moments)
    assert len(found) > 1_000  # more than one page of a filtered selection


def test_a_window_is_both_ends_at_once(audit_store: AuditStore, log: list[AuditRecord]) -> None:
    found = list(audit_store.select(RecordQuery(since=MOMENTS[2], until=MOMENTS[5])))
    assert found == _expect(log, lambda r: MOMENTS[2] <= r.recorded_at < MOMENTS[5])
    assert {r.recorded_at for r in found} == set(MOMENTS[2:5])


def test_an_event_type_selects_its_records(audit_store: AuditStore, log: list[AuditRecord]) -> None:
    found = list(audit_store.select(RecordQuery(event_type="a")))
    assert found == _expect(log, lambda r: r.event_type == "a")
    assert len(found) > 1_000
    assert list(audit_store.select(RecordQuery(event_type="c"))) == []


def test_a_person_selects_their_records(audit_store: AuditStore, log: list[AuditRecord]) -> None:
    found = list(audit_store.select(RecordQuery(person_ref="p-3")))
    assert found == _expect(log, lambda r: r.person_ref == "p-3")
    assert found


@pytest.mark.parametrize(
    "directions",
    [
        (Direction.PRODUCED,),
        (Direction.CONSUMED, Direction.DEAD_LETTERED),
        (Direction.CONSUMED, Direction.PRODUCED, Direction.DEAD_LETTERED),
        (Direction.REPLAYED,),
    ],
    ids=["one", "two", "all-three", "none-recorded"],
)
def test_directions_select_their_records(
    audit_store: AuditStore, log: list[AuditRecord], directions: tuple[Direction, ...]
) -> None:
    found = list(audit_store.select(RecordQuery(directions=directions)))
    assert found == _expect(log, lambda r: r.direction in directions)


def test_filters_combine_over_pages(audit_store: AuditStore, log: list[AuditRecord]) -> None:
    # Every kind of parameter in one statement, after a page's keyset: they stay in step.
    query = RecordQuery(
        since=MOMENTS[1],
        until=MOMENTS[6],
        event_type="a",
        directions=(Direction.CONSUMED, Direction.PRODUCED),
    )
    found = list(audit_store.select(query))
    assert found == _expect(
        log,
        lambda r: (
            MOMENTS[1] <= r.recorded_at < MOMENTS[6]
            and r.event_type == "a"
            and r.direction in ("consumed", "produced")
        ),
    )
    assert len(found) > 1_000


# --- each event once -----------------------------------------------------------------------

TOPICS = ("hub.benefit-day.v1", "hub.benefit-day.v2", "in.kela.benefit-day", "out.lahti.x")
EVENTS = 1_100  # an event's records lie about 1,100 records apart: on different pages


@pytest.fixture
def events(audit_store: AuditStore) -> list[AuditRecord]:
    """Every record of a store whose events are each recorded about three times, on several
    topics and in several directions (some records of no event), as ``select`` returns them."""
    entries = [
        (
            f"hub.example/in.example/{n % CHAINS}",
            AuditDraft(
                DIRECTIONS[n % len(DIRECTIONS)],
                b"{}",
                TOPICS[n % len(TOPICS)],
                n % CHAINS,
                n,
                EventFacts(None if n % 13 == 0 else f"e-{n % EVENTS}", "a" if n % 4 else "b"),
                recorded_at=MOMENTS[n * len(MOMENTS) // RECORDS],
            ),
        )
        for n in range(RECORDS)
    ]
    audit_store.append(entries)
    return list(audit_store.select(RecordQuery()))


def _first_of_each_event(records: list[AuditRecord]) -> list[AuditRecord]:
    """What ``first_of_event`` selects, as the replay computed it in memory before."""
    seen: set[str] = set()
    first = []
    for record in records:
        if record.event_id is not None and record.event_id not in seen:
            seen.add(record.event_id)
            first.append(record)
    return first


@pytest.mark.parametrize(
    "query",
    [
        RecordQuery(),
        # The first record in the window, type, direction or topics: not the event's first.
        RecordQuery(since=MOMENTS[2], until=MOMENTS[6]),
        RecordQuery(event_type="b"),
        RecordQuery(directions=(Direction.PRODUCED, Direction.DEAD_LETTERED)),
        RecordQuery(topics=TOPICS[1:3]),
        RecordQuery(since=MOMENTS[1], directions=(Direction.CONSUMED,), topics=TOPICS[:2]),
    ],
    ids=["all", "window", "type", "directions", "topics", "combined"],
)
def test_first_of_event_gives_each_selected_event_once(
    audit_store: AuditStore, events: list[AuditRecord], query: RecordQuery
) -> None:
    every = list(audit_store.select(query))
    found = list(audit_store.select(replace(query, first_of_event=True)))
    assert found == _first_of_each_event(every)
    assert len(found) < len(every)


def test_first_of_event_reads_across_pages(
    audit_store: AuditStore, events: list[AuditRecord]
) -> None:
    found = list(audit_store.select(RecordQuery(first_of_event=True)))
    assert found == _first_of_each_event(events)
    assert len(found) == EVENTS  # every event, though the first 1,000 records hold fewer


def test_topics_select_their_records(audit_store: AuditStore, events: list[AuditRecord]) -> None:
    found = list(audit_store.select(RecordQuery(topics=("hub.benefit-day.v2", "out.lahti.x"))))
    assert found == _expect(events, lambda r: r.topic in ("hub.benefit-day.v2", "out.lahti.x"))
    assert found


#: Names at the edges of the naming rule: what ``kind_of`` calls canonical, the family must.
EDGE_TOPICS = (
    "hub.benefit-day.v2",
    "hub.x",
    "hub.",  # nothing after the prefix
    "hub",
    "HUB.x",  # case counts
    "hubx.y",
    "hub_x",
    "hub.deadletter.v1",
    "hub.audit.v1",
    "hub.audit.v1.x",
    "in.kela.benefit-day",
    "out.hub.x",
    None,
)


def test_the_canonical_family_is_the_naming_rules(audit_store: AuditStore) -> None:
    audit_store.append(
        [
            ("hub.example/x/0", AuditDraft(Direction.PRODUCED, b"{}", topic, 0, n))
            for n, topic in enumerate(EDGE_TOPICS)
        ]
    )
    found = [record.topic for record in audit_store.select(RecordQuery(topics=CANONICAL_TOPICS))]
    assert found == [
        topic
        for topic in EDGE_TOPICS
        if topic is not None and kind_of(topic) is TopicKind.CANONICAL
    ]
    assert found == ["hub.benefit-day.v2", "hub.x", "hub.audit.v1.x"]


def test_a_family_prefix_is_taken_literally(audit_store: AuditStore) -> None:
    # The wildcards of a LIKE pattern (and its escape character) match only themselves.
    names = ("a_b%\\.x", "aXb%\\.x", "a_bZZ\\.x", "a_b%/.x", "a_b%\\.", "A_B%\\.x")
    audit_store.append(
        [
            ("hub.example/x/0", AuditDraft(Direction.PRODUCED, b"{}", topic, 0, n))
            for n, topic in enumerate(names)
        ]
    )
    family = TopicFamily("a_b%\\.")
    found = [record.topic for record in audit_store.select(RecordQuery(topics=family))]
    assert found == ["a_b%\\.x"]
