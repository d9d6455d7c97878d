"""Dead-letter quarantine: reading ``hub.deadletter.v1``, resubmitting and closing dead letters.

A dead letter is named by where it sits on the dead-letter topic, ``PARTITION:OFFSET``. The
topic itself is never changed: the original bytes stay there for good. What an operator does
with a dead letter is written to the audit log (chain ``deadletters``):

- ``resubmitted``: the (possibly edited) payload was published to the dead letter's source
  topic; the record holds the new bytes and where they landed, ``replay_of`` names the dead
  letter (``hub.deadletter.v1/PARTITION/OFFSET``), ``detail`` who, why and whether it was
  edited;
- ``closed``: given up on with a reason, nothing published.

The state of a dead letter (open, resubmitted, closed) is derived from those records: the audit
store is the one place that already is durable, shared by every instance (SQLite or
PostgreSQL) and tamper-evident, so no second store can disagree with it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

import orjson
from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from hub.audit.facts import canonical_facts
from hub.audit.recorder import AuditRecorder
from hub.audit.records import AuditDraft, Direction, EventFacts, format_time
from hub.audit.store import AuditStore
from hub.broker.bootstrap import start_producer
from hub.broker.connection import KafkaConnection
from hub.broker.diagnosis import operation_error
from hub.broker.partitions import partitions_of
from hub.broker.topic_reading import reading_consumer
from hub.console.letter_state import State
from hub.core.errors import ConfigurationError, HubError
from hub.core.redaction import (
    CODE_SHAPE,
    MASK,
    OWN_IDENTIFIER,
    identity_codes_in,
    mask_identity_codes,
    shown_detail,
)
from hub.core.topics import DEADLETTER_TOPIC, TOPICS, TopicKind
from hub.routing.deadletter import (
    DLQ_CONNECTOR,
    DLQ_DETAIL,
    DLQ_REASON,
    SOURCE_FILE,
    SOURCE_LINE,
    SOURCE_OFFSET,
    SOURCE_PARTITION,
    SOURCE_TOPIC,
)

__all__ = [
    "DEADLETTER_CHAIN",
    "LISTED_HEADERS",
    "MAX_REASON",
    "RESUBMIT_OF",
    "RESUBMIT_TARGETS",
    "DeadLetterFilter",
    "DeadLetterId",
    "DeadLetterStateError",
    "Disposition",
    "EditedPayloadError",
    "ListedLetter",
    "QuarantinedLetter",
    "Resubmission",
    "ResubmitTargetError",
    "State",
    "UnknownDeadLetterError",
    "check_resubmit_target",
    "close",
    "dispositions",
    "letter_of",
    "read_dead_letter",
    "required_reason",
    "restore_identity_codes",
    "resubmit",
    "selected",
    "state_of",
]

#: The audit chain of operators' decisions about dead letters.
DEADLETTER_CHAIN: Final = "deadletters"
#: What an operator decided about a dead letter, as recorded on ``DEADLETTER_CHAIN``.
_DECISIONS: Final = frozenset({Direction.RESUBMITTED.value, Direction.CLOSED.value})
#: Header of a resubmitted message: the dead letter it was made from.
RESUBMIT_OF: Final = "hub-resubmit-of"
#: An identity code's place in an edited payload: the placeholder, or a code typed in its stead.
#: Event ids and digests are matched first so that no code is read inside one (as masking does).
_PLACE: Final = re.compile(rf"(?P<own>{OWN_IDENTIFIER})|(?P<place>{re.escape(MASK)}|{CODE_SHAPE})")
#: The headers a listed dead letter is read from (``ListedLetter``): all the dead-letter index
#: keeps of a letter's headers.
LISTED_HEADERS: Final = (
    DLQ_REASON,
    DLQ_DETAIL,
    DLQ_CONNECTOR,
    SOURCE_TOPIC,
    SOURCE_PARTITION,
    SOURCE_OFFSET,
    SOURCE_FILE,
    SOURCE_LINE,
)
#: Longest reason an operator may give (it is kept in the audit log for good).
MAX_REASON: Final = 500


class UnknownDeadLetterError(HubError):
    """No dead letter sits at that partition and offset."""


class DeadLetterStateError(HubError):
    """The dead letter was already resubmitted or closed."""


class ResubmitTargetError(ConfigurationError):
    """A topic a dead letter may not be sent to."""


class EditedPayloadError(ConfigurationError):
    """An edited payload whose identity-code placeholders cannot be filled in."""


@dataclass(frozen=True, slots=True, order=True)
class DeadLetterId:
    """Where a dead letter sits on ``hub.deadletter.v1``."""

    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.partition}:{self.offset}"

    @property
    def reference(self) -> str:
        """How the audit log names it (``replay_of`` of a resubmission or closing)."""
        return f"{DEADLETTER_TOPIC}/{self.partition}/{self.offset}"

    @classmethod
    def parse(cls, text: str) -> DeadLetterId:
        """``PARTITION:OFFSET`` (both non-negative integers)."""
        partition, sep, offset = text.strip().partition(":")
        if not sep or not partition.isdigit() or not offset.isdigit():
            raise ConfigurationError(f"{text!r} is not a dead letter (PARTITION:OFFSET, e.g. 0:12)")
        return cls(int(partition), int(offset))


@dataclass(frozen=True, slots=True)
class ListedLetter:
    """A dead letter as the lists show it: where it sits, when, and its headers read out
    (no payload: ``QuarantinedLetter`` has that)."""

    id: DeadLetterId
    timestamp: dt.datetime
    headers: Mapping[str, str]

    @property
    def reason(self) -> str:
        """The machine-readable reason (``bad-date``)."""
        return self.headers.get(DLQ_REASON, "")

    @property
    def detail(self) -> str:
        """The detail as the header shows it (identity codes already masked there)."""
        return shown_detail(self.headers.get(DLQ_DETAIL, ""))

    @property
    def connector(self) -> str:
        """The connector that gave up on it."""
        return self.headers.get(DLQ_CONNECTOR, "")

    @property
    def source_topic(self) -> str | None:
        """The topic it was consumed from; ``None`` for a line of a file."""
        return self.headers.get(SOURCE_TOPIC)

    @property
    def source(self) -> str:
        """Where it came from, for people: ``topic[partition]@offset`` or ``file:line``."""
        if self.source_topic is not None:
            partition = self.headers.get(SOURCE_PARTITION, "?")
            return f"{self.source_topic}[{partition}]@{self.headers.get(SOURCE_OFFSET, '?')}"
        return f"{self.headers.get(SOURCE_FILE, '?')}:{self.headers.get(SOURCE_LINE, '?')}"


@dataclass(frozen=True, slots=True)
class QuarantinedLetter(ListedLetter):
    """One message of the dead-letter topic, with its headers read out and its bytes."""

    value: bytes

    @property
    def masked_value(self) -> str:
        """The original bytes as text, identity codes masked: what may be shown to anyone."""
        return mask_identity_codes(self.value.decode("utf-8", errors="backslashreplace"))


@dataclass(frozen=True, slots=True)
class Disposition:
    """The last decision about a dead letter, from the audit log."""

    state: State
    at: str
    by: str
    reason: str
    resubmitted_to: str | None = None


@dataclass(frozen=True, slots=True)
class Resubmission:
    """Where a resubmitted payload landed."""

    topic: str
    partition: int
    offset: int
    edited: bool


@dataclass(frozen=True, slots=True)
class DeadLetterFilter:
    """Which dead letters to list; ``None`` matches anything. Times are half-open."""

    reason: str | None = None
    source_topic: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    state: State | None = None


def _decoded(headers: Iterable[tuple[str, bytes]]) -> dict[str, str]:
    return {name: raw.decode("utf-8", errors="replace") for name, raw in headers}


def letter_of(record: object) -> QuarantinedLetter:
    """A record of the dead-letter topic as a ``QuarantinedLetter``."""
    partition = int(getattr(record, "partition"))  # noqa: B009 - aiokafka's record is untyped
    offset = int(getattr(record, "offset"))  # noqa: B009
    timestamp_ms = int(getattr(record, "timestamp"))  # noqa: B009
    return QuarantinedLetter(
        id=DeadLetterId(partition, offset),
        timestamp=dt.datetime.fromtimestamp(timestamp_ms / 1000, dt.UTC),
        headers=_decoded(getattr(record, "headers")),  # noqa: B009
        value=getattr(record, "value") or b"",  # noqa: B009
    )


async def read_dead_letter(
    connection: KafkaConnection, letter_id: DeadLetterId
) -> QuarantinedLetter:
    """The one dead letter at ``letter_id``."""
    consumer = await reading_consumer(connection, committed_only=True, to_known_end=True)
    try:
        partitions = {tp.partition for tp in await partitions_of(consumer, [DEADLETTER_TOPIC])}
        if letter_id.partition not in partitions:
            raise UnknownDeadLetterError(f"no dead letter {letter_id}: no such partition")
        tp = TopicPartition(DEADLETTER_TOPIC, letter_id.partition)
        consumer.assign([tp])
        start = (await consumer.beginning_offsets([tp]))[tp]
        end = (await consumer.end_offsets([tp]))[tp]
        if not start <= letter_id.offset < end:
            raise UnknownDeadLetterError(f"no dead letter {letter_id} (offsets {start}..{end - 1})")
        consumer.seek(tp, letter_id.offset)
        # Until the end it had: an offset that holds a transaction's marker (or a message of
        # an aborted one) returns nothing, and a marker last in the partition is never
        # followed by a record.
        while await consumer.position(tp) < end:
            batch = await consumer.getmany(tp, timeout_ms=500, max_records=1)
            for record in batch.get(tp, []):
                if record.offset == letter_id.offset:
                    return letter_of(record)
                # A marker, an aborted message or a compacted gap: no message there.
                raise UnknownDeadLetterError(f"no dead letter {letter_id}")
        raise UnknownDeadLetterError(f"no dead letter {letter_id}")
    except KafkaError as exc:
        raise operation_error(connection, exc, f"to read topic {DEADLETTER_TOPIC}") from None
    finally:
        await consumer.stop()


def _detail(by: str, reason: str, **extra: object) -> str:
    return orjson.dumps({"by": by, "reason": reason, **extra}).decode()


def dispositions(store: AuditStore) -> dict[DeadLetterId, Disposition]:
    """The last decision about every dead letter an operator handled."""
    found: dict[DeadLetterId, Disposition] = {}
    # The decisions' own chain, in its order, through its key: the console asks on every view
    # of a dead letter, and the whole log holds many millions of records.
    for record in store.chain(DEADLETTER_CHAIN):
        if record.direction not in _DECISIONS or record.replay_of is None:
            continue
        _topic, _, place = record.replay_of.partition("/")
        partition, _, offset = place.partition("/")
        try:
            letter_id = DeadLetterId(int(partition), int(offset))
            said = orjson.loads(record.detail or "{}")
        except (ValueError, orjson.JSONDecodeError):
            continue
        resubmitted = record.direction == Direction.RESUBMITTED
        found[letter_id] = Disposition(
            State.RESUBMITTED if resubmitted else State.CLOSED,
            record.recorded_at,
            str(said.get("by", "")),
            str(said.get("reason", "")),
            f"{record.topic}[{record.partition}]@{record.offset}" if resubmitted else None,
        )
    return found


def state_of(letter_id: DeadLetterId, known: Mapping[DeadLetterId, Disposition]) -> State:
    """A dead letter's state: open unless a decision about it was recorded."""
    decision = known.get(letter_id)
    return State.OPEN if decision is None else decision.state


def selected(
    letter: QuarantinedLetter, known: Mapping[DeadLetterId, Disposition], wanted: DeadLetterFilter
) -> bool:
    """True if ``wanted`` selects ``letter`` (its state from ``known``)."""
    return (
        (wanted.reason is None or letter.reason == wanted.reason)
        and (wanted.source_topic is None or letter.source_topic == wanted.source_topic)
        and (wanted.since is None or letter.timestamp >= wanted.since)
        and (wanted.until is None or letter.timestamp < wanted.until)
        and (wanted.state is None or state_of(letter.id, known) is wanted.state)
    )


def required_reason(reason: str | None) -> str:
    """The operator's reason, checked: 1 to ``MAX_REASON`` characters, identity codes masked
    (it stays in the audit log for good)."""
    text = (reason or "").strip()
    if not text:
        raise ConfigurationError("a reason is required (why it is resubmitted or closed)")
    if len(text) > MAX_REASON:
        raise ConfigurationError(f"the reason is {len(text)} characters; at most {MAX_REASON}")
    return mask_identity_codes(text)


def restore_identity_codes(edited: str, original: str) -> str:
    """``edited`` with each ``[hetu]`` placeholder replaced by the original's code at the same
    place: an operator edits the masked text and never sees the codes.

    The places are the original's identity codes in order. In the edited text each place holds
    either ``[hetu]`` (keep the original code) or a code the operator typed in its stead (the
    correction of a wrong code, kept as typed), so a wrong code is fixed without being seen.
    """
    places = [m.group("place") for m in _PLACE.finditer(edited) if m.group("place") is not None]
    if MASK not in places:
        return edited
    codes = identity_codes_in(original)
    if len(places) != len(codes):
        raise EditedPayloadError(
            f"the edited payload has {len(places)} identity code place(s) ({MASK} or a typed "
            f"code) but the original has {len(codes)}: keep each {MASK}, or type a corrected "
            f"code in its place"
        )
    filled = iter(
        code if place == MASK else place for place, code in zip(places, codes, strict=True)
    )

    def fill(match: re.Match[str]) -> str:
        return match.group(0) if match.group("place") is None else next(filled)

    return _PLACE.sub(fill, edited)


#: Where a dead letter may be sent instead of its source: the partners' input topics only. A
#: canonical topic is kept forever and its consumers expect canonical events, never raw bytes.
RESUBMIT_TARGETS: Final = tuple(spec.name for spec in TOPICS if spec.kind is TopicKind.INBOUND)


def check_resubmit_target(topic: str) -> str:
    """``topic`` if a dead letter may be sent there instead of its source topic."""
    if topic not in RESUBMIT_TARGETS:
        raise ResubmitTargetError(
            f"--to {topic!r}: a dead letter can only be sent to a partner's input topic "
            f"(in.*): {', '.join(RESUBMIT_TARGETS)}"
        )
    return topic


def _require_open(letter: QuarantinedLetter, store: AuditStore) -> None:
    decision = dispositions(store).get(letter.id)
    if decision is not None:
        raise DeadLetterStateError(
            f"dead letter {letter.id} was already {decision.state} by {decision.by} at "
            f"{decision.at}"
        )


async def resubmit(
    connection: KafkaConnection,
    recorder: AuditRecorder,
    letter: QuarantinedLetter,
    *,
    by: str,
    reason: str,
    payload: bytes | None = None,
    to_topic: str | None = None,
) -> Resubmission:
    """Publish ``payload`` (default: the original bytes) to the dead letter's source topic
    (or ``to_topic``) and record who did it and why; the dead letter stays as it is."""
    why = required_reason(reason)
    target = to_topic or letter.source_topic
    if target is None:
        raise ConfigurationError(
            f"dead letter {letter.id} came from a file ({letter.source}); name a topic with --to"
        )
    if target in {DEADLETTER_TOPIC}:
        raise ConfigurationError(f"a dead letter cannot be resubmitted to {DEADLETTER_TOPIC}")
    if to_topic is not None:
        check_resubmit_target(to_topic)
    _require_open(letter, recorder.store)
    value = letter.value
    if payload is not None:
        original = letter.value.decode("utf-8", errors="replace")
        value = restore_identity_codes(payload.decode("utf-8", errors="replace"), original).encode()
    edited = value != letter.value
    producer = await start_producer(connection)
    try:
        landed = await producer.send_and_wait(
            target, value, headers=[(RESUBMIT_OF, letter.id.reference.encode())]
        )
    except KafkaError as exc:
        raise operation_error(connection, exc, f"to write to topic {target}") from None
    finally:
        await producer.stop()
    facts = canonical_facts(value) or EventFacts()
    draft = AuditDraft(
        Direction.RESUBMITTED,
        value,
        target,
        landed.partition,
        landed.offset,
        EventFacts(
            facts.event_id,
            facts.event_type,
            facts.person_ref,
            detail=_detail(by, why, edited=edited),
        ),
        replay_of=letter.id.reference,
        recorded_at=format_time(dt.datetime.now(dt.UTC)),
    )
    recorder.record(DEADLETTER_CHAIN, [draft])
    return Resubmission(target, landed.partition, landed.offset, edited)


def close(recorder: AuditRecorder, letter: QuarantinedLetter, *, by: str, reason: str) -> None:
    """Record that the dead letter is given up on, and why; nothing is published."""
    why = required_reason(reason)
    _require_open(letter, recorder.store)
    draft = AuditDraft(
        Direction.CLOSED,
        b"",
        DEADLETTER_TOPIC,
        letter.id.partition,
        letter.id.offset,
        EventFacts(detail=_detail(by, why)),
        replay_of=letter.id.reference,
    )
    recorder.record(DEADLETTER_CHAIN, [draft])
