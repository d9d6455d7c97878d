"""Anchors: every signed checkpoint kept outside the audit store as well.

A checkpoint inside the store proves what the chains were, as long as it is there: whoever
can write the database can delete the newest checkpoints together with the records they
cover, and what is left still verifies. An anchor is a copy of a checkpoint (its number, its
exact signed text and its signature) written where the database's owner cannot write:

- the audit topic ``hub.audit.v1`` (a ``checkpoint-anchor`` message, key ``checkpoints``,
  content type ``application/vnd.paijathame.audit-checkpoint+json``), always;
- an append-only file (``HUB_AUDIT_ANCHOR_FILE``, one JSON line per checkpoint), if set.

The store is the outbox, as for records: ``anchor_pending`` writes every checkpoint not yet
anchored to the file, then to the topic, and only then marks it anchored; a crash in between
anchors it twice, which readers ignore (one checkpoint number, one anchor). ``hub audit
verify`` reads the anchors back and holds the store against the newest one whose signature
holds (hub.audit.verify).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson
from aiokafka import ConsumerRecord

from hub.audit.store import AuditStore, StoredCheckpoint
from hub.broker.connection import KafkaConnection
from hub.broker.topic_reading import each_record
from hub.core.errors import ConfigurationError
from hub.core.topics import AUDIT_TOPIC

__all__ = [
    "ANCHOR_CONTENT_TYPE",
    "ANCHOR_KEY",
    "AnchorSend",
    "CheckpointAnchor",
    "anchor_document",
    "anchor_pending",
    "append_anchor_lines",
    "parse_anchor",
    "read_anchor_file",
    "read_topic_anchors",
]

ANCHOR_CONTENT_TYPE: Final = "application/vnd.paijathame.audit-checkpoint+json"
#: One key for every anchor: they keep their order in one partition.
ANCHOR_KEY: Final = b"checkpoints"
_KIND: Final = "checkpoint-anchor"

#: Publishes anchor documents to the audit topic and returns once Kafka has them all.
AnchorSend = Callable[[list[bytes]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class CheckpointAnchor:
    """A checkpoint as an anchor states it, and where the anchor was found."""

    checkpoint: int
    created_at: str
    body: str
    signature: str
    source: str

    def matches(self, stored: StoredCheckpoint) -> bool:
        """True if ``stored`` is the very checkpoint this anchor copies."""
        return (stored.body, stored.signature) == (self.body, self.signature)


def anchor_document(stored: StoredCheckpoint) -> bytes:
    """The anchor of a checkpoint: one JSON object (a line of the file, a topic message)."""
    return orjson.dumps(
        {
            "kind": _KIND,
            "checkpoint": stored.id,
            "created_at": stored.created_at,
            "body": stored.body,
            "signature": stored.signature,
        },
        option=orjson.OPT_SORT_KEYS,
    )


def parse_anchor(value: bytes, source: str) -> CheckpointAnchor | None:
    """The anchor ``value`` states, or ``None`` if it is not one (verification then has
    nothing to hold the store against from it; its signature is checked there)."""
    try:
        raw: Any = orjson.loads(value)
        if not isinstance(raw, dict) or raw.get("kind") != _KIND:
            return None
        checkpoint = raw["checkpoint"]
        if not isinstance(checkpoint, int) or isinstance(checkpoint, bool):
            return None
        return CheckpointAnchor(
            checkpoint, str(raw["created_at"]), str(raw["body"]), str(raw["signature"]), source
        )
    except (orjson.JSONDecodeError, KeyError):
        return None


def append_anchor_lines(path: Path, documents: Sequence[bytes]) -> None:
    """Append ``documents`` to the anchor file, one line each, durably (fsync)."""
    data = b"".join(document + b"\n" for document in documents)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(descriptor, data)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except OSError as exc:
        raise ConfigurationError(f"anchor file: cannot append to {path}: {exc.strerror}") from None


def read_anchor_file(path: Path) -> Iterator[CheckpointAnchor]:
    """Every anchor in the file, line by line (lines that are not anchors are skipped)."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ConfigurationError(f"anchor file: cannot read {path}: {exc.strerror}") from None
    with handle:
        try:
            for line in handle:
                if line.strip():
                    anchor = parse_anchor(line, str(path))
                    if anchor is not None:
                        yield anchor
        except OSError as exc:
            raise ConfigurationError(f"anchor file: cannot read {path}: {exc.strerror}") from None


async def anchor_pending(store: AuditStore, send: AnchorSend, anchor_file: Path | None) -> int:
    """Anchor every checkpoint the store has not anchored yet: file first (if any), then the
    topic, then the mark. How many were anchored."""
    pending = await asyncio.to_thread(store.unanchored)
    if not pending:
        return 0
    documents = [anchor_document(stored) for stored in pending]
    if anchor_file is not None:
        await asyncio.to_thread(append_anchor_lines, anchor_file, documents)
    await send(documents)
    await asyncio.to_thread(store.mark_anchored, [stored.id for stored in pending])
    return len(pending)


async def read_topic_anchors(
    connection: KafkaConnection, found: Callable[[CheckpointAnchor], object]
) -> int:
    """Hand every anchor on the audit topic to ``found``, read from the beginning to the end
    it had when reading started (the topic's other messages, audit records, are skipped); how
    many there were. (A long log has thousands, about 14 KB each: they are not collected
    here.)"""
    count = 0

    def take(record: ConsumerRecord[bytes, bytes]) -> None:
        nonlocal count
        if _is_anchor(record.headers):
            anchor = parse_anchor(record.value or b"", AUDIT_TOPIC)
            if anchor is not None:
                found(anchor)
                count += 1

    # Not committed only: anchors are published outside transactions, and the routes' open
    # transactions on the same topic must not hold them back.
    await each_record(connection, AUDIT_TOPIC, take, committed_only=False)
    return count


def _is_anchor(headers: Sequence[tuple[str, bytes]]) -> bool:
    return any(
        name == "content-type" and value == ANCHOR_CONTENT_TYPE.encode() for name, value in headers
    )
