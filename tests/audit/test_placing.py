"""A placed record's hash is ``record_hash`` of the record: placing hashes the values before
building the record, verifying hashes the record."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.audit.records import AuditDraft, AuditRecord, Direction, EventFacts, record_hash

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
)


@given(draft=_DRAFTS, seq=st.integers(min_value=1, max_value=2**40), redelivered=st.booleans())
def test_a_placed_records_hash_is_its_record_hash(
    draft: AuditDraft, seq: int, redelivered: bool
) -> None:
    record = AuditRecord.place(draft, "g/t/0", seq, "ab" * 32, redelivered=redelivered)
    assert record.record_hash == record_hash(record)
