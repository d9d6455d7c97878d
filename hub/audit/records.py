"""Audit records: what one is, and the hash that chains it to the one before.

A record is *drafted* by whoever handled a message (``AuditDraft``) and *placed* in a chain by
the store, which gives it a sequence number, the previous record's hash and its own hash.

The hash covers every field of the record, its chain, its sequence number and the previous
record's hash, and the payload through its SHA-256: pruning a payload (retention) leaves the
evidence intact.

Record formats: format 1 (stores written before sequence numbers were hashed) leaves the
sequence number out of the hash; format 2 (every record written now) puts it and the format
number in. Old records keep their format and still verify; a chain never goes back from 2 to 1.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

import orjson

__all__ = [
    "GENESIS_HASH",
    "RECORD_FORMAT",
    "AuditDraft",
    "AuditRecord",
    "Direction",
    "EventFacts",
    "format_time",
    "now_text",
    "parse_time",
    "payload_digest",
    "record_hash",
]

#: The format of every record written now (see the module's docstring).
RECORD_FORMAT: Final = 2

#: The "previous hash" of the first record of every chain.
GENESIS_HASH: Final = "0" * 64

_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"


class Direction(StrEnum):
    """What happened to the message a record stands for."""

    CONSUMED = "consumed"
    PRODUCED = "produced"
    DEAD_LETTERED = "dead-lettered"
    NOT_ROUTED = "not-routed"
    REPLAYED = "replayed"
    #: A dead letter sent again to its source topic by an operator (``hub deadletters``).
    RESUBMITTED = "resubmitted"
    #: A dead letter an operator closed without sending it again.
    CLOSED = "closed"
    #: Personal data shown to a person through the console (an auditor's request).
    DISCLOSED = "disclosed"


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What the hub knows about a message beyond its bytes: the event and its disclosure.

    ``partner``, ``legal_basis`` and ``fields`` describe a disclosure (what a partner received
    and why); ``detail`` a dead letter's reason.
    """

    event_id: str | None = None
    event_type: str | None = None
    person_ref: str | None = None
    partner: str | None = None
    legal_basis: str | None = None
    fields: tuple[str, ...] = ()
    detail: str | None = None


def format_time(moment: dt.datetime) -> str:
    """Fixed-width UTC text: sorts as it reads, the same in SQLite and PostgreSQL."""
    utc = moment if moment.tzinfo is dt.UTC else moment.astimezone(dt.UTC)
    if utc.year < 1000:  # ``isoformat`` pads the year to four digits, ``strftime`` does not
        return utc.strftime(_TIME_FORMAT)
    # The same text as ``strftime(_TIME_FORMAT)`` at a third of the cost: every handled
    # message is stamped. ``isoformat`` ends in "+00:00" for UTC.
    return utc.isoformat(timespec="microseconds")[:-6] + "Z"


def now_text() -> str:
    """``format_time`` of now."""
    return format_time(dt.datetime.now(dt.UTC))


def parse_time(text: str) -> dt.datetime:
    """The moment ``format_time`` wrote."""
    return dt.datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=dt.UTC)


def payload_digest(payload: bytes) -> str:
    """SHA-256 of a payload, hex."""
    return hashlib.sha256(payload).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditDraft:
    """A record before it has a place in a chain."""

    direction: Direction
    payload: bytes
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    facts: EventFacts = field(default_factory=EventFacts)
    replay_of: str | None = None
    recorded_at: str = field(default_factory=now_text)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """A record in its chain. ``payload`` is ``None`` once retention pruned it."""

    chain: str
    seq: int
    recorded_at: str
    direction: str
    topic: str | None
    partition: int | None
    offset: int | None
    event_id: str | None
    event_type: str | None
    partner: str | None
    person_ref: str | None
    legal_basis: str | None
    fields: tuple[str, ...]
    detail: str | None
    replay_of: str | None
    redelivered: bool
    payload_sha256: str
    payload: bytes | None
    prev_hash: str
    record_hash: str
    format: int = 1

    @classmethod
    def place(
        cls, draft: AuditDraft, chain: str, seq: int, prev_hash: str, *, redelivered: bool
    ) -> AuditRecord:
        """``draft`` as record ``seq`` of ``chain``, after the record hashed ``prev_hash``."""
        facts = draft.facts
        # ``_value_`` is the member's plain attribute: ``.value`` is a descriptor call.
        direction: str = draft.direction._value_
        digest = hashlib.sha256(draft.payload).hexdigest()
        # The hashed values of ``record_hash`` for format 2, in sorted key order (orjson
        # writes them as given; the placing test holds the two together), hashed before the
        # record is built: one dict and one dump per record, no copies.
        hashed = {
            "chain": chain,
            "detail": facts.detail,
            "direction": direction,
            "event_id": facts.event_id,
            "event_type": facts.event_type,
            "fields": facts.fields,
            "format": RECORD_FORMAT,
            "legal_basis": facts.legal_basis,
            "offset": draft.offset,
            "partition": draft.partition,
            "partner": facts.partner,
            "payload_sha256": digest,
            "person_ref": facts.person_ref,
            "prev_hash": prev_hash,
            "recorded_at": draft.recorded_at,
            "redelivered": redelivered,
            "replay_of": draft.replay_of,
            "seq": seq,
            "topic": draft.topic,
        }
        return cls(
            chain,
            seq,
            draft.recorded_at,
            direction,
            draft.topic,
            draft.partition,
            draft.offset,
            facts.event_id,
            facts.event_type,
            facts.partner,
            facts.person_ref,
            facts.legal_basis,
            facts.fields,
            facts.detail,
            draft.replay_of,
            redelivered,
            digest,
            draft.payload,
            prev_hash,
            hashlib.sha256(orjson.dumps(hashed)).hexdigest(),
            RECORD_FORMAT,
        )

    def with_hash(self, value: str) -> AuditRecord:
        """A copy with ``record_hash`` set."""
        return dataclasses.replace(self, record_hash=value)

    def evidence(self) -> dict[str, Any]:
        """Every hashed field, plus the payload (not hashed itself: its digest is)."""
        described = self.summary()
        for name in ("seq", "hash", "format"):
            del described[name]
        return {**described, "fields": self.fields, "payload": self.payload}

    def summary(self) -> dict[str, Any]:
        """The record without its payload, as JSON-ready values: what ``hub.audit.v1`` and
        exports carry besides the payload."""
        # ``evidence`` without the payload, then seq, hash and format: the order the stream's
        # bytes have always had.
        return {
            "chain": self.chain,
            "recorded_at": self.recorded_at,
            "direction": self.direction,
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "partner": self.partner,
            "person_ref": self.person_ref,
            "legal_basis": self.legal_basis,
            "fields": list(self.fields),
            "detail": self.detail,
            "replay_of": self.replay_of,
            "redelivered": self.redelivered,
            "payload_sha256": self.payload_sha256,
            "prev_hash": self.prev_hash,
            "seq": self.seq,
            "hash": self.record_hash,
            "format": self.format,
        }


def record_hash(record: AuditRecord) -> str:
    """SHA-256 over the record's canonical JSON (sorted keys), payload by digest only; from
    format 2 on, with the sequence number and the format number."""
    hashed = record.evidence()
    del hashed["payload"]
    hashed["fields"] = list(record.fields)
    if record.format >= 2:
        hashed["seq"] = record.seq
        hashed["format"] = record.format
    return hashlib.sha256(orjson.dumps(hashed, option=orjson.OPT_SORT_KEYS)).hexdigest()
