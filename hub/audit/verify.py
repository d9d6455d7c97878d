"""Verifying the audit log: every chain recomputed, every checkpoint's signature checked.

For each chain the first bad record is named with what is wrong with it:

- ``changed``: the record's fields (or its payload) no longer match its hash, or a signed
  checkpoint names another hash for it (a chain rewritten with recomputed hashes);
- ``missing``: a record the next one points back to is gone, or the chain ends before the
  head a signed checkpoint names;
- ``reordered``: a record points back to a record that comes *after* it;
- ``inserted``: a record nobody points back to sits between two records that link past it,
  or a record points back to one that another record already follows (the one the evidence
  does not vouch for is named: typically a forged record appended at the end);
- ``renumbered``: a record's sequence number is not its place in the chain.

And for the store as a whole, ``behind-anchor``: an anchor outside the store
(hub.audit.anchors) holds a newer signed checkpoint than the store, or records the store no
longer has; the finding counts the missing records and checkpoints.

The same function checks a store and an export (``hub audit verify --export DIR``): it reads
the checkpoints once as a stream, keeping what they sign in a temporary file
(hub.audit.evidence), then each chain as an iterable of records beside its signed heads and,
on the first break, reads the chain once more to tell which of the four it is. Memory does
not grow with the log unless a chain is broken.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hmac
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub.audit.anchors import CheckpointAnchor
from hub.audit.evidence import Evidence, SignedHead
from hub.audit.records import (
    GENESIS_HASH,
    RECORD_FORMAT,
    AuditRecord,
    payload_digest,
    record_hash,
)
from hub.audit.signing import CheckpointBody, fingerprint, previous_link, signature_holds
from hub.audit.store import StoredCheckpoint

__all__ = [
    "PROGRESS_STEP",
    "Anchor",
    "Behind",
    "ChainCheck",
    "Finding",
    "Problem",
    "VerifyReport",
    "check_chain",
    "reading_with_progress",
    "verify_chains",
]

#: Records read between two reports of progress (``reading_with_progress``).
PROGRESS_STEP: Final = 1000
Item = TypeVar("Item")


class Problem(StrEnum):
    """What is wrong with a record or a checkpoint."""

    CHANGED = "changed"
    MISSING = "missing"
    REORDERED = "reordered"
    INSERTED = "inserted"
    RENUMBERED = "renumbered"
    BEHIND_ANCHOR = "behind-anchor"
    BAD_SIGNATURE = "bad-signature"
    FOREIGN_KEY = "foreign-key"
    CHECKPOINT_MISSING = "checkpoint-missing"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong: where (chain and sequence number, or checkpoint) and what."""

    problem: Problem
    detail: str
    chain: str | None = None
    seq: int | None = None
    checkpoint: int | None = None

    def line(self) -> str:
        """One line for the terminal."""
        if self.chain is not None:
            where = f"chain {self.chain}" + (f" record {self.seq}" if self.seq else "")
        elif self.checkpoint is not None:
            where = f"checkpoint {self.checkpoint}"
        else:
            where = "audit store"
        return f"{where}: {self.problem.value}: {self.detail}"


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where a chain starts: the genesis, or (in an export) the record before the window."""

    seq: int = 0
    hash: str = GENESIS_HASH


@dataclass(frozen=True, slots=True)
class Behind:
    """How far the store is behind its newest anchor."""

    anchor: CheckpointAnchor
    records: int
    checkpoints: int


@dataclass
class VerifyReport:
    """The outcome of a verification."""

    chains: int = 0
    records: int = 0
    checkpoints: int = 0
    findings: list[Finding] = field(default_factory=list)
    #: Chain → records after its last signed head (covered by hashes, not yet by a signature).
    unsigned: dict[str, int] = field(default_factory=dict)
    #: Chain → records read, all of them even when the chain is broken.
    counts: dict[str, int] = field(default_factory=dict)
    #: The newest anchor the store was held against (``None``: no anchor was given or found).
    anchor: CheckpointAnchor | None = None
    #: Anchors given whose signature does not hold under the trusted key (not used).
    anchors_ignored: int = 0
    #: Set when the store is behind its newest anchor.
    behind: Behind | None = None

    @property
    def holds(self) -> bool:
        """True when nothing is wrong."""
        return not self.findings


def _payload_problem(record: AuditRecord) -> str | None:
    if record.payload is not None and payload_digest(record.payload) != record.payload_sha256:
        return "its payload does not match the payload digest it records"
    return None


def _hash_holds(record: AuditRecord, seq: int | None = None) -> bool:
    """True if the record's hash holds (with sequence number ``seq`` instead of its own)."""
    probe = record if seq is None else dataclasses.replace(record, seq=seq)
    return hmac.compare_digest(record_hash(probe), record.record_hash)


def _renumbered_genuine(record: AuditRecord, shift: int) -> bool:
    """True if ``record`` is a format-2 record moved ``shift`` places on (its hash holds
    for its old number): it was there before whatever now sits in front of it."""
    return record.format >= 2 and shift > 0 and _hash_holds(record, record.seq - shift)


def _classify(
    chain: str, at: int, records: Sequence[AuditRecord], start: str, signed: AbstractSet[str]
) -> Finding:
    """Why ``records[at]`` does not link to ``records[at - 1]`` (the chain read into memory).

    When ``records[at]`` points back past some records, either those were inserted, or
    ``records[at]`` itself was (a forged record branching off an earlier one, typically
    appended at the end). The genuine side is the one the evidence vouches for: a signed
    hash, a record linking to it, or (format 2) a record moved on to make room.
    """
    record = records[at]
    position = {r.record_hash: i for i, r in enumerate(records)}
    pointed = position.get(record.prev_hash)
    if pointed is not None and pointed > at:
        return Finding(
            Problem.REORDERED,
            f"points back to record {records[pointed].seq}, which comes after it",
            chain,
            record.seq,
        )
    if pointed is not None or record.prev_hash == start:
        first = (pointed if pointed is not None else -1) + 1
        skipped = records[first:at]
        later_vouched = (
            record.record_hash in signed
            or any(r.prev_hash == record.record_hash for r in records[at + 1 :])
            or _renumbered_genuine(record, len(skipped))
        )
        skipped_vouched = any(r.record_hash in signed for r in skipped)
        if not later_vouched and (skipped_vouched or at == len(records) - 1):
            before = (
                "the start of the chain" if pointed is None else f"record {records[pointed].seq}"
            )
            return Finding(
                Problem.INSERTED,
                f"it points back to {before}, which record {skipped[0].seq} already follows",
                chain,
                record.seq,
            )
        return Finding(
            Problem.INSERTED,
            f"no record points back to it; record {record.seq} links past it",
            chain,
            skipped[0].seq,
        )
    return Finding(
        Problem.MISSING,
        f"the record it points back to is gone (between records {records[at - 1].seq} "
        f"and {record.seq})"
        if at
        else "the record it points back to is gone",
        chain,
        record.seq,
    )


def _record_problem(
    chain: str, record: AuditRecord, last_seq: int, last_format: int, here: SignedHead | None
) -> Finding | None:
    """What is wrong with a record that links correctly to the one before it (``here``: the
    head a checkpoint signed under its number, if any)."""
    if record.format > RECORD_FORMAT or record.format < last_format:
        return Finding(
            Problem.CHANGED,
            f"its record format {record.format} cannot follow format {last_format}",
            chain,
            record.seq,
        )
    place = last_seq + 1
    if not _hash_holds(record):
        if record.seq != place and record.format >= 2 and _hash_holds(record, place):
            return Finding(
                Problem.RENUMBERED,
                f"numbered {record.seq}, but its hash says it is record {place}",
                chain,
                record.seq,
            )
        return Finding(Problem.CHANGED, "its fields do not match its hash", chain, record.seq)
    if record.seq != place:
        return Finding(
            Problem.RENUMBERED,
            f"numbered {record.seq}, but it follows record {last_seq} directly",
            chain,
            record.seq,
        )
    if here is not None and here.hash != record.record_hash:
        return Finding(
            Problem.CHANGED,
            f"checkpoint {here.checkpoint} signed another hash for it (chain rewritten)",
            chain,
            record.seq,
        )
    return None


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """The outcome of one chain: every record read (also after a break), the last sequence
    number the store holds, and the first bad record's finding."""

    records: int
    last_seq: int
    finding: Finding | None


def check_chain(
    chain: str,
    read: Callable[[], Iterable[AuditRecord]],
    signed_heads: Callable[[], Iterable[SignedHead]],
    anchor: Anchor = Anchor(),
) -> ChainCheck:
    """Check one chain: its records, their links and numbers, and the signed heads.

    ``read`` gives the chain in sequence order and ``signed_heads`` the heads checkpoints
    signed for it, also in sequence order (each is called again to classify a broken link):
    the two are read side by side, so neither is held in memory. After the first bad record
    the rest is only counted.
    """
    heads = iter(signed_heads())
    head = next(heads, None)
    count, previous, last_seq, last_format = 0, anchor.hash, anchor.seq, 1
    finding: Finding | None = None
    for count, record in enumerate(read(), start=1):
        if finding is not None:
            last_seq = record.seq
            continue
        while head is not None and head.seq < record.seq:
            head = next(heads, None)
        here = head if head is not None and head.seq == record.seq else None
        finding = _checked(chain, record, count, read, signed_heads, anchor, previous)
        if finding is None:
            finding = _record_problem(chain, record, last_seq, last_format, here)
        previous, last_seq, last_format = (
            record.record_hash,
            record.seq,
            max(last_format, record.format),
        )
    if finding is None:
        # The heads come in sequence order: the last one left is the highest signed.
        highest = functools.reduce(lambda _, later: later, heads, head)
        if highest is not None and highest.seq > last_seq:
            finding = Finding(
                Problem.MISSING,
                f"the chain ends at record {last_seq}, checkpoint {highest.checkpoint} signed "
                f"record {highest.seq}",
                chain,
                last_seq + 1,
            )
    return ChainCheck(count, last_seq, finding)


def _checked(
    chain: str,
    record: AuditRecord,
    count: int,
    read: Callable[[], Iterable[AuditRecord]],
    signed_heads: Callable[[], Iterable[SignedHead]],
    anchor: Anchor,
    previous: str,
) -> Finding | None:
    """What is wrong with the payload or the link of ``record`` (the ``count``-th read)."""
    problem = _payload_problem(record)
    if problem is not None:
        return Finding(Problem.CHANGED, problem, chain, record.seq)
    # The link first: a record moved to make room for a forged one fails its own hash too,
    # and the link tells which record does not belong.
    if record.prev_hash != previous:
        signed = {head.hash for head in signed_heads()}
        return _classify(chain, count - 1, list(read()), anchor.hash, signed)
    return None


@dataclass
class _CheckpointsCheck:
    """What one pass over the stored checkpoints found."""

    count: int = 0
    findings: list[Finding] = field(default_factory=list)
    #: Stored checkpoints that are not the copy an anchor holds under their number.
    differing: list[Finding] = field(default_factory=list)
    #: How many stored checkpoints an anchor holds a copy of.
    anchored: int = 0


def _check_checkpoints(
    checkpoints: Iterable[StoredCheckpoint], evidence: Evidence
) -> _CheckpointsCheck:
    """Signature, key and link of every checkpoint, read once in order; the heads of those
    whose signature holds go to ``evidence``, and each is held against its anchor, if any."""
    checked = _CheckpointsCheck()
    expected_key = fingerprint(evidence.key)
    compare = evidence.anchor_count() > 0
    previous_signature: str | None = None
    for stored in checkpoints:
        checked.count += 1
        if compare:
            _compare(stored, evidence.anchor(stored.id), checked)
        try:
            body = CheckpointBody.parse(stored.body)
        except ValueError as exc:
            checked.findings.append(Finding(Problem.CHANGED, str(exc), checkpoint=stored.id))
            previous_signature = stored.signature
            continue
        if not signature_holds(evidence.key, stored.body, stored.signature):
            problem = Problem.BAD_SIGNATURE if body.key == expected_key else Problem.FOREIGN_KEY
            detail = (
                "its signature does not hold (body or signature changed)"
                if problem is Problem.BAD_SIGNATURE
                else f"signed by key {body.key}, not by the trusted key {expected_key}"
            )
            checked.findings.append(Finding(problem, detail, checkpoint=stored.id))
        else:
            evidence.sign(stored.id, body.heads)
        if body.previous != previous_link(previous_signature):
            checked.findings.append(
                Finding(
                    Problem.CHECKPOINT_MISSING,
                    "the checkpoint before it is missing or changed",
                    checkpoint=stored.id,
                )
            )
        previous_signature = stored.signature
    return checked


def _compare(
    stored: StoredCheckpoint, anchor: CheckpointAnchor | None, checked: _CheckpointsCheck
) -> None:
    """Count a stored checkpoint an anchor copies; note it if it is not that copy."""
    if anchor is None:
        return
    checked.anchored += 1
    if not anchor.matches(stored):
        checked.differing.append(
            Finding(
                Problem.CHANGED,
                f"not the checkpoint anchored on {anchor.source} under this number",
                checkpoint=anchor.checkpoint,
            )
        )


def reading_with_progress(
    read: Callable[[str], Iterable[Item]], advance: Callable[[int], object]
) -> Callable[[str], Iterator[Item]]:
    """``read``, calling ``advance`` with how many records were read: every ``PROGRESS_STEP``
    records and at the end of each chain (for ``verify_chains``: a year's log takes minutes,
    and the CLI's bar and the console's page show how far it is)."""

    def counted(chain: str) -> Iterator[Item]:
        pending = 0
        for record in read(chain):
            yield record
            pending += 1
            if pending == PROGRESS_STEP:
                advance(pending)
                pending = 0
        advance(pending)

    return counted


def verify_chains(
    chains: Iterable[str],
    read: Callable[[str], Iterable[AuditRecord]],
    checkpoints: Iterable[StoredCheckpoint],
    key: Ed25519PublicKey,
    anchors: Mapping[str, Anchor] | None = None,
    ends: Mapping[str, int] | None = None,
    evidence: Evidence | None = None,
) -> VerifyReport:
    """Verify every chain and every checkpoint. A chain a checkpoint names but that has no
    records is reported missing.

    ``checkpoints`` are read once, in order, and may be a stream: what they sign is kept in
    ``evidence`` (a temporary file), so memory does not grow with the log.

    ``anchors`` and ``ends`` describe a window (an export; ``ends`` names every chain): each
    chain starts after its anchor and ends at its end; heads signed beyond the end, and chains
    outside the window, are out of scope rather than missing.

    ``evidence`` may hold checkpoint anchors found outside the store (the audit topic, the
    anchor file; ``Evidence.add_anchor``), under the same ``key``: those whose signature holds
    sign heads as the stored checkpoints do, and the store must hold every record and
    checkpoint up to the newest of them.
    """
    with contextlib.ExitStack() as stack:
        if evidence is None:
            evidence = stack.enter_context(Evidence(key))
        return _verify(chains, read, checkpoints, evidence, anchors, ends)


def _verify(
    chains: Iterable[str],
    read: Callable[[str], Iterable[AuditRecord]],
    checkpoints: Iterable[StoredCheckpoint],
    evidence: Evidence,
    anchors: Mapping[str, Anchor] | None,
    ends: Mapping[str, int] | None,
) -> VerifyReport:
    checked = _check_checkpoints(checkpoints, evidence)
    evidence.sign_anchored()
    report = VerifyReport(checkpoints=checked.count, anchors_ignored=evidence.anchors_ignored)
    missing_checkpoints = evidence.anchor_count() - checked.anchored
    report.findings.extend(checked.findings + checked.differing)
    seen = set()
    last_seqs: dict[str, int] = {}
    for chain in chains:
        seen.add(chain)
        report.chains += 1
        end = None if ends is None else ends[chain]
        anchor = (anchors or {}).get(chain, Anchor())
        heads = functools.partial(evidence.heads, chain, anchor.seq, end)
        checked_chain = check_chain(chain, functools.partial(read, chain), heads, anchor)
        report.records += checked_chain.records
        report.counts[chain] = checked_chain.records
        last_seqs[chain] = checked_chain.last_seq
        if checked_chain.finding is not None:
            report.findings.append(checked_chain.finding)
        signed_to = evidence.signed_to(chain, anchor.seq, end) or anchor.seq
        if anchor.seq + checked_chain.records > signed_to:
            report.unsigned[chain] = anchor.seq + checked_chain.records - signed_to
    for chain in sorted(set(evidence.chains()) - seen if ends is None else ()):
        report.findings.append(
            Finding(Problem.MISSING, "a checkpoint signs this chain, the store has none", chain)
        )
    newest = evidence.newest_anchor()
    if newest is not None:
        report.anchor = newest
        newest_heads = CheckpointBody.parse(newest.body).heads
        missing_records = sum(
            max(0, head.seq - last_seqs.get(chain, 0)) for chain, head in newest_heads.items()
        )
        if missing_records or missing_checkpoints:
            report.behind = Behind(newest, missing_records, missing_checkpoints)
            report.findings.insert(
                0,
                Finding(
                    Problem.BEHIND_ANCHOR,
                    f"behind its anchor on {newest.source} (checkpoint {newest.checkpoint}): "
                    f"{missing_records} record(s) and {missing_checkpoints} checkpoint(s) "
                    "missing",
                ),
            )
    return report
