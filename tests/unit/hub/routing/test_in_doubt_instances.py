"""In-doubt notes of several hub instances sharing one data directory: each settles its own."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hub.routing.in_doubt import InDoubt, Position

BATCH = Position("hub.kela", "in.kela.benefit-day", 1, 100, 199)


def test_an_instance_sees_its_own_notes_and_not_anothers(tmp_path: Path) -> None:
    first, second = InDoubt.open(tmp_path, "hub-1"), InDoubt.open(tmp_path, "hub-2")
    try:
        first.note([BATCH])
        assert first.pending("hub.kela") == [BATCH]
        assert second.pending("hub.kela") == []
        first.clear([BATCH])
        assert first.pending("hub.kela") == []
    finally:
        first.close()
        second.close()


def test_the_same_instance_sees_its_notes_after_a_restart(tmp_path: Path) -> None:
    before = InDoubt.open(tmp_path, "hub-1")
    before.note([BATCH])
    before.close()
    after = InDoubt.open(tmp_path, "hub-1")
    try:
        assert after.pending("hub.kela") == [BATCH]
    finally:
        after.close()


def test_notes_written_before_notes_named_their_instance_are_every_instances(
    tmp_path: Path,
) -> None:
    old = sqlite3.connect(tmp_path / "in-doubt.sqlite3")
    old.executescript(
        "CREATE TABLE in_doubt (consumer_group TEXT NOT NULL, topic TEXT NOT NULL,"
        " partition INTEGER NOT NULL, first_offset INTEGER NOT NULL,"
        " last_offset INTEGER NOT NULL,"
        " PRIMARY KEY (consumer_group, topic, partition, first_offset));"
        "INSERT INTO in_doubt VALUES ('hub.kela', 'in.kela.benefit-day', 1, 100, 199);"
    )
    old.commit()
    old.close()
    notes = InDoubt.open(tmp_path, "hub-1")
    try:
        assert notes.pending("hub.kela") == [BATCH]
        later = Position("hub.kela", "in.kela.benefit-day", 1, 200, 299)
        notes.note([later])
        assert notes.pending("hub.kela") == [BATCH, later]
    finally:
        notes.close()
