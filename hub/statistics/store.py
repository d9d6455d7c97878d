"""The statistics store: the facts the monthly figures are counted from, and what was sent.

SQLite in the data directory by default (``statistics.sqlite3``), PostgreSQL with
``HUB_STATISTICS_DSN``, as the audit store does. Facts are keyed by the canonical event they
came from (or, for referrals, by sender and referral id), so a redelivered or replayed event
changes nothing: the store can be emptied and refilled from the audit log
(``hub stats rebuild``) and gives the same figures. The sent documents are never removed:
they are what the state received.

Writes are staged and committed in one transaction after the route's message is handled, as
the hub's other ledgers do. Persons are known only by their pseudonymous reference, which
never leaves this store.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Protocol

from hub.core.errors import HubError
from hub.core.sqlite_store import execute_in_runs, immediate_transaction
from hub.core.store_connections import durable_sqlite, postgres_connection
from hub.statistics.figures import (
    Facts,
    OutcomeFact,
    PaymentFact,
    ReferralFact,
    StatusFact,
)
from schemas.codes import BenefitV2, EmploymentStatus, ReferralService, ReferralState

__all__ = ["SQLITE_FILE", "SentVersion", "StatisticsStore", "StatisticsStoreError", "open_store"]

SQLITE_FILE: Final = "statistics.sqlite3"

_FACT_TABLES: Final = ("stats_statuses", "stats_referrals", "stats_outcomes", "stats_payments")
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS stats_statuses (
    event_id     TEXT PRIMARY KEY,
    person       TEXT NOT NULL,
    status       TEXT NOT NULL,
    active       BOOLEAN NOT NULL,
    since        TEXT NOT NULL,
    changed_at   TEXT NOT NULL,
    municipality TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS stats_referrals (
    sender      TEXT NOT NULL,
    referral_id TEXT NOT NULL,
    service     TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    sent_on     TEXT NOT NULL,
    PRIMARY KEY (sender, referral_id)
);
CREATE TABLE IF NOT EXISTS stats_outcomes (
    sender      TEXT NOT NULL,
    referral_id TEXT NOT NULL,
    state       TEXT NOT NULL,
    on_day      TEXT NOT NULL,
    PRIMARY KEY (sender, referral_id, state)
);
CREATE TABLE IF NOT EXISTS stats_payments (
    seq          {serial} PRIMARY KEY,
    event_id     TEXT NOT NULL UNIQUE,
    person       TEXT NOT NULL,
    municipality TEXT NOT NULL,
    benefit      TEXT NOT NULL,
    days         INTEGER NOT NULL,
    euros        TEXT NOT NULL,
    cumulative   INTEGER NOT NULL,
    payment_date TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS stats_sent (
    area     TEXT NOT NULL,
    month    TEXT NOT NULL,
    version  INTEGER NOT NULL,
    sent_at  TEXT NOT NULL,
    reason   TEXT,
    document TEXT NOT NULL,
    PRIMARY KEY (area, month, version)
);
"""


class StatisticsStoreError(HubError):
    """The statistics store cannot be opened (one line, names the store)."""


@dataclass(frozen=True, slots=True)
class SentVersion:
    """One version of a month's document as it was sent."""

    area: str
    month: str
    version: int
    sent_at: str
    reason: str | None
    document: str


class _Connection(Protocol):
    def execute(self, query: str, parameters: Sequence[Any] = ..., /) -> Any: ...

    def close(self) -> None: ...


class StatisticsStore:
    """Facts and sent documents in one database; staged writes, one commit per message."""

    def __init__(self, connection: _Connection, *, postgres: bool, name: str) -> None:
        self._db = connection
        self._postgres = postgres
        self.name = name
        self._lock = threading.Lock()
        self._pending: list[tuple[str, tuple[Any, ...]]] = []

    def _sql(self, query: str) -> str:
        return query.replace("?", "%s") if self._postgres else query

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._lock:
            if self._postgres:
                with self._db.transaction():  # type: ignore[attr-defined]
                    yield
                return
            with immediate_transaction(self._db):
                yield

    def _rows(self, query: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return [tuple(r) for r in self._db.execute(self._sql(query), parameters).fetchall()]

    def create_schema(self) -> None:
        """Create the tables if they do not exist."""
        serial = "BIGSERIAL" if self._postgres else "INTEGER"
        with self._transaction():
            if self._postgres:  # two instances starting at once must not race on CREATE
                self._db.execute("SELECT pg_advisory_xact_lock(7305402)")
            for statement in _SCHEMA.format(serial=serial).split(";"):
                if statement.strip():
                    self._db.execute(statement)

    # -- staging facts ----------------------------------------------------------------------

    def _stage(self, statement: str, parameters: tuple[Any, ...]) -> None:
        self._pending.append((statement + " ON CONFLICT DO NOTHING", parameters))

    def stage_status(
        self,
        event_id: str,
        person: str,
        status: EmploymentStatus,
        active: bool,
        since: dt.date,
        changed_at: dt.datetime,
        municipality: str,
    ) -> None:
        """A client-status change (a repeat of a known event changes nothing)."""
        self._stage(
            "INSERT INTO stats_statuses VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                event_id,
                person,
                status.value,
                active,
                since.isoformat(),
                _utc(changed_at),
                municipality,
            ),
        )

    def stage_referral(
        self, sender: str, referral_id: str, service: str, recipient: str, sent_on: dt.date
    ) -> None:
        """A referral was sent."""
        self._stage(
            "INSERT INTO stats_referrals VALUES (?, ?, ?, ?, ?)",
            (sender, referral_id, service, recipient, sent_on.isoformat()),
        )

    def stage_outcome(self, sender: str, referral_id: str, state: str, on: dt.date) -> None:
        """A referral reached a state (the first report of each state counts)."""
        self._stage(
            "INSERT INTO stats_outcomes VALUES (?, ?, ?, ?)",
            (sender, referral_id, state, on.isoformat()),
        )

    def stage_payment(
        self,
        event_id: str,
        person: str,
        municipality: str,
        benefit: BenefitV2,
        days: int,
        euros: Decimal,
        cumulative: int,
        payment_date: dt.date,
    ) -> None:
        """A Kela payment-day record or correction."""
        self._stage(
            "INSERT INTO stats_payments (event_id, person, municipality, benefit, days, euros, "
            "cumulative, payment_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event_id,
                person,
                municipality,
                benefit.value,
                days,
                str(euros),
                cumulative,
                payment_date.isoformat(),
            ),
        )

    def commit(self) -> None:
        """Write every staged fact in one transaction."""
        if not self._pending:
            return
        with self._transaction():
            if isinstance(self._db, sqlite3.Connection):
                execute_in_runs(self._db, self._pending)
            else:
                for statement, parameters in self._pending:
                    self._db.execute(self._sql(statement), parameters)
        self._pending.clear()

    def rollback(self) -> None:
        """Forget staged facts."""
        self._pending.clear()

    def clear_facts(self) -> None:
        """Remove every fact (before a rebuild); sent documents stay."""
        with self._transaction():
            for table in _FACT_TABLES:
                self._db.execute(f"DELETE FROM {table}")  # noqa: S608 - constant names

    # -- reading ----------------------------------------------------------------------------

    def facts(self, municipalities: Mapping[str, str], until: dt.date) -> Facts:
        """Every fact up to ``until`` (the last day of the month asked about), areas resolved
        through the municipality table (a municipality outside it has no area)."""
        day = until.isoformat()
        statuses = [
            StatusFact(
                person,
                EmploymentStatus(status),
                bool(active),
                dt.date.fromisoformat(since),
                dt.datetime.fromisoformat(changed_at),
                municipalities.get(municipality),
            )
            for person, status, active, since, changed_at, municipality in self._rows(
                "SELECT person, status, active, since, changed_at, municipality "
                "FROM stats_statuses WHERE since <= ?",
                (day,),
            )
        ]
        referrals = [
            ReferralFact(sender, rid, ReferralService(service), recipient, _day(sent_on))
            for sender, rid, service, recipient, sent_on in self._rows(
                "SELECT sender, referral_id, service, recipient, sent_on FROM stats_referrals "
                "WHERE sent_on <= ?",
                (day,),
            )
        ]
        outcomes = [
            OutcomeFact(sender, rid, ReferralState(state), _day(on_day))
            for sender, rid, state, on_day in self._rows(
                "SELECT sender, referral_id, state, on_day FROM stats_outcomes WHERE on_day <= ?",
                (day,),
            )
        ]
        payments = [
            PaymentFact(
                int(seq),
                person,
                municipalities.get(municipality),
                BenefitV2(benefit),
                int(days),
                Decimal(euros),
                int(cumulative),
                _day(paid),
            )
            for seq, person, municipality, benefit, days, euros, cumulative, paid in self._rows(
                "SELECT seq, person, municipality, benefit, days, euros, cumulative, "
                "payment_date FROM stats_payments WHERE payment_date <= ? ORDER BY seq",
                (day,),
            )
        ]
        return Facts(statuses, referrals, outcomes, payments)

    def fact_count(self) -> int:
        """How many facts the store holds."""
        return sum(
            int(self._rows(f"SELECT COUNT(*) FROM {table}")[0][0])  # noqa: S608 - constant names
            for table in _FACT_TABLES
        )

    # -- what was sent ----------------------------------------------------------------------

    def sent(self, area: str, month: str) -> list[SentVersion]:
        """Every version of a month's document that was sent, oldest first."""
        return [
            SentVersion(*row)
            for row in self._rows(
                "SELECT area, month, version, sent_at, reason, document FROM stats_sent "
                "WHERE area = ? AND month = ? ORDER BY version",
                (area, month),
            )
        ]

    def record_sent(self, version: SentVersion) -> None:
        """Remember a version as sent (a repeat of the same version changes nothing)."""
        with self._transaction():
            self._db.execute(
                self._sql(
                    "INSERT INTO stats_sent VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
                ),
                (
                    version.area,
                    version.month,
                    version.version,
                    version.sent_at,
                    version.reason,
                    version.document,
                ),
            )

    def close(self) -> None:
        """Forget staged facts and close the connection."""
        self.rollback()
        with self._lock:
            self._db.close()


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _utc(at: dt.datetime) -> str:
    # One offset and one precision, so that times compare as text.
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def _open_sqlite(path: Path) -> StatisticsStore:
    db = durable_sqlite(path, "statistics store", StatisticsStoreError)
    store = StatisticsStore(db, postgres=False, name=str(path))
    store.create_schema()
    return store


def _open_postgres(dsn: str) -> StatisticsStore:
    db = postgres_connection(dsn, "HUB_STATISTICS_DSN", StatisticsStoreError)
    store = StatisticsStore(db, postgres=True, name="postgresql")
    store.create_schema()
    return store


def open_store(data_dir: Path, dsn: str | None) -> StatisticsStore:
    """The statistics store: PostgreSQL when ``dsn`` is set, else SQLite in ``data_dir``."""
    if dsn:
        return _open_postgres(dsn)
    return _open_sqlite(data_dir / SQLITE_FILE)
