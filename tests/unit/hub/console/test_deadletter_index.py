"""The dead-letter index's answers, without a broker: every listing is the one the filter rules
(``hub.console.deadletters.selected``) give over the same letters, the times at their
millisecond edges; each connector's last letter; what a partition's bounds make it forget; and
what it keeps of a letter. The refresh from a real topic is in
``tests/integration/test_deadletter_index.py``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.console.deadletter_index import INDEX_FILE, DeadLetterIndex
from hub.console.deadletters import (
    DeadLetterFilter,
    DeadLetterId,
    Disposition,
    ListedLetter,
    selected,
)
from hub.console.letter_state import State
from hub.core.errors import ConfigurationError
from hub.routing.deadletter import (
    DLQ_CONNECTOR,
    DLQ_DETAIL,
    DLQ_REASON,
    SOURCE_FILE,
    SOURCE_LINE,
    SOURCE_TOPIC,
)

#: A valid identity code (individual number 930, as fixtures must be).
CODE = "131052-930V"
T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
MS = dt.timedelta(milliseconds=1)
US = dt.timedelta(microseconds=1)


def _letter(
    partition: int,
    offset: int,
    ms: int,
    reason: str = "bad-date",
    topic: str | None = "in.lahti.client-status",
    connector: str = "lahti",
) -> ListedLetter:
    headers = {DLQ_REASON: reason, DLQ_DETAIL: "the date is not a date", DLQ_CONNECTOR: connector}
    if topic is None:
        headers |= {SOURCE_FILE: "kela.csv", SOURCE_LINE: str(offset)}
    else:
        headers[SOURCE_TOPIC] = topic
    return ListedLetter(DeadLetterId(partition, offset), T0 + ms * MS, headers)


@pytest.fixture
def index(tmp_path: Path) -> DeadLetterIndex:
    opened = DeadLetterIndex.open(tmp_path)
    yield opened  # type: ignore[misc]
    opened.close()


_letters = st.lists(
    st.builds(
        _letter,
        st.integers(0, 2),
        st.integers(0, 40),
        st.integers(0, 5),
        st.sampled_from(["bad-date", "malformed-json", ""]),
        st.sampled_from(["in.a", "in.b", "", None]),
        st.sampled_from(["lahti", "kela", ""]),
    ),
    max_size=25,
    unique_by=lambda letter: letter.id,
)
#: Moments around the letters' milliseconds: on one, a microsecond either side, between two.
_moments = st.none() | st.builds(
    lambda ms, us: T0 + ms * MS + us * US, st.integers(-1, 6), st.sampled_from([-1, 0, 1, 500])
)
_filters = st.builds(
    DeadLetterFilter,
    st.none() | st.sampled_from(["bad-date", "malformed-json", "", "other"]),
    st.none() | st.sampled_from(["in.a", "in.b", "", "in.c"]),
    _moments,
    _moments,
    st.none() | st.sampled_from(list(State)),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    letters=_letters,
    wanted=_filters,
    limit=st.integers(0, 26),
    decided=st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 41), st.sampled_from(list(State)[1:])),
        max_size=8,
    ),
)
def test_a_listing_is_what_the_filter_rules_select_newest_first(
    tmp_path_factory: pytest.TempPathFactory,
    letters: list[ListedLetter],
    wanted: DeadLetterFilter,
    limit: int,
    decided: list[tuple[int, int, State]],
) -> None:
    known = {
        DeadLetterId(partition, offset): Disposition(state, "2026-12-01T09:00:00Z", "olli", "why")
        for partition, offset, state in decided
    }
    index = DeadLetterIndex.open(tmp_path_factory.mktemp("index"))
    try:
        index.add(letters)
        listing = index.listing(known, wanted, limit)
    finally:
        index.close()

    chosen = sorted(
        (letter for letter in letters if selected(letter, known, wanted)),
        key=lambda letter: (letter.timestamp, letter.id),
        reverse=True,
    )
    assert listing.letters == chosen[: limit or None]
    assert listing.matching == len(chosen)
    assert listing.reasons == {letter.reason for letter in letters}
    assert listing.topics == {letter.source_topic for letter in letters if letter.source_topic}


@pytest.mark.parametrize(
    ("since_us", "until_us", "shown"),
    [
        (-1, None, [2, 1]),  # a microsecond before the letter's millisecond: it is in
        (0, None, [2, 1]),
        (1, None, [2]),  # a microsecond after: out (the next is a millisecond later)
        (None, -1, []),
        (None, 0, []),  # until is half-open
        (None, 1, [1]),
    ],
)
def test_times_are_compared_at_the_microsecond(
    index: DeadLetterIndex, since_us: int | None, until_us: int | None, shown: list[int]
) -> None:
    index.add([_letter(0, 1, 1), _letter(0, 2, 2)])
    at = T0 + MS

    def moment(us: int | None) -> dt.datetime | None:
        return None if us is None else at + us * US

    wanted = DeadLetterFilter(since=moment(since_us), until=moment(until_us))
    listing = index.listing({}, wanted, 0)
    assert [letter.id.offset for letter in listing.letters] == shown


def test_each_connectors_last_letter_by_time_then_place(index: DeadLetterIndex) -> None:
    index.add(
        [
            _letter(0, 9, 1, connector="lahti"),
            _letter(1, 0, 3, connector="lahti"),  # latest by time, though earlier in place
            _letter(2, 4, 3, connector="kela"),
            _letter(2, 5, 3, connector="kela"),  # same time: the later place wins
            _letter(0, 3, 0, connector=""),
        ]
    )
    last = index.last_by_connector()
    assert {name: letter.id for name, letter in last.items()} == {
        "lahti": DeadLetterId(1, 0),
        "kela": DeadLetterId(2, 5),
        "": DeadLetterId(0, 3),
    }
    assert last["lahti"].reason == "bad-date"
    assert last["lahti"].timestamp == T0 + 3 * MS


def test_an_empty_index_lists_nothing(index: DeadLetterIndex) -> None:
    assert index.last_by_connector() == {}
    listing = index.listing({}, DeadLetterFilter(), 0)
    assert (listing.letters, listing.matching, listing.reasons, listing.topics) == (
        [],
        0,
        set(),
        set(),
    )


def _offsets(index: DeadLetterIndex) -> list[tuple[int, int]]:
    listing = index.listing({}, DeadLetterFilter(), 0)
    return sorted((letter.id.partition, letter.id.offset) for letter in listing.letters)


def test_retention_forgets_what_the_partition_no_longer_has(index: DeadLetterIndex) -> None:
    index.add([_letter(0, offset, offset) for offset in range(6)] + [_letter(1, 0, 0)])
    # Partition 0 now starts at 3 (retention removed 0-2) and ends at 6, where the index read to.
    assert not index.bound(0, 3, 6)
    assert _offsets(index) == [(0, 3), (0, 4), (0, 5), (1, 0)]
    assert not index.bound(0, 3, 6)
    assert _offsets(index) == [(0, 3), (0, 4), (0, 5), (1, 0)]


@pytest.mark.parametrize(("end", "kept"), [(5, []), (6, [3, 4, 5]), (7, [3, 4, 5])])
def test_a_partition_ending_before_where_the_index_read_to_is_forgotten(
    index: DeadLetterIndex, end: int, kept: list[int]
) -> None:
    index.add([_letter(0, offset, offset) for offset in range(3, 6)] + [_letter(1, 0, 0)])
    # The index read partition 0 to 6: an end before that is a partition made again.
    assert index.bound(0, 0, end) == (kept == [])
    assert _offsets(index) == [(0, offset) for offset in kept] + [(1, 0)]


def test_only_the_listed_headers_are_kept_and_no_identity_code(
    index: DeadLetterIndex, tmp_path: Path
) -> None:
    letter = _letter(0, 0, 0)
    # As another producer might write one: a code in a header of its own and in the detail.
    foreign = ListedLetter(
        letter.id,
        letter.timestamp,
        {**letter.headers, DLQ_DETAIL: f"bad {CODE}", SOURCE_FILE: CODE, "x-person": CODE},
    )
    index.add([foreign])
    (listed,) = index.listing({}, DeadLetterFilter(), 0).letters
    assert set(listed.headers) == {DLQ_REASON, DLQ_DETAIL, DLQ_CONNECTOR, SOURCE_TOPIC, SOURCE_FILE}
    assert listed.detail == "bad [hetu]"
    assert listed.headers[SOURCE_FILE] == "[hetu]"
    index.close()
    stored = b"".join(path.read_bytes() for path in tmp_path.iterdir() if path.is_file())
    assert CODE.encode() not in stored
    assert b"x-person" not in stored


def test_an_index_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with pytest.raises(ConfigurationError, match=f"dead-letter index: cannot open {blocked}/"):
        DeadLetterIndex.open(blocked)
    assert not (tmp_path / INDEX_FILE).exists()


def test_the_position_read_to_is_past_the_partitions_last_letter_in_any_order(
    index: DeadLetterIndex,
) -> None:
    index.add([_letter(0, 5, 0), _letter(0, 3, 0), _letter(1, 2, 0)])
    # Partition 0 was read to 6 (past offset 5, though 3 came last): an end of 6 is no
    # recreation, an end of 5 is.
    assert not index.bound(0, 0, 6)
    assert not index.bound(1, 0, 3)
    assert _offsets(index) == [(0, 3), (0, 5), (1, 2)]
    assert index.bound(0, 0, 5)
    assert _offsets(index) == [(1, 2)]
