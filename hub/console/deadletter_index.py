"""The dead-letter index: the lists of ``hub.deadletter.v1`` answered from a table, not the topic.

The topic keeps every dead letter for good, so after a bad file it may hold a million, and the
console's dead-letter page, its flows page (each connector's last letter, on every refresh) and
``hub deadletters list`` would each read all of it every time. Instead each reads only what came
since the last read into a SQLite table in the data directory (``deadletter-index.sqlite3``)
and asks the table: filters, counts and "the newest 200" cost the same for ten letters and a
million.

What the table keeps of a letter is what the lists show: where it sits, its time, and the
headers that say why, from where and by which connector, identity codes masked (the hub's
headers never hold one; a letter another producer wrote might). Not the payload: a letter's
page reads that from the topic. The topic stays the truth: each refresh reads every partition
again from its last indexed letter, and a partition whose last indexed letter is not there as
indexed, or that ends before it (the topic was made again, or the data directory now serves
another cluster), is forgotten and read anew; letters retention removed are forgotten; and the
file may be deleted at any time (the next list reads the whole topic once). The console and
the CLI may share the file: a letter indexed twice is kept once.

An operator's decisions (resubmitted, closed) are not kept here: the state filter takes them
from the audit log at each list (``hub.console.deadletters.dispositions``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import orjson

from hub.broker.connection import KafkaConnection
from hub.broker.topic_reading import Positions, each_record
from hub.console.deadletters import (
    LISTED_HEADERS,
    DeadLetterFilter,
    DeadLetterId,
    Disposition,
    ListedLetter,
    QuarantinedLetter,
    letter_of,
)
from hub.console.letter_state import State
from hub.core.errors import ConfigurationError
from hub.core.redaction import mask_identity_codes
from hub.core.sqlite_store import immediate_transaction
from hub.core.store_connections import durable_sqlite
from hub.core.topics import DEADLETTER_TOPIC

__all__ = ["FLUSH_ROWS", "INDEX_FILE", "DeadLetterIndex", "DeadLetterListing", "each_dead_letter"]

INDEX_FILE: Final = "deadletter-index.sqlite3"
#: Letters written per transaction while reading: memory stays flat, and another reader of
#: the file waits for one short transaction at a time.
FLUSH_ROWS: Final = 2000
_COLUMNS: Final = "letter_partition, letter_offset, at_ms, headers"
_NEWEST_FIRST: Final = "ORDER BY at_ms DESC, letter_partition DESC, letter_offset DESC"
_LAST_OF_CONNECTOR: Final = (
    f"SELECT {_COLUMNS} FROM letters WHERE connector = ? {_NEWEST_FIRST} LIMIT 1"  # noqa: S608
)
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS letters (
    letter_partition INTEGER NOT NULL,
    letter_offset    INTEGER NOT NULL,
    at_ms            INTEGER NOT NULL,
    reason           TEXT NOT NULL,
    connector        TEXT NOT NULL,
    source_topic     TEXT,
    headers          TEXT NOT NULL,
    PRIMARY KEY (letter_partition, letter_offset)
);
CREATE INDEX IF NOT EXISTS letters_by_time ON letters (at_ms, letter_partition, letter_offset);
CREATE INDEX IF NOT EXISTS letters_by_reason
    ON letters (reason, at_ms, letter_partition, letter_offset);
CREATE INDEX IF NOT EXISTS letters_by_source
    ON letters (source_topic, at_ms, letter_partition, letter_offset);
CREATE INDEX IF NOT EXISTS letters_by_connector
    ON letters (connector, at_ms, letter_partition, letter_offset);
CREATE TABLE IF NOT EXISTS positions (
    letter_partition INTEGER PRIMARY KEY,
    next_offset      INTEGER NOT NULL
);
"""
_INSERT: Final = (
    "INSERT OR IGNORE INTO letters (letter_partition, letter_offset, at_ms, reason, connector, "
    "source_topic, headers) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_MOVE: Final = (
    "INSERT INTO positions (letter_partition, next_offset) VALUES (?, ?) "
    "ON CONFLICT (letter_partition) DO UPDATE SET "
    "next_offset = MAX(next_offset, excluded.next_offset)"
)
#: The distinct values of an indexed column, one index seek each (SQLite's DISTINCT would
#: walk the whole index).
_DISTINCT: Final = (
    "WITH RECURSIVE found(value) AS ("
    "SELECT MIN({column}) FROM letters WHERE {column} IS NOT NULL "
    "UNION ALL SELECT (SELECT MIN({column}) FROM letters WHERE {column} > found.value) "
    "FROM found WHERE found.value IS NOT NULL"
    ") SELECT value FROM found WHERE value IS NOT NULL"
)
#: The dead letters named in a JSON array of ``[partition, offset]`` pairs.
_NAMED: Final = (
    "(letter_partition, letter_offset) {negation}IN (SELECT json_extract(value, '$[0]'), "
    "json_extract(value, '$[1]') FROM json_each(?))"
)
_MICROSECOND: Final = dt.timedelta(microseconds=1)
_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


async def each_dead_letter(
    connection: KafkaConnection,
    found: Callable[[QuarantinedLetter], object],
    after: Mapping[int, int] | None = None,
    bounds: Callable[[int, int, int], object] | None = None,
) -> Positions:
    """Hand ``found`` every committed dead letter from ``after`` to the topic's end when
    reading started (``hub.broker.topic_reading.each_record``, ``bounds`` too); where it
    stopped."""
    return await each_record(
        connection,
        DEADLETTER_TOPIC,
        lambda record: found(letter_of(record)),
        committed_only=True,
        after=after,
        bounds=bounds,
    )


@dataclass
class DeadLetterListing:
    """The newest dead letters a filter selects (newest first, at most the limit), how many it
    selects in all, and the reasons and source topics of every dead letter (for the filters)."""

    letters: list[ListedLetter] = field(default_factory=list)
    matching: int = 0
    reasons: set[str] = field(default_factory=set)
    topics: set[str] = field(default_factory=set)


class DeadLetterIndex:
    """The index file of a data directory; see the module docstring.

    ``refresh`` reads what is new on the topic (one refresh at a time per index; another
    process's refresh of the same file is harmless); the lists answer from the file. Usable
    from the event loop and worker threads.
    """

    def __init__(self, path: Path, *, flush_rows: int = FLUSH_ROWS) -> None:
        self._flush_rows = flush_rows
        # A cache of the topic: losing the last writes to a power loss costs a re-read only.
        self._db = durable_sqlite(
            path, "dead-letter index: cannot open", ConfigurationError, synchronous="NORMAL"
        )
        try:
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            self._db.close()
            raise ConfigurationError(f"dead-letter index: cannot open {path}: {exc}") from None
        self._lock = threading.Lock()
        self._refreshing = asyncio.Lock()
        #: Dead letters read from the topic by the refreshes so far (the first reads it all).
        self.read = 0

    @classmethod
    def open(cls, data_dir: Path, *, flush_rows: int = FLUSH_ROWS) -> DeadLetterIndex:
        """The index of ``data_dir`` (made if missing); ``flush_rows`` letters are written
        per transaction while reading."""
        return cls(data_dir / INDEX_FILE, flush_rows=flush_rows)

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._db.close()

    async def refresh(
        self, connection: KafkaConnection, progress: Callable[[int], object] | None = None
    ) -> int:
        """Index the dead letters that came since the last refresh; how many were read.
        ``progress`` is told how many so far after each write while reading.

        Each partition is read again from its last indexed letter, which must still be there
        as it was indexed: if not, the partition is not the one indexed (the topic was made
        again and has more letters by now, or the data directory's console now reads another
        cluster), and what the index held of it is forgotten and read anew.
        """
        async with self._refreshing:
            read_to = self._read_to()
            check = {p: last for p, (_next, last) in read_to.items() if last is not None}
            after = {p: next_ if last is None else last for p, (next_, last) in read_to.items()}
            anew: set[int] = set()
            rows: list[tuple[Any, ...]] = []
            before = self.read

            def bound(partition: int, first: int, end: int) -> None:
                if self.bound(partition, first, end):
                    check.pop(partition, None)

            def found(letter: QuarantinedLetter) -> None:
                partition = letter.id.partition
                expected = check.pop(partition, None)
                if expected is not None:
                    if letter.id.offset == expected and self._holds(letter):
                        return
                    self._forget(partition)
                    anew.add(partition)
                self.read += 1
                rows.append(_row(letter))
                if len(rows) >= self._flush_rows:
                    self._add(rows, anew=anew)
                    rows.clear()
                    if progress is not None:
                        progress(self.read - before)

            reached = await each_dead_letter(connection, found, after, bound)
            self._add(rows, reached, anew=anew)
            return self.read - before

    def add(self, letters: list[ListedLetter]) -> None:
        """Index ``letters`` as read from the topic (``refresh`` does; tests and benchmarks
        fill an index without a broker)."""
        self._add([_row(letter) for letter in letters])

    def listing(
        self, known: Mapping[DeadLetterId, Disposition], wanted: DeadLetterFilter, limit: int
    ) -> DeadLetterListing:
        """The dead letters ``wanted`` selects (their state from ``known``), newest first (by
        time, then place), at most ``limit`` of them (``0``: all), and how many it selects."""
        where, parameters = _where(wanted, known)
        with self._lock:
            found = self._db.execute(
                f"SELECT {_COLUMNS} FROM letters{where} {_NEWEST_FIRST} LIMIT ?",  # noqa: S608 - constant text, values bound
                (*parameters, limit or -1),
            ).fetchall()
            matching = self._db.execute(
                f"SELECT COUNT(*) FROM letters{where}",  # noqa: S608 - constant text, values bound
                parameters,
            ).fetchone()[0]
            reasons = self._distinct("reason")
            topics = self._distinct("source_topic")
        return DeadLetterListing(
            [_letter(row) for row in found], int(matching), reasons, topics - {""}
        )

    def last_by_connector(self) -> dict[str, ListedLetter]:
        """Each connector's last dead letter (by time, then place)."""
        last: dict[str, ListedLetter] = {}
        with self._lock:
            for connector in sorted(self._distinct("connector")):
                row = self._db.execute(_LAST_OF_CONNECTOR, (connector,)).fetchone()
                last[connector] = _letter(row)
        return last

    def _distinct(self, column: str) -> set[str]:
        query = _DISTINCT.format(column=column)
        return {str(value) for (value,) in self._db.execute(query)}

    def _read_to(self) -> dict[int, tuple[int, int | None]]:
        """Each partition read so far: the next offset to read, and its last indexed letter
        (one look-up along the key each; ``None`` if it holds none)."""
        with self._lock:
            found = self._db.execute(
                "SELECT letter_partition, next_offset, (SELECT MAX(letter_offset) FROM letters "
                "WHERE letters.letter_partition = positions.letter_partition) FROM positions"
            ).fetchall()
        return {
            int(partition): (int(next_), None if last is None else int(last))
            for partition, next_, last in found
        }

    def _holds(self, letter: ListedLetter) -> bool:
        """True if the index holds ``letter`` as it is (its time and headers)."""
        row = _row(letter)
        with self._lock:
            held = self._db.execute(
                "SELECT at_ms, headers FROM letters WHERE letter_partition = ? "
                "AND letter_offset = ?",
                row[:2],
            ).fetchone()
        return held is not None and tuple(held) == (row[2], row[6])

    def bound(self, partition: int, first: int, end: int) -> bool:
        """Forget what ``partition`` of the topic no longer has, told its first offset and end
        before a refresh reads it: all of it if the partition was recreated (it ends before
        where the index read to), else what retention removed (before ``first``). True if
        all of it was forgotten."""
        with self._lock:
            indexed = self._db.execute(
                "SELECT next_offset FROM positions WHERE letter_partition = ?", (partition,)
            ).fetchone()
            # Nearly always nothing: no write transaction at every refresh for it.
            removed = self._db.execute(
                "SELECT 1 FROM letters WHERE letter_partition = ? AND letter_offset < ? LIMIT 1",
                (partition, first),
            ).fetchone()
        if indexed is not None and indexed[0] > end:
            self._forget(partition)
            return True
        if removed is not None:
            with self._lock, immediate_transaction(self._db):
                self._db.execute(
                    "DELETE FROM letters WHERE letter_partition = ? AND letter_offset < ?",
                    (partition, first),
                )
        return False

    def _forget(self, partition: int) -> None:
        """Forget every letter of ``partition`` and how far it was read."""
        with self._lock, immediate_transaction(self._db):
            self._db.execute("DELETE FROM positions WHERE letter_partition = ?", (partition,))
            self._db.execute("DELETE FROM letters WHERE letter_partition = ?", (partition,))

    def _add(
        self,
        rows: list[tuple[Any, ...]],
        reached: Positions | None = None,
        *,
        anew: set[int] | None = None,
    ) -> None:
        """Write ``rows`` and move each partition's position past them (and to ``reached``);
        the positions of partitions read ``anew`` stay unknown, so that the next refresh reads
        them from their beginning."""
        moved = dict(reached or {})
        for row in rows:
            moved[row[0]] = max(moved.get(row[0], 0), row[1] + 1)
        for partition in anew or ():
            moved.pop(partition, None)
        if not rows and not moved:
            return
        with self._lock, immediate_transaction(self._db):
            self._db.executemany(_INSERT, rows)
            self._db.executemany(_MOVE, list(moved.items()))


def _row(letter: ListedLetter) -> tuple[Any, ...]:
    # The hub's own headers never hold an identity code; a letter another producer wrote might,
    # and the file keeps what it is given.
    kept = ListedLetter(
        letter.id,
        letter.timestamp,
        {
            name: mask_identity_codes(letter.headers[name])
            for name in LISTED_HEADERS
            if name in letter.headers
        },
    )
    moment = (letter.timestamp - _EPOCH) // _MICROSECOND
    return (
        letter.id.partition,
        letter.id.offset,
        moment // 1000,
        kept.reason,
        kept.connector,
        kept.source_topic,
        orjson.dumps(kept.headers).decode(),
    )


def _letter(row: tuple[Any, ...]) -> ListedLetter:
    partition, offset, at_ms, headers = row
    return ListedLetter(
        DeadLetterId(int(partition), int(offset)),
        dt.datetime.fromtimestamp(int(at_ms) / 1000, dt.UTC),
        orjson.loads(headers),
    )


def _where(
    wanted: DeadLetterFilter, known: Mapping[DeadLetterId, Disposition]
) -> tuple[str, tuple[Any, ...]]:
    """The SQL condition ``hub.console.deadletters.selected`` states, and its parameters."""
    conditions: list[str] = []
    parameters: list[Any] = []
    if wanted.reason is not None:
        conditions.append("reason = ?")
        parameters.append(wanted.reason)
    if wanted.source_topic is not None:
        conditions.append("source_topic = ?")
        parameters.append(wanted.source_topic)
    if wanted.since is not None:
        conditions.append("at_ms >= ?")
        parameters.append(_first_ms_from(wanted.since))
    if wanted.until is not None:
        conditions.append("at_ms < ?")
        parameters.append(_first_ms_from(wanted.until))
    if wanted.state is not None:
        # Open: none decided; resubmitted or closed: the last decision says so.
        named = [
            [letter.partition, letter.offset]
            for letter, decision in known.items()
            if wanted.state is State.OPEN or decision.state is wanted.state
        ]
        conditions.append(_NAMED.format(negation="NOT " if wanted.state is State.OPEN else ""))
        parameters.append(orjson.dumps(named).decode())
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return where, tuple(parameters)


def _first_ms_from(moment: dt.datetime) -> int:
    """The first whole millisecond at or after ``moment`` (letters' times are whole
    milliseconds): ``at >= moment`` is ``at_ms >= this``, ``at < moment`` is ``at_ms < this``."""
    microseconds = (moment - _EPOCH) // _MICROSECOND
    return -(-microseconds // 1000)
