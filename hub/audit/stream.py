"""The audit stream on ``hub.audit.v1``, and the housekeeping ``hub up`` runs beside the routes.

The store is the outbox: records are committed first (that is what acknowledging waits for)
and published afterwards, chain by chain in sequence order, from the chain's published
cursor. A crash between publishing and moving the cursor publishes some records twice; SIEM
consumers deduplicate on ``(chain, seq)``. Messages carry the record without its payload (the
payload may hold an identity code; its SHA-256 is there), keyed by chain.

The same topic carries the anchors of the signed checkpoints (hub.audit.anchors), keyed
``checkpoints`` (no chain has that name), so a store rolled back behind them shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, Final

import orjson

from hub.audit.anchors import ANCHOR_CONTENT_TYPE, ANCHOR_KEY, anchor_pending
from hub.audit.recorder import AuditRecorder
from hub.audit.records import format_time
from hub.logs import get_logger
from hub.topics import AUDIT_TOPIC

__all__ = [
    "AUDIT_CONTENT_TYPE",
    "Send",
    "anchor_round",
    "audit_topic_sender",
    "housekeeping",
    "publish_pending",
]

log = get_logger(__name__)

AUDIT_CONTENT_TYPE: Final = "application/vnd.paijathame.audit-record+json"
_PAGE: Final = 500
_TICK_S: Final = 0.5
_PRUNE_EVERY_S: Final = 3600.0

#: Publishes (key, value) pairs to the audit topic and returns once Kafka has them all.
Send = Callable[[list[tuple[bytes, bytes]]], Awaitable[None]]


async def publish_pending(recorder: AuditRecorder, send: Send) -> int:
    """Publish every record not yet on ``hub.audit.v1``; how many were published."""
    total = 0
    while True:
        records = await asyncio.to_thread(recorder.store.unpublished, _PAGE)
        if not records:
            return total
        await send([(r.chain.encode(), orjson.dumps(r.summary())) for r in records])
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
