"""The audit stream on ``hub.audit.v1``, and the housekeeping ``hub up`` runs beside the routes.

The store is the outbox: records are committed first (that is what acknowledging waits for)
and published afterwards, chain by chain in sequence order, from the chain's published
cursor. Messages carry the record without its payload (the payload may hold an identity code;
its SHA-256 is there), keyed by chain (``audit_message``).

Two publishers share the work:

- a route publishes the records of its own batch from the batch in hand, inside the batch's Kafka
  transaction (``hub.routing.pipeline``), when the chain's cursor was at the chain's head before the
  batch was recorded (nothing older waits): the store claims the chain for the route
  (``AuditStore.append_claiming``) in the transaction that places the records, and after the Kafka
  commit the route moves the cursor to the batch's last record and releases the claim
  (``AuditStore.published``: the move reaches the database with the next append or
  housekeeping round, not in a durable transaction of its own; lost in a crash, it only
  publishes those records again). A reader with ``isolation.level=read_committed`` sees those
  records exactly when it sees the batch's outputs. When the transaction aborts, the claim is
  released with the cursor unmoved, and housekeeping publishes the aborted attempt's records
  (they are true: the attempt happened) on its next round;
- housekeeping (``publish_pending``, every half second) publishes everything else from the
  cursor: records written outside routes (replays, console disclosures, dead-letter
  decisions), those of aborted attempts, those of a chain whose cursor lagged behind.

While a chain is claimed, ``AuditStore.unpublished`` leaves it out, so this process never
publishes a batch's records twice. Records can still come twice, which is why consumers
deduplicate on ``(chain, seq)``: a crash between publishing and moving the cursor (a route's
transaction committed, the hub dies before ``published``; or a housekeeping send, then the
crash), and several hub instances sharing one PostgreSQL store (another instance's
housekeeping does not see this one's claims and may publish a batch's records between the
store's commit and the Kafka commit). Nothing is lost: a record leaves the outbox only by its
cursor moving, and the cursor moves only after Kafka has the record.

The same topic carries the anchors of the signed checkpoints (hub.audit.anchors), keyed
``checkpoints`` (no chain has that name), so a store rolled back behind them shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
from collections.abc import Awaitable, Callable
from typing import Any, Final

import orjson

from hub.audit.anchors import ANCHOR_CONTENT_TYPE, ANCHOR_KEY, anchor_pending
from hub.audit.recorder import AuditRecorder
from hub.audit.records import AuditRecord, format_time
from hub.core.logs import get_logger
from hub.core.topics import AUDIT_TOPIC

__all__ = [
    "AUDIT_CONTENT_TYPE",
    "Send",
    "anchor_round",
    "audit_headers",
    "audit_message",
    "audit_topic_sender",
    "housekeeping",
    "publish_pending",
    "random_uuid4",
]

log = get_logger(__name__)

AUDIT_CONTENT_TYPE: Final = "application/vnd.paijathame.audit-record+json"
_PAGE: Final = 500
_TICK_S: Final = 0.5
_PRUNE_EVERY_S: Final = 3600.0

#: Publishes (key, value) pairs to the audit topic and returns once Kafka has them all.
Send = Callable[[list[tuple[bytes, bytes]]], Awaitable[None]]


def audit_message(record: AuditRecord) -> tuple[bytes, bytes]:
    """The key and value of ``record`` on ``hub.audit.v1``: its chain, its summary."""
    return record.chain.encode(), orjson.dumps(record.summary())


def audit_headers(count: int) -> list[dict[str, str]]:
    """The headers of ``count`` audit records on ``hub.audit.v1`` published by a route: those
    ``audit_topic_sender`` gets from FastStream (the content type, a random version-4 UUID as
    correlation id), so the two publishers' messages cannot be told apart. One read of the
    system's randomness for all of them."""
    randomness = os.urandom(16 * count)
    return [
        {"content-type": AUDIT_CONTENT_TYPE, "correlation_id": random_uuid4(randomness[i : i + 16])}
        for i in range(0, 16 * count, 16)
    ]


def random_uuid4(random: bytes) -> str:
    """``str(uuid.UUID(bytes=random, version=4))`` of 16 random bytes, without the object."""
    data = bytearray(random)
    data[6] = (data[6] & 0x0F) | 0x40  # version 4
    data[8] = (data[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = data.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


async def publish_pending(recorder: AuditRecorder, send: Send) -> int:
    """Publish every record not yet on ``hub.audit.v1``; how many were published."""
    total = 0
    while True:
        records = await asyncio.to_thread(recorder.store.unpublished, _PAGE)
        if not records:
            return total
        await send([audit_message(record) for record in records])
        last: dict[str, int] = {}
        for record in records:
            last[record.chain] = max(last.get(record.chain, 0), record.seq)
        for chain, seq in last.items():
            await asyncio.to_thread(recorder.store.mark_published, chain, seq)
        total += len(records)


async def anchor_round(recorder: AuditRecorder, send: Send) -> int:
    """Anchor every checkpoint not yet anchored (file, then ``hub.audit.v1``); how many."""

    async def send_anchors(documents: list[bytes]) -> None:
        await send([(ANCHOR_KEY, document) for document in documents])

    return await anchor_pending(recorder.store, send_anchors, recorder.anchor_file)


async def housekeeping(
    recorder: AuditRecorder,
    send: Send,
    stop: asyncio.Event,
    retention_days: int | None = None,
) -> None:
    """Until ``stop``: publish the audit stream, sign due checkpoints, anchor them, prune old
    payloads; once ``stop`` is set, one last round that signs and anchors what was recorded.

    A failing round (broker away, say) is logged and tried again on the next tick: the records
    and checkpoints wait safely in the store.
    """
    last_prune = float("-inf")
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        try:
            await publish_pending(recorder, send)
            await asyncio.to_thread(recorder.checkpoint_if_due)
            await anchor_round(recorder, send)
            if retention_days is not None and loop.time() - last_prune >= _PRUNE_EVERY_S:
                cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=retention_days)
                pruned = await asyncio.to_thread(recorder.store.prune_payloads, format_time(cutoff))
                last_prune = loop.time()
                log.info("audit payloads pruned", records=pruned, before=format_time(cutoff))
        except Exception as exc:  # noqa: BLE001 - housekeeping retries; the records are safe.
            log.warning("audit housekeeping failed, retrying", error=type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), _TICK_S)
    try:
        await asyncio.to_thread(recorder.checkpoint_if_due, force=True)
        await publish_pending(recorder, send)
        await anchor_round(recorder, send)
    except Exception as exc:  # noqa: BLE001 - the next start anchors what is left.
        log.warning("audit housekeeping's last round failed", error=type(exc).__name__)


def audit_topic_sender(publish: Callable[..., Awaitable[Any]]) -> Send:
    """A ``Send`` over FastStream's ``KafkaBroker.publish``: fire all, then wait for every ack.
    Anchors (key ``checkpoints``) go with their own content type."""

    async def send(batch: list[tuple[bytes, bytes]]) -> None:
        pending = [
            await publish(
                value,
                topic=AUDIT_TOPIC,
                key=key,
                headers={
                    "content-type": ANCHOR_CONTENT_TYPE if key == ANCHOR_KEY else AUDIT_CONTENT_TYPE
                },
                no_confirm=True,
            )
            for key, value in batch
        ]
        await asyncio.gather(*pending)

    return send
