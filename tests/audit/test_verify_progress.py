"""``hub audit verify`` draws a bar of the records it has read: the reading it wraps hands on
every record and counts each once, in steps of ``PROGRESS_STEP`` and at each chain's end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub.audit.verify import PROGRESS_STEP, reading_with_progress


def _chain(length: int) -> Iterator[int]:
    yield from range(length)


@pytest.mark.parametrize(
    ("length", "steps"),
    [
        (0, [0]),
        (1, [1]),
        (PROGRESS_STEP - 1, [PROGRESS_STEP - 1]),
        (PROGRESS_STEP, [PROGRESS_STEP, 0]),
        (PROGRESS_STEP + 1, [PROGRESS_STEP, 1]),
        (2 * PROGRESS_STEP + 1, [PROGRESS_STEP, PROGRESS_STEP, 1]),
    ],
)
def test_every_record_is_handed_on_and_counted_once(length: int, steps: list[int]) -> None:
    advanced: list[int] = []
    read = reading_with_progress(lambda chain: _chain(length), advanced.append)
    assert list(read("c")) == list(range(length))
    assert advanced == steps


def test_each_chain_is_read_through_its_own_name() -> None:
    asked: list[str] = []

    def read(chain: str) -> Iterator[int]:
        asked.append(chain)
        return _chain(2)

    advanced: list[int] = []
    counted = reading_with_progress(read, advanced.append)
    assert [len(list(counted(name))) for name in ("a", "b")] == [2, 2]
    assert (asked, advanced) == (["a", "b"], [2, 2])
