"""The audit store as the outbox of ``hub.audit.v1``: what is still to be published."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit.recorder import AuditRecorder, Consumed, drafts_for
from hub.audit.store import AuditStore

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
