"""The console's audit page lists the newest checkpoints and counts them all, without reading
every checkpoint: each states every chain head, and a busy log makes one every 1,000 records.
For the same reason every checkpoint is read page by page (``hub audit verify``)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit.store import AuditStore
from tests.audit.tampering import fill_rounds, recorder_for

pytestmark = pytest.mark.audit

ROUNDS = 3  # checkpoints made


@pytest.fixture
def checkpointed(audit_store: AuditStore) -> AuditStore:
    fill_rounds(recorder_for(audit_store, Ed25519PrivateKey.generate()), rounds=ROUNDS)
    return audit_store


@pytest.mark.parametrize("count", [-1, 0, 1, ROUNDS - 1, ROUNDS, ROUNDS + 1])
def test_the_newest_checkpoints_come_newest_first(checkpointed: AuditStore, count: int) -> None:
    every = list(checkpointed.checkpoints())  # oldest first
    assert len(every) == ROUNDS
    assert checkpointed.latest_checkpoints(count) == list(reversed(every))[: max(count, 0)]


@pytest.mark.parametrize("page", [1, ROUNDS - 1, ROUNDS, ROUNDS + 1])
def test_every_checkpoint_is_read_once_in_order_over_pages(
    checkpointed: AuditStore, page: int
) -> None:
    paged = list(checkpointed.checkpoints(page=page))
    assert [c.id for c in paged] == list(range(1, ROUNDS + 1))
    assert paged == list(reversed(checkpointed.latest_checkpoints(ROUNDS)))


def test_checkpoints_are_counted(checkpointed: AuditStore) -> None:
    assert checkpointed.checkpoint_count() == ROUNDS


def test_a_store_without_checkpoints(audit_store: AuditStore) -> None:
    assert audit_store.checkpoint_count() == 0
    assert audit_store.latest_checkpoints(20) == []
    assert list(audit_store.checkpoints()) == []
