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

from hub.audit.evidence import SignedHead
from hub.audit.recorder import AuditRecorder, Consumed, Produced, drafts_for
from hub.audit.records import (
    GENESIS_HASH,
    RECORD_FORMAT,
    AuditDraft,
    AuditRecord,
    Direction,
    EventFacts,
    record_hash,
)
from hub.audit.signing import fingerprint
from hub.audit.store import AuditStore
from hub.audit.verify import (
    Anchor,
    ChainCheck,
    Finding,
    Problem,
    VerifyReport,
    check_chain,
    verify_chains,
)
from tests.audit.tampering import Insider
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


def _only_finding(report: VerifyReport) -> tuple[Problem, str | None, int | None]:
    assert len(report.findings) == 1, [f.line() for f in report.findings]
    finding = report.findings[0]
    return finding.problem, finding.chain, finding.seq


def test_an_untouched_store_verifies(recorder: AuditRecorder, key: Ed25519PrivateKey) -> None:
    report = _verify(recorder.store, key)
    assert report.holds, [f.line() for f in report.findings]
    assert (report.chains, report.records, report.checkpoints) == (2, 9, 1)
    assert report.unsigned == {}


def test_a_changed_field_is_found(
    recorder: AuditRecorder, key: Ed25519PrivateKey, insider: Insider
) -> None:
    insider.sql(
        "UPDATE audit_records SET partner = 'sote' WHERE chain = ? AND seq = 4",
        CHAIN,
    )
    assert _only_finding(_verify(recorder.store, key)) == (Problem.CHANGED, CHAIN, 4)


def test_a_changed_payload_is_found(
    recorder: AuditRecorder, key: Ed25519PrivateKey, insider: Insider
) -> None:
    insider.sql("UPDATE audit_records SET payload = ? WHERE chain = ? AND seq = 3",
         b"<xml>forged</xml>", CHAIN)  # fmt: skip
    assert _only_finding(_verify(recorder.store, key)) == (Problem.CHANGED, CHAIN, 3)


def test_a_rewritten_chain_with_recomputed_hashes_is_caught_by_the_checkpoint(
    recorder: AuditRecorder, key: Ed25519PrivateKey, insider: Insider
) -> None:
    # The insider changes record 2 and recomputes every hash after it: the chain is consistent
    # again, but the signed head no longer matches.
    records = list(recorder.store.chain(CHAIN))
    previous = records[0].record_hash
    for original in records[1:]:
        changed = dataclasses.replace(original, partner="sote") if original.seq == 2 else original
        relinked = dataclasses.replace(changed, prev_hash=previous)
        rehashed = relinked.with_hash(record_hash(relinked))
        insider.rewrite(rehashed)
        previous = rehashed.record_hash
    problem, chain, seq = _only_finding(_verify(recorder.store, key))
    assert (problem, chain, seq) == (Problem.CHANGED, CHAIN, 8)


def test_a_chain_rewritten_after_an_earlier_signed_head_is_caught_by_a_later_one(
    audit_store: AuditStore, key: Ed25519PrivateKey, insider: Insider
) -> None:
    # Checkpoints after records 4 and 8 of CHAIN; the insider rewrites from record 6 on, so
    # the first signed head still holds and only the second tells.
    recorder = AuditRecorder(audit_store, key, checkpoint_every=10_000)
    _fill(recorder, handlings=2)
    assert recorder.checkpoint()
    _fill(recorder, handlings=2)
    assert recorder.checkpoint()
    records = list(audit_store.chain(CHAIN))
    previous = records[4].record_hash
    for original in records[5:]:
        changed = dataclasses.replace(original, partner="sote") if original.seq == 6 else original
        relinked = dataclasses.replace(changed, prev_hash=previous)
        rehashed = relinked.with_hash(record_hash(relinked))
        insider.rewrite(rehashed)
        previous = rehashed.record_hash
    report = _verify(audit_store, key)
    assert _only_finding(report) == (Problem.CHANGED, CHAIN, 8)
    assert report.findings[0].detail == "checkpoint 2 signed another hash for it (chain rewritten)"


def test_an_empty_chain_read_counts_nothing_and_misses_its_signed_head() -> None:
    checked = check_chain(CHAIN, list, lambda: [SignedHead(3, 1, "h")], Anchor(2, "g"))
    assert checked == ChainCheck(
        0,
        2,
        Finding(
            Problem.MISSING, "the chain ends at record 2, checkpoint 1 signed record 3", CHAIN, 3
        ),
    )


def test_a_chain_deleted_whole_is_named_by_the_checkpoint_that_signs_it(
    recorder: AuditRecorder, key: Ed25519PrivateKey, insider: Insider
) -> None:
    insider.sql("DELETE FROM audit_records WHERE chain = ?", OTHER)
    report = _verify(recorder.store, key)
    assert _only_finding(report) == (Problem.MISSING, OTHER, None)
    assert report.findings[0].line() == (
        f"chain {OTHER}: missing: a checkpoint signs this chain, the store has none"
    )


def test_a_missing_record_is_found(
    recorder: AuditRecorder, key: Ed25519PrivateKey, insider: Insider
) -> None:
    insider.sql("DELETE FROM audit_records WHERE chain = ? AND seq = 5", CHAIN)
    assert _only_finding(_verify(recorder.store, key)) == (Problem.MISSING, CHAIN, 6)


def test_a_missing_record_is_found_even_when_the_rest_is_renumbered(
    recorder: AuditRecorder, key: Ed25519PrivateKey, insider: Insider
) -> None:
    insider.sql("DELETE FROM audit_records WHERE chain = ? AND seq = 5", CHAIN)
    for seq in range(6, 9):
        insider.sql("UPDATE audit_records SET seq = ? WHERE chain = ? AND seq = ?",
             seq - 1, CHAIN, seq)  # fmt: skip
    assert _only_finding(_verify(recorder.store, key)) == (Problem.MISSING, CHAIN, 5)


def test_a_truncated_chain_is_found_through_the_signed_head(
    recorder: AuditRecorder, key: Ed25519PrivateKey, insider: Insider
) -> None:
    insider.sql("DELETE FROM audit_records WHERE chain = ? AND seq >= 7", CHAIN)
    assert _only_finding(_verify(recorder.store, key)) == (Problem.MISSING, CHAIN, 7)


def test_reordered_records_are_found(
    recorder: AuditRecorder, key: Ed25519PrivateKey, insider: Insider
) -> None:
    # Swap records 3 and 5 (each keeps its own valid hash): the chain order is what changed.
    insider.sql("UPDATE audit_records SET seq = -3 WHERE chain = ? AND seq = 3", CHAIN)
    insider.sql("UPDATE audit_records SET seq = 3 WHERE chain = ? AND seq = 5", CHAIN)
    insider.sql("UPDATE audit_records SET seq = 5 WHERE chain = ? AND seq = -3", CHAIN)
    assert _only_finding(_verify(recorder.store, key)) == (Problem.REORDERED, CHAIN, 3)


def test_an_inserted_record_is_found(
    recorder: AuditRecorder, key: Ed25519PrivateKey, insider: Insider
) -> None:
    # A forged record after record 4, correctly hashed and linked to record 4.
    records = {r.seq: r for r in recorder.store.chain(CHAIN)}
    forged = dataclasses.replace(
        records[4], seq=5, partner="ph", event_id="forged", prev_hash=records[4].record_hash
    )
    forged = forged.with_hash(record_hash(forged))
    for seq in range(8, 4, -1):
        insider.sql("UPDATE audit_records SET seq = ? WHERE chain = ? AND seq = ?",
             seq + 1, CHAIN, seq)  # fmt: skip
    insider.insert(forged)
    assert _only_finding(_verify(recorder.store, key)) == (Problem.INSERTED, CHAIN, 5)


def test_a_forged_checkpoint_is_found(
    recorder: AuditRecorder, key: Ed25519PrivateKey, insider: Insider
) -> None:
    [checkpoint] = recorder.store.checkpoints()
    body = orjson.loads(checkpoint.body)
    body["heads"][CHAIN]["seq"] = 6
    insider.sql("UPDATE audit_checkpoints SET body = ? WHERE id = ?",
         orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode(), checkpoint.id)  # fmt: skip
    report = _verify(recorder.store, key)
    assert [(f.problem, f.checkpoint, f.detail) for f in report.findings] == [
        (
            Problem.BAD_SIGNATURE,
            checkpoint.id,
            "its signature does not hold (body or signature changed)",
        )
    ]


def test_another_key_is_not_trusted(recorder: AuditRecorder, key: Ed25519PrivateKey) -> None:
    other = Ed25519PrivateKey.generate()
    report = _verify(recorder.store, other)
    [checkpoint] = recorder.store.checkpoints()
    assert [(f.problem, f.checkpoint, f.detail) for f in report.findings] == [
        (
            Problem.FOREIGN_KEY,
            checkpoint.id,
            f"signed by key {fingerprint(key.public_key())}, not by the trusted key "
            f"{fingerprint(other.public_key())}",
        )
    ]


def test_a_removed_checkpoint_is_found(
    recorder: AuditRecorder, key: Ed25519PrivateKey, insider: Insider
) -> None:
    _fill(recorder, 1)
    assert recorder.checkpoint()
    first, second = recorder.store.checkpoints()
    insider.sql("DELETE FROM audit_checkpoints WHERE id = ?", first.id)
    report = _verify(recorder.store, key)
    assert [(f.problem, f.checkpoint, f.detail) for f in report.findings] == [
        (Problem.CHECKPOINT_MISSING, second.id, "the checkpoint before it is missing or changed")
    ]


def test_a_checkpoint_that_is_not_a_checkpoint_body_is_found(
    recorder: AuditRecorder, key: Ed25519PrivateKey, insider: Insider
) -> None:
    _fill(recorder, 1)
    assert recorder.checkpoint()
    first = next(recorder.store.checkpoints())
    insider.sql("UPDATE audit_checkpoints SET body = 'garbage' WHERE id = ?", first.id)
    report = _verify(recorder.store, key)
    # Only the first: the second still links to the first's signature, which is unchanged.
    assert [(f.problem, f.checkpoint, f.detail) for f in report.findings] == [
        (Problem.CHANGED, first.id, "not a checkpoint body: JSONDecodeError")
    ]
    assert report.checkpoints == 2


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


def _renumber(insider: Insider, chain: str, first: int, last: int, by: int) -> None:
    """Move records ``first``..``last`` of ``chain`` ``by`` places on (from the top down)."""
    for seq in range(last, first - 1, -1):
        insider.sql("UPDATE audit_records SET seq = ? WHERE chain = ? AND seq = ?",
             seq + by, chain, seq)  # fmt: skip


def test_the_sequence_number_is_inside_the_hash(recorder: AuditRecorder) -> None:
    record = next(iter(recorder.store.chain(CHAIN)))
    assert record.format == RECORD_FORMAT == 2
    assert record_hash(dataclasses.replace(record, seq=7)) != record.record_hash
    assert record_hash(dataclasses.replace(record, chain=OTHER)) != record.record_hash


def test_a_renumbered_gap_names_the_first_renumbered_record(
    recorder: AuditRecorder, key: Ed25519PrivateKey, insider: Insider
) -> None:
    # Records 6..8 become 7..9: no record is gone and every link holds, only the numbers lie.
    _renumber(insider, CHAIN, 6, 8, 1)
    report = _verify(recorder.store, key)
    assert report.findings[0].line() == (
        f"chain {CHAIN} record 7: renumbered: numbered 7, but its hash says it is record 6"
    )
    assert (report.findings[0].problem, report.findings[0].chain) == (Problem.RENUMBERED, CHAIN)


def test_a_renumbered_gap_at_the_head_is_found_without_a_checkpoint(
    audit_store: AuditStore, key: Ed25519PrivateKey, insider: Insider
) -> None:
    # Only the last record moves (0 → 1 record renumbered): no signed head covers it.
    recorder = AuditRecorder(audit_store, key, checkpoint_every=10_000)
    _fill(recorder)
    _renumber(insider, CHAIN, 8, 8, 1)
    assert _only_finding(_verify(audit_store, key)) == (Problem.RENUMBERED, CHAIN, 9)


def test_a_record_changed_and_renumbered_is_named_changed(
    audit_store: AuditStore, key: Ed25519PrivateKey, insider: Insider
) -> None:
    # Its hash holds neither for its new number nor for its place: the fields were changed,
    # whatever else was.
    recorder = AuditRecorder(audit_store, key, checkpoint_every=10_000)
    _fill(recorder)
    _renumber(insider, CHAIN, 8, 8, 1)
    insider.sql("UPDATE audit_records SET partner = 'sote' WHERE chain = ? AND seq = 9", CHAIN)
    report = _verify(audit_store, key)
    assert _only_finding(report) == (Problem.CHANGED, CHAIN, 9)
    assert report.findings[0].detail == "its fields do not match its hash"


def test_a_chain_numbered_without_a_gap_is_not_renumbered(
    recorder: AuditRecorder, key: Ed25519PrivateKey, insider: Insider
) -> None:
    _renumber(insider, CHAIN, 8, 8, 0)
    assert _verify(recorder.store, key).holds


def _format_one(insider: Insider, chain: str, records: int) -> list[AuditRecord]:
    """Write ``records`` format-1 records to ``chain`` as a store made before format 2 did."""

    written, previous = [], GENESIS_HASH
    for seq in range(1, records + 1):
        draft = AuditDraft(Direction.CONSUMED, b"{}", "in.example", 0, seq)
        placed = dataclasses.replace(
            AuditRecord.place(draft, chain, seq, previous, redelivered=False), format=1
        )
        old = placed.with_hash(record_hash(placed))
        insider.insert(old)
        insider.sql(
            "INSERT INTO audit_chains (chain, seq, head_hash) VALUES (?, ?, ?) "
            "ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, head_hash = excluded.head_hash",
            chain, seq, old.record_hash,
        )  # fmt: skip
        written.append(old)
        previous = old.record_hash
    return written


def test_format_one_records_still_verify_and_new_records_continue_as_format_two(
    audit_store: AuditStore, key: Ed25519PrivateKey, insider: Insider
) -> None:
    old = _format_one(insider, "g/in.example/0", 3)
    assert record_hash(dataclasses.replace(old[0], seq=9)) == old[0].record_hash  # format 1
    recorder = AuditRecorder(audit_store, key, checkpoint_every=10_000)
    [new] = recorder.record("g/in.example/0", drafts_for(Consumed("in.example", 0, 9, b"{}"), []))
    assert (new.seq, new.format, new.prev_hash) == (4, 2, old[-1].record_hash)
    assert recorder.checkpoint()
    stored = list(audit_store.chain("g/in.example/0"))
    assert [r.format for r in stored] == [1, 1, 1, 2]
    report = _verify(audit_store, key)
    assert report.holds, [f.line() for f in report.findings]
    assert report.counts == {"g/in.example/0": 4}


def test_a_renumbered_gap_among_format_one_records_is_found(
    audit_store: AuditStore, key: Ed25519PrivateKey, insider: Insider
) -> None:
    # Format 1 does not hash the number: the gap itself is what shows.
    _format_one(insider, "g/in.example/0", 5)
    _renumber(insider, "g/in.example/0", 4, 5, 1)
    report = _verify(audit_store, key)
    assert _only_finding(report) == (Problem.RENUMBERED, "g/in.example/0", 5)
    assert report.findings[0].detail == "numbered 5, but it follows record 3 directly"


def test_a_format_two_record_set_back_to_format_one_is_changed(
    recorder: AuditRecorder, key: Ed25519PrivateKey, insider: Insider
) -> None:
    insider.sql("UPDATE audit_records SET record_format = 1 WHERE chain = ? AND seq = 3",
         CHAIN)  # fmt: skip
    assert _only_finding(_verify(recorder.store, key)) == (Problem.CHANGED, CHAIN, 3)


def _append_forged_copy(store: AuditStore, insider: Insider, of: int) -> AuditRecord:
    """A forged record after the last one: a copy of record ``of`` with another partner, its
    link copied too (so it points back past record ``of``), correctly hashed."""
    records = {r.seq: r for r in store.chain(CHAIN)}
    forged = dataclasses.replace(records[of], seq=max(records) + 1, partner="forged-partner")
    forged = forged.with_hash(record_hash(forged))
    insider.insert(forged)
    return forged


def test_a_forged_appended_record_is_named_not_the_genuine_one_before_it(
    recorder: AuditRecorder, key: Ed25519PrivateKey, insider: Insider
) -> None:
    # Record 8 is under the signed checkpoint: the forged record 9 is what does not belong.
    forged = _append_forged_copy(recorder.store, insider, 8)
    problem, chain, seq = _only_finding(_verify(recorder.store, key))
    assert (problem, chain, seq) == (Problem.INSERTED, CHAIN, forged.seq)
    assert _verify(recorder.store, key).findings[0].detail == (
        "it points back to record 7, which record 8 already follows"
    )


def test_a_forged_appended_record_after_unsigned_records_is_named(
    recorder: AuditRecorder, key: Ed25519PrivateKey, insider: Insider
) -> None:
    # Records 9 and 10 are not under any checkpoint yet; the forgery copies record 10.
    _fill(recorder, 1)
    forged = _append_forged_copy(recorder.store, insider, 10)
    assert _only_finding(_verify(recorder.store, key)) == (Problem.INSERTED, CHAIN, forged.seq)


def test_full_counts_are_reported_after_a_failure(
    recorder: AuditRecorder, key: Ed25519PrivateKey, insider: Insider
) -> None:
    insider.sql("UPDATE audit_records SET partner = 'sote' WHERE chain = ? AND seq = 4",
         CHAIN)  # fmt: skip
    report = _verify(recorder.store, key)
    assert not report.holds
    assert report.counts == {CHAIN: 8, OTHER: 1}
    assert (report.chains, report.records) == (2, 9)


def test_full_counts_are_reported_after_a_broken_link(
    recorder: AuditRecorder, key: Ed25519PrivateKey, insider: Insider
) -> None:
    insider.sql("DELETE FROM audit_records WHERE chain = ? AND seq = 2", CHAIN)
    report = _verify(recorder.store, key)
    assert _only_finding(report) == (Problem.MISSING, CHAIN, 3)
    assert report.counts == {CHAIN: 7, OTHER: 1}


def test_a_record_inserted_before_the_last_one_is_named_not_the_moved_last_one(
    audit_store: AuditStore, key: Ed25519PrivateKey, insider: Insider
) -> None:
    # No checkpoint covers the chain; the genuine record 8 moved on to 9 to make room, and its
    # hash (format 2) still says it was record 8: the record now numbered 8 is the forgery.
    recorder = AuditRecorder(audit_store, key, checkpoint_every=10_000)
    _fill(recorder)
    records = {r.seq: r for r in audit_store.chain(CHAIN)}
    forged = dataclasses.replace(records[8], partner="forged-partner")
    forged = forged.with_hash(record_hash(forged))
    _renumber(insider, CHAIN, 8, 8, 1)
    insider.insert(forged)
    report = _verify(audit_store, key)
    assert _only_finding(report) == (Problem.INSERTED, CHAIN, 8)
    assert report.findings[0].detail == "no record points back to it; record 9 links past it"


def test_a_forged_record_pointing_back_to_the_start_is_named(
    recorder: AuditRecorder, key: Ed25519PrivateKey, insider: Insider
) -> None:
    forged = _append_forged_copy(recorder.store, insider, 1)
    report = _verify(recorder.store, key)
    assert _only_finding(report) == (Problem.INSERTED, CHAIN, forged.seq)
    assert report.findings[0].detail == (
        "it points back to the start of the chain, which record 1 already follows"
    )


def test_a_last_record_rehashed_as_format_one_is_changed(
    recorder: AuditRecorder, key: Ed25519PrivateKey, insider: Insider
) -> None:
    # Going back to format 1 would free its number from the hash: a chain never does that.
    last = list(recorder.store.chain(CHAIN))[-1]
    older = dataclasses.replace(last, format=1)
    older = older.with_hash(record_hash(older))
    insider.sql("UPDATE audit_records SET record_format = 1, record_hash = ? "
         "WHERE chain = ? AND seq = ?", older.record_hash, CHAIN, last.seq)  # fmt: skip
    report = _verify(recorder.store, key)
    changed = [f for f in report.findings if f.chain == CHAIN]
    assert [(f.problem, f.seq, f.detail) for f in changed] == [
        (Problem.CHANGED, last.seq, "its record format 1 cannot follow format 2")
    ]


def test_a_record_of_an_unknown_format_is_changed(
    recorder: AuditRecorder, key: Ed25519PrivateKey, insider: Insider
) -> None:
    last = list(recorder.store.chain(CHAIN))[-1]
    newer = dataclasses.replace(last, format=RECORD_FORMAT + 1)
    newer = newer.with_hash(record_hash(newer))
    insider.sql("UPDATE audit_records SET record_format = ?, record_hash = ? "
         "WHERE chain = ? AND seq = ?",
         newer.format, newer.record_hash, CHAIN, last.seq)  # fmt: skip
    report = _verify(recorder.store, key)
    assert [f.detail for f in report.findings if f.chain == CHAIN] == [
        f"its record format {RECORD_FORMAT + 1} cannot follow format {RECORD_FORMAT}"
    ]


def test_findings_name_what_is_wrong_in_one_line(
    recorder: AuditRecorder, key: Ed25519PrivateKey, insider: Insider
) -> None:
    insider.sql("UPDATE audit_records SET partner = 'sote' WHERE chain = ? AND seq = 4",
         CHAIN)  # fmt: skip
    insider.sql("UPDATE audit_records SET payload = ? WHERE chain = ? AND seq = 1",
         b"forged", OTHER)  # fmt: skip
    assert [f.line() for f in _verify(recorder.store, key).findings] == [
        f"chain {CHAIN} record 4: changed: its fields do not match its hash",
        f"chain {OTHER} record 1: changed: its payload does not match the payload digest it "
        "records",
    ]
