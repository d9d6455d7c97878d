"""The audit's per-record work written for speed gives byte for byte what the plain way gave:
placing and hashing a record, its summary on ``hub.audit.v1``, its stored row, its time text
and the drafts of a handled message. The plain ways are kept here as the references. A placed
record's hash is also ``record_hash`` of the record: placing hashes the values before building
the record, verifying hashes the record."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.audit.facts import canonical_facts, source_partner
from hub.audit.recorder import Consumed, Produced, drafts_for
from hub.audit.records import (
    RECORD_FORMAT,
    AuditDraft,
    AuditRecord,
    Direction,
    EventFacts,
    format_time,
    payload_digest,
    record_hash,
)
from hub.audit.store import Column, _row, stored_values
from hub.audit.stream import audit_message
from hub.core.topics import DEADLETTER_TOPIC, TopicKind, kind_of

pytestmark = pytest.mark.audit

_TEXT = st.none() | st.text(max_size=12)

_FACTS = st.builds(
    EventFacts,
    event_id=_TEXT,
    event_type=_TEXT,
    person_ref=_TEXT,
    partner=_TEXT,
    legal_basis=_TEXT,
    fields=st.lists(st.text(max_size=8), max_size=3).map(tuple),
    detail=_TEXT,
)

_DRAFTS = st.builds(
    AuditDraft,
    direction=st.sampled_from(Direction),
    payload=st.binary(max_size=40),
    topic=_TEXT,
    partition=st.none() | st.integers(min_value=0, max_value=99),
    offset=st.none() | st.integers(min_value=0, max_value=2**40),
    facts=_FACTS,
    replay_of=_TEXT,
    recorded_at=st.text(max_size=30),
)


# -- the references: the plain ways, as they were --------------------------------------------


def _reference_place(
    draft: AuditDraft, chain: str, seq: int, prev_hash: str, *, redelivered: bool
) -> AuditRecord:
    facts = draft.facts
    values: dict[str, Any] = {
        "chain": chain,
        "seq": seq,
        "recorded_at": draft.recorded_at,
        "direction": draft.direction.value,
        "topic": draft.topic,
        "partition": draft.partition,
        "offset": draft.offset,
        "event_id": facts.event_id,
        "event_type": facts.event_type,
        "partner": facts.partner,
        "person_ref": facts.person_ref,
        "legal_basis": facts.legal_basis,
        "fields": facts.fields,
        "detail": facts.detail,
        "replay_of": draft.replay_of,
        "redelivered": redelivered,
        "payload_sha256": payload_digest(draft.payload),
        "payload": draft.payload,
        "prev_hash": prev_hash,
        "format": RECORD_FORMAT,
    }
    hashed = {name: value for name, value in values.items() if name != "payload"}
    hashed["fields"] = list(values["fields"])
    digest = hashlib.sha256(orjson.dumps(hashed, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return AuditRecord(**values, record_hash=digest)


#: The hashed fields in the order ``evidence`` always gave them (the stream's order).
_EVIDENCE_ORDER = (
    *("chain", "recorded_at", "direction", "topic", "partition", "offset", "event_id"),
    *("event_type", "partner", "person_ref", "legal_basis", "fields", "detail", "replay_of"),
    *("redelivered", "payload_sha256", "prev_hash"),
)


def _reference_summary(record: AuditRecord) -> dict[str, Any]:
    described = {name: getattr(record, name) for name in _EVIDENCE_ORDER}
    return {
        **described,
        "fields": list(record.fields),
        "seq": record.seq,
        "hash": record.record_hash,
        "format": record.format,
    }


def _reference_row(record: AuditRecord) -> tuple[Any, ...]:
    values = {column: getattr(record, column.value, None) for column in Column}
    values[Column.FIELDS] = orjson.dumps(list(record.fields)).decode()
    values[Column.RECORD_FORMAT] = record.format
    return tuple(values.values())


def _reference_facts_of_output(message: Produced) -> EventFacts:
    if message.facts is not None:
        return message.facts
    return canonical_facts.__wrapped__(message.value) or EventFacts()


def _reference_drafts(
    consumed: Consumed, produced: Sequence[Produced], now: str, *, not_routed: bool
) -> list[AuditDraft]:
    facts = (
        canonical_facts.__wrapped__(consumed.value)
        if kind_of(consumed.topic) is TopicKind.CANONICAL
        else None
    )
    if facts is None:
        first = next(
            (f for f in map(_reference_facts_of_output, produced) if f.event_id is not None),
            EventFacts(),
        )
        facts = EventFacts(first.event_id, first.event_type, first.person_ref)
    facts = EventFacts(
        facts.event_id, facts.event_type, facts.person_ref, source_partner(consumed.topic)
    )
    drafts = [
        AuditDraft(
            Direction.CONSUMED,
            consumed.value,
            consumed.topic,
            consumed.partition,
            consumed.offset,
            facts,
            recorded_at=now,
        )
    ]
    for message in produced:
        dead = message.topic == DEADLETTER_TOPIC
        drafts.append(
            AuditDraft(
                Direction.DEAD_LETTERED if dead else Direction.PRODUCED,
                message.value,
                message.topic,
                message.partition,
                message.offset,
                _reference_facts_of_output(message),
                recorded_at=now,
            )
        )
    if not_routed:
        unrouted = EventFacts(
            facts.event_id, facts.event_type, facts.person_ref, detail="no-recipient"
        )
        # The consumed record's place and time, nothing of its payload.
        drafts.append(
            dataclasses.replace(
                drafts[0], direction=Direction.NOT_ROUTED, payload=b"", facts=unrouted
            )
        )
    return drafts


# -- the fast paths against them -------------------------------------------------------------


@given(
    draft=_DRAFTS,
    chain=st.text(max_size=20),
    seq=st.integers(min_value=1, max_value=2**40),
    prev_hash=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    redelivered=st.booleans(),
)
def test_a_record_is_placed_its_summary_and_row_written_as_the_plain_way_does(
    draft: AuditDraft, chain: str, seq: int, prev_hash: str, redelivered: bool
) -> None:
    record = AuditRecord.place(draft, chain, seq, prev_hash, redelivered=redelivered)
    reference = _reference_place(draft, chain, seq, prev_hash, redelivered=redelivered)

    assert record == reference
    assert record.record_hash == record_hash(record)  # what verifying computes
    assert type(record.direction) is str
    summary = record.summary()
    assert list(summary.items()) == list(_reference_summary(reference).items())
    assert audit_message(record) == (chain.encode(), orjson.dumps(_reference_summary(reference)))
    assert _row(record) == _reference_row(reference)
    assert stored_values(record) == dict(zip(Column, _reference_row(reference), strict=True))


_ZONES = st.sampled_from(
    [dt.UTC, dt.timezone(dt.timedelta(hours=2)), dt.timezone(dt.timedelta(hours=-5, minutes=-30))]
)


@given(moment=st.datetimes(timezones=_ZONES) | st.datetimes())
def test_times_are_written_as_strftime_writes_them(moment: dt.datetime) -> None:
    assert format_time(moment) == moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_EVENT = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=8) | st.integers(min_value=0, max_value=99),
        "type": st.sampled_from(["fi.paijathame.hub.client-status.v1", "other"]),
        "subject": st.sampled_from(["p-abc", "x-abc", ""]),
    },
).map(orjson.dumps)
_VALUES = _EVENT | st.sampled_from([b"", b"{", b"[]", b"<xml/>"])
_TOPICS = st.sampled_from(
    ["in.kela.benefit-day.v1", "hub.client-status.v1", "out.lahti.x.v1", DEADLETTER_TOPIC]
)
_PRODUCED = st.builds(
    Produced,
    topic=_TOPICS,
    value=_VALUES,
    partition=st.none() | st.integers(min_value=0, max_value=9),
    offset=st.none() | st.integers(min_value=0, max_value=99),
    facts=st.none() | _FACTS,
)


@given(
    topic=_TOPICS,
    value=_VALUES,
    produced=st.lists(_PRODUCED, max_size=3),
    not_routed=st.booleans(),
)
def test_a_handled_messages_drafts_are_those_of_the_plain_way(
    topic: str, value: bytes, produced: list[Produced], not_routed: bool
) -> None:
    consumed = Consumed(topic, 1, 7, value)
    now = "2026-01-05T10:00:00.000000Z"

    drafts = drafts_for(consumed, produced, not_routed=not_routed, recorded_at=now)

    assert drafts == _reference_drafts(consumed, produced, now, not_routed=not_routed)
