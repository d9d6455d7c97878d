"""Reading a topic by hand, group-less and never committing (so the running hub is not
disturbed): the consumer for it, and a read from where an earlier one stopped (or the
beginning) to the end the topic had when the read started.

What the console's dead-letter lists, the flows page and the audit verification's anchors
share; ``hub tail`` and ``hub deadletters show`` use the consumer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.errors import KafkaError

from hub.broker.bootstrap import start_client
from hub.broker.connection import KafkaConnection
from hub.broker.diagnosis import operation_error
from hub.broker.partitions import partitions_of

__all__ = ["READ_TO_END_WAIT_MS", "Positions", "each_record", "reading_consumer"]

#: Where a read of a topic stopped: partition → the next offset to read.
Positions = dict[int, int]


#: How long a read up to a known end lets the broker wait for data it does not have yet: the
#: records before the end are there, and a consumer's first fetch, sent before its seek, would
#: otherwise idle out the broker's default half second at every read.
READ_TO_END_WAIT_MS: Final = 20
#: The consumer's (and the broker's) default: a follower's fetch waits this long for news.
_FOLLOW_WAIT_MS: Final = 500


async def reading_consumer(
    connection: KafkaConnection, *, committed_only: bool, to_known_end: bool
) -> AIOKafkaConsumer:
    """A started consumer without a group that never commits. ``committed_only``: as a
    partner reads (``read_committed``): a message of an aborted transaction is not one.
    ``to_known_end``: the read stops at an end known beforehand, so the broker holds a fetch
    only ``READ_TO_END_WAIT_MS`` for new data (a follower keeps the default long poll)."""
    fetch_max_wait_ms = READ_TO_END_WAIT_MS if to_known_end else _FOLLOW_WAIT_MS
    isolation = "read_committed" if committed_only else "read_uncommitted"
    return await start_client(
        connection,
        lambda: AIOKafkaConsumer(
            **connection.client_kwargs(),
            group_id=None,
            enable_auto_commit=False,
            isolation_level=isolation,
            fetch_max_wait_ms=fetch_max_wait_ms,
        ),
        AIOKafkaConsumer.start,
        AIOKafkaConsumer.stop,
    )


async def each_record(
    connection: KafkaConnection,
    topic: str,
    found: Callable[[ConsumerRecord[bytes, bytes]], object],
    *,
    committed_only: bool,
    after: Mapping[int, int] | None = None,
    bounds: Callable[[int, int, int], object] | None = None,
) -> Positions:
    """Hand ``found`` every record of ``topic`` from ``after`` (partition → next offset; the
    beginning for a partition it does not name, or where retention has already removed that
    offset) up to the topic's end when reading started, in each partition's order; where it
    stopped. Memory does not grow with the topic.

    A partition whose end is now before ``after``'s offset was recreated: read from its
    beginning (``after`` is only ever this function's own answer). ``bounds`` is told each
    partition's first offset and end, ``(partition, first, end)``, before any record is read:
    what a caller keeping records from earlier reads must forget.
    """
    consumer = await reading_consumer(connection, committed_only=committed_only, to_known_end=True)
    try:
        assigned = await partitions_of(consumer, [topic])
        if not assigned:
            return {}
        consumer.assign(assigned)
        starts = await consumer.beginning_offsets(assigned)
        ends = await consumer.end_offsets(assigned)
        reached: Positions = {}
        for tp in assigned:
            if bounds is not None:
                bounds(tp.partition, starts[tp], ends[tp])
            wanted = (after or {}).get(tp.partition, 0)
            if not starts[tp] <= wanted <= ends[tp]:
                wanted = starts[tp]
            consumer.seek(tp, wanted)
            reached[tp.partition] = wanted
        waiting = {tp for tp in assigned if reached[tp.partition] < ends[tp]}
        while waiting:
            batch = await consumer.getmany(*waiting, timeout_ms=500)
            for tp, records in batch.items():
                for record in records:
                    if record.offset < ends[tp]:
                        found(record)
            for tp in list(waiting):
                position = await consumer.position(tp)
                reached[tp.partition] = min(position, ends[tp])
                if position >= ends[tp]:
                    waiting.discard(tp)
        return reached
    except KafkaError as exc:
        raise operation_error(connection, exc, f"to read topic {topic}") from None
    finally:
        await consumer.stop()
