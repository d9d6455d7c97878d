"""Recording what the hub did with each message, and checkpointing the chains.

The pipeline hands the recorder one consumed message with everything it caused (outputs with
their partition and offset, a dead letter, or a "not routed"); the recorder drafts the records
and appends them in one durable transaction to the chain of the consumed partition
(``<consumer group>/<topic>/<partition>``). The pipeline acknowledges the message only after
that, so a crash can repeat work but never leave an output unaudited.

Every ``checkpoint_every`` records or ``checkpoint_interval_s`` seconds (whichever comes
first, and only when something was recorded) the recorder signs a checkpoint of every chain
head.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit.facts import canonical_facts, source_partner
from hub.audit.records import (
    AuditDraft,
    AuditRecord,
    Direction,
    EventFacts,
    format_time,
    now_text,
)
from hub.audit.signing import CheckpointBody, fingerprint, previous_link, sign_checkpoint
from hub.audit.store import Appended, AuditStore, ChainHead
from hub.core.logs import get_logger
from hub.core.topics import DEADLETTER_TOPIC, TopicKind, kind_of

__all__ = ["AuditRecorder", "Consumed", "Produced", "chain_of", "drafts_for"]

log = get_logger(__name__)

# Looked up once: a member read through its class costs a descriptor call per record.
_CONSUMED: Final = Direction.CONSUMED
_PRODUCED: Final = Direction.PRODUCED
_DEAD_LETTERED: Final = Direction.DEAD_LETTERED
_NO_FACTS: Final = EventFacts()


def chain_of(group: str, topic: str, partition: int) -> str:
    """The chain of a consumed partition: one per consumer group, topic and partition."""
    return f"{group}/{topic}/{partition}"


@dataclass(frozen=True, slots=True)
class Consumed:
    """The message that was handled."""

    topic: str
    partition: int | None
    offset: int | None
    value: bytes


@dataclass(frozen=True, slots=True)
class Produced:
    """One message the handling published, where it landed, and what it disclosed."""

    topic: str
    value: bytes
    partition: int | None = None
    offset: int | None = None
    facts: EventFacts | None = None


def _facts_of_output(message: Produced) -> EventFacts:
    if message.facts is not None:
        return message.facts
    return canonical_facts(message.value) or EventFacts()


@functools.lru_cache(maxsize=256)
def _consumed_side(topic: str) -> tuple[bool, str | None]:
    """Whether ``topic`` carries canonical events, and the partner that produces it: the same
    few topics for every handled message."""
    return kind_of(topic) is TopicKind.CANONICAL, source_partner(topic)


def drafts_for(
    consumed: Consumed,
    produced: Sequence[Produced],
    *,
    not_routed: bool = False,
    recorded_at: str | None = None,
) -> list[AuditDraft]:
    """The records of one handled message: consumed, then each output, then "not routed";
    stamped ``recorded_at`` (now if not given)."""
    now = recorded_at or now_text()
    canonical, partner = _consumed_side(consumed.topic)
    outputs = [_facts_of_output(message) for message in produced]
    facts = canonical_facts(consumed.value) if canonical else None
    if facts is None:
        # A native message: the event it became names the person; the topic names the partner.
        first = next((f for f in outputs if f.event_id is not None), _NO_FACTS)
        facts = first
    facts = EventFacts(facts.event_id, facts.event_type, facts.person_ref, partner)
    drafts = [
        AuditDraft(
            _CONSUMED,
            consumed.value,
            consumed.topic,
            consumed.partition,
            consumed.offset,
            facts,
            None,
            now,
        )
    ]
    for message, output in zip(produced, outputs, strict=True):
        drafts.append(
            AuditDraft(
                _DEAD_LETTERED if message.topic == DEADLETTER_TOPIC else _PRODUCED,
                message.value,
                message.topic,
                message.partition,
                message.offset,
                output,
                None,
                now,
            )
        )
    if not_routed:
        unrouted = EventFacts(
            facts.event_id, facts.event_type, facts.person_ref, detail="no-recipient"
        )
        where = (consumed.topic, consumed.partition, consumed.offset)
        drafts.append(AuditDraft(Direction.NOT_ROUTED, b"", *where, unrouted, None, now))
    return drafts


class AuditRecorder:
    """Appends records to the store and signs checkpoints of the chain heads."""

    def __init__(
        self,
        store: AuditStore,
        key: Ed25519PrivateKey,
        *,
        checkpoint_every: int = 1000,
        checkpoint_interval_s: float = 60.0,
        anchor_file: Path | None = None,
    ) -> None:
        self.store = store
        #: The append-only file every checkpoint is anchored in besides ``hub.audit.v1``.
        self.anchor_file = anchor_file
        self._key = key
        self._key_name = fingerprint(key.public_key())
        self._every = checkpoint_every
        self._interval_s = checkpoint_interval_s
        self._lock = threading.Lock()
        self._since_checkpoint = 0
        self._last_checkpoint = time.monotonic()

    def record(self, chain: str, drafts: Sequence[AuditDraft]) -> list[AuditRecord]:
        """Append ``drafts`` to ``chain`` durably; checkpoint when enough was recorded."""
        return self.record_all([(chain, draft) for draft in drafts])

    def record_all(self, entries: Sequence[tuple[str, AuditDraft]]) -> list[AuditRecord]:
        """Append every (chain, draft) in one durable transaction (a batch of handled
        messages, possibly of several partitions); checkpoint when enough was recorded."""
        placed = self.store.append(entries)
        self._count(placed)
        return placed

    def record_claiming(self, entries: Sequence[tuple[str, AuditDraft]]) -> Appended:
        """``record_all``, claiming the chains whose records the caller publishes on
        ``hub.audit.v1`` itself (``AuditStore.append_claiming``)."""
        appended = self.store.append_claiming(entries)
        self._count(appended.records)
        return appended

    def _count(self, placed: Sequence[AuditRecord]) -> None:
        """Checkpoint when enough was recorded."""
        with self._lock:
            self._since_checkpoint += len(placed)
            due = self._since_checkpoint >= self._every
        if due:
            self.checkpoint()

    def checkpoint_if_due(self, *, force: bool = False) -> bool:
        """Sign a checkpoint if records arrived and the interval has passed (a timer calls
        this; ``force`` skips the interval); True if one was written."""
        with self._lock:
            due = self._since_checkpoint > 0 and (
                force or time.monotonic() - self._last_checkpoint >= self._interval_s
            )
        return self.checkpoint() if due else False

    def checkpoint(self) -> bool:
        """Sign and store a checkpoint of every chain head now; False if there are no chains."""

        def sign(heads: dict[str, ChainHead], last_signature: str | None) -> tuple[str, str, str]:
            body = CheckpointBody(
                created_at=format_time(dt.datetime.now(dt.UTC)),
                heads=heads,
                key=self._key_name,
                previous=previous_link(last_signature),
            )
            text, signature = sign_checkpoint(self._key, body)
            return body.created_at, text, signature

        with self._lock:
            stored = self.store.add_checkpoint(sign)
            self._since_checkpoint = 0
            self._last_checkpoint = time.monotonic()
        if stored is None:
            return False
        # Routine, and written while `hub ingest` draws its progress bar on the same terminal.
        log.debug("audit checkpoint signed", checkpoint=stored.id, key=self._key_name)
        return True
