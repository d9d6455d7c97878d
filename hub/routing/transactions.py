"""A route's producer: its outputs and its consumer offsets committed in one Kafka transaction.

Each route publishes through a producer of its own whose ``transactional.id`` is the route's
consumer group plus the hub instance (``HUB_INSTANCE_ID``). A batch of consumed records is
handled in one transaction: every output (partner messages, canonical events, dead letters)
and the offsets of the records that caused them become visible together, to consumers reading
with ``isolation.level=read_committed``, or not at all. A hub killed mid-batch leaves an open
transaction; the same instance starting again fences it (same ``transactional.id``), Kafka
aborts it, and the records come again: nobody reading committed data ever sees the first try.

With ``HUB_KAFKA_TRANSACTIONS=false`` (a cluster that refuses transactions) the same producer
is idempotent only, offsets are committed after publishing, and delivery is at least once:
the delivery log suppresses what a redelivered event would send twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import socket
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, NamedTuple, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.structs import RecordMetadata, TopicPartition

from hub.broker.bootstrap import start_client
from hub.broker.connection import KafkaConnection
from hub.broker.partitioning import CachedPartitioner

__all__ = [
    "CORRELATION_HEADER",
    "TRANSACTION_TIMEOUT_MS",
    "BrokerPublisher",
    "Landings",
    "Message",
    "Publisher",
    "RouteProducer",
    "default_instance_id",
    "retrieve_later",
    "transactional_id",
]

#: The header every message the hub publishes carries its event id in (a random id when the
#: message carries no event).
CORRELATION_HEADER: Final = "correlation_id"

#: How long an open transaction may last before the coordinator aborts it, unless set
#: (``HUB_KAFKA_TRANSACTION_TIMEOUT_MS``). A batch takes milliseconds; the bound matters when a
#: hub dies and does not come back under its instance id (killed, or another instance takes
#: its partitions): read-committed consumers of its partitions wait at most this long (plus
#: the coordinator's check interval) for the abort.
TRANSACTION_TIMEOUT_MS: Final = 30_000

_PARTITIONER: Final = CachedPartitioner()

#: aiokafka's default ``max_request_size``: the largest message a producer takes.
_MAX_REQUEST_SIZE: Final = 1_048_576


class Message(NamedTuple):
    """One message to publish."""

    topic: str
    key: bytes | None
    value: bytes
    headers: Mapping[str, str]


#: ``Publisher.enqueue``: (topic, value, key, headers) handed over, where it lands to come.
Enqueue = Callable[
    [str, bytes, bytes | None, Mapping[str, str]], Awaitable[Awaitable[RecordMetadata]]
]


class Landings:
    """Where each message handed over together landed, in the order given, once the broker
    has them all: each record batch's base offset plus the record's place in it."""

    def __init__(
        self,
        count: int,
        batches: Sequence[tuple[Awaitable[RecordMetadata | None], Sequence[int]]],
    ) -> None:
        self._count = count
        self._batches = batches

    @classmethod
    async def one_by_one(cls, enqueue: Enqueue, messages: Sequence[Message]) -> Landings:
        """``messages`` handed to ``enqueue`` one at a time, in order (a publisher with no
        record batches of its own)."""
        return cls(
            len(messages),
            [
                (await enqueue(topic, value, key, headers), (index,))
                for index, (topic, key, value, headers) in enumerate(messages)
            ],
        )

    @property
    def pending(self) -> list[Awaitable[RecordMetadata | None]]:
        """The batches' own futures (to mark them seen when the landings are not awaited)."""
        return [future for future, _ in self._batches]

    def __await__(self) -> Generator[Any, None, list[RecordMetadata | None]]:
        return self._landed().__await__()

    async def _landed(self) -> list[RecordMetadata | None]:
        landed: list[RecordMetadata | None] = [None] * self._count
        bases = await asyncio.gather(*self.pending)
        for base, (_, indices) in zip(bases, self._batches, strict=True):
            if base is None:  # FastStream's in-memory test broker lands messages nowhere
                continue
            for place, index in enumerate(indices):
                landed[index] = base._replace(offset=base.offset + place)
        return landed


class Publisher(Protocol):
    """What the pipeline publishes through: a transaction per batch, where there is one."""

    @property
    def transactional(self) -> bool:
        """True if ``commit`` commits the consumer offsets with the outputs."""

    async def begin(self) -> None:
        """Open the batch's transaction (nothing without transactions)."""

    async def enqueue(
        self, topic: str, value: bytes, key: bytes | None, headers: Mapping[str, str]
    ) -> Awaitable[RecordMetadata]:
        """Hand one message to the producer; the awaitable gives where it landed. Raises
        ``MessageSizeTooLargeError`` at once for a message larger than the producer takes."""

    async def enqueue_all(self, messages: Sequence[Message]) -> Landings:
        """Hand ``messages`` to the producer, each to its key's partition, in order within
        each partition; awaited, where each landed. Raises ``MessageSizeTooLargeError`` at
        once for a message larger than the producer takes, before handing over any."""

    async def commit(self, offsets: Mapping[TopicPartition, int], group: str) -> None:
        """Commit the transaction with ``offsets`` for ``group`` (without transactions:
        nothing; the caller acknowledges)."""

    async def abort(self) -> None:
        """Abort the open transaction, if there is one; never raises."""


def retrieve_later(landings: Iterable[Awaitable[Any]]) -> None:
    """Retrieve each landing's outcome once it is done, for landings nobody will await (a
    later hand-over failed, and only that failure propagates): asyncio logs a failed future
    whose exception was never retrieved, and the failure is already being handled."""
    for landing in landings:
        if isinstance(landing, asyncio.Future):
            landing.add_done_callback(_retrieve)


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def default_instance_id(data_dir: Path) -> str:
    """This host and data directory: stable across restarts of one hub (so a restarted hub
    fences its own unfinished transactions), different for two hubs on one host."""
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:8]
    return f"{socket.gethostname()}-{digest}"


def transactional_id(group: str, instance: str) -> str:
    """The ``transactional.id`` of a route's producer: its group, then the instance (so the
    ACL prefix of the hub's groups covers it)."""
    return f"{group}.{instance}"


class RouteProducer:
    """One route's aiokafka producer: transactional, or idempotent only."""

    def __init__(
        self,
        producer_kwargs: Mapping[str, Any],
        transactional_id: str | None,
        transaction_timeout_ms: int = TRANSACTION_TIMEOUT_MS,
    ) -> None:
        # Same partitions as aiokafka's default, without its per-message pure-Python hash.
        options: dict[str, Any] = {"linger_ms": 1, "partitioner": _PARTITIONER}
        if transactional_id is not None:
            options |= {
                "transactional_id": transactional_id,
                "transaction_timeout_ms": transaction_timeout_ms,
                "enable_idempotence": True,
            }
        self._producer = AIOKafkaProducer(**{**producer_kwargs, **options})
        self._max_request_size = int(producer_kwargs.get("max_request_size", _MAX_REQUEST_SIZE))
        self._transactional = transactional_id is not None
        self._open = False

    @classmethod
    async def started(
        cls,
        connection: KafkaConnection,
        transactional_id: str | None,
        transaction_timeout_ms: int = TRANSACTION_TIMEOUT_MS,
    ) -> RouteProducer:
        """A started producer for ``connection``; a refusal (an ACL on the transactional
        id, ``InitProducerId``) raises the hub's ``KafkaRefusedError`` naming its cause."""
        return await start_client(
            connection,
            lambda: cls(connection.producer_kwargs(), transactional_id, transaction_timeout_ms),
            cls.start,
            cls.stop,
            idempotent_producer=True,
        )

    @property
    def transactional(self) -> bool:
        """True if outputs and offsets commit together."""
        return self._transactional

    async def start(self) -> None:
        """Connect (and, transactional, fence an earlier producer of the same id)."""
        await self._producer.start()

    async def stop(self) -> None:
        """Abort an open transaction and disconnect."""
        await self.abort()
        await self._producer.stop()

    async def begin(self) -> None:
        """Open the batch's transaction."""
        if self._transactional:
            await self._producer.begin_transaction()
            self._open = True

    async def enqueue(
        self, topic: str, value: bytes, key: bytes | None, headers: Mapping[str, str]
    ) -> Awaitable[RecordMetadata]:
        """Hand one message to the producer (in order per partition)."""
        future: asyncio.Future[RecordMetadata] = await self._producer.send(
            topic, value, key=key, headers=[(k, v.encode()) for k, v in headers.items()]
        )
        return future

    async def enqueue_all(self, messages: Sequence[Message]) -> Landings:
        """Hand messages to the producer as whole record batches, one partition at a time,
        in order within each: one future per batch instead of one per message (``send``
        costs several times as much per message). Partitions as ``send`` picks them, and a
        message too large for the producer refused as ``send`` refuses it."""
        every: dict[str, list[int]] = {}
        by_partition: dict[tuple[str, int], list[int]] = {}
        encoded: list[list[tuple[str, bytes]]] = []
        for index, (topic, key, value, headers) in enumerate(messages):
            pairs = [(k, v.encode()) for k, v in headers.items()]
            # ``send``'s own check, so that the same messages are refused.
            size = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, pairs)
            if size > self._max_request_size:
                raise MessageSizeTooLargeError(
                    f"The message is {size} bytes when serialized which is larger than "
                    f"max_request_size ({self._max_request_size})"
                )
            encoded.append(pairs)
            if topic not in every:
                every[topic] = sorted(await self._producer.partitions_for(topic))
            partitions = every[topic]
            partition = _PARTITIONER(key, partitions, partitions)
            by_partition.setdefault((topic, partition), []).append(index)
        batches: list[tuple[Awaitable[RecordMetadata | None], Sequence[int]]] = []
        try:
            for (topic, partition), indices in by_partition.items():
                batch, first = self._producer.create_batch(), 0
                for place, index in enumerate(indices):
                    _, key, value, _ = messages[index]
                    if batch.append(key=key, value=value, timestamp=None, headers=encoded[index]):
                        continue
                    # Full: send it; the message opens the next (an empty batch takes any).
                    future = await self._producer.send_batch(batch, topic, partition=partition)
                    batches.append((future, indices[first:place]))
                    batch, first = self._producer.create_batch(), place
                    batch.append(key=key, value=value, timestamp=None, headers=encoded[index])
                future = await self._producer.send_batch(batch, topic, partition=partition)
                batches.append((future, indices[first:]))
        except BaseException:
            # Nobody awaits the batches handed over before the failure (the caller gets the
            # failure, not the landings); when they fail too, as a broker gone away fails
            # them, each would be logged as never retrieved.
            retrieve_later(future for future, _ in batches)
            raise
        return Landings(len(messages), batches)

    async def commit(self, offsets: Mapping[TopicPartition, int], group: str) -> None:
        """Add ``offsets`` (if any) to the transaction and commit it."""
        if not self._transactional:
            await self._producer.flush()
            return
        if offsets:  # none from a file ingest: its transaction must not name a group
            await self._producer.send_offsets_to_transaction(dict(offsets), group)
        await self._producer.commit_transaction()
        self._open = False

    async def abort(self) -> None:
        """Abort the open transaction; a producer that cannot (fenced, broker away) is left
        to the coordinator, which aborts it on timeout or when the id starts again."""
        if not self._open:
            return
        self._open = False
        # The batch is redelivered either way.
        with contextlib.suppress(Exception):
            await self._producer.abort_transaction()


class BrokerPublisher:
    """Publishing through a FastStream broker, without transactions: for wiring a route on a
    broker alone (FastStream's test broker, the AsyncAPI description)."""

    transactional = False

    def __init__(self, publish: Callable[..., Awaitable[Any]]) -> None:
        self._publish = publish

    async def begin(self) -> None:
        """Nothing to open."""

    async def enqueue(
        self, topic: str, value: bytes, key: bytes | None, headers: Mapping[str, str]
    ) -> Awaitable[RecordMetadata]:
        """Publish now; the awaitable is already done."""
        metadata = await self._publish(
            value,
            topic=topic,
            key=key,
            headers=dict(headers),
            correlation_id=headers.get(CORRELATION_HEADER),
        )
        done: asyncio.Future[RecordMetadata] = asyncio.get_running_loop().create_future()
        done.set_result(metadata)
        return done

    async def enqueue_all(self, messages: Sequence[Message]) -> Landings:
        """Publish each now, in order."""
        return await Landings.one_by_one(self.enqueue, messages)

    async def commit(self, offsets: Mapping[TopicPartition, int], group: str) -> None:
        """Nothing to commit: the caller acknowledges."""

    async def abort(self) -> None:
        """Nothing to abort."""
