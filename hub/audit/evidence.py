"""What the signed checkpoints and the anchors vouch for, kept on disk while a log is verified.

A checkpoint states every chain head (about 14 KB with 120 chains) and a busy hub signs one
every 1,000 records: a million-line Kela ingest adds about 9,000, and as many anchors. Held in
memory, the checkpoints, the anchors and the heads they sign grow with the log until a year's
log does not fit. ``Evidence`` keeps them in a temporary SQLite file instead (SQLite deletes
it when closed), so that ``hub audit verify`` reads the checkpoints once, as a stream, and
then each chain's signed heads in sequence order beside the chain's records.

What a later statement replaces: a later checkpoint that signs another hash under the same
chain and sequence number replaces the earlier statement (a head restated unchanged keeps the
checkpoint that first signed it), and a head an anchor signs outranks the store's copy of it,
because the anchor is the copy the database's owner cannot change.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import NamedTuple, Self

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub.audit.anchors import CheckpointAnchor, read_anchor_file
from hub.audit.signing import CheckpointBody, signature_holds
from hub.audit.store import ChainHead
from hub.core.keyset import pages_after

__all__ = ["Evidence", "SignedHead"]

_SCHEMA = (
    "CREATE TABLE heads (chain TEXT NOT NULL, seq INTEGER NOT NULL, checkpoint INTEGER NOT NULL,"
    " hash TEXT NOT NULL, PRIMARY KEY (chain, seq)) WITHOUT ROWID",
    "CREATE TABLE anchors (checkpoint INTEGER PRIMARY KEY, created_at TEXT NOT NULL,"
    " body TEXT NOT NULL, signature TEXT NOT NULL, source TEXT NOT NULL)",
)


class SignedHead(NamedTuple):
    """A chain head a checkpoint signed: its sequence number, the checkpoint, the hash."""

    seq: int
    checkpoint: int
    hash: str


class Evidence:
    """Signed heads and valid anchors, in a temporary SQLite file (see the module)."""

    def __init__(self, key: Ed25519PublicKey) -> None:
        self.key = key
        #: Anchors offered, and of those the ones whose signature does not hold.
        self.anchors_read = 0
        self.anchors_ignored = 0
        # "": a private temporary file SQLite deletes on close; its page cache bounds memory.
        # One caller at a time, which may hand it from the event loop to a worker thread (the
        # console gathers anchors on the loop and verifies in a thread).
        self._db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
        for statement in _SCHEMA:
            self._db.execute(statement)
        self._db.execute("BEGIN")
        #: Per chain, the head last written (each write replaces the row it names).
        self._last: dict[str, ChainHead] = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Drop the temporary file."""
        self._db.close()

    def add_anchor(self, anchor: CheckpointAnchor) -> None:
        """Keep ``anchor`` if its signature holds under the key and its body is a checkpoint
        (the first such anchor of a checkpoint number is the one kept). What it signs counts
        from ``sign_anchored`` on."""
        self.anchors_read += 1
        if not signature_holds(self.key, anchor.body, anchor.signature):
            self.anchors_ignored += 1
            return
        try:
            CheckpointBody.parse(anchor.body)
        except ValueError:
            return
        self._db.execute(
            "INSERT OR IGNORE INTO anchors VALUES (?, ?, ?, ?, ?)",
            (anchor.checkpoint, anchor.created_at, anchor.body, anchor.signature, anchor.source),
        )

    def add_anchors(self, anchors: Iterable[CheckpointAnchor]) -> None:
        """``add_anchor`` each of ``anchors``."""
        for anchor in anchors:
            self.add_anchor(anchor)

    def add_anchor_file(self, path: Path, *, required: bool) -> None:
        """``add_anchor`` each anchor of the anchor file at ``path``. A file that is not there
        holds nothing yet, unless ``required`` (the store has checkpoints, so the hub has
        anchored some): then it is an error (``ConfigurationError``), not an empty file."""
        if required or path.exists():
            self.add_anchors(read_anchor_file(path))

    def anchor(self, checkpoint: int) -> CheckpointAnchor | None:
        """The valid anchor of checkpoint number ``checkpoint``, if one was added."""
        row = self._db.execute(
            "SELECT * FROM anchors WHERE checkpoint = ?", (checkpoint,)
        ).fetchone()
        return None if row is None else CheckpointAnchor(*row)

    def anchor_count(self) -> int:
        """How many valid anchors (one per checkpoint number) were added."""
        return int(self._db.execute("SELECT COUNT(*) FROM anchors").fetchone()[0])

    def newest_anchor(self) -> CheckpointAnchor | None:
        """The valid anchor of the highest checkpoint number."""
        row = self._db.execute("SELECT * FROM anchors ORDER BY checkpoint DESC LIMIT 1").fetchone()
        return None if row is None else CheckpointAnchor(*row)

    def sign(self, checkpoint: int, heads: Mapping[str, ChainHead]) -> None:
        """Record that stored checkpoint ``checkpoint`` signs ``heads`` (replacing an earlier
        statement of the same chain and sequence number)."""
        # Most chains have not moved since the last checkpoint, which restates their head:
        # writing only what changed is a tenth of the writes.
        changed = [(chain, head) for chain, head in heads.items() if self._last.get(chain) != head]
        self._db.executemany(
            "INSERT OR REPLACE INTO heads VALUES (?, ?, ?, ?)",
            [(chain, head.seq, checkpoint, head.hash) for chain, head in changed],
        )
        self._last.update(changed)

    def sign_anchored(self) -> None:
        """Record the heads the kept anchors sign, oldest checkpoint number first, over every
        statement before: an anchor outranks the store's copy of its checkpoint. (Call it
        once, after the stored checkpoints.)"""
        self._last.clear()

        def read_page(after: int) -> list[tuple[int, str]]:
            return self._db.execute(
                "SELECT checkpoint, body FROM anchors WHERE checkpoint > ? ORDER BY checkpoint"
                " LIMIT 100",
                (after,),
            ).fetchall()

        for checkpoint, body in pages_after(read_page, -1, lambda row: row[0]):
            self.sign(checkpoint, CheckpointBody.parse(body).heads)

    def heads(self, chain: str, after: int = 0, upto: int | None = None) -> Iterator[SignedHead]:
        """The signed heads of ``chain`` numbered after ``after`` up to ``upto``, in sequence
        order."""
        bound = 2**62 if upto is None else upto

        def read_page(after: int) -> list[SignedHead]:
            rows = self._db.execute(
                "SELECT seq, checkpoint, hash FROM heads WHERE chain = ? AND seq > ? AND seq <= ?"
                " ORDER BY seq LIMIT 1000",
                (chain, after, bound),
            ).fetchall()
            return [SignedHead(*row) for row in rows]

        return pages_after(read_page, after, lambda head: head.seq)

    def signed_to(self, chain: str, after: int = 0, upto: int | None = None) -> int | None:
        """The highest signed sequence number of ``chain`` in (``after``, ``upto``]."""
        row = self._db.execute(
            "SELECT MAX(seq) FROM heads WHERE chain = ? AND seq > ? AND seq <= ?",
            (chain, after, 2**62 if upto is None else upto),
        ).fetchone()
        return None if row[0] is None else int(row[0])

    def chains(self) -> list[str]:
        """Every chain a signed checkpoint or anchor names, by name."""
        rows = self._db.execute("SELECT DISTINCT chain FROM heads ORDER BY chain").fetchall()
        return [row[0] for row in rows]
