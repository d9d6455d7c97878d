"""The Kela record ledger: which ``tapahtumatunnus`` the hub has already published, and what
each record paid and was corrected by.

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

Per record it remembers what a later correction is checked against
(``connectors.kela.corrections``): the person (as the pseudonymous person reference), the
benefit, the financing municipality, the days and euros paid, and the record the entry
belongs to (itself, or for a correction the record it corrects). What the corrections of a
record have taken back so far is the sum over the entries that belong to it: rows are only
ever added, so a rejected correction, which is never staged, cannot change it, and a dry run
sees the real ledger's sums through its read-only base.

Stores no identity code: a record's content is kept as an HMAC fingerprint (keyed with the
pseudonym secret) so a redelivery with different content is recognised as a conflict, and the
person as the HMAC person reference.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import tempfile
from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, NamedTuple

from connectors.kela.corrections import CorrectedRecord
from connectors.kela.native import KelaBenefit, PaymentDayRow
from hub.core.sqlite_store import TransactionalStore
from schemas.person_ref import HmacSha256, person_ref_for

__all__ = ["BenefitLedger", "LedgerEntry", "Verdict", "fingerprint"]

_FILE: Final = "kela-ledger.sqlite3"
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS kela_records (
    record_id   TEXT PRIMARY KEY,
    event_id    TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    paid_days   INTEGER NOT NULL,
    amount_paid TEXT NOT NULL,
    corrects    TEXT,
    received_at TEXT NOT NULL,
    person_ref  TEXT,
    benefit     TEXT,
    municipality TEXT,
    belongs_to  TEXT
);
CREATE TABLE IF NOT EXISTS kela_file_dead_letters (
    digest      TEXT PRIMARY KEY,
    dead_at     TEXT NOT NULL
)
"""

#: Columns a ledger written before corrections were checked lacks; its rows keep NULL there
#: (``CorrectedRecord`` treats what it does not know as unchecked, not as a mismatch).
_ADDED_COLUMNS: Final = {
    "person_ref": "TEXT",
    "benefit": "TEXT",
    "municipality": "TEXT",
    "belongs_to": "TEXT",
}
#: Only corrections count against another record (``_TAKEN_BACK`` finds them by it), so only
#: they are indexed: recording an ordinary record, nearly every record, writes no index but its
#: key. The full index on ``belongs_to`` this one replaces cost a second B-tree insert per
#: record (with ids in no order, more than the rest of the insert).
_INDEXES: Final = (
    "DROP INDEX IF EXISTS kela_records_belongs_to",
    "CREATE INDEX IF NOT EXISTS kela_records_correction_of ON kela_records (belongs_to) "
    "WHERE corrects IS NOT NULL",
)
#: The corrections that count against a record (``corrects IS NOT NULL`` in the first branch
#: lets the index above answer; the second branch's entries predate ``belongs_to``).
_TAKEN_BACK: Final = (
    "SELECT record_id, paid_days, amount_paid FROM {schema}.kela_records "
    "WHERE record_id != ? "
    "AND ((belongs_to = ? AND corrects IS NOT NULL) OR (belongs_to IS NULL AND corrects = ?))"
)
_ENTRY: Final = (
    "SELECT record_id, event_id, fingerprint, paid_days, amount_paid, corrects, "
    "person_ref, benefit, municipality, belongs_to FROM {schema}.kela_records "
    "WHERE record_id = ?"
)
#: The ids come as one JSON array parameter: no limit on the number of SQL variables.
_ENTRIES: Final = (
    "SELECT record_id, event_id, fingerprint, paid_days, amount_paid, corrects, "
    "person_ref, benefit, municipality, belongs_to FROM {schema}.kela_records "
    "WHERE record_id IN (SELECT value FROM json_each(?))"
)

#: A staged row begins with the columns of an entry (``_ENTRY``), ``belongs_to`` last.
_ENTRY_COLUMNS: Final = 10
_BELONGS_TO: Final = 9
_INSERT: Final = (
    "INSERT INTO kela_records (record_id, event_id, fingerprint, paid_days, amount_paid, "
    "corrects, person_ref, benefit, municipality, belongs_to, received_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
#: Each benefit's code as the ledger keeps it (a dict look-up, not the enum's ``value``).
_BENEFIT_CODES: Final = {benefit: benefit.value for benefit in KelaBenefit}

#: The benefit as the fingerprint has always spelt it (the canonical value), so that records
#: taken before YLT existed keep their fingerprints and a redelivery stays a duplicate.
_FINGERPRINT_BENEFIT: Final = {
    KelaBenefit.TMT: "labour_market_subsidy",
    KelaBenefit.PPR: "basic_allowance",
    KelaBenefit.APR: "earnings_related_basic_part",
    KelaBenefit.YLT: "YLT",
}


class Verdict(StrEnum):
    """What the ledger says about a parsed record."""

    NEW = "new"
    DUPLICATE = "duplicate-record"
    CONFLICTING_DUPLICATE = "conflicting-duplicate-record"
    UNKNOWN_CORRECTED = "unknown-corrected-record"


def fingerprint(row: PaymentDayRow, secret: bytes) -> str:
    """A keyed digest of everything the record says (its line number aside)."""
    return _fingerprint(row, HmacSha256(secret))


def _fingerprint(row: PaymentDayRow, keyed: HmacSha256) -> str:
    # Dates format as their isoformat, numbers and the Decimal as their str: the text the
    # fingerprint has always been computed over.
    # (isoformat and ``!s`` called directly: the text format() with no spec gives, without
    # str() of a date calling isoformat by name.)
    content = (
        f"{row.tapahtumatunnus}|{row.hetu}|{row.kotikunta}|{_FINGERPRINT_BENEFIT[row.etuus]}|"
        f"{row.jakso_alku.isoformat()}|{row.jakso_loppu.isoformat()}|{row.maksupaivat}|"
        f"{row.maksettu!s}|{row.kertyma}|{row.maksupvm.isoformat()}|{row.korjattava or ''}"
    )
    return keyed.digest(content.encode("utf-8")).hex()


class LedgerEntry(NamedTuple):
    """One record as the ledger keeps it (no identity code: ``person_ref`` is the pseudonym).

    ``belongs_to`` is the record the entry counts against: its own id, or for a correction the
    record the corrected one belongs to. ``person_ref``, ``benefit`` and ``municipality`` are
    ``None`` in entries written before the ledger remembered them. A named tuple: immutable
    like a frozen dataclass, and built without ten ``object.__setattr__`` calls (one per
    record staged).
    """

    record_id: str
    event_id: str
    fingerprint: str
    paid_days: int
    amount_paid: Decimal
    corrects: str | None
    person_ref: str | None
    benefit: str | None
    municipality: str | None
    belongs_to: str


def _entry(found: tuple[object, ...]) -> LedgerEntry:
    record_id, event_id, print_, days, amount, corrects, person, benefit, municipality, root = found
    return LedgerEntry(
        str(record_id),
        str(event_id),
        str(print_),
        int(str(days)),
        Decimal(str(amount)),
        None if corrects is None else str(corrects),
        None if person is None else str(person),
        None if benefit is None else str(benefit),
        None if municipality is None else str(municipality),
        # Entries written before belongs_to existed: a correction counts against the record
        # it names (one level: chains of corrections are rare and were unchecked then).
        str(root if root is not None else corrects if corrects is not None else record_id),
    )


class BenefitLedger:
    """Durable record ids of published Kela records; see the module docstring."""

    def __init__(self, store: TransactionalStore, secret: bytes) -> None:
        self._store = store
        self._secret = secret
        # HMAC-SHA256 under the secret, keyed once: fingerprints and line digests per record.
        self._keyed = HmacSha256(secret)
        # When this batch was staged (its first record): one clock reading per batch, written
        # as each staged row's received_at (dead_at); forgotten at commit and rollback.
        self._staged_at: str | None = None
        # Staged rows by record id, as they are written (an entry is made of one only when
        # asked for: a duplicate or a correction within the batch): a batch sees its own
        # earlier lines.
        self._staged: dict[str, tuple[Any, ...]] = {}
        self._staged_dead_letters: set[str] = set()
        # The same entries by the record they belong to: a correction sums its chain's
        # staged entries without walking the whole batch.
        self._staged_by_root: dict[str, dict[str, LedgerEntry]] = {}
        # Committed entries looked up ahead for the batch in hand (None: not in the ledger).
        # Rows are only ever added, so an answer stays true until the next commit, which may
        # add the ids found missing; forgotten then, so memory stays bounded by one batch.
        self._known: dict[str, LedgerEntry | None] = {}

    @classmethod
    def open(cls, data_dir: Path, secret: bytes) -> BenefitLedger:
        """The ledger of a data directory (a ledger of an earlier version gains its columns)."""
        store = TransactionalStore(data_dir / _FILE, _SCHEMA)
        store.add_columns("kela_records", _ADDED_COLUMNS)
        for statement in _INDEXES:
            store.execute(statement)
        return cls(store, secret)

    @classmethod
    def dry_run(
        cls, data_dir: Path, secret: bytes, scratch_dir: Path | None = None
    ) -> BenefitLedger:
        """A ledger that sees the real one but writes only to a throw-away file.

        Memory stays flat however large the file; the real ledger is opened read-only, so a
        running hub is never blocked by a dry run (a ledger of an earlier version is brought
        up to date first, once: the read-only base must have the columns the queries read).
        """
        if (data_dir / _FILE).exists():
            cls.open(data_dir, secret).close()
        scratch = Path(tempfile.mkdtemp(prefix="kela-dry-run-", dir=scratch_dir))
        store = TransactionalStore(
            scratch / _FILE, _SCHEMA, read_only_base=data_dir / _FILE, scratch=scratch
        )
        for statement in _INDEXES:
            store.execute(statement)
        return cls(store, secret)

    def entry(self, record_id: str) -> LedgerEntry | None:
        """What the ledger holds of ``record_id`` (staged or committed), if anything."""
        staged = self._staged.get(record_id)
        if staged is not None:
            return _entry(staged[:_ENTRY_COLUMNS])
        if record_id in self._known:
            return self._known[record_id]
        found = self._store.first(
            _ENTRY,
            (record_id,),
        )
        return None if found is None else _entry(found)

    def prefetch(self, record_ids: Iterable[str]) -> None:
        """Look up the committed entries of ``record_ids`` at once (one query per schema).

        The lookups of the batch in hand (``entry``, ``verdict``) then answer from memory
        instead of one query per record; the answers are forgotten at the next ``commit`` or
        ``rollback``. The first schema that holds an id wins, as in ``entry``.
        """
        wanted = [i for i in dict.fromkeys(record_ids) if i not in self._known]
        if not wanted:
            return
        found: dict[str, LedgerEntry] = {}
        for row in self._store.everywhere(
            _ENTRIES,
            (json.dumps(wanted),),
        ):
            found.setdefault(str(row[0]), _entry(row))
        for record_id in wanted:
            self._known[record_id] = found.get(record_id)

    def roots(self, record_ids: list[str]) -> set[str]:
        """The records the committed entries of ``record_ids`` belong to (ids not in the
        ledger give nothing): where the chains a correction of them extends end."""
        return {
            _entry(row).belongs_to
            for row in self._store.everywhere(_ENTRIES, (json.dumps(record_ids),))
        }

    def verdict(self, row: PaymentDayRow) -> Verdict:
        """NEW, a duplicate (same content), a conflicting duplicate, or an unknown correction."""
        known = self.entry(row.tapahtumatunnus)
        if known is not None:
            same = hmac.compare_digest(known.fingerprint, _fingerprint(row, self._keyed))
            return Verdict.DUPLICATE if same else Verdict.CONFLICTING_DUPLICATE
        if row.korjattava and self.entry(row.korjattava) is None:
            return Verdict.UNKNOWN_CORRECTED
        return Verdict.NEW

    def corrected_record(self, record_id: str) -> CorrectedRecord | None:
        """What a correction of ``record_id`` is checked against; ``None`` if never received."""
        named = self.entry(record_id)
        if named is None:
            return None
        root = self.entry(named.belongs_to)
        taken_days, taken_amount = self._taken_back(named.belongs_to)
        return CorrectedRecord(
            event_id=named.event_id,
            person_ref=named.person_ref,
            benefit=named.benefit,
            municipality=named.municipality,
            belongs_to=named.belongs_to,
            paid_days=None if root is None else root.paid_days,
            amount_paid=None if root is None else root.amount_paid,
            taken_days=taken_days,
            taken_amount=taken_amount,
        )

    def _taken_back(self, root: str) -> tuple[int, Decimal]:
        """The days and euros the corrections belonging to ``root`` changed so far."""
        entries = {
            str(record_id): (int(days), Decimal(str(amount)))
            for record_id, days, amount in self._store.everywhere(_TAKEN_BACK, (root, root, root))
        }
        for staged in self._staged_by_root.get(root, {}).values():
            if staged.record_id != root:
                entries[staged.record_id] = (staged.paid_days, staged.amount_paid)
        return (
            sum(days for days, _ in entries.values()),
            sum((amount for _, amount in entries.values()), Decimal(0)),
        )

    def stage(
        self,
        row: PaymentDayRow,
        event_id: str,
        *,
        municipality: str | None = None,
        belongs_to: str | None = None,
        person_ref: str | None = None,
    ) -> None:
        """Remember ``row``; durable with the next ``commit``.

        ``municipality`` is the one that finances it (the corrected record's, for a
        correction) and ``belongs_to`` the record it counts against; by default the row's own
        kotikunta and its own id. ``person_ref`` is the row's person reference when the caller
        has computed it already.
        """
        record_id = row.tapahtumatunnus
        root = belongs_to or record_id
        values = (
            record_id,
            event_id,
            _fingerprint(row, self._keyed),
            row.maksupaivat,
            str(row.maksettu),
            row.korjattava,
            person_ref_for(row.hetu, self._secret) if person_ref is None else person_ref,
            _BENEFIT_CODES[row.etuus],
            municipality or row.kotikunta,
            root,
            self._stamp(),
        )
        previous = self._staged.get(record_id)
        if previous is not None:
            self._staged_by_root.get(previous[_BELONGS_TO], {}).pop(record_id, None)
        self._staged[record_id] = values
        if root != record_id:
            # Only what counts against another record is summed (``_taken_back``).
            entry = _entry(values[:_ENTRY_COLUMNS])
            self._staged_by_root.setdefault(root, {})[record_id] = entry
        self._store.stage(_INSERT, values)

    def _stamp(self) -> str:
        if self._staged_at is None:
            self._staged_at = dt.datetime.now(dt.UTC).isoformat()
        return self._staged_at

    def _line_digest(self, file_name: str, line: int, raw: bytes) -> str:
        # Keyed: the line holds an identity code, which a plain hash would not hide.
        message = f"{file_name}\n{line}\n".encode() + raw.rstrip(b"\r\n")
        return self._keyed.digest(message).hex()

    def was_dead_lettered(self, file_name: str, line: int, raw: bytes) -> bool:
        """True if line ``line`` of a file named ``file_name``, with these bytes, was already
        dead-lettered by an ingest (staged or committed)."""
        digest = self._line_digest(file_name, line, raw)
        if digest in self._staged_dead_letters:
            return True
        query = "SELECT 1 FROM {schema}.kela_file_dead_letters WHERE digest = ?"
        return self._store.first(query, (digest,)) is not None

    def stage_dead_letter(self, file_name: str, line: int, raw: bytes) -> None:
        """Remember that this file line is dead-lettered; durable with the next ``commit``.

        Only the keyed digest of file name, line number and bytes is kept: a line changed in
        the file, or moved, is taken afresh by the next ingest.
        """
        digest = self._line_digest(file_name, line, raw)
        self._staged_dead_letters.add(digest)
        self._store.stage(
            "INSERT OR IGNORE INTO kela_file_dead_letters (digest, dead_at) VALUES (?, ?)",
            (digest, self._stamp()),
        )

    def commit(self) -> None:
        """Make every staged record durable: call only after they are published."""
        self._store.commit()
        self._staged.clear()
        self._staged_dead_letters.clear()
        self._staged_by_root.clear()
        self._known.clear()
        self._staged_at = None

    def rollback(self) -> None:
        """Forget every staged record: publishing them failed."""
        self._store.rollback()
        self._staged.clear()
        self._staged_dead_letters.clear()
        self._staged_by_root.clear()
        self._known.clear()
        self._staged_at = None

    def count(self) -> int:
        """How many records the ledger holds (committed or staged)."""
        return int(self._store.scalar("SELECT COUNT(*) FROM kela_records")) + len(self._staged)

    def close(self) -> None:
        """Roll back anything staged and close the database (a dry run's scratch is removed)."""
        self._store.close()
