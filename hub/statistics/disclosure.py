"""Disclosure control of the state's monthly statistics: which published counts are hidden.

The rules (docs/partners/keha.md):

- primary suppression: a count of 1 to 4 persons is never published; zero is published;
- secondary suppression: a row is published with its total (the sum of its cells), so a
  hidden cell must not be recoverable from the total and the cells shown. A reader knows that
  every hidden cell holds at least 1 (zeros are shown). With one hidden cell, the total
  minus the shown cells *is* that cell; with ``k`` hidden cells summing to exactly ``k``,
  every one of them is 1. While either holds, the next smallest shown non-zero cell is hidden
  too; when no cell is left to hide, the total is hidden;
- sums (payment days, euros) are shown only where at least 5 persons stand behind them.

Pure: no I/O, no persons, only numbers in and published numbers out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Generic, TypeVar

__all__ = [
    "MINIMUM_COUNT",
    "Published",
    "PublishedRow",
    "hidden_cells_recoverable",
    "protect_count",
    "protect_row",
    "protect_sum",
]

#: The smallest count of persons that may be published (besides zero).
MINIMUM_COUNT: Final = 5

N = TypeVar("N", int, Decimal)
T = TypeVar("T", int, Decimal)


@dataclass(frozen=True, slots=True)
class Published(Generic[T]):
    """One published figure: its value, or ``None`` when it is suppressed."""

    value: T | None

    @property
    def suppressed(self) -> bool:
        """True when the figure is hidden."""
        return self.value is None


@dataclass(frozen=True, slots=True)
class PublishedRow:
    """A row of counts as published: cells in their order, and the row's total."""

    cells: dict[str, Published[int]]
    total: Published[int]


def _too_small(count: int) -> bool:
    return 0 < count < MINIMUM_COUNT


def protect_count(count: int) -> Published[int]:
    """A lone count of persons: hidden when it is 1 to 4."""
    if count < 0:
        raise ValueError(f"a count of persons cannot be negative ({count})")
    return Published(None if _too_small(count) else count)


def protect_sum(value: N, persons: Published[int]) -> Published[N]:
    """A sum over persons (days, euros): shown only where its published persons count is at
    least ``MINIMUM_COUNT``, or zero (nobody, so nothing to tell)."""
    if persons.value is None:
        return Published(None)
    if persons.value == 0:
        return Published(value)
    return Published(value if persons.value >= MINIMUM_COUNT else None)


def hidden_cells_recoverable(hidden: int, hidden_sum: int) -> bool:
    """Whether ``hidden`` cells (each at least 1) summing to ``hidden_sum`` give any of them
    away to a reader who knows the total: one cell always does; ``k`` cells summing to ``k``
    are all 1."""
    return hidden == 1 or (hidden > 1 and hidden_sum == hidden)


def protect_row(counts: Mapping[str, int]) -> PublishedRow:
    """Suppress the cells of a row (primary, then secondary) and its total if need be."""
    for key, count in counts.items():
        if count < 0:
            raise ValueError(f"a count of persons cannot be negative ({key}: {count})")
    total = sum(counts.values())
    hidden = {key for key, count in counts.items() if _too_small(count)}
    total_hidden = _too_small(total)
    while not total_hidden and hidden_cells_recoverable(
        len(hidden), sum(counts[key] for key in hidden)
    ):
        shown = [(count, key) for key, count in counts.items() if key not in hidden and count]
        if not shown:
            total_hidden = True
            break
        # The next smallest cell; ties go to the first in the row's order (stable output).
        smallest = min(count for count, _ in shown)
        hidden.add(next(key for count, key in shown if count == smallest))
    return PublishedRow(
        {key: Published(None if key in hidden else count) for key, count in counts.items()},
        Published(None if total_hidden else total),
    )
