"""A real audit store (SQLite and PostgreSQL) tampered with in every way an insider could.

The records are those of real handlings (a canonical event consumed, partner messages
produced); the tampering is done in SQL, as someone with database access would. Verification
must name the first bad record of the chain and what is wrong with it.
"""

from __future__ import annotations

import dataclasses

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit.recorder import AuditRecorder, Consumed, Produced, drafts_for
from hub.audit.records import AuditRecord, EventFacts, record_hash
from hub.audit.store import AuditStore
from hub.audit.verify import Problem, VerifyReport, verify_chains
from tests.support import client_status_event

CHAIN = "hub.distribution.client-status/hub.client-status.v1/0"
OTHER = "hub.lahti/in.lahti.client-status/1"
pytestmark = pytest.mark.audit


def _fill(recorder: AuditRecorder, handlings: int = 4) -> None:
    """``handlings`` consumed events on CHAIN, each with one partner output (2 records each),
    and one consumed message on OTHER."""
    for offset in range(handlings):
        event = client_status_event().model_copy(update={"id": f"event-{offset}"})
        value = event.model_dump_json().encode()
        facts = EventFacts(
            event.id, event.type, event.subject, "kela", "Laki X, 1 §", ("person_id",)
        )
        produced = [Produced("out.kela.client-status", b"<xml/>", 0, offset, facts)]
        recorder.record(
            CHAIN, drafts_for(Consumed("hub.client-status.v1", 0, offset, value), produced)
        )
    recorder.record(OTHER, drafts_for(Consumed("in.lahti.client-status", 1, 0, b"{}"), []))


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def recorder(audit_store: AuditStore, key: Ed25519PrivateKey) -> AuditRecorder:
    recorder = AuditRecorder(audit_store, key, checkpoint_every=10_000)
    _fill(recorder)
    assert recorder.checkpoint()
    return recorder


def _verify(store: AuditStore, key: Ed25519PrivateKey) -> VerifyReport:
    return verify_chains(store.chains(), store.chain, store.checkpoints(), key.public_key())


def _sql(store: AuditStore, statement: str, *parameters: object) -> None:
    with store._transaction():
        store._run(statement, parameters)


def _rewrite(store: AuditStore, record: AuditRecord) -> None:
    """Overwrite the stored row at (chain, seq) with ``record`` (hash as given)."""
    _sql(
        store,
        "UPDATE audit_records SET recorded_at = ?, direction = ?, topic = ?, \"offset\" = ?, "
        "event_id = ?, partner = ?, detail = ?, payload_sha256 = ?, payload = ?, prev_hash = ?, "
        "record_hash = ? WHERE chain = ? AND seq = ?",
        record.recorded_at, record.direction, record.topic, record.offset, record.event_id,
        record.partner, record.detail, record.payload_sha256, record.payload, record.prev_hash,
        record.record_hash, record.chain, record.seq,
    )  # fmt: skip


def _only_finding(report: VerifyReport) -> tuple[Problem, str | None, int | None]:
    assert len(report.findings) == 1, [f.line() for f in report.findings]
    finding = report.findings[0]
    return finding.problem, finding.chain, finding.seq


def test_an_untouched_store_verifies(recorder: AuditRecorder, key: Ed25519PrivateKey) -> None:
    report = _verify(recorder.store, key)
    assert report.holds, [f.line() for f in report.findings]
    assert (report.chains, report.records, report.checkpoints) == (2, 9, 1)
    assert report.unsigned == {}


def test_a_changed_field_is_found(recorder: AuditRecorder, key: Ed25519PrivateKey) -> None:
    _sql(
        recorder.store,
        "UPDATE audit_records SET partner = 'sote' WHERE chain = ? AND seq = 4",
        CHAIN,
    )
    assert _only_finding(_verify(recorder.store, key)) == (Problem.CHANGED, CHAIN, 4)


def test_a_changed_payload_is_found(recorder: AuditRecorder, key: Ed25519PrivateKey) -> None:
    _sql(recorder.store, "UPDATE audit_records SET payload = ? WHERE chain = ? AND seq = 3",
         b"<xml>forged</xml>", CHAIN)  # fmt: skip
    assert _only_finding(_verify(recorder.store, key)) == (Problem.CHANGED, CHAIN, 3)


def test_a_rewritten_chain_with_recomputed_hashes_is_caught_by_the_checkpoint(
    recorder: AuditRecorder, key: Ed25519PrivateKey
) -> None:
    # The insider changes record 2 and recomputes every hash after it: the chain is consistent
    # again, but the signed head no longer matches.
    records = list(recorder.store.chain(CHAIN))
    previous = records[0].record_hash
    for original in records[1:]:
        changed = dataclasses.replace(original, partner="sote") if original.seq == 2 else original
        relinked = dataclasses.replace(changed, prev_hash=previous)
        rehashed = relinked.with_hash(record_hash(relinked))
        _rewrite(recorder.store, rehashed)
        previous = rehashed.record_hash
    problem, chain, seq = _only_finding(_verify(recorder.store, key))
    assert (problem, chain, seq) == (Problem.CHANGED, CHAIN, 8)


def test_a_missing_record_is_found(recorder: AuditRecorder, key: Ed25519PrivateKey) -> None:
    _sql(recorder.store, "DELETE FROM audit_records WHERE chain = ? AND seq = 5", CHAIN)
    assert _only_finding(_verify(recorder.store, key)) == (Problem.MISSING, CHAIN, 6)


def test_a_missing_record_is_found_even_when_the_rest_is_renumbered(
    recorder: AuditRecorder, key: Ed25519PrivateKey
) -> None:
    _sql(recorder.store, "DELETE FROM audit_records WHERE chain = ? AND seq = 5", CHAIN)
    for seq in range(6, 9):
        _sql(recorder.store, "UPDATE audit_records SET seq = ? WHERE chain = ? AND seq = ?",
             seq - 1, CHAIN, seq)  # fmt: skip
    assert _only_finding(_verify(recorder.store, key)) == (Problem.MISSING, CHAIN, 5)


def test_a_truncated_chain_is_found_through_the_signed_head(
    recorder: AuditRecorder, key: Ed25519PrivateKey
) -> None:
    _sql(recorder.store, "DELETE FROM audit_records WHERE chain = ? AND seq >= 7", CHAIN)
    assert _only_finding(_verify(recorder.store, key)) == (Problem.MISSING, CHAIN, 7)


def test_reordered_records_are_found(recorder: AuditRecorder, key: Ed25519PrivateKey) -> None:
    # Swap records 3 and 5 (each keeps its own valid hash): the chain order is what changed.
    _sql(recorder.store, "UPDATE audit_records SET seq = -3 WHERE chain = ? AND seq = 3", CHAIN)
    _sql(recorder.store, "UPDATE audit_records SET seq = 3 WHERE chain = ? AND seq = 5", CHAIN)
    _sql(recorder.store, "UPDATE audit_records SET seq = 5 WHERE chain = ? AND seq = -3", CHAIN)
    assert _only_finding(_verify(recorder.store, key)) == (Problem.REORDERED, CHAIN, 3)


def test_an_inserted_record_is_found(recorder: AuditRecorder, key: Ed25519PrivateKey) -> None:
    # A forged record after record 4, correctly hashed and linked to record 4.
    records = {r.seq: r for r in recorder.store.chain(CHAIN)}
    forged = dataclasses.replace(
        records[4], seq=5, partner="ph", event_id="forged", prev_hash=records[4].record_hash
    )
    forged = forged.with_hash(record_hash(forged))
    for seq in range(8, 4, -1):
        _sql(recorder.store, "UPDATE audit_records SET seq = ? WHERE chain = ? AND seq = ?",
             seq + 1, CHAIN, seq)  # fmt: skip
    with recorder.store._transaction():
        from hub.audit.store import _INSERT, _row  # noqa: PLC0415

        recorder.store._run(_INSERT, _row(forged))
    assert _only_finding(_verify(recorder.store, key)) == (Problem.INSERTED, CHAIN, 5)


def test_a_forged_checkpoint_is_found(recorder: AuditRecorder, key: Ed25519PrivateKey) -> None:
    [checkpoint] = recorder.store.checkpoints()
    body = orjson.loads(checkpoint.body)
    body["heads"][CHAIN]["seq"] = 6
    _sql(recorder.store, "UPDATE audit_checkpoints SET body = ? WHERE id = ?",
         orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode(), checkpoint.id)  # fmt: skip
    report = _verify(recorder.store, key)
    assert [f.problem for f in report.findings] == [Problem.BAD_SIGNATURE]


def test_another_key_is_not_trusted(recorder: AuditRecorder) -> None:
    report = _verify(recorder.store, Ed25519PrivateKey.generate())
    assert [f.problem for f in report.findings] == [Problem.FOREIGN_KEY]


def test_a_removed_checkpoint_is_found(recorder: AuditRecorder, key: Ed25519PrivateKey) -> None:
    _fill(recorder, 1)
    assert recorder.checkpoint()
    first = recorder.store.checkpoints()[0]
    _sql(recorder.store, "DELETE FROM audit_checkpoints WHERE id = ?", first.id)
    report = _verify(recorder.store, key)
    assert [f.problem for f in report.findings] == [Problem.CHECKPOINT_MISSING]


def test_pruned_payloads_still_verify(recorder: AuditRecorder, key: Ed25519PrivateKey) -> None:
    assert recorder.store.prune_payloads("9999") == 9
    assert all(r.payload is None for r in recorder.store.chain(CHAIN))
    assert _verify(recorder.store, key).holds


def test_records_after_the_last_checkpoint_are_reported_unsigned(
    recorder: AuditRecorder, key: Ed25519PrivateKey
) -> None:
    _fill(recorder, 1)
    report = _verify(recorder.store, key)
    assert report.holds
    assert report.unsigned == {CHAIN: 2, OTHER: 1}


def test_a_redelivered_message_is_marked(recorder: AuditRecorder) -> None:
    value = client_status_event().model_dump_json().encode()
    [again] = recorder.record(CHAIN, drafts_for(Consumed("hub.client-status.v1", 0, 2, value), []))
    assert again.redelivered
    assert again.seq == 9


def test_identity_code_stays_inside_the_payload(recorder: AuditRecorder) -> None:
    code = client_status_event().data.person_id
    for record in recorder.store.chain(CHAIN):
        assert code not in orjson.dumps(record.summary()).decode()
