"""Reading ``hub.deadletter.v1`` for lists, with memory that does not grow with the topic.

The topic keeps every dead letter for good, so after a bad file it may hold a million. The
lists read it as a stream and keep only what they show:

- ``newest_dead_letters``: the newest matching letters up to a limit, how many match in all,
  and the reasons and source topics there are (for the filters): the console's dead-letter page
  and ``hub deadletters list``;
- ``LastDeadLetters``: each connector's last dead letter (the flows page's "last error"), read
  incrementally: the first refresh reads the topic once, later ones only what came since.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from hub.broker.connection import KafkaConnection
from hub.broker.topic_reading import Positions, each_record
from hub.console.deadletters import (
    DeadLetterFilter,
    DeadLetterId,
    Disposition,
    QuarantinedLetter,
    letter_of,
    selected,
)
from hub.core.topics import DEADLETTER_TOPIC

__all__ = ["DeadLetterListing", "LastDeadLetters", "each_dead_letter", "newest_dead_letters"]


async def each_dead_letter(
    connection: KafkaConnection,
    found: Callable[[QuarantinedLetter], object],
    after: Mapping[int, int] | None = None,
) -> Positions:
    """Hand ``found`` every committed dead letter from ``after`` to the topic's end when
    reading started (``hub.broker.topic_reading.each_record``); where it stopped."""
    return await each_record(
        connection,
        DEADLETTER_TOPIC,
        lambda record: found(letter_of(record)),
        committed_only=True,
        after=after,
    )


@dataclass
class DeadLetterListing:
    """The newest dead letters a filter selects (newest first, at most the limit), how many it
    selects in all, and the reasons and source topics of every dead letter (for the filters)."""

    letters: list[QuarantinedLetter] = field(default_factory=list)
    matching: int = 0
    reasons: set[str] = field(default_factory=set)
    topics: set[str] = field(default_factory=set)


async def newest_dead_letters(
    connection: KafkaConnection,
    known: Mapping[DeadLetterId, Disposition],
    wanted: DeadLetterFilter,
    limit: int,
) -> DeadLetterListing:
    """The listing of the dead letters ``wanted`` selects, newest first (by time, then
    place), at most ``limit`` of them (``0``: all); one pass over the topic, keeping only
    those."""
    listing = DeadLetterListing()
    # A min-heap of the newest so far: the oldest of them is the one a newer letter replaces.
    newest: list[tuple[float, DeadLetterId, QuarantinedLetter]] = []

    def see(letter: QuarantinedLetter) -> None:
        listing.reasons.add(letter.reason)
        if letter.source_topic:
            listing.topics.add(letter.source_topic)
        if not selected(letter, known, wanted):
            return
        listing.matching += 1
        item = (letter.timestamp.timestamp(), letter.id, letter)
        if not limit or len(newest) < limit:
            heapq.heappush(newest, item)
        elif item[:2] > newest[0][:2]:
            heapq.heapreplace(newest, item)

    await each_dead_letter(connection, see)
    listing.letters = [letter for _t, _id, letter in sorted(newest, reverse=True)]
    return listing


class LastDeadLetters:
    """Each connector's last dead letter, kept up to date by reading only what is new.

    Memory holds one letter per connector and a position per partition. Refreshes from
    several pages at once read one after another (each sees the other's progress).
    """

    def __init__(self) -> None:
        self._positions: Positions = {}
        self._last: dict[str, QuarantinedLetter] = {}
        self._lock = asyncio.Lock()
        #: Dead letters read by the refreshes so far (the first reads the whole topic).
        self.read = 0

    async def refresh(self, connection: KafkaConnection) -> dict[str, QuarantinedLetter]:
        """Read the dead letters that came since the last refresh; the last one of each
        connector (a later one on another partition wins by its time)."""
        async with self._lock:
            last = self._last

            def see(letter: QuarantinedLetter) -> None:
                self.read += 1
                kept = last.get(letter.connector)
                if kept is None or (kept.timestamp, kept.id) <= (letter.timestamp, letter.id):
                    last[letter.connector] = letter

            self._positions = await each_dead_letter(connection, see, self._positions)
            return dict(last)
