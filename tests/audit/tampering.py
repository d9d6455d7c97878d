"""What an insider with write access to the audit database does, in SQL, and the log they do
it to: several chains, a signed checkpoint after every round of records."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit.recorder import AuditRecorder, Consumed, drafts_for
from hub.audit.signing import CheckpointBody
from hub.audit.store import AuditStore

CHAINS = tuple(f"hub.example/in.example/{partition}" for partition in range(4))
ROUNDS = 12
PER_ROUND = 5  # records per chain between two checkpoints


def sql(store: AuditStore, statement: str, *parameters: object) -> None:
    """Run one statement in its own transaction, as a database administrator could."""
    with store._transaction():
        store._run(statement, parameters)


def fill_rounds(recorder: AuditRecorder, rounds: int = ROUNDS) -> None:
    """``rounds`` times: PER_ROUND consumed messages on every chain, then a checkpoint."""
    for round_number in range(rounds):
        entries = []
        for partition, chain in enumerate(CHAINS):
            for n in range(PER_ROUND):
                offset = round_number * PER_ROUND + n
                consumed = Consumed("in.example", partition, offset, b'{"n": %d}' % offset)
                entries.extend((chain, draft) for draft in drafts_for(consumed, []))
        recorder.record_all(entries)  # one transaction per round, as a batch of the pipeline
        assert recorder.checkpoint()


def roll_back(store: AuditStore, to_checkpoint: int) -> None:
    """Cut every chain back to the heads checkpoint ``to_checkpoint`` signed (0: to nothing),
    delete every newer checkpoint, and set the chain heads so the hub would go on from there:
    what is left is internally consistent and signed."""
    checkpoints = store.checkpoints()
    heads = CheckpointBody.parse(checkpoints[to_checkpoint - 1].body).heads if to_checkpoint else {}
    for chain in CHAINS:
        head = heads.get(chain)
        seq, head_hash = (head.seq, head.hash) if head else (0, "0" * 64)
        sql(store, "DELETE FROM audit_records WHERE chain = ? AND seq > ?", chain, seq)
        sql(store, "UPDATE audit_chains SET seq = ?, head_hash = ?, published_seq = ? "
            "WHERE chain = ?", seq, head_hash, seq, chain)  # fmt: skip
    last_kept = checkpoints[to_checkpoint - 1].id if to_checkpoint else 0
    sql(store, "DELETE FROM audit_checkpoints WHERE id > ?", last_kept)


def recorder_for(
    store: AuditStore, key: Ed25519PrivateKey, anchor_file: Path | None = None
) -> AuditRecorder:
    """A recorder that checkpoints only when told to."""
    return AuditRecorder(store, key, checkpoint_every=10_000, anchor_file=anchor_file)
