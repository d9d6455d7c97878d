"""Broker outages as the routes need to know them: did the broker lose its log meanwhile?

A route that was on a message when the broker went away finishes it once the broker is back.
Against a cluster that kept its logs, committing that message is right. Against a broker that
came back without them (the embedded one keeps everything in memory), the message's offset now
names a *new* record of the fresh log, and committing it would pass that record over: the
route must not commit but read the partition again from that offset.

The broker watch tells ``BrokerOutages`` when an outage begins, whether the broker had lost its
topics (the hub had to create them again) and when the outage is over. A route marks the
outages when it takes a message and, after handling it, asks ``lost_log_since``: only when an
outage went on meanwhile does it wait for the watch's verdict.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

__all__ = ["BrokerOutages", "HandledAcrossLogLossError", "OutageMark"]


@dataclass(frozen=True)
class OutageMark:
    """The outage counts when a route took a message, and whether one was going on."""

    begun: int
    logs_lost: int
    during_outage: bool


class HandledAcrossLogLossError(Exception):
    """A route finished a message after the broker lost its log: not committed, read again."""

    def __init__(self, route: str) -> None:
        super().__init__(
            f"route {route}: the broker lost its topics while a message was handled; "
            "its offset is not committed and the partition is read again from there"
        )


class BrokerOutages:
    """Outages begun, outages after which the broker had lost its topics, and whether one is
    going on now."""

    def __init__(self) -> None:
        self._begun = 0
        self._logs_lost = 0
        self._over = asyncio.Event()
        self._over.set()

    def mark(self) -> OutageMark:
        """The counts now, to compare with after handling a message."""
        return OutageMark(self._begun, self._logs_lost, not self._over.is_set())

    def begin(self) -> None:
        """The broker went away."""
        self._begun += 1
        self._over.clear()

    def log_lost(self) -> None:
        """The broker is back without its topics."""
        self._logs_lost += 1

    def end(self) -> None:
        """The broker is back and usable."""
        self._over.set()

    async def lost_log_since(self, mark: OutageMark) -> bool:
        """Whether the broker lost its log since ``mark``; if an outage went on since and is not
        over, wait until it is."""
        if self._begun == mark.begun and not mark.during_outage:
            return False
        await self._over.wait()
        return self._logs_lost != mark.logs_lost
