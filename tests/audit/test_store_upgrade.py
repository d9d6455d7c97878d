"""A store made before record formats and anchors is upgraded when the hub opens it: its
records stay format 1 and verify, new records continue the chains as format 2, and its
checkpoints wait to be anchored. Both real stores."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit.recorder import AuditRecorder, Consumed, drafts_for
from hub.audit.records import GENESIS_HASH, AuditDraft, AuditRecord, Direction, record_hash
from hub.audit.store import AuditStore, Column, open_audit_store
from hub.audit.stream import anchor_round
from hub.audit.verify import verify_chains
from tests.audit.tampering import Insider

pytestmark = pytest.mark.audit
CHAIN = "g/in.x/0"

#: The tables as the first release made them: no record_format, no anchored.
_FIRST_SCHEMA = """
CREATE TABLE audit_chains (
    chain         TEXT PRIMARY KEY,
    seq           BIGINT NOT NULL,
    head_hash     TEXT NOT NULL,
    last_offset   BIGINT,
    published_seq BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE audit_records (
    chain          TEXT NOT NULL,
    seq            BIGINT NOT NULL,
    recorded_at    TEXT NOT NULL,
    direction      TEXT NOT NULL,
    topic          TEXT,
    "partition"    INTEGER,
    "offset"       BIGINT,
    event_id       TEXT,
    event_type     TEXT,
    partner        TEXT,
    person_ref     TEXT,
    legal_basis    TEXT,
    fields         TEXT NOT NULL,
    detail         TEXT,
    replay_of      TEXT,
    redelivered    BOOLEAN NOT NULL,
    payload_sha256 TEXT NOT NULL,
    payload        {blob},
    prev_hash      TEXT NOT NULL,
    record_hash    TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
);
CREATE TABLE audit_checkpoints (
    id         {serial} PRIMARY KEY,
    created_at TEXT NOT NULL,
    body       TEXT NOT NULL,
    signature  TEXT NOT NULL
)
"""


def _first_release_store(data_dir: Path, dsn: str | None, key: Ed25519PrivateKey) -> str:
    """The first release's tables with two records (hashed without their numbers) and a
    checkpoint; the hash of the last record."""
    store = open_audit_store(data_dir, dsn)
    blob, serial = ("BYTEA", "BIGSERIAL") if dsn is not None else ("BLOB", "INTEGER")
    previous = GENESIS_HASH
    with Insider(data_dir, dsn) as old:
        for table in ("audit_records", "audit_chains", "audit_checkpoints"):
            old.sql(f"DROP TABLE {table}")
        for statement in _FIRST_SCHEMA.format(blob=blob, serial=serial).split(";"):
            old.sql(statement)
        for seq in (1, 2):
            draft = AuditDraft(Direction.CONSUMED, b"{}", "in.x", 0, seq)
            placed = AuditRecord.place(draft, CHAIN, seq, previous, redelivered=False)
            first = dataclasses.replace(placed, format=1)
            first = first.with_hash(record_hash(first))
            old.insert(first, leave_out=[Column.RECORD_FORMAT])
            previous = first.record_hash
        old.sql(
            "INSERT INTO audit_chains (chain, seq, head_hash, last_offset) VALUES (?, 2, ?, 2)",
            CHAIN,
            previous,
        )
    assert AuditRecorder(store, key).checkpoint()
    store.close()
    return previous


def test_an_old_store_is_upgraded_and_its_records_still_verify(
    audit_dsn: str | None, tmp_path: Path
) -> None:
    data_dir, key = tmp_path / "data", Ed25519PrivateKey.generate()
    old_head = _first_release_store(data_dir, audit_dsn, key)

    store: AuditStore = open_audit_store(data_dir, audit_dsn)
    try:
        recorder = AuditRecorder(store, key, checkpoint_every=10_000)
        [new] = recorder.record(CHAIN, drafts_for(Consumed("in.x", 0, 3, b"{}"), []))
        assert (new.seq, new.format, new.prev_hash) == (3, 2, old_head)
        assert recorder.checkpoint()
    finally:
        store.close()

    reopened = open_audit_store(data_dir, audit_dsn)  # opening again changes nothing
    try:
        assert [r.format for r in reopened.chain(CHAIN)] == [1, 1, 2]
        assert [c.id for c in reopened.unanchored()] == [1, 2]
        report = verify_chains(
            reopened.chains(), reopened.chain, reopened.checkpoints(), key.public_key()
        )
        assert report.holds, [f.line() for f in report.findings]
        assert report.counts == {CHAIN: 3}

        sent: list[tuple[bytes, bytes]] = []

        async def send(batch: list[tuple[bytes, bytes]]) -> None:
            sent.extend(batch)

        assert asyncio.run(anchor_round(AuditRecorder(reopened, key), send)) == 2
        assert reopened.unanchored() == []
        assert len(sent) == 2
    finally:
        reopened.close()
