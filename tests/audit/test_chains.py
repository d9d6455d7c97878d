"""The chains a store holds are read from the records, one look-up per chain. Both real
stores."""

from __future__ import annotations

import pytest

from hub.audit.records import AuditDraft, Direction, EventFacts
from hub.audit.store import AuditStore
from tests.audit.tampering import Insider

pytestmark = pytest.mark.audit

# Names that share prefixes and differ in their last character, in their order.
NAMES = ("a", "a/0", "a/00", "a/1", "b", "b/0")


def _append(store: AuditStore, chain: str, count: int) -> None:
    draft = AuditDraft(Direction.CONSUMED, b"{}", "in.example", 0, 0, EventFacts("e", "t", "p"))
    store.append([(chain, draft)] * count)


def test_a_store_without_records_has_no_chains(audit_store: AuditStore) -> None:
    assert audit_store.chains() == []


@pytest.mark.parametrize("count", [1, 2, 3])
def test_every_chain_once_in_order_of_name(audit_store: AuditStore, count: int) -> None:
    for chain in reversed(NAMES):
        _append(audit_store, chain, count)
    assert audit_store.chains() == list(NAMES)


def test_a_chain_whose_head_row_is_gone_is_still_listed(
    audit_store: AuditStore, insider: Insider
) -> None:
    for chain in NAMES:
        _append(audit_store, chain, 2)
    insider.sql("DELETE FROM audit_chains WHERE chain = ?", "a/00")
    assert audit_store.chains() == list(NAMES)


def test_a_chain_whose_records_are_gone_is_not_listed(
    audit_store: AuditStore, insider: Insider
) -> None:
    for chain in NAMES:
        _append(audit_store, chain, 2)
    insider.sql("DELETE FROM audit_records WHERE chain IN (?, ?)", NAMES[0], NAMES[-1])
    assert audit_store.chains() == list(NAMES[1:-1])
