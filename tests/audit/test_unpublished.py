"""The audit store as the outbox of ``hub.audit.v1``: what is still to be published."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit.recorder import AuditRecorder, Consumed, drafts_for
from hub.audit.records import AuditDraft
from hub.audit.store import AuditStore, open_audit_store

pytestmark = pytest.mark.audit


def _record(recorder: AuditRecorder, chain: str, count: int) -> None:
    for offset in range(count):
        consumed = Consumed("in.example", 0, offset, b"{}")
        recorder.record(chain, drafts_for(consumed, []))


def test_unpublished_is_each_chain_from_its_cursor_in_sequence_order(
    audit_store: AuditStore,
) -> None:
    recorder = AuditRecorder(audit_store, Ed25519PrivateKey.generate())
    _record(recorder, "g/b/0", 2)
    _record(recorder, "g/a/0", 3)
    audit_store.mark_published("g/a/0", 1)

    pending = [(r.chain, r.seq) for r in audit_store.unpublished(10)]
    assert pending == [("g/a/0", 2), ("g/a/0", 3), ("g/b/0", 1), ("g/b/0", 2)]
    assert [(r.chain, r.seq) for r in audit_store.unpublished(3)] == pending[:3]


def test_nothing_is_unpublished_once_every_chain_is_published(audit_store: AuditStore) -> None:
    recorder = AuditRecorder(audit_store, Ed25519PrivateKey.generate())
    _record(recorder, "g/a/0", 2)
    _record(recorder, "g/b/0", 1)
    audit_store.mark_published("g/a/0", 2)
    audit_store.mark_published("g/b/0", 1)

    assert audit_store.unpublished(10) == []


def _entries(chain: str, first_offset: int, count: int) -> list[tuple[str, AuditDraft]]:
    return [
        (chain, draft)
        for offset in range(first_offset, first_offset + count)
        for draft in drafts_for(Consumed("in.example", 0, offset, b"{}"), [])
    ]


def test_an_append_claims_a_chain_whose_cursor_is_at_its_head(audit_store: AuditStore) -> None:
    _record(AuditRecorder(audit_store, Ed25519PrivateKey.generate()), "g/a/0", 2)
    audit_store.mark_published("g/a/0", 2)

    appended = audit_store.append_claiming(_entries("g/a/0", 2, 3))

    assert appended.claimed == {"g/a/0": 5}
    assert [(r.chain, r.seq) for r in appended.to_publish()] == [("g/a/0", s) for s in (3, 4, 5)]
    # Housekeeping leaves the claimed chain to the route.
    assert audit_store.unpublished(10) == []
    audit_store.published(appended.claimed)
    assert audit_store.unpublished(10) == []
    # Claim released, cursor at the head: the next append claims again.
    assert audit_store.append_claiming(_entries("g/a/0", 5, 1)).claimed == {"g/a/0": 6}


def test_a_new_chain_is_claimed_by_its_first_append(audit_store: AuditStore) -> None:
    assert audit_store.append_claiming(_entries("g/new/0", 0, 1)).claimed == {"g/new/0": 1}


def test_a_chain_with_one_record_unpublished_is_left_to_housekeeping(
    audit_store: AuditStore,
) -> None:
    _record(AuditRecorder(audit_store, Ed25519PrivateKey.generate()), "g/a/0", 2)
    audit_store.mark_published("g/a/0", 1)  # the head is 2: one record behind

    appended = audit_store.append_claiming(_entries("g/a/0", 2, 1))

    assert appended.claimed == {}
    assert appended.to_publish() == []
    assert [r.seq for r in audit_store.unpublished(10)] == [2, 3]


def test_a_released_claim_leaves_the_records_to_housekeeping(audit_store: AuditStore) -> None:
    appended = audit_store.append_claiming(_entries("g/a/0", 0, 2))
    assert audit_store.unpublished(10) == []

    audit_store.release(appended.claimed)

    assert [r.seq for r in audit_store.unpublished(10)] == [1, 2]
    # Behind now: the next append does not claim the chain.
    assert audit_store.append_claiming(_entries("g/a/0", 2, 1)).claimed == {}


def test_a_claimed_chain_is_not_claimed_twice(audit_store: AuditStore) -> None:
    first = audit_store.append_claiming(_entries("g/a/0", 0, 1))
    audit_store.mark_published("g/a/0", 1)  # housekeeping of another instance, say

    assert audit_store.append_claiming(_entries("g/a/0", 1, 1)).claimed == {}
    assert first.claimed == {"g/a/0": 1}


def test_a_plain_append_claims_nothing(audit_store: AuditStore) -> None:
    audit_store.append(_entries("g/a/0", 0, 1))
    assert [r.seq for r in audit_store.unpublished(10)] == [1]


def test_published_moves_the_cursor_of_each_claimed_chain(audit_store: AuditStore) -> None:
    appended = audit_store.append_claiming(_entries("g/a/0", 0, 1) + _entries("g/b/0", 0, 2))
    assert appended.claimed == {"g/a/0": 1, "g/b/0": 2}

    audit_store.published({"g/a/0": 1})

    # g/b/0 still claimed; g/a/0 at its head.
    assert audit_store.unpublished(10) == []
    audit_store.release(["g/b/0"])
    assert [(r.chain, r.seq) for r in audit_store.unpublished(10)] == [("g/b/0", 1), ("g/b/0", 2)]


def _published_batch(audit_store: AuditStore) -> None:
    """A route's batch of two records on a new chain, out on the stream."""
    appended = audit_store.append_claiming(_entries("g/a/0", 0, 2))
    audit_store.published(appended.claimed)


def _unpublished_elsewhere(audit_dsn: str | None, tmp_path: Path) -> list[tuple[str, int]]:
    """What another store on the same database (another instance, or this one after a crash)
    finds unpublished."""
    other = open_audit_store(tmp_path / "data", audit_dsn)
    try:
        return [(r.chain, r.seq) for r in other.unpublished(10)]
    finally:
        other.close()


def test_a_cursor_moved_by_published_reaches_the_database_with_the_next_append(
    audit_store: AuditStore, audit_dsn: str | None, tmp_path: Path
) -> None:
    _published_batch(audit_store)
    # Until the next append writes the move, the records would be published once more
    # (consumers deduplicate on (chain, seq)).
    assert _unpublished_elsewhere(audit_dsn, tmp_path) == [("g/a/0", 1), ("g/a/0", 2)]

    audit_store.append(_entries("g/b/0", 0, 1))

    assert _unpublished_elsewhere(audit_dsn, tmp_path) == [("g/b/0", 1)]


def test_housekeeping_writes_the_moved_cursors_before_it_reads(
    audit_store: AuditStore, audit_dsn: str | None, tmp_path: Path
) -> None:
    _published_batch(audit_store)

    assert audit_store.unpublished(10) == []
    assert _unpublished_elsewhere(audit_dsn, tmp_path) == []


def test_closing_the_store_writes_the_moved_cursors(
    audit_store: AuditStore, audit_dsn: str | None, tmp_path: Path
) -> None:
    _published_batch(audit_store)
    audit_store.close()

    assert _unpublished_elsewhere(audit_dsn, tmp_path) == []
