"""Disclosure control: no published count of 1-4 persons, no hidden cell recoverable.

The recoverability check here is a brute-force reader, written apart from the module under
test: it lists every way to fill the hidden cells with counts of at least 1 (zeros are shown)
that adds up to the published total, and a hidden cell is given away when every way agrees
on it.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.statistics.disclosure import (
    MINIMUM_COUNT,
    Published,
    PublishedRow,
    protect_count,
    protect_row,
    protect_sum,
)

ROWS = st.dictionaries(
    st.sampled_from(["00", "01", "02", "03", "05", "07", "08", "09"]),
    st.integers(min_value=0, max_value=12),
    max_size=6,
)


def _can_fill(cells: int, total: int) -> bool:
    """Whether ``cells`` counts of at least 1 can add up to ``total``."""
    return total == 0 if cells == 0 else total >= cells


def _given_away(row: PublishedRow) -> list[str]:
    """The hidden cells a reader of the row and its shown total can work out."""
    if row.total.value is None:
        return []
    hidden = [key for key, cell in row.cells.items() if cell.suppressed]
    rest = row.total.value - sum(cell.value or 0 for cell in row.cells.values())
    given_away = []
    for key in hidden:
        # Every value this cell could hold with the other hidden cells filled somehow.
        possible = [v for v in range(1, rest + 1) if _can_fill(len(hidden) - 1, rest - v)]
        if len(possible) == 1:
            given_away.append(key)
    return given_away


@settings(deadline=None)
@given(ROWS)
def test_no_published_cell_or_total_counts_one_to_four_persons(counts: dict[str, int]) -> None:
    row = protect_row(counts)
    for cell in [*row.cells.values(), row.total]:
        assert cell.value is None or cell.value == 0 or cell.value >= MINIMUM_COUNT


@settings(deadline=None)
@given(ROWS)
def test_no_hidden_cell_can_be_recomputed_from_its_row_and_total(counts: dict[str, int]) -> None:
    assert _given_away(protect_row(counts)) == []


@settings(deadline=None)
@given(ROWS)
def test_shown_values_are_the_true_counts_and_zeros_are_shown(counts: dict[str, int]) -> None:
    row = protect_row(counts)
    assert list(row.cells) == list(counts)
    for key, cell in row.cells.items():
        assert cell.value in {None, counts[key]}
        if counts[key] == 0:
            assert cell.value == 0
    assert row.total.value in {None, sum(counts.values())}


@settings(deadline=None)
@given(ROWS)
def test_only_what_must_be_hidden_is_hidden(counts: dict[str, int]) -> None:
    # Any hidden cell of 5 or more was hidden for secondary suppression: showing it would
    # give a cell away again.
    row = protect_row(counts)
    for key, cell in row.cells.items():
        if cell.suppressed and counts[key] >= MINIMUM_COUNT:
            cells = dict(row.cells)
            cells[key] = Published(counts[key])
            assert _given_away(PublishedRow(cells, row.total)), (counts, key)


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, 0), (1, None), (4, None), (5, 5), (6, 6)],
)
def test_a_lone_count_is_hidden_from_one_to_four(count: int, shown: int | None) -> None:
    assert protect_count(count).value == shown
    assert protect_count(count).suppressed is (shown is None)


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        protect_count(-1)
    with pytest.raises(ValueError, match="negative"):
        protect_row({"a": 5, "b": -1})


def test_one_hidden_cell_takes_the_next_smallest_with_it() -> None:
    row = protect_row({"00": 4, "01": 9, "02": 5, "03": 0})
    assert [c.value for c in row.cells.values()] == [None, 9, None, 0]
    assert row.total.value == 18


def test_a_cell_of_five_stands_alone() -> None:
    row = protect_row({"00": 5, "01": 9})
    assert [c.value for c in row.cells.values()] == [5, 9]
    assert row.total.value == 14


def test_two_hidden_ones_are_given_away_by_their_sum_so_a_third_cell_goes() -> None:
    row = protect_row({"a": 1, "b": 1, "c": 10, "d": 12})
    assert [c.value for c in row.cells.values()] == [None, None, None, 12]
    assert row.total.value == 24


def test_two_hidden_cells_with_an_ambiguous_sum_are_enough() -> None:
    row = protect_row({"a": 1, "b": 2, "c": 10})
    assert [c.value for c in row.cells.values()] == [None, None, 10]


def test_ties_hide_the_first_cell_in_row_order() -> None:
    row = protect_row({"a": 7, "b": 3, "c": 7})
    assert [c.value for c in row.cells.values()] == [None, None, 7]


def test_a_total_of_one_to_four_is_hidden_and_then_nothing_else_is_needed() -> None:
    row = protect_row({"a": 4, "b": 0})
    assert row.total.suppressed
    assert [c.value for c in row.cells.values()] == [None, 0]
    assert protect_row({"a": 0, "b": 0}).total.value == 0


def test_when_no_cell_is_left_to_hide_the_total_goes() -> None:
    row = protect_row({"a": 1, "b": 1, "c": 1, "d": 1, "e": 1})
    assert row.total.suppressed
    assert all(c.suppressed for c in row.cells.values())


@pytest.mark.parametrize(
    ("persons", "shown"),
    [(0, Decimal(0)), (4, None), (5, Decimal("12.50")), (6, Decimal("12.50"))],
)
def test_a_sum_is_shown_only_behind_five_persons_or_none(
    persons: int, shown: Decimal | None
) -> None:
    value = Decimal(0) if persons == 0 else Decimal("12.50")
    assert protect_sum(value, Published(persons)).value == shown


def test_a_sum_behind_a_hidden_persons_count_is_hidden() -> None:
    hidden: Published[int] = Published(None)
    assert protect_sum(Decimal("99.00"), hidden).suppressed
    assert protect_sum(250, hidden).suppressed


@pytest.mark.parametrize("counts", [{"a": 1, "b": 3}, {"a": 2, "b": 2}, {"a": 4, "b": 0}])
def test_a_total_of_one_to_four_over_several_hidden_cells_is_hidden(
    counts: dict[str, int],
) -> None:
    row = protect_row(counts)
    assert row.total.suppressed
