"""The console's verification job (``hub.console.verification``) over a real SQLite audit
store: it runs in the background and reports how far it has read, one job at a time, ends
with a verdict or a reason for none, and stops when the console stops.

The anchors outside the store come from ``gather``; here they are none (the topic's are
read in ``tests/integration/test_console_verification.py`` on a real Kafka). A gate in the
store's chain reading holds a job in the middle to see it running.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from structlog.testing import capture_logs

from hub.audit.anchors import CheckpointAnchor
from hub.audit.evidence import Evidence
from hub.audit.recorder import AuditRecorder
from hub.audit.records import AuditDraft, AuditRecord, Direction
from hub.audit.store import open_audit_store
from hub.audit.verify import PROGRESS_STEP
from hub.console.verification import Verification, Verifications, VerificationStoppedError
from hub.core.errors import HubError
from tests.audit.chain_gate import ChainGate
from tests.audit.tampering import Insider

pytestmark = pytest.mark.usefixtures("restore_logging")

CHAIN = "in.example/0"
RECORDS = 2 * PROGRESS_STEP + 500


async def _no_anchors(_evidence: Evidence) -> None:
    return None


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def recorder(tmp_path: Path, key: Ed25519PrivateKey) -> Iterator[AuditRecorder]:
    recorder = AuditRecorder(open_audit_store(tmp_path, None), key)
    drafts = [
        AuditDraft(Direction.CONSUMED, b"{}", "in.example", offset, offset)
        for offset in range(RECORDS)
    ]
    recorder.record(CHAIN, drafts)
    assert recorder.checkpoint()
    yield recorder
    recorder.store.close()


@pytest.fixture
def gate(recorder: AuditRecorder, monkeypatch: pytest.MonkeyPatch) -> ChainGate:
    """The recorder's store, its reading held before record 1,001."""
    return ChainGate(recorder.store, PROGRESS_STEP + 1, monkeypatch)


async def _reached(gate: ChainGate) -> None:
    assert await asyncio.to_thread(gate.reached.wait, 30)


def _verifications(recorder: AuditRecorder, key: Ed25519PrivateKey) -> Verifications:
    return Verifications(recorder.store, key.public_key(), _no_anchors)


async def _ended(job: Verification) -> None:
    for _ in range(600):
        if not job.running:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the verification did not end")


async def test_a_job_reports_its_progress_and_ends_with_the_verdict(
    recorder: AuditRecorder, key: Ed25519PrivateKey, gate: ChainGate
) -> None:
    verifications = _verifications(recorder, key)
    assert verifications.last is None

    job = verifications.start("aino")
    assert job is not None
    await _reached(gate)
    # Held before record 1,001: the first thousand are counted, the job runs on.
    assert (job.running, job.read, job.total, job.percent) == (
        True,
        PROGRESS_STEP,
        RECORDS,
        PROGRESS_STEP * 100 // RECORDS,
    )
    assert job.report is None
    assert job.error is None
    assert job.reading_records
    # A second auditor is shown the running job, not a second one.
    assert verifications.start("eino") is job
    assert verifications.last is job
    assert job.started_by == "aino"

    gate.open.set()
    await _ended(job)
    assert job.error is None
    assert job.report is not None
    assert job.report.holds
    assert (job.report.records, job.read, job.percent) == (RECORDS, RECORDS, 100)
    assert job.finished_at is not None
    assert job.started_at.tzinfo is dt.UTC
    assert job.finished_at.tzinfo is dt.UTC
    assert 0 <= job.seconds == (job.finished_at - job.started_at).total_seconds()

    # Once it has ended, the button starts a new one.
    again = verifications.start("eino")
    assert again is not None
    assert again is not job
    assert again.started_by == "eino"
    await _ended(again)
    assert again.report is not None
    assert again.report.holds


async def test_a_broken_chain_is_the_jobs_verdict(
    tmp_path: Path, recorder: AuditRecorder, key: Ed25519PrivateKey
) -> None:
    # An insider rewrites record 7's detail in the database; its hash no longer matches.
    record = next(recorder.store.chain(CHAIN, 7, 7))
    with Insider(tmp_path, None) as insider:
        insider.rewrite(dataclasses.replace(record, detail="rewritten"))
    job = _verifications(recorder, key).start("aino")
    assert job is not None
    await _ended(job)
    assert job.report is not None
    assert not job.report.holds
    assert [f.seq for f in job.report.findings] == [7]


async def test_stopping_the_console_stops_a_running_job(
    recorder: AuditRecorder, key: Ed25519PrivateKey, gate: ChainGate
) -> None:
    verifications = _verifications(recorder, key)
    job = verifications.start("aino")
    assert job is not None
    await _reached(gate)

    closing = asyncio.create_task(verifications.close())
    await asyncio.sleep(0.05)
    assert not closing.done()
    assert job.stopping
    gate.open.set()  # the reader goes on to its next thousand records, and stops there
    await closing
    assert not job.running
    assert job.report is None
    assert job.error == "stopped before the end: the console shut down"
    assert job.read == 2 * PROGRESS_STEP < RECORDS


async def test_closing_without_a_running_job_returns_at_once(
    recorder: AuditRecorder, key: Ed25519PrivateKey
) -> None:
    verifications = _verifications(recorder, key)
    await verifications.close()  # none ever started
    job = verifications.start("aino")
    assert job is not None
    await _ended(job)
    await asyncio.wait_for(verifications.close(), 1)
    assert job.report is not None
    assert job.error is None
    assert not job.stopping


async def test_a_job_stuck_gathering_anchors_is_cancelled_when_the_console_stops(
    recorder: AuditRecorder, key: Ed25519PrivateKey
) -> None:
    asked = asyncio.Event()

    async def no_answer(_evidence: Evidence) -> None:
        asked.set()
        await asyncio.Event().wait()  # a broker that never answers

    verifications = Verifications(recorder.store, key.public_key(), no_answer, stop_wait_s=0.1)
    job = verifications.start("aino")
    assert job is not None
    await asyncio.wait_for(asked.wait(), 5)
    assert not job.reading_records
    await asyncio.wait_for(verifications.close(), 5)
    assert not job.running
    assert job.report is None
    assert job.error == "stopped before the end: the console shut down"


async def test_the_chains_are_held_against_the_anchors_gathered(
    recorder: AuditRecorder, key: Ed25519PrivateKey
) -> None:
    newest = recorder.store.latest_checkpoints(1)[0]

    async def from_topic(evidence: Evidence) -> None:
        anchor = CheckpointAnchor(
            newest.id, newest.created_at, newest.body, newest.signature, "hub.audit.v1"
        )
        evidence.add_anchor(anchor)

    job = Verifications(recorder.store, key.public_key(), from_topic).start("aino")
    assert job is not None
    await _ended(job)
    assert job.report is not None
    assert job.report.holds
    assert job.report.anchor is not None
    assert (job.report.anchor.checkpoint, job.report.anchor.source) == (newest.id, "hub.audit.v1")
    assert job.anchors_read == 1


async def test_anchors_that_cannot_be_read_give_no_verdict(
    recorder: AuditRecorder, key: Ed25519PrivateKey
) -> None:
    class UnreachableError(HubError):
        pass

    async def unreachable(_evidence: Evidence) -> None:
        raise UnreachableError("Kafka at 127.0.0.1:1 is not reachable")

    job = Verifications(recorder.store, key.public_key(), unreachable).start("aino")
    assert job is not None
    await _ended(job)
    assert job.report is None
    assert job.error == "Kafka at 127.0.0.1:1 is not reachable"


async def test_a_failing_store_ends_the_job_with_its_kind_logged(
    recorder: AuditRecorder, key: Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_chain: str) -> Iterator[AuditRecord]:
        raise sqlite3.OperationalError("disk I/O error in 131052-930V")

    monkeypatch.setattr(recorder.store, "chain", broken)
    with capture_logs() as logs:
        job = _verifications(recorder, key).start("aino")
        assert job is not None
        await _ended(job)
    assert job.report is None
    assert job.error == "the verification failed (OperationalError); see the hub's log"
    assert logs == [
        {"event": "audit verification failed", "error": "OperationalError", "log_level": "error"}
    ]
    # The driver's message is neither shown nor logged.
    assert "131052-930V" not in f"{job.error}{logs}"


async def test_without_a_trusted_key_nothing_starts(
    recorder: AuditRecorder, key: Ed25519PrivateKey
) -> None:
    verifications = Verifications(recorder.store, None, _no_anchors)
    assert not verifications.has_key
    assert verifications.start("aino") is None
    assert verifications.last is None
    assert _verifications(recorder, key).has_key


@pytest.mark.parametrize(
    ("read", "total", "percent"),
    [(0, 0, 0), (1, 0, 100), (0, 1000, 0), (9, 1000, 0), (10, 1000, 1), (999, 1000, 99),
     (1000, 1000, 100), (1001, 1000, 100), (5, -1, 100)],
)  # fmt: skip
def test_percent_is_whole_and_at_most_a_hundred(read: int, total: int, percent: int) -> None:
    job = Verification("aino", total)
    job.read = read
    assert job.percent == percent


def test_advance_counts_and_stops_only_when_told() -> None:
    job = Verification("aino", 10)
    job.advance(0)
    job.advance(3)
    assert job.read == 3
    job.stopping = True
    with pytest.raises(VerificationStoppedError, match="the console shut down"):
        job.advance(2)
    assert job.read == 5
