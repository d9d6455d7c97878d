"""The in-doubt notes: positions of a batch, noted, cleared, listed (real SQLite)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from aiokafka.structs import ConsumerRecord

from hub.routing.in_doubt import InDoubt, Position, batch_positions
from hub.routing.transactions import default_instance_id, transactional_id


def _record(topic: str, partition: int, offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(topic, partition, offset, 0, 0, None, b"", None, 0, 0, [])


def test_a_batch_is_one_span_per_partition() -> None:
    records = [_record("a", 0, 5), _record("a", 1, 2), _record("a", 0, 7), _record("a", 0, 6)]
    assert sorted(batch_positions("g", records)) == [
        Position("g", "a", 0, 5, 7),
        Position("g", "a", 1, 2, 2),
    ]
    assert batch_positions("g", [_record("a", 0, 0)]) == [Position("g", "a", 0, 0, 0)]
    assert batch_positions("g", []) == []


def test_notes_survive_reopening_and_clear_by_batch(tmp_path: Path) -> None:
    first, second = Position("g", "a", 0, 0, 4), Position("g", "a", 0, 5, 9)
    other = Position("h", "a", 0, 0, 1)
    notes = InDoubt.open(tmp_path)
    notes.note([first])
    notes.note([second, other])
    notes.close()

    again = InDoubt.open(tmp_path)
    assert again.pending("g") == [first, second]
    assert again.pending("h") == [other]
    again.clear([first])
    assert again.pending("g") == [second]
    again.clear([Position("g", "a", 1, 5, 9)])  # another partition: not this note
    assert again.pending("g") == [second]
    again.clear([second])
    assert again.pending("g") == []
    assert again.pending("h") == [other]


def test_the_same_batch_noted_twice_is_one_note(tmp_path: Path) -> None:
    notes = InDoubt.open(tmp_path)
    notes.note([Position("g", "a", 0, 0, 4)])
    notes.note([Position("g", "a", 0, 0, 6)])
    assert notes.pending("g") == [Position("g", "a", 0, 0, 6)]


def test_instance_ids_are_stable_per_data_directory(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    assert default_instance_id(one) == default_instance_id(one)
    assert default_instance_id(one) != default_instance_id(two)
    assert transactional_id("hub.kela", "host-1") == "hub.kela.host-1"


def test_a_cleared_note_stays_cleared_after_reopening(tmp_path: Path) -> None:
    notes = InDoubt.open(tmp_path)
    notes.note([Position("g", "a", 0, 0, 4)])
    notes.clear([Position("g", "a", 0, 0, 4)])
    notes.close()
    assert InDoubt.open(tmp_path).pending("g") == []


def test_a_note_that_fails_leaves_the_notes_usable(tmp_path: Path) -> None:
    notes = InDoubt.open(tmp_path)
    broken = Position(None, "a", 0, 0, 4)  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):
        notes.note([Position("g", "a", 1, 0, 1), broken])
    assert notes.pending("g") == []  # nothing of the failed note
    notes.note([Position("g", "a", 0, 0, 4)])
    assert notes.pending("g") == [Position("g", "a", 0, 0, 4)]


async def test_notes_are_written_from_a_worker_thread(tmp_path: Path) -> None:
    # The pipeline notes and clears off the event loop, in asyncio's worker threads.
    notes = InDoubt.open(tmp_path)
    await asyncio.to_thread(notes.note, [Position("g", "a", 0, 0, 4)])
    assert await asyncio.to_thread(notes.pending, "g") == [Position("g", "a", 0, 0, 4)]
