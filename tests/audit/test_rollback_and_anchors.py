"""Rolling the audit log back: cut the newest records of every chain and delete the newest
signed checkpoints. What is left is consistent and signed, so only an anchor outside the
database shows it: here the append-only anchor file (the audit topic is in
tests/integration/test_audit_anchor_topic.py). Real SQLite and PostgreSQL stores; the
tampering is SQL, as someone with database access would do it.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit.anchors import anchor_document, read_anchor_file
from hub.audit.evidence import Evidence
from hub.audit.recorder import AuditRecorder, Consumed, drafts_for
from hub.audit.signing import CheckpointBody, load_or_create_signing_key, sign_checkpoint
from hub.audit.store import AuditStore, ChainHead, StoredCheckpoint, open_audit_store
from hub.audit.stream import anchor_round
from hub.audit.verify import Behind, Problem, VerifyReport, verify_chains
from hub.cli import main
from tests.audit.tampering import (
    CHAINS,
    PER_ROUND,
    ROUNDS,
    Insider,
    fill_rounds,
    recorder_for,
    roll_back,
)

pytestmark = pytest.mark.audit


def _anchor(recorder: AuditRecorder) -> list[bytes]:
    """Anchor every pending checkpoint: the file for real, the topic's messages collected."""
    topic: list[bytes] = []

    async def send(batch: list[tuple[bytes, bytes]]) -> None:
        topic.extend(value for _, value in batch)

    asyncio.run(anchor_round(recorder, send))
    return topic


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def anchor_file(tmp_path: Path) -> Path:
    return tmp_path / "witness" / "audit-anchors.jsonl"


@pytest.fixture
def recorder(audit_store: AuditStore, key: Ed25519PrivateKey, anchor_file: Path) -> AuditRecorder:
    anchor_file.parent.mkdir()
    recorder = recorder_for(audit_store, key, anchor_file)
    fill_rounds(recorder)
    _anchor(recorder)
    return recorder


def _verify(recorder: AuditRecorder, key: Ed25519PrivateKey, anchor_file: Path) -> VerifyReport:
    store = recorder.store
    with Evidence(key.public_key()) as evidence:
        evidence.add_anchors(read_anchor_file(anchor_file))
        return verify_chains(
            store.chains(), store.chain, store.checkpoints(), key.public_key(), evidence=evidence
        )


def _behind(report: VerifyReport) -> tuple[int, int] | None:
    return None if report.behind is None else (report.behind.records, report.behind.checkpoints)


def test_every_checkpoint_is_anchored_once_in_the_file(
    recorder: AuditRecorder, anchor_file: Path
) -> None:
    anchors = list(read_anchor_file(anchor_file))
    assert [a.checkpoint for a in anchors] == [c.id for c in recorder.store.checkpoints()]
    assert len(anchors) == ROUNDS
    assert recorder.store.unanchored() == []
    assert _anchor(recorder) == []  # nothing pending: nothing written again


def test_an_intact_store_holds_against_its_newest_anchor(
    recorder: AuditRecorder, key: Ed25519PrivateKey, anchor_file: Path
) -> None:
    report = _verify(recorder, key, anchor_file)
    assert report.holds, [f.line() for f in report.findings]
    assert report.anchor is not None
    assert (report.anchor.checkpoint, report.anchor.source) == (ROUNDS, str(anchor_file))
    assert report.behind is None
    assert report.checkpoints == ROUNDS


def test_a_store_with_one_anchored_checkpoint_holds(
    audit_store: AuditStore, key: Ed25519PrivateKey, anchor_file: Path
) -> None:
    anchor_file.parent.mkdir()
    recorder = recorder_for(audit_store, key, anchor_file)
    fill_rounds(recorder, rounds=1)
    _anchor(recorder)
    report = _verify(recorder, key, anchor_file)
    assert report.holds, [f.line() for f in report.findings]
    assert (report.checkpoints, report.behind) == (1, None)


def test_the_rolled_back_store_holds_without_an_anchor(
    recorder: AuditRecorder, key: Ed25519PrivateKey, insider: Insider
) -> None:
    # The attack itself: without an anchor, what is left verifies. This is why anchors exist.
    roll_back(insider, 1)
    store = recorder.store
    report = verify_chains(store.chains(), store.chain, store.checkpoints(), key.public_key())
    assert report.holds
    assert (report.records, report.checkpoints) == (len(CHAINS) * PER_ROUND, 1)


@pytest.mark.parametrize(
    ("kept_checkpoints", "missing_records", "missing_checkpoints"),
    [
        (ROUNDS, 0, 0),  # nothing rolled back
        (ROUNDS - 1, len(CHAINS) * PER_ROUND, 1),  # the newest checkpoint and its records
        (1, len(CHAINS) * PER_ROUND * (ROUNDS - 1), ROUNDS - 1),  # the attack
        (0, len(CHAINS) * PER_ROUND * ROUNDS, ROUNDS),  # everything
    ],
)
def test_a_store_behind_its_anchor_fails_naming_what_is_missing(
    recorder: AuditRecorder,
    key: Ed25519PrivateKey,
    anchor_file: Path,
    kept_checkpoints: int,
    missing_records: int,
    missing_checkpoints: int,
    insider: Insider,
) -> None:
    roll_back(insider, kept_checkpoints)
    report = _verify(recorder, key, anchor_file)
    if not missing_records:
        assert report.holds, [f.line() for f in report.findings]
        return
    assert _behind(report) == (missing_records, missing_checkpoints)
    first = report.findings[0]
    assert first.problem is Problem.BEHIND_ANCHOR
    assert first.line() == (
        f"audit store: behind-anchor: behind its anchor on {anchor_file} (checkpoint {ROUNDS}): "
        f"{missing_records} record(s) and {missing_checkpoints} checkpoint(s) missing"
    )
    # Every chain is named where it now ends short.
    kept = kept_checkpoints * PER_ROUND
    missing = [(f.chain, f.seq) for f in report.findings if f.problem is Problem.MISSING]
    assert sorted(missing) == [(chain, kept + 1 if kept else None) for chain in CHAINS]


def test_only_the_newest_checkpoint_deleted_is_one_checkpoint_behind(
    recorder: AuditRecorder, key: Ed25519PrivateKey, anchor_file: Path, insider: Insider
) -> None:
    newest = list(recorder.store.checkpoints())[-1]
    insider.sql("DELETE FROM audit_checkpoints WHERE id = ?", newest.id)
    report = _verify(recorder, key, anchor_file)
    assert _behind(report) == (0, 1)
    assert [f.problem for f in report.findings] == [Problem.BEHIND_ANCHOR]


def test_one_record_cut_from_one_chain_is_one_record_behind(
    recorder: AuditRecorder, key: Ed25519PrivateKey, anchor_file: Path, insider: Insider
) -> None:
    last = ROUNDS * PER_ROUND
    insider.sql("DELETE FROM audit_records WHERE chain = ? AND seq = ?", CHAINS[2], last)
    report = _verify(recorder, key, anchor_file)
    assert _behind(report) == (1, 0)
    assert [(f.problem, f.chain, f.seq) for f in report.findings] == [
        (Problem.BEHIND_ANCHOR, None, None),
        (Problem.MISSING, CHAINS[2], last),
    ]


def test_a_store_ahead_of_its_anchor_holds(
    recorder: AuditRecorder, key: Ed25519PrivateKey, anchor_file: Path
) -> None:
    # Records and a checkpoint the hub has not anchored yet (it anchors within a tick).
    recorder.record(CHAINS[0], drafts_for(Consumed("in.example", 0, 999, b"{}"), []))
    assert recorder.checkpoint()
    report = _verify(recorder, key, anchor_file)
    assert report.holds, [f.line() for f in report.findings]
    assert report.anchor is not None
    assert report.anchor.checkpoint == ROUNDS


def test_an_anchor_whose_signature_does_not_hold_is_ignored(
    recorder: AuditRecorder, key: Ed25519PrivateKey, anchor_file: Path
) -> None:
    # Someone who can write the file but has no key claims a newer, longer checkpoint.
    newest = list(recorder.store.checkpoints())[-1]
    body = CheckpointBody.parse(newest.body)
    longer = {chain: ChainHead(head.seq + 100, head.hash) for chain, head in body.heads.items()}
    forged_body = CheckpointBody(body.created_at, longer, body.key, body.previous)
    text, signature = sign_checkpoint(Ed25519PrivateKey.generate(), forged_body)
    forged = StoredCheckpoint(newest.id + 1, body.created_at, text, signature)
    with anchor_file.open("ab") as handle:
        handle.write(anchor_document(forged) + b"\n")
    report = _verify(recorder, key, anchor_file)
    assert report.holds, [f.line() for f in report.findings]
    assert report.anchors_ignored == 1
    assert report.anchor is not None
    assert report.anchor.checkpoint == newest.id


def test_a_stored_checkpoint_that_is_not_the_anchored_one_is_found(
    recorder: AuditRecorder, key: Ed25519PrivateKey, anchor_file: Path, insider: Insider
) -> None:
    # A key holder re-signs checkpoint 3 with other heads: the anchor still has the original.
    third = list(recorder.store.checkpoints())[2]
    body = CheckpointBody.parse(third.body)
    text, signature = sign_checkpoint(
        key, CheckpointBody("2000-01-01T00:00:00.000000Z", body.heads, body.key, body.previous)
    )
    insider.sql("UPDATE audit_checkpoints SET body = ?, signature = ? WHERE id = ?",
        text, signature, third.id)  # fmt: skip
    report = _verify(recorder, key, anchor_file)
    changed = [f for f in report.findings if f.problem is Problem.CHANGED]
    assert [(f.checkpoint, f.chain) for f in changed] == [(third.id, None)]
    assert changed[0].detail == f"not the checkpoint anchored on {anchor_file} under this number"


def test_behind_names_the_anchor_it_was_held_against(
    recorder: AuditRecorder, key: Ed25519PrivateKey, anchor_file: Path, insider: Insider
) -> None:
    roll_back(insider, 1)
    report = _verify(recorder, key, anchor_file)
    assert isinstance(report.behind, Behind)
    assert report.behind.anchor.checkpoint == ROUNDS
    assert report.behind.anchor.source == str(anchor_file)


@pytest.fixture
def hub_env(audit_dsn: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The environment of `hub audit verify` on this test's data directory."""
    for name in list(os.environ):
        if name.startswith("HUB_"):
            monkeypatch.delenv(name)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("HUB_DATA_DIR", str(data_dir))
    if audit_dsn is not None:
        monkeypatch.setenv("HUB_AUDIT_DSN", audit_dsn)
    return data_dir


@pytest.mark.usefixtures("restore_logging")
def test_verify_fails_with_one_line_naming_the_missing_counts(
    hub_env: Path,
    audit_dsn: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    anchor_file = tmp_path / "anchors.jsonl"
    monkeypatch.setenv("HUB_AUDIT_ANCHOR_FILE", str(anchor_file))
    key = load_or_create_signing_key(None, hub_env, may_generate=True)
    store = open_audit_store(hub_env, audit_dsn)
    try:
        recorder = recorder_for(store, key, anchor_file)
        fill_rounds(recorder)
        _anchor(recorder)
        assert main(["audit", "verify"]) == 0
        held = capsys.readouterr()
        assert f"held against checkpoint {ROUNDS} anchored on {anchor_file}" in held.out
        with Insider(hub_env, audit_dsn) as insider:
            roll_back(insider, 1)
    finally:
        store.close()

    assert main(["audit", "verify"]) == 1
    failed = capsys.readouterr()
    missing = len(CHAINS) * PER_ROUND * (ROUNDS - 1)
    assert (
        f"the audit store is behind its anchor on {anchor_file}: {missing} record(s) and "
        f"{ROUNDS - 1} checkpoint(s) missing"
    ) in failed.err
    assert "Traceback" not in failed.err
    # Without an anchor the same store "holds": the operator is told nothing was compared,
    # and --require-anchor makes that a failure.
    gone = tmp_path / "gone.jsonl"
    assert main(["audit", "verify", "--anchor-file", str(gone)]) == 2
    assert f"anchor file: cannot read {gone}" in capsys.readouterr().err
    empty = tmp_path / "empty.jsonl"
    empty.touch()
    assert main(["audit", "verify", "--anchor-file", str(empty)]) == 0
    assert "note: no anchor found" in capsys.readouterr().err
    assert main(["audit", "verify", "--anchor-file", str(empty), "--require-anchor"]) == 1
    assert "--require-anchor: no anchor of a signed checkpoint found" in capsys.readouterr().err


def test_anchor_lines_are_one_json_object_each(recorder: AuditRecorder, anchor_file: Path) -> None:
    lines = anchor_file.read_bytes().splitlines()
    assert len(lines) == ROUNDS
    assert all(orjson.loads(line)["kind"] == "checkpoint-anchor" for line in lines)


def test_a_rollback_is_counted_also_when_a_chain_is_broken_before_its_end(
    recorder: AuditRecorder, key: Ed25519PrivateKey, anchor_file: Path, insider: Insider
) -> None:
    insider.sql("UPDATE audit_records SET partner = 'x' WHERE chain = ? AND seq = 2",
        CHAINS[0])  # fmt: skip
    roll_back(insider, ROUNDS - 1)
    report = _verify(recorder, key, anchor_file)
    assert _behind(report) == (len(CHAINS) * PER_ROUND, 1)
    assert (Problem.CHANGED, CHAINS[0], 2) in [(f.problem, f.chain, f.seq) for f in report.findings]
    assert report.counts[CHAINS[0]] == (ROUNDS - 1) * PER_ROUND


def test_anchors_written_twice_count_once(
    recorder: AuditRecorder, key: Ed25519PrivateKey, anchor_file: Path, insider: Insider
) -> None:
    # A crash between anchoring and marking, after every checkpoint: each is anchored twice.
    lines = anchor_file.read_bytes().splitlines(keepends=True)
    anchor_file.write_bytes(b"".join(line + line for line in lines))
    assert len(list(read_anchor_file(anchor_file))) == 2 * ROUNDS
    roll_back(insider, 1)
    report = _verify(recorder, key, anchor_file)
    assert _behind(report) == (len(CHAINS) * PER_ROUND * (ROUNDS - 1), ROUNDS - 1)
    assert report.anchors_ignored == 0
