"""The store's named columns (``hub.audit.store.Column``) are its table's columns, and a record
written by them reads back as the same record. Both real stores."""

from __future__ import annotations

import pytest

from hub.audit.records import AuditDraft, AuditRecord, Direction, EventFacts, record_hash
from hub.audit.store import AuditStore, Column, stored_values
from tests.audit.tampering import Insider

pytestmark = pytest.mark.audit


def test_the_named_columns_are_the_tables_columns_in_order(insider: Insider) -> None:
    if insider.postgres:
        rows = insider.rows(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'audit_records' ORDER BY ordinal_position"
        )
        names = [row[0] for row in rows]
    else:
        names = [row[1] for row in insider.rows("PRAGMA table_info(audit_records)")]
    assert names == [column.value for column in Column]


def test_keywords_are_quoted_and_other_names_are_not() -> None:
    assert (Column.PARTITION.sql, Column.OFFSET.sql) == ('"partition"', '"offset"')
    assert Column.RECORD_HASH.sql == "record_hash"


def test_a_record_written_by_its_column_names_reads_back_the_same(
    audit_store: AuditStore, insider: Insider
) -> None:
    facts = EventFacts("e-1", "t", "p-1", "kela", "Laki X, 1 §", ("person_id", "amount"))
    draft = AuditDraft(Direction.PRODUCED, b"<xml/>", "out.kela.x", 2, 7, facts=facts)
    placed = AuditRecord.place(draft, "c/out.kela.x/2", 1, "0" * 64, redelivered=True)
    record = placed.with_hash(record_hash(placed))
    values = stored_values(record)
    assert list(values) == list(Column)
    assert (values[Column.PARTITION], values[Column.OFFSET]) == (2, 7)
    insider.insert(record)
    assert audit_store.record_at(record.chain, record.seq) == record


def test_every_field_reads_back_from_its_own_column(
    audit_store: AuditStore, insider: Insider
) -> None:
    # Every value distinct and none empty, so a reader that takes a field from a neighbouring
    # column reads back another record.
    record = AuditRecord(
        chain="c/x/1",
        seq=1,
        recorded_at="2026-12-03T04:00:00.000001Z",
        direction=Direction.REPLAYED,
        topic="out.lahti.x",
        partition=3,
        offset=11,
        event_id="e-9",
        event_type="fi.paijathame.x",
        partner="lahti",
        person_ref="p-9",
        legal_basis="Laki Y, 2 §",
        fields=("status", "since"),
        detail="why",
        replay_of="e-8",
        redelivered=True,
        payload_sha256="a" * 64,
        payload=b"{}",
        prev_hash="0" * 64,
        record_hash="b" * 64,
        format=2,
    )
    insider.insert(record)
    assert audit_store.record_at(record.chain, record.seq) == record
