"""A route that fails on the same message again and again: reported, and bounded.

When handling a message raises, the message is not acknowledged and Kafka gives it again:
right for a broker that is away for a minute, wrong for a message that can never succeed (an
output larger than the broker takes, a bug a particular message triggers). Without a bound,
every message behind it in its partition waits forever.

``RouteFailures`` watches one route:

- every failed attempt counts in ``hub_route_failed_attempts_total``;
- the second failed attempt at one message turns the route *failing* (one failure that the
  next attempt cures, a lock held for a moment, is not worth a report): one error line
  ``route failing on a message`` (route, topic, partition, offset, error class),
  ``hub_route_failing`` 1, the route named by ``/readyz`` (503);
- each next attempt at that message waits a little longer first (0.2 s doubling, at most
  10 s), so a failing message is not hammered 25 times a second;
- after ``max_attempts`` failed attempts the message is given up: dead-lettered as
  ``retries-exhausted`` with the number of attempts and the last error's class, and the
  partition moves on;
- once every message that failed is done with (handled, or given up; its partition moved
  past it), the route turns back: one info line ``route recovered``, ``hub_route_failing`` 0,
  ``/readyz`` no longer names it.

Failures of the hub's surroundings rather than of the message (Kafka away or timing out, the
audit store or the disk unavailable) are reported the same way but never count towards the
bound: a message is not dead-lettered because a database restarted.

A batch that fails is taken one record at a time when it comes again, so the failing record
is known and only it is counted (and given up).

Counts live in memory: a restart of the hub starts them afresh. Log lines carry route,
topic, partition, offset and an exception class name: never message contents.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final

from aiokafka.errors import KafkaError, KafkaTimeoutError
from aiokafka.structs import ConsumerRecord

from hub.core.errors import TransientError
from hub.core.logs import get_logger
from hub.core.metrics import HubMetrics
from hub.routing.deadletter import RETRIES_EXHAUSTED
from schemas.rejection import Rejection

__all__ = ["RouteFailures", "is_environmental", "wait_before"]

log = get_logger(__name__)

_FIRST_WAIT_S: Final = 0.2  # doubled before each next attempt
_LONGEST_WAIT_S: Final = 10.0
#: Failed attempts at one message that make the route reported as failing.
_REPORT_AFTER: Final = 2

Records = Sequence[ConsumerRecord[bytes, bytes]]
Handle = Callable[[Records], Awaitable[None]]
GiveUp = Callable[[ConsumerRecord[bytes, bytes], Rejection], Awaitable[None]]


def wait_before(attempt: int) -> float:
    """Seconds to wait before the ``attempt``-th attempt at a message (the first: none)."""
    if attempt <= 1:
        return 0.0
    return min(_FIRST_WAIT_S * 2.0 ** (attempt - 2), _LONGEST_WAIT_S)


def is_environmental(exc: BaseException) -> bool:
    """True for a failure of the hub's surroundings, not of the message: Kafka away or slow,
    a database unavailable or locked, the disk. Such failures never make a message given up."""
    if isinstance(exc, KafkaTimeoutError | TransientError | OSError | sqlite3.OperationalError):
        return True
    if isinstance(exc, KafkaError) and bool(exc.retriable):
        return True
    psycopg = sys.modules.get("psycopg")  # loaded only with a PostgreSQL audit store
    return psycopg is not None and isinstance(exc, psycopg.OperationalError)


@dataclass(frozen=True, slots=True)
class _Key:
    topic: str
    partition: int
    offset: int

    @classmethod
    def of(cls, record: ConsumerRecord[bytes, bytes]) -> _Key:
        return cls(record.topic, record.partition, record.offset)


@dataclass(slots=True)
class _Tally:
    """Failed attempts at one message: all of them, those that count towards the bound, and
    the last error's class."""

    attempts: int = 0
    counted: int = 0
    last_error: str = ""


class RouteFailures:
    """Failed attempts at messages of one route, their report and their bound."""

    def __init__(
        self,
        route: str,
        max_attempts: int,
        metrics: HubMetrics | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.route = route
        self.max_attempts = max_attempts
        self._metrics = metrics
        self._sleep = sleep
        #: The messages that failed and are not done with yet.
        self._tallies: dict[_Key, _Tally] = {}
        self.failing = False
        if metrics is not None:
            metrics.failing.labels(route).set(0)

    async def run(self, records: Records, handle: Handle, give_up: GiveUp) -> None:
        """Handle ``records`` (raising as ``handle`` does); records that failed before are
        handled one by one, after a wait, and given up once they reached the bound."""
        if not any(_Key.of(record) in self._tallies for record in records):
            await self._attempt(records, handle)
            self._passed(records)
            self._report_recovery()
            return
        for record in records:
            tally = self._tallies.get(_Key.of(record), _Tally())
            if tally.counted >= self.max_attempts:
                detail = (
                    f"handling failed {tally.counted} times; the last error: {tally.last_error}"
                )
                await give_up(record, Rejection(RETRIES_EXHAUSTED, detail))
            else:
                wait = wait_before(tally.attempts + 1)
                if wait:
                    await self._sleep(wait)
                await self._attempt((record,), handle)
            self._passed((record,))
        self._report_recovery()

    async def _attempt(self, records: Records, handle: Handle) -> None:
        try:
            await handle(records)
        except Exception as exc:
            # Of a batch, the first record stands for it: it comes again split, and the
            # failing record is counted then.
            self._failed(_Key.of(records[0]), exc)
            raise

    def _failed(self, key: _Key, exc: Exception) -> None:
        error = type(exc).__name__
        tally = self._tallies.setdefault(key, _Tally())
        tally.attempts += 1
        tally.counted += 0 if is_environmental(exc) else 1
        tally.last_error = error
        if self._metrics is not None:
            self._metrics.failed_attempts.labels(self.route, error).inc()
        if self.failing or tally.attempts < _REPORT_AFTER:
            return
        self.failing = True
        log.error(
            "route failing on a message",
            route=self.route,
            topic=key.topic,
            partition=key.partition,
            offset=key.offset,
            error=error,
            gives_up_after=self.max_attempts,
        )
        if self._metrics is not None:
            self._metrics.failing.labels(self.route).set(1)
            self._metrics.failing_routes.add(self.route)

    def _passed(self, records: Records) -> None:
        """``records`` are done with: their partitions have moved past every message that
        failed there before."""
        for record in records:
            for key in [
                k
                for k in self._tallies
                if (k.topic, k.partition) == (record.topic, record.partition)
                and k.offset <= record.offset
            ]:
                del self._tallies[key]

    def _report_recovery(self) -> None:
        """Once every message that failed is done with, the route is no longer failing."""
        if self.failing and not self._tallies:
            self.failing = False
            log.info("route recovered", route=self.route)
            if self._metrics is not None:
                self._metrics.failing.labels(self.route).set(0)
                self._metrics.failing_routes.discard(self.route)
