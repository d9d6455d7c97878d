"""Reading an export back: every chain's records from where its first line starts, whatever
order the chains are read in, and the export verifying offline. Both real stores."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit.export import (
    CHECKPOINTS_FILE,
    FORMAT,
    FORMAT_1,
    MANIFEST_FILE,
    RECORDS_FILE,
    ExportError,
    export_window,
    read_export,
    verify_export,
)
from hub.audit.recorder import AuditRecorder, Consumed, drafts_for
from hub.audit.records import AuditRecord, record_hash
from hub.audit.store import AuditStore
from hub.audit.verify import Problem, VerifyReport
from tests.audit.tampering import CHAINS, PER_ROUND, fill_rounds, recorder_for

pytestmark = pytest.mark.audit

ROUNDS = 3


@pytest.fixture
def exported(audit_store: AuditStore, tmp_path: Path) -> tuple[AuditStore, Path, Ed25519PrivateKey]:
    key = Ed25519PrivateKey.generate()
    fill_rounds(recorder_for(audit_store, key), rounds=ROUNDS)
    out = tmp_path / "export"
    export_window(audit_store, key.public_key(), out, None, None, "2026-12-03T05:00:00Z")
    return audit_store, out, key


@pytest.mark.parametrize("order", [CHAINS, tuple(reversed(CHAINS))])
def test_every_chain_reads_back_as_stored_in_any_order(
    exported: tuple[AuditStore, Path, Ed25519PrivateKey], order: tuple[str, ...]
) -> None:
    store, out, _ = exported
    folder = read_export(out)
    for chain in order:
        assert list(folder.chain(chain)) == list(store.chain(chain))
        assert len(list(folder.chain(chain))) == ROUNDS * PER_ROUND


def test_the_export_verifies_offline(
    exported: tuple[AuditStore, Path, Ed25519PrivateKey],
) -> None:
    _, out, key = exported
    report = verify_export(read_export(out), key.public_key())
    assert report.holds, [finding.line() for finding in report.findings]
    assert (report.chains, report.records) == (len(CHAINS), len(CHAINS) * ROUNDS * PER_ROUND)


def test_a_cut_records_file_ends_the_chains_it_no_longer_holds(
    exported: tuple[AuditStore, Path, Ed25519PrivateKey],
) -> None:
    store, out, key = exported
    lines = (out / RECORDS_FILE).read_bytes().splitlines(keepends=True)
    kept = len(lines) - PER_ROUND * ROUNDS - 1  # the last chain gone, and one more record
    (out / RECORDS_FILE).write_bytes(b"".join(lines[:kept]))
    folder = read_export(out)
    assert list(folder.chain(CHAINS[-1])) == []
    assert len(list(folder.chain(CHAINS[-2]))) == ROUNDS * PER_ROUND - 1
    assert list(folder.chain(CHAINS[0])) == list(store.chain(CHAINS[0]))
    assert not verify_export(folder, key.public_key()).holds


def test_a_line_that_is_not_a_record_is_named(
    exported: tuple[AuditStore, Path, Ed25519PrivateKey],
) -> None:
    _, out, _ = exported
    lines = (out / RECORDS_FILE).read_bytes().splitlines(keepends=True)
    lines[PER_ROUND * ROUNDS + 1] = b"not json\n"  # the second record of the second chain
    (out / RECORDS_FILE).write_bytes(b"".join(lines))
    with pytest.raises(ExportError, match=f"line {PER_ROUND * ROUNDS + 2} is not"):
        list(read_export(out).chain(CHAINS[1]))


def _export_line(record: AuditRecord) -> bytes:
    """A line of the records file, as an export writes it (the documented format)."""
    document = record.summary()
    payload = record.payload
    document["payload"] = None if payload is None else base64.b64encode(payload).decode()
    return orjson.dumps(document) + b"\n"


@pytest.fixture
def window(audit_store: AuditStore, tmp_path: Path) -> tuple[Path, Ed25519PrivateKey, int]:
    """An export of the first two of three rounds (each round a checkpoint): heads are signed
    inside the window and beyond its end. The records it holds per chain."""
    key = Ed25519PrivateKey.generate()
    fill_rounds(recorder_for(audit_store, key), rounds=ROUNDS)
    first_of_third = list(audit_store.chain(CHAINS[0]))[2 * PER_ROUND]
    out = tmp_path / "window"
    export_window(audit_store, key.public_key(), out, None, first_of_third.recorded_at, "t")
    return out, key, 2 * PER_ROUND


def test_a_window_verifies_without_the_heads_signed_beyond_its_end(
    window: tuple[Path, Ed25519PrivateKey, int],
) -> None:
    out, key, per_chain = window
    report = verify_export(read_export(out), key.public_key())
    assert report.holds, [finding.line() for finding in report.findings]
    assert report.counts == dict.fromkeys(CHAINS, per_chain)
    assert report.unsigned == {}


def test_a_window_rewritten_with_recomputed_hashes_is_caught_by_a_head_inside_it(
    window: tuple[Path, Ed25519PrivateKey, int],
) -> None:
    out, key, per_chain = window
    lines = (out / RECORDS_FILE).read_bytes().splitlines(keepends=True)
    folder = read_export(out)
    records = [record for chain in CHAINS for record in folder.chain(chain)]
    # The second chain from its seventh record on: changed, relinked and rehashed.
    start = per_chain + PER_ROUND + 1
    previous = records[start - 1].record_hash
    for index in range(start, 2 * per_chain):
        changed = records[index]
        if index == start:
            changed = dataclasses.replace(changed, partner="sote")
        relinked = dataclasses.replace(changed, prev_hash=previous)
        records[index] = relinked.with_hash(record_hash(relinked))
        previous = records[index].record_hash
        lines[index] = _export_line(records[index])
    (out / RECORDS_FILE).write_bytes(b"".join(lines))
    report = verify_export(read_export(out), key.public_key())
    assert [(f.problem, f.chain, f.seq) for f in report.findings] == [
        (Problem.CHANGED, CHAINS[1], per_chain)
    ]


def _verified_window(
    store: AuditStore, key: Ed25519PrivateKey, out: Path, since: str | None, until: str | None
) -> VerifyReport:
    """Export what was recorded in [since, until) to ``out`` and verify it offline: it holds."""
    export_window(store, key.public_key(), out, since, until, "t")
    report = verify_export(read_export(out), key.public_key())
    assert report.holds, [finding.line() for finding in report.findings]
    return report


def _round_without_checkpoint(recorder: AuditRecorder, offset: int) -> None:
    entries = [
        (chain, draft)
        for partition, chain in enumerate(CHAINS)
        for n in range(PER_ROUND)
        for draft in drafts_for(Consumed("in.example", partition, offset + n, b"{}"), [])
    ]
    recorder.record_all(entries)


def test_a_window_from_the_middle_starts_at_the_record_before_it(
    audit_store: AuditStore, tmp_path: Path
) -> None:
    key = Ed25519PrivateKey.generate()
    fill_rounds(recorder_for(audit_store, key), rounds=ROUNDS)
    second_round = list(audit_store.chain(CHAINS[0]))[PER_ROUND]
    report = _verified_window(audit_store, key, tmp_path / "middle", second_round.recorded_at, None)
    assert report.counts == dict.fromkeys(CHAINS, (ROUNDS - 1) * PER_ROUND)


def test_records_of_a_window_after_its_last_signed_head_are_unsigned(
    audit_store: AuditStore, tmp_path: Path
) -> None:
    # Signed after record 5; records 6-10 not yet; record 15 signed after the window's end.
    key = Ed25519PrivateKey.generate()
    recorder = recorder_for(audit_store, key)
    fill_rounds(recorder, rounds=1)
    _round_without_checkpoint(recorder, PER_ROUND)
    fill_rounds(recorder, rounds=1)
    until = list(audit_store.chain(CHAINS[0]))[2 * PER_ROUND].recorded_at
    report = _verified_window(audit_store, key, tmp_path / "unsigned", None, until)
    assert report.unsigned == dict.fromkeys(CHAINS, PER_ROUND)


def test_a_chain_with_no_records_in_the_window_is_out_of_scope(
    audit_store: AuditStore, tmp_path: Path
) -> None:
    # Every chain is signed, but after the first round only the first chain records more.
    key = Ed25519PrivateKey.generate()
    recorder = recorder_for(audit_store, key)
    fill_rounds(recorder, rounds=1)
    consumed = Consumed("in.example", 0, PER_ROUND, b"{}")
    recorder.record(CHAINS[0], drafts_for(consumed, []))
    assert recorder.checkpoint()
    since = list(audit_store.chain(CHAINS[0]))[PER_ROUND].recorded_at
    report = _verified_window(audit_store, key, tmp_path / "one-chain", since, None)
    assert report.counts == {CHAINS[0]: 1}


# --- the checkpoints file (format 2) and exports of the first format -----------------------


def test_the_checkpoints_are_a_file_of_their_own_one_per_line(
    exported: tuple[AuditStore, Path, Ed25519PrivateKey],
) -> None:
    store, out, _ = exported
    manifest = orjson.loads((out / MANIFEST_FILE).read_bytes())
    lines = (out / CHECKPOINTS_FILE).read_bytes().splitlines()
    assert manifest["format"] == FORMAT
    assert manifest["checkpoints"] == len(lines) == ROUNDS
    assert [orjson.loads(line)["id"] for line in lines] == [c.id for c in store.checkpoints()]
    assert list(read_export(out).checkpoints()) == list(store.checkpoints())


def _as_first_format(out: Path) -> None:
    """Rewrite the export as the first format wrote it: checkpoints inside the manifest."""
    manifest = orjson.loads((out / MANIFEST_FILE).read_bytes())
    lines = (out / CHECKPOINTS_FILE).read_bytes().splitlines()
    manifest["format"] = FORMAT_1
    manifest["checkpoints"] = [orjson.loads(line) for line in lines]
    (out / MANIFEST_FILE).write_bytes(orjson.dumps(manifest))
    (out / CHECKPOINTS_FILE).unlink()


def test_an_export_of_the_first_format_still_verifies_and_its_checkpoints_are_checked(
    exported: tuple[AuditStore, Path, Ed25519PrivateKey],
) -> None:
    store, out, key = exported
    _as_first_format(out)
    folder = read_export(out)
    assert list(folder.checkpoints()) == list(store.checkpoints())
    report = verify_export(folder, key.public_key())
    assert report.holds, [finding.line() for finding in report.findings]
    assert report.checkpoints == ROUNDS
    manifest = orjson.loads((out / MANIFEST_FILE).read_bytes())
    manifest["checkpoints"][1]["signature"] = manifest["checkpoints"][0]["signature"]
    (out / MANIFEST_FILE).write_bytes(orjson.dumps(manifest))
    report = verify_export(read_export(out), key.public_key())
    assert Problem.BAD_SIGNATURE in {finding.problem for finding in report.findings}


def test_a_checkpoint_changed_in_its_file_is_found(
    exported: tuple[AuditStore, Path, Ed25519PrivateKey],
) -> None:
    _, out, key = exported
    lines = (out / CHECKPOINTS_FILE).read_bytes().splitlines(keepends=True)
    second = orjson.loads(lines[1])
    second["signature"] = orjson.loads(lines[0])["signature"]
    lines[1] = orjson.dumps(second) + b"\n"
    (out / CHECKPOINTS_FILE).write_bytes(b"".join(lines))
    report = verify_export(read_export(out), key.public_key())
    assert not report.holds
    assert (report.findings[0].problem, report.findings[0].checkpoint) == (
        Problem.BAD_SIGNATURE,
        second["id"],
    )


@pytest.mark.parametrize("change", [-1, 0, 1], ids=["one-missing", "as-stated", "one-more"])
def test_a_checkpoints_file_holding_another_number_than_the_manifest_states_is_refused(
    exported: tuple[AuditStore, Path, Ed25519PrivateKey], change: int
) -> None:
    _, out, key = exported
    lines = (out / CHECKPOINTS_FILE).read_bytes().splitlines(keepends=True)
    changed = lines[:change] if change < 0 else lines + lines[-1:] * change
    (out / CHECKPOINTS_FILE).write_bytes(b"".join(changed))
    if change == 0:
        assert verify_export(read_export(out), key.public_key()).holds
        return
    with pytest.raises(ExportError) as refused:
        verify_export(read_export(out), key.public_key())
    assert str(refused.value) == (
        f"{out / CHECKPOINTS_FILE}: {ROUNDS + change} checkpoints, the manifest states {ROUNDS}"
    )


def test_a_line_that_is_not_a_checkpoint_is_named(
    exported: tuple[AuditStore, Path, Ed25519PrivateKey],
) -> None:
    _, out, key = exported
    lines = (out / CHECKPOINTS_FILE).read_bytes().splitlines(keepends=True)
    lines[1] = b'{"id": 2}\n'
    (out / CHECKPOINTS_FILE).write_bytes(b"".join(lines))
    with pytest.raises(ExportError, match=r"checkpoints.jsonl: line 2 is not a checkpoint$"):
        verify_export(read_export(out), key.public_key())


def test_an_export_without_its_checkpoints_file_is_refused(
    exported: tuple[AuditStore, Path, Ed25519PrivateKey],
) -> None:
    _, out, _ = exported
    (out / CHECKPOINTS_FILE).unlink()
    with pytest.raises(ExportError) as refused:
        read_export(out)
    assert str(refused.value) == f"--export: {out / CHECKPOINTS_FILE} is missing"


def test_an_export_of_an_unknown_format_is_refused(
    exported: tuple[AuditStore, Path, Ed25519PrivateKey],
) -> None:
    _, out, _ = exported
    manifest = orjson.loads((out / MANIFEST_FILE).read_bytes())
    manifest["format"] = "paijathame-hub-audit-export/3"
    (out / MANIFEST_FILE).write_bytes(orjson.dumps(manifest))
    with pytest.raises(ExportError, match="is not an audit export"):
        read_export(out)


def test_an_export_counts_what_it_wrote_and_a_log_without_checkpoints_exports_none(
    audit_store: AuditStore, tmp_path: Path
) -> None:
    key = Ed25519PrivateKey.generate()
    recorder = recorder_for(audit_store, key)
    _round_without_checkpoint(recorder, 0)
    summary = export_window(audit_store, key.public_key(), tmp_path / "none", None, None, "t")
    assert (summary.chains, summary.records, summary.checkpoints) == (
        len(CHAINS),
        len(CHAINS) * PER_ROUND,
        0,
    )
    assert (tmp_path / "none" / CHECKPOINTS_FILE).read_bytes() == b""
    assert verify_export(read_export(tmp_path / "none"), key.public_key()).checkpoints == 0
    fill_rounds(recorder, rounds=2)
    summary = export_window(audit_store, key.public_key(), tmp_path / "two", None, None, "t")
    assert summary.checkpoints == 2
