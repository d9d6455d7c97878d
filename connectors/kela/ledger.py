"""The Kela record ledger: which ``tapahtumatunnus`` the hub has already published.

Why SQLite under the data directory (and not a compacted topic): a duplicate check must see
records staged but not yet committed in the same file ingest, and must answer before
publishing; a local transactional store does both in microseconds, survives restarts, and is
shared by ``hub up`` and ``hub ingest kela`` through the same data directory (WAL mode lets
both use it at once). Several hub instances would need a shared store (PostgreSQL): noted for
the audit-store work, which brings one.

Protocol, so that nothing is lost and nothing is counted twice: ``verdict`` → ``stage`` (kept
in memory, seen by later verdicts) → publish → ``commit`` (one short transaction); if
publishing fails, ``rollback`` and the record is processed again later. A crash between
publish and commit republishes the same deterministic event id, which consumers deduplicate.

Stores no identity code: a record's content is kept as an HMAC fingerprint (keyed with the
pseudonym secret) so a redelivery with different content is recognised as a conflict.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Final

from connectors.kela.native import PaymentDayRow
from hub.sqlite_store import TransactionalStore

__all__ = ["BenefitLedger", "Verdict", "fingerprint"]

_FILE: Final = "kela-ledger.sqlite3"
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS kela_records (
    record_id   TEXT PRIMARY KEY,
    event_id    TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    paid_days   INTEGER NOT NULL,
    amount_paid TEXT NOT NULL,
    corrects    TEXT,
    received_at TEXT NOT NULL
)
"""


class Verdict(StrEnum):
    """What the ledger says about a parsed record."""

    NEW = "new"
    DUPLICATE = "duplicate-record"
    CONFLICTING_DUPLICATE = "conflicting-duplicate-record"
    UNKNOWN_CORRECTED = "unknown-corrected-record"


def fingerprint(row: PaymentDayRow, secret: bytes) -> str:
    """A keyed digest of everything the record says (its line number aside)."""
    content = "|".join(
        str(value)
        for value in (
            row.tapahtumatunnus,
            row.hetu,
            row.kotikunta,
            row.etuus.value,
            row.jakso_alku.isoformat(),
            row.jakso_loppu.isoformat(),
            row.maksupaivat,
            row.maksettu,
            row.kertyma,
            row.maksupvm.isoformat(),
            row.korjattava or "",
        )
    )
    return hmac.new(secret, content.encode("utf-8"), hashlib.sha256).hexdigest()


class BenefitLedger:
    """Durable record ids of published Kela records; see the module docstring."""

    def __init__(self, store: TransactionalStore, secret: bytes) -> None:
        self._store = store
        self._secret = secret
        # Staged records (record id → fingerprint): a batch sees its own earlier lines.
        self._staged: dict[str, str] = {}

    @classmethod
    def open(cls, data_dir: Path, secret: bytes) -> BenefitLedger:
        """The ledger of a data directory."""
        return cls(TransactionalStore(data_dir / _FILE, _SCHEMA), secret)

    @classmethod
    def dry_run(
        cls, data_dir: Path, secret: bytes, scratch_dir: Path | None = None
    ) -> BenefitLedger:
        """A ledger that sees the real one but writes only to a throw-away file.

        Memory stays flat however large the file; the real ledger is opened read-only, so a
        running hub is never blocked by a dry run.
        """
        scratch = Path(tempfile.mkdtemp(prefix="kela-dry-run-", dir=scratch_dir))
        store = TransactionalStore(
            scratch / _FILE, _SCHEMA, read_only_base=data_dir / _FILE, scratch=scratch
        )
        return cls(store, secret)

    def _fingerprint_of(self, record_id: str) -> str | None:
        if record_id in self._staged:
            return self._staged[record_id]
        found = self._store.first(
            "SELECT fingerprint FROM {schema}.kela_records WHERE record_id = ?", (record_id,)
        )
        return None if found is None else str(found[0])

    def verdict(self, row: PaymentDayRow) -> Verdict:
        """NEW, a duplicate (same content), a conflicting duplicate, or an unknown correction."""
        known = self._fingerprint_of(row.tapahtumatunnus)
        if known is not None:
            same = hmac.compare_digest(known, fingerprint(row, self._secret))
            return Verdict.DUPLICATE if same else Verdict.CONFLICTING_DUPLICATE
        if row.korjattava and self._fingerprint_of(row.korjattava) is None:
            return Verdict.UNKNOWN_CORRECTED
        return Verdict.NEW

    def stage(self, row: PaymentDayRow, event_id: str) -> None:
        """Remember ``row``; durable with the next ``commit``."""
        self._staged[row.tapahtumatunnus] = fingerprint(row, self._secret)
        self._store.stage(
            "INSERT INTO kela_records VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                row.tapahtumatunnus,
                event_id,
                self._staged[row.tapahtumatunnus],
                row.maksupaivat,
                str(row.maksettu),
                row.korjattava,
                dt.datetime.now(dt.UTC).isoformat(),
            ),
        )

    def commit(self) -> None:
        """Make every staged record durable: call only after they are published."""
        self._store.commit()
        self._staged.clear()

    def rollback(self) -> None:
        """Forget every staged record: publishing them failed."""
        self._store.rollback()
        self._staged.clear()

    def count(self) -> int:
        """How many records the ledger holds (committed or staged)."""
        return int(self._store.scalar("SELECT COUNT(*) FROM kela_records")) + len(self._staged)

    def close(self) -> None:
        """Roll back anything staged and close the database (a dry run's scratch is removed)."""
        self._store.close()
