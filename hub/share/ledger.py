"""The share ledger: every payment-day record of ``hub.benefit-day``, as the share needs it.

Holds records, not computed shares: a statement splits them with the rules it prints, so a
new version of the step table never leaves stale euros behind, and the ledger is exactly
what the audit log's recorded inputs rebuild (``hub share rebuild``). Written with the
pipeline's protocol: ``stage`` (in memory) → ``commit`` after the batch is audited, or
``rollback``; a record id already held is a duplicate delivery and is kept once.

SQLite in the data directory by default (``share-ledger.sqlite3``), PostgreSQL when
``HUB_SHARE_DSN`` is set, so several hub instances share one ledger.

Holds identity codes (``person_id``): Kela's invoice names persons by them, and ``hub share
statement --reveal`` shows them; they never leave the ledger except through ``--reveal``,
which is recorded as a disclosure. Exceptions of this module never quote one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Protocol

from hub.core.errors import HubError
from hub.core.keyset import pages_after
from hub.core.store_connections import durable_sqlite, postgres_connection
from hub.share.split import ShareRecord
from schemas.codes import Benefit, BenefitV2
from schemas.envelope import AnyBenefitDayEvent

__all__ = [
    "BENEFIT_CODES",
    "SQLITE_FILE",
    "PersonCounter",
    "ShareLedger",
    "ShareLedgerError",
    "StoredRecord",
    "open_share_ledger",
    "stored_record",
]

SQLITE_FILE: Final = "share-ledger.sqlite3"

#: Kela's benefit code of each canonical benefit.
BENEFIT_CODES: Final[dict[str, str]] = {
    Benefit.LABOUR_MARKET_SUBSIDY.value: "TMT",
    Benefit.BASIC_ALLOWANCE.value: "PPR",
    Benefit.EARNINGS_RELATED_BASIC_PART.value: "APR",
    BenefitV2.GENERAL_SUPPORT.value: "YLT",
}

_SCHEMA: Final = (
    """
CREATE TABLE IF NOT EXISTS share_records (
    record_id       TEXT PRIMARY KEY,
    event_id        TEXT NOT NULL,
    person_ref      TEXT NOT NULL,
    person_id       TEXT NOT NULL,
    municipality    TEXT NOT NULL,
    benefit         TEXT NOT NULL,
    period_start    TEXT NOT NULL,
    period_end      TEXT NOT NULL,
    paid_days       INTEGER NOT NULL,
    amount_paid     TEXT NOT NULL,
    cumulative_days INTEGER NOT NULL,
    payment_date    TEXT NOT NULL,
    month           TEXT NOT NULL,
    corrects        TEXT
)
""",
    "CREATE INDEX IF NOT EXISTS share_records_month ON share_records (month, municipality)",
    "CREATE INDEX IF NOT EXISTS share_records_person ON share_records (person_ref, payment_date)",
)
_COLUMNS: Final = (
    "record_id, event_id, person_ref, person_id, municipality, benefit, period_start, "
    "period_end, paid_days, amount_paid, cumulative_days, payment_date, month, corrects"
)
_INSERT: Final = (
    f"INSERT INTO share_records ({_COLUMNS}) VALUES ({', '.join('?' * 14)}) "  # noqa: S608
    "ON CONFLICT (record_id) DO NOTHING"
)
_SELECT: Final = (
    "SELECT r.record_id, r.event_id, r.person_ref, r.person_id, r.municipality, r.benefit, "
    "r.period_start, r.period_end, r.paid_days, r.amount_paid, r.cumulative_days, "
    "r.payment_date, r.corrects, c.cumulative_days, c.paid_days "
    "FROM share_records r LEFT JOIN share_records c ON c.record_id = r.corrects "
)


class ShareLedgerError(HubError):
    """The share ledger cannot be opened or used (one line, names the store)."""


class _Connection(Protocol):
    def execute(self, query: str, parameters: Sequence[Any] = ..., /) -> Any: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A record as the ledger holds it: what the split needs, and who it is about."""

    share: ShareRecord
    event_id: str
    person_id: str
    corrects: str | None


@dataclass(frozen=True, slots=True)
class PersonCounter:
    """A person's counter after their latest record, where it was paid, and at what pace."""

    person_ref: str
    municipality: str
    benefit: str
    cumulative_days: int
    payment_date: dt.date
    euros_per_day: Decimal


def stored_record(event: AnyBenefitDayEvent) -> tuple[Any, ...]:
    """The ledger row of ``event`` (the canonical benefit-day event)."""
    data = event.data
    return (
        data.record_id,
        event.id,
        event.subject,
        data.person_id,
        data.home_municipality,
        BENEFIT_CODES[str(data.benefit)],
        data.period_start.isoformat(),
        data.period_end.isoformat(),
        data.paid_days,
        str(data.amount_paid),
        data.cumulative_days,
        data.payment_date.isoformat(),
        f"{data.payment_date:%Y-%m}",
        data.corrects_record_id,
    )


def _corrected_days(counter: object, days: object) -> tuple[int, int] | None:
    if counter is None or days is None:
        return None
    last, paid = int(str(counter)), int(str(days))
    if paid > 0:
        return last - paid + 1, last
    return None


def _stored(row: Sequence[Any]) -> StoredRecord:
    return StoredRecord(
        share=ShareRecord(
            record_id=row[0],
            person_ref=row[2],
            municipality=row[4],
            benefit=row[5],
            period_start=dt.date.fromisoformat(row[6]),
            period_end=dt.date.fromisoformat(row[7]),
            paid_days=int(row[8]),
            amount_paid=Decimal(row[9]),
            cumulative_days=int(row[10]),
            payment_date=dt.date.fromisoformat(row[11]),
            corrected_days=_corrected_days(row[13], row[14]),
        ),
        event_id=row[1],
        person_id=row[3],
        corrects=row[12],
    )


class ShareLedger:
    """Payment-day records in one database; thread-safe (commits come from a worker)."""

    def __init__(self, connection: _Connection, *, postgres: bool, name: str) -> None:
        self._db = connection
        self._postgres = postgres
        self.name = name
        self._lock = threading.Lock()
        self._staged: list[tuple[Any, ...]] = []
        # The record ids of ``_staged``: a redelivery within the batch found without a walk.
        self._staged_ids: set[str] = set()
        for statement in _SCHEMA:
            self._run(statement)

    def _run(self, query: str, parameters: Sequence[Any] = ()) -> Any:
        sql = query.replace("?", "%s") if self._postgres else query
        try:
            return self._db.execute(sql, parameters)
        except Exception as exc:  # noqa: BLE001 - sqlite3 and psycopg errors alike.
            # Driver messages may quote a row's values (an identity code): never pass them on.
            raise ShareLedgerError(f"share ledger {self.name}: {type(exc).__name__}") from None

    def stage(self, event: AnyBenefitDayEvent) -> None:
        """Remember ``event``'s record; durable with the next ``commit``."""
        row = stored_record(event)
        self._staged.append(row)
        self._staged_ids.add(row[0])

    def holds(self, record_id: str) -> bool:
        """True if the record is staged or committed already (a redelivery)."""
        if record_id in self._staged_ids:
            return True
        with self._lock:
            found = self._run("SELECT 1 FROM share_records WHERE record_id = ?", (record_id,))
            return found.fetchone() is not None

    def commit(self) -> None:
        """Write every staged record in one transaction (duplicates are kept once)."""
        with self._lock:
            rows, self._staged = self._staged, []
            self._staged_ids = set()
            if not rows:
                return
            self._run("BEGIN")
            try:
                self._insert(rows)
            except BaseException:
                self._run("ROLLBACK")
                raise
            self._run("COMMIT")

    def _insert(self, rows: list[tuple[Any, ...]]) -> None:
        if self._postgres:
            for row in rows:
                self._run(_INSERT, row)
            return
        # SQLite: the batch in one executemany, the same rows in the same order.
        try:
            self._db.executemany(_INSERT, rows)  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - as in _run: never pass a driver message on.
            raise ShareLedgerError(f"share ledger {self.name}: {type(exc).__name__}") from None

    def rollback(self) -> None:
        """Forget every staged record."""
        self._staged = []
        self._staged_ids = set()

    def add(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Stage and commit ``rows`` (``stored_record`` shapes) at once: for tests and benches."""
        self._staged.extend(rows)
        self.commit()

    def records(
        self, month: str | None = None, municipalities: Iterable[str] | None = None
    ) -> Iterator[StoredRecord]:
        """The records of ``month`` (``YYYY-MM``; all when ``None``) of ``municipalities``,
        in record-id order, read in pages so memory stays flat."""
        where, parameters = [], []
        if month is not None:
            where.append("r.month = ?")
            parameters.append(month)
        if municipalities is not None:
            codes = sorted(set(municipalities))
            where.append(f"r.municipality IN ({', '.join('?' * len(codes))})")
            parameters.extend(codes)
            if not codes:
                return
        query = _SELECT + (f"WHERE {' AND '.join(where)} " if where else "")
        clause = ("AND " if where else "WHERE ") + "r.record_id > ? "

        def read_page(after: str) -> list[StoredRecord]:
            with self._lock:
                rows = self._run(
                    query + clause + "ORDER BY r.record_id LIMIT 5000", [*parameters, after]
                ).fetchall()
            return [_stored(row) for row in rows]

        yield from pages_after(read_page, "", lambda record: record.share.record_id)

    def record(self, record_id: str) -> StoredRecord | None:
        """One record by Kela's id, if held."""
        with self._lock:
            row = self._run(_SELECT + "WHERE r.record_id = ?", (record_id,)).fetchone()
        return None if row is None else _stored(row)

    def counters(self) -> Iterator[PersonCounter]:
        """Each person's latest record (by payment date, then record id) as a counter."""
        query = (
            "SELECT person_ref, municipality, benefit, cumulative_days, payment_date, "
            "paid_days, amount_paid FROM share_records ORDER BY person_ref, payment_date, "
            "record_id"
        )
        with self._lock:
            rows = self._run(query).fetchall()
        latest: dict[str, Sequence[Any]] = {}
        for row in rows:
            if int(row[5]) > 0:
                latest[row[0]] = row
        for row in latest.values():
            yield PersonCounter(
                person_ref=row[0],
                municipality=row[1],
                benefit=row[2],
                cumulative_days=int(row[3]),
                payment_date=dt.date.fromisoformat(row[4]),
                euros_per_day=Decimal(row[6]) / int(row[5]),
            )

    def count(self) -> int:
        """How many records the ledger holds."""
        with self._lock:
            return int(self._run("SELECT COUNT(*) FROM share_records").fetchone()[0])

    def digest(self) -> str:
        """A digest of every record the ledger holds: equal ledgers, equal digests."""
        hashed = hashlib.sha256()
        with self._lock:
            rows = self._run(
                f"SELECT {_COLUMNS} FROM share_records ORDER BY record_id"  # noqa: S608
            ).fetchall()
        for row in rows:
            hashed.update(repr(tuple("" if v is None else str(v) for v in row)).encode())
        return hashed.hexdigest()

    def clear(self) -> None:
        """Remove every record (before a rebuild into this ledger)."""
        with self._lock:
            self._run("DELETE FROM share_records")

    def close(self) -> None:
        """Close the connection (anything staged is forgotten)."""
        self._staged = []
        self._staged_ids = set()
        with self._lock:
            self._db.close()


def _open_sqlite(path: Path) -> ShareLedger:
    db = durable_sqlite(path, "share ledger", ShareLedgerError)
    return ShareLedger(db, postgres=False, name=str(path))


def _open_postgres(dsn: str) -> ShareLedger:
    db = postgres_connection(dsn, "HUB_SHARE_DSN", ShareLedgerError)
    return ShareLedger(db, postgres=True, name="postgresql")


def open_share_ledger(data_dir: Path, dsn: str | None) -> ShareLedger:
    """The share ledger: PostgreSQL when ``dsn`` is set, else SQLite in ``data_dir``."""
    if dsn:
        return _open_postgres(dsn)
    return _open_sqlite(data_dir / SQLITE_FILE)
