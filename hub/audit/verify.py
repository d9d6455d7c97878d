"""Verifying the audit log: every chain recomputed, every checkpoint's signature checked.

For each chain the first bad record is named with what is wrong with it:

- ``changed``: the record's fields (or its payload) no longer match its hash, or a signed
  checkpoint names another hash for it (a chain rewritten with recomputed hashes);
- ``missing``: a record the next one points back to is gone, or the chain ends before the
  head a signed checkpoint names;
- ``reordered``: a record points back to a record that comes *after* it;
- ``inserted``: a record nobody points back to sits between two records that link past it.

The same pure function checks a store and an export (``hub audit verify --export DIR``): it
reads a chain as an iterable of records and, on the first break, reads it once more to tell
which of the four it is. Memory does not grow with the chain unless a chain is broken.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub.audit.records import GENESIS_HASH, AuditRecord, payload_digest, record_hash
from hub.audit.signing import CheckpointBody, fingerprint, previous_link, signature_holds
from hub.audit.store import StoredCheckpoint

__all__ = [
    "Anchor",
    "Finding",
    "Problem",
    "VerifyReport",
    "check_chain",
    "check_checkpoints",
    "verify_chains",
]


class Problem(StrEnum):
    """What is wrong with a record or a checkpoint."""

    CHANGED = "changed"
    MISSING = "missing"
    REORDERED = "reordered"
    INSERTED = "inserted"
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
        else:
            where = f"checkpoint {self.checkpoint}"
        return f"{where}: {self.problem.value}: {self.detail}"


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where a chain starts: the genesis, or (in an export) the record before the window."""

    seq: int = 0
    hash: str = GENESIS_HASH


@dataclass
class VerifyReport:
    """The outcome of a verification."""

    chains: int = 0
    records: int = 0
    checkpoints: int = 0
    findings: list[Finding] = field(default_factory=list)
    #: Chain → records after its last signed head (covered by hashes, not yet by a signature).
    unsigned: dict[str, int] = field(default_factory=dict)

    @property
    def holds(self) -> bool:
        """True when nothing is wrong."""
        return not self.findings


def _own_problem(record: AuditRecord) -> str | None:
    if record.payload is not None and payload_digest(record.payload) != record.payload_sha256:
        return "its payload does not match the payload digest it records"
    if not hmac.compare_digest(record_hash(record), record.record_hash):
        return "its fields do not match its hash"
    return None


def _classify(chain: str, at: int, records: Sequence[AuditRecord], start: str) -> Finding:
    """Why ``records[at]`` does not link to ``records[at - 1]`` (the chain read into memory)."""
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
        inserted = records[(pointed if pointed is not None else -1) + 1]
        return Finding(
            Problem.INSERTED,
            f"no record points back to it; record {record.seq} links past it",
            chain,
            inserted.seq,
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


def check_chain(
    chain: str,
    read: Callable[[], Iterable[AuditRecord]],
    signed_heads: Mapping[int, tuple[int, str]],
    anchor: Anchor = Anchor(),
) -> tuple[int, Finding | None]:
    """(records read, the first bad record's finding) of one chain.

    ``read`` gives the chain in sequence order (called again to classify a broken link);
    ``signed_heads`` maps a sequence number to (checkpoint id, the hash a checkpoint signed).
    """
    count, previous, last_seq = 0, anchor.hash, anchor.seq
    records: Iterator[AuditRecord] = iter(read())
    for count, record in enumerate(records, start=1):
        problem = _own_problem(record)
        if problem is not None:
            return count, Finding(Problem.CHANGED, problem, chain, record.seq)
        if record.prev_hash != previous:
            whole = list(read())
            return count, _classify(chain, count - 1, whole, anchor.hash)
        signed = signed_heads.get(record.seq)
        if signed is not None and signed[1] != record.record_hash:
            return count, Finding(
                Problem.CHANGED,
                f"checkpoint {signed[0]} signed another hash for it (chain rewritten)",
                chain,
                record.seq,
            )
        previous, last_seq = record.record_hash, record.seq
    beyond = [seq for seq in signed_heads if seq > last_seq]
    if beyond:
        checkpoint, _ = signed_heads[max(beyond)]
        return count, Finding(
            Problem.MISSING,
            f"the chain ends at record {last_seq}, checkpoint {checkpoint} signed "
            f"record {max(beyond)}",
            chain,
            last_seq + 1,
        )
    return count, None


def check_checkpoints(
    checkpoints: Sequence[StoredCheckpoint], key: Ed25519PublicKey
) -> tuple[list[Finding], dict[str, dict[int, tuple[int, str]]]]:
    """Signature, key and link of every checkpoint; and, per chain, the heads they sign
    (only from checkpoints whose signature holds)."""
    findings: list[Finding] = []
    heads: dict[str, dict[int, tuple[int, str]]] = {}
    expected_key = fingerprint(key)
    previous_signature: str | None = None
    for stored in checkpoints:
        try:
            body = CheckpointBody.parse(stored.body)
        except ValueError as exc:
            findings.append(Finding(Problem.CHANGED, str(exc), checkpoint=stored.id))
            previous_signature = stored.signature
            continue
        if not signature_holds(key, stored.body, stored.signature):
            problem = Problem.BAD_SIGNATURE if body.key == expected_key else Problem.FOREIGN_KEY
            detail = (
                "its signature does not hold (body or signature changed)"
                if problem is Problem.BAD_SIGNATURE
                else f"signed by key {body.key}, not by the trusted key {expected_key}"
            )
            findings.append(Finding(problem, detail, checkpoint=stored.id))
        else:
            for chain, head in body.heads.items():
                heads.setdefault(chain, {})[head.seq] = (stored.id, head.hash)
        if body.previous != previous_link(previous_signature):
            findings.append(
                Finding(
                    Problem.CHECKPOINT_MISSING,
                    "the checkpoint before it is missing or changed",
                    checkpoint=stored.id,
                )
            )
        previous_signature = stored.signature
    return findings, heads


def verify_chains(
    chains: Iterable[str],
    read: Callable[[str], Iterable[AuditRecord]],
    checkpoints: Sequence[StoredCheckpoint],
    key: Ed25519PublicKey,
    anchors: Mapping[str, Anchor] | None = None,
    ends: Mapping[str, int] | None = None,
) -> VerifyReport:
    """Verify every chain and every checkpoint. A chain a checkpoint names but that has no
    records is reported missing.

    ``anchors`` and ``ends`` describe a window (an export): each chain starts after its anchor
    and ends at its end; heads signed beyond the end, and chains outside the window, are out of
    scope rather than missing.
    """
    report = VerifyReport(checkpoints=len(checkpoints))
    findings, signed = check_checkpoints(checkpoints, key)
    report.findings.extend(findings)
    seen = set()
    for chain in chains:
        seen.add(chain)
        report.chains += 1
        heads = signed.get(chain, {})
        if ends is not None:
            heads = {seq: head for seq, head in heads.items() if seq <= ends.get(chain, 0)}
        anchor = (anchors or {}).get(chain, Anchor())
        count, finding = check_chain(chain, functools.partial(read, chain), heads, anchor)
        report.records += count
        if finding is not None:
            report.findings.append(finding)
        signed_to = max((seq for seq in heads if seq > anchor.seq), default=anchor.seq)
        if anchor.seq + count > signed_to:
            report.unsigned[chain] = anchor.seq + count - signed_to
    for chain in sorted(set(signed) - seen if ends is None else ()):
        report.findings.append(
            Finding(Problem.MISSING, "a checkpoint signs this chain, the store has none", chain)
        )
    return report
