"""Reading in pages along a key: every row once and in order, each page asked for after the last
key read, and no page asked for after an empty one."""

from __future__ import annotations

import pytest

from hub.core.keyset import pages_after

PAGE = 3


@pytest.mark.parametrize("count", [0, 1, PAGE - 1, PAGE, PAGE + 1, 2 * PAGE, 2 * PAGE + 1])
def test_every_row_once_in_order_over_page_boundaries(count: int) -> None:
    table = [(n, f"row {n}") for n in range(10, 10 + count)]
    asked: list[int] = []

    def read_page(after: int) -> list[tuple[int, str]]:
        asked.append(after)
        return [row for row in table if row[0] > after][:PAGE]

    assert list(pages_after(read_page, 9, lambda row: row[0])) == table
    # One page per PAGE rows, then the empty one that ends the reading.
    ends = [table[i - 1][0] for i in range(PAGE, count + 1, PAGE)]
    tail = [table[-1][0]] if count % PAGE else []
    assert asked == [9, *ends, *tail]


def test_the_start_is_excluded_and_nothing_is_read_before_the_first_row_is_asked_for() -> None:
    asked: list[int] = []

    def read_page(after: int) -> list[int]:
        asked.append(after)
        return [n for n in (1, 2, 3) if n > after]

    rows = pages_after(read_page, 1, lambda n: n)
    assert asked == []
    assert list(rows) == [2, 3]
    assert asked == [1, 3]
