"""A ``hub.routing.transactions.Publisher`` that keeps what it is handed, for tests of code
publishing through one: in memory alone (unit tests), or in front of a real producer
(integration tests, to see where each message landed)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field

from aiokafka.structs import RecordMetadata, TopicPartition

from hub.routing.transactions import Landings, Message, Publisher


@dataclass
class Sent:
    """One message as handed to the publisher."""

    topic: str
    value: bytes
    key: bytes | None
    headers: Mapping[str, str]
    landing: Awaitable[RecordMetadata]


@dataclass
class RecordingPublisher:
    """Records every message, transaction and abort; forwards them to ``inner`` if given,
    otherwise each message lands at once at the next offset of partition 0. ``committed``
    holds the messages of committed transactions only."""

    inner: Publisher | None = None
    sent: list[Sent] = field(default_factory=list)
    committed: list[Sent] = field(default_factory=list)
    transactions: int = 0
    aborts: int = 0
    _open: list[Sent] = field(default_factory=list)

    @property
    def transactional(self) -> bool:
        """As ``inner``; in memory, transactional."""
        return True if self.inner is None else self.inner.transactional

    async def begin(self) -> None:
        """Open a transaction."""
        self._open = []
        if self.inner is not None:
            await self.inner.begin()

    async def enqueue(
        self, topic: str, value: bytes, key: bytes | None, headers: Mapping[str, str]
    ) -> Awaitable[RecordMetadata]:
        """Record the message; hand it on."""
        if self.inner is not None:
            landing = await self.inner.enqueue(topic, value, key, headers)
        else:
            offset = len(self.sent)
            done: asyncio.Future[RecordMetadata] = asyncio.get_running_loop().create_future()
            done.set_result(
                RecordMetadata(topic, 0, TopicPartition(topic, 0), offset, None, 0, None)
            )
            landing = done
        sent = Sent(topic, value, key, dict(headers), landing)
        self.sent.append(sent)
        self._open.append(sent)
        return landing

    async def enqueue_all(self, messages: Sequence[Message]) -> Landings:
        """Record each message, in order; hand them on one by one."""
        return await Landings.one_by_one(self.enqueue, messages)

    async def commit(self, offsets: Mapping[TopicPartition, int], group: str) -> None:
        """Commit the transaction."""
        if self.inner is not None:
            await self.inner.commit(offsets, group)
        self.transactions += 1
        self.committed.extend(self._open)
        self._open = []

    async def abort(self) -> None:
        """Abort the transaction."""
        self.aborts += 1
        self._open = []
        if self.inner is not None:
            await self.inner.abort()

    def on(self, topic: str) -> list[Sent]:
        """The committed messages on ``topic``, in order."""
        return [sent for sent in self.committed if sent.topic == topic]
