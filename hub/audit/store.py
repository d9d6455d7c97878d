"""The audit store: chains of records, their heads and the signed checkpoints, in SQL.

One implementation over two databases: SQLite in the data directory (the local default) and
PostgreSQL (``HUB_AUDIT_DSN``) for production, where several hub instances share one store.
Appending to a chain locks its head row (``SELECT … FOR UPDATE`` in PostgreSQL, SQLite's one
writer), so whichever instance owns a partition after a rebalance continues its chain where
the previous owner left it, and a late write of the previous owner still lands after it.

Every ``append`` is one transaction, durable when it returns (SQLite ``synchronous=FULL``,
PostgreSQL's default ``synchronous_commit``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, Protocol

import orjson

from hub.audit.records import GENESIS_HASH, AuditDraft, AuditRecord, Direction
from hub.core.errors import HubError
from hub.core.keyset import pages_after
from hub.core.store_connections import durable_sqlite, postgres_connection

__all__ = [
    "Appended",
    "AuditStore",
    "AuditStoreError",
    "ChainHead",
    "CheckpointSigner",
    "Column",
    "RecordQuery",
    "StoredCheckpoint",
    "TopicFamily",
    "open_audit_store",
    "stored_values",
]

SQLITE_FILE: Final = "audit.sqlite3"

# The secondary indexes cost an append about a third of its SQLite work (measured on
# SQLite: the person and event indexes most, their keys land on random pages), and each is
# needed: the time index orders every ``select`` (exports, replays, rebuilds: keyset pages in
# recorded order, which would otherwise sort the whole log per page) and bounds ``window``
# and ``prune_payloads``; the person index answers a person's disclosures (console and CLI);
# the event index answers an auditor's look-up of one event (the console), which without it
# reads the whole log: under 1 ms against 157-371 ms at 270,000 records, for 4-6 µs more
# per record appended (bench/README.md, Audit log).

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS audit_chains (
    chain         TEXT PRIMARY KEY,
    seq           BIGINT NOT NULL,
    head_hash     TEXT NOT NULL,
    last_offset   BIGINT,
    published_seq BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS audit_records (
    chain          TEXT NOT NULL,
    seq            BIGINT NOT NULL,
    recorded_at    TEXT NOT NULL,
    direction      TEXT NOT NULL,
    topic          TEXT,
    "partition"    INTEGER,
    "offset"       BIGINT,
    event_id       TEXT,
    event_type     TEXT,
    partner        TEXT,
    person_ref     TEXT,
    legal_basis    TEXT,
    fields         TEXT NOT NULL,
    detail         TEXT,
    replay_of      TEXT,
    redelivered    BOOLEAN NOT NULL,
    payload_sha256 TEXT NOT NULL,
    payload        {blob},
    prev_hash      TEXT NOT NULL,
    record_hash    TEXT NOT NULL,
    record_format  INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (chain, seq)
);
CREATE INDEX IF NOT EXISTS audit_records_time ON audit_records (recorded_at);
CREATE INDEX IF NOT EXISTS audit_records_person ON audit_records (person_ref);
CREATE INDEX IF NOT EXISTS audit_records_event ON audit_records (event_id);
CREATE TABLE IF NOT EXISTS audit_checkpoints (
    id         {serial} PRIMARY KEY,
    created_at TEXT NOT NULL,
    body       TEXT NOT NULL,
    signature  TEXT NOT NULL,
    anchored   BOOLEAN NOT NULL DEFAULT FALSE
);
"""

#: Columns added after the first release: (table, column, definition). A store made before
#: them gets them on open; old records are format 1, old checkpoints not yet anchored (the
#: hub anchors them on its next start).
_ADDED_COLUMNS: Final = (
    ("audit_records", "record_format", "INTEGER NOT NULL DEFAULT 1"),
    ("audit_checkpoints", "anchored", "BOOLEAN NOT NULL DEFAULT FALSE"),
)


class Column(StrEnum):
    """The columns of ``audit_records``, in the order the store reads and writes them.

    A record's stored form by name is ``stored_values``; SQL names a column by ``sql`` (two
    of them are SQL keywords and quoted). Code outside the store that writes a row, such as a
    test playing an insider who forges one, uses these names rather than positions.
    """

    CHAIN = "chain"
    SEQ = "seq"
    RECORDED_AT = "recorded_at"
    DIRECTION = "direction"
    TOPIC = "topic"
    PARTITION = "partition"
    OFFSET = "offset"
    EVENT_ID = "event_id"
    EVENT_TYPE = "event_type"
    PARTNER = "partner"
    PERSON_REF = "person_ref"
    LEGAL_BASIS = "legal_basis"
    FIELDS = "fields"
    DETAIL = "detail"
    REPLAY_OF = "replay_of"
    REDELIVERED = "redelivered"
    PAYLOAD_SHA256 = "payload_sha256"
    PAYLOAD = "payload"
    PREV_HASH = "prev_hash"
    RECORD_HASH = "record_hash"
    RECORD_FORMAT = "record_format"

    @property
    def sql(self) -> str:
        """The column's name as SQL writes it."""
        return f'"{self.value}"' if self in _KEYWORDS else self.value


_KEYWORDS: Final = frozenset({Column.PARTITION, Column.OFFSET})
_COLUMNS: Final = ", ".join(column.sql for column in Column)
_INSERT: Final = f"INSERT INTO audit_records ({_COLUMNS}) VALUES ({', '.join('?' * len(Column))})"  # noqa: S608
_ORDER: Final = " ORDER BY recorded_at, chain, seq"


class AuditStoreError(HubError):
    """The audit store cannot be opened or used (one line, names the store)."""


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last record of a chain."""

    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class Appended:
    """What one ``append_claiming`` placed, and the chains it claimed for its caller to
    publish: chain → the last sequence number placed in it."""

    records: list[AuditRecord]
    claimed: dict[str, int]

    def to_publish(self) -> list[AuditRecord]:
        """The placed records of the claimed chains, in the order they were placed."""
        return [record for record in self.records if record.chain in self.claimed]


@dataclass(frozen=True, slots=True)
class _Head:
    """A chain's row as an append reads and moves it."""

    seq: int
    hash: str
    last_offset: int | None
    published: int


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A signed checkpoint as stored: the exact signed text and its signature."""

    id: int
    created_at: str
    body: str
    signature: str


@dataclass(frozen=True, slots=True)
class TopicFamily:
    """The topics whose names begin with ``prefix`` and go on, but for those ``excluded``: a
    kind of topic by the naming rule (``hub.core.topics.kind_of``), as the store selects it."""

    prefix: str
    excluded: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RecordQuery:
    """Which records to read, in their recorded order; ``None`` and empty mean no limit."""

    since: str | None = None
    until: str | None = None
    person_ref: str | None = None
    event_type: str | None = None
    directions: tuple[Direction, ...] = ()
    event_id: str | None = None
    #: Only records on these topics, named or a family of them.
    topics: tuple[str, ...] | TopicFamily = ()
    #: Only the first record of each event among those the rest selects, and none of no event:
    #: a canonical event is recorded where it was produced and wherever it was consumed. The
    #: store answers it through its event index, so memory does not grow with the events read.
    first_of_event: bool = False


#: Makes (created_at, body, signature) of a checkpoint from the heads and the last signature.
CheckpointSigner = Callable[[dict[str, ChainHead], str | None], tuple[str, str, str]]


class _Connection(Protocol):
    def execute(self, query: str, parameters: Sequence[Any] = ..., /) -> Any: ...

    def close(self) -> None: ...


def _record(row: Sequence[Any]) -> AuditRecord:
    """The record a row (column order) holds: the inverse of ``_row``. One unpacking: reading
    the row by column name took 13.6 µs a record against 4.7, most of reading the log."""
    (
        chain,
        seq,
        recorded_at,
        direction,
        topic,
        partition,
        offset,
        event_id,
        event_type,
        partner,
        person_ref,
        legal_basis,
        fields,
        detail,
        replay_of,
        redelivered,
        payload_sha256,
        payload,
        prev_hash,
        record_hash,
        record_format,
    ) = row
    return AuditRecord(
        chain=chain,
        seq=int(seq),
        recorded_at=recorded_at,
        direction=direction,
        topic=topic,
        partition=partition,
        offset=offset,
        event_id=event_id,
        event_type=event_type,
        partner=partner,
        person_ref=person_ref,
        legal_basis=legal_basis,
        fields=tuple(orjson.loads(fields)),
        detail=detail,
        replay_of=replay_of,
        redelivered=bool(redelivered),
        payload_sha256=payload_sha256,
        payload=None if payload is None else bytes(payload),
        prev_hash=prev_hash,
        record_hash=record_hash,
        format=int(record_format),
    )


def stored_values(record: AuditRecord) -> dict[Column, Any]:
    """``record`` as the store writes it to ``audit_records``, by column, in column order."""
    return dict(zip(Column, _row(record), strict=True))


def _row(record: AuditRecord) -> tuple[Any, ...]:
    """``stored_values`` as the row the store inserts (column order), without the dict."""
    return (
        record.chain,
        record.seq,
        record.recorded_at,
        record.direction,
        record.topic,
        record.partition,
        record.offset,
        record.event_id,
        record.event_type,
        record.partner,
        record.person_ref,
        record.legal_basis,
        # orjson writes a tuple as the list it stands for.
        orjson.dumps(record.fields).decode(),
        record.detail,
        record.replay_of,
        record.redelivered,
        record.payload_sha256,
        record.payload,
        record.prev_hash,
        record.record_hash,
        record.format,
    )


#: Records ``select`` reads at once.
_PAGE: Final = 1000
#: A stored checkpoint's columns, as ``_stored_checkpoints`` reads them.
_CHECKPOINTS: Final = "SELECT id, created_at, body, signature FROM audit_checkpoints "


def _stored_checkpoints(rows: Sequence[Sequence[Any]]) -> list[StoredCheckpoint]:
    return [StoredCheckpoint(int(r[0]), r[1], r[2], r[3]) for r in rows]


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern (escape character ``\\``) of the texts that begin with ``prefix`` and go
    on."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}_%"


def _filters(query: RecordQuery, table: str, *, postgres: bool) -> tuple[list[str], list[Any]]:
    """The conditions (``?`` placeholders) and parameters of ``query`` on ``table``'s columns,
    but for ``first_of_event``."""
    where: list[str] = []
    parameters: list[Any] = []
    for column, operator, value in (
        ("recorded_at", ">=", query.since),
        ("recorded_at", "<", query.until),
        ("person_ref", "=", query.person_ref),
        ("event_type", "=", query.event_type),
        ("event_id", "=", query.event_id),
    ):
        if value is not None:
            where.append(f"{table}.{column} {operator} ?")
            parameters.append(value)
    if query.directions:
        where.append(f"{table}.direction IN ({', '.join('?' * len(query.directions))})")
        parameters.extend(direction.value for direction in query.directions)
    if isinstance(query.topics, TopicFamily):
        prefix = query.topics.prefix
        if postgres:
            # LIKE (which heeds case here): PostgreSQL estimates a prefix pattern from its
            # statistics and reads a page in time order, but guesses a condition on substr()
            # matches almost nothing, and then reads the whole log for every page.
            where.append(f"{table}.topic LIKE ? ESCAPE '\\'")
            parameters.append(_like_prefix(prefix))
        else:
            # substr: SQLite's LIKE ignores case.
            where.append(f"substr({table}.topic, 1, ?) = ? AND length({table}.topic) > ?")
            parameters.extend([len(prefix), prefix, len(prefix)])
        if query.topics.excluded:
            where.append(f"{table}.topic NOT IN ({', '.join('?' * len(query.topics.excluded))})")
            parameters.extend(query.topics.excluded)
    elif query.topics:
        where.append(f"{table}.topic IN ({', '.join('?' * len(query.topics))})")
        parameters.extend(query.topics)
    return where, parameters


def _page_statement(
    query: RecordQuery, after: tuple[str, str, int] | None, *, postgres: bool
) -> tuple[str, list[Any]]:
    where, parameters = _filters(query, "audit_records", postgres=postgres)
    if query.first_of_event:
        # No record of the same event that the query selects comes before this one.
        earlier, earlier_parameters = _filters(query, "e", postgres=postgres)
        also = "".join(f" AND {condition}" for condition in earlier)
        where.append(
            "audit_records.event_id IS NOT NULL AND NOT EXISTS ("  # noqa: S608 - ? placeholders
            f"SELECT 1 FROM audit_records e WHERE e.event_id = audit_records.event_id{also} "
            "AND (e.recorded_at < audit_records.recorded_at "
            "OR (e.recorded_at = audit_records.recorded_at AND (e.chain < audit_records.chain "
            "OR (e.chain = audit_records.chain AND e.seq < audit_records.seq)))))"
        )
        parameters.extend(earlier_parameters)
    if after is not None:
        # Keyset pagination on (recorded_at, chain, seq): stable while writers append. The
        # first term is implied by the rest and is there for the planner: without it SQLite
        # reads the OR as two index searches and sorts all that follows the page, every page.
        where.append(
            "recorded_at >= ? AND "
            "(recorded_at > ? OR (recorded_at = ? AND (chain > ? OR (chain = ? AND seq > ?))))"
        )
        parameters.extend([after[0], after[0], after[0], after[1], after[1], after[2]])
    statement = (
        f"SELECT {_COLUMNS} FROM audit_records WHERE {' AND '.join(where or ['1 = 1'])}"  # noqa: S608
        f"{_ORDER} LIMIT {_PAGE}"
    )
    return statement, parameters


class AuditStore:
    """Chains of audit records in one database. Thread-safe: routes append from workers."""

    def __init__(self, connection: _Connection, *, postgres: bool, name: str) -> None:
        self._db = connection
        self._postgres = postgres
        self.name = name
        # One connection, used from several threads: every read and transaction holds the
        # lock, so a read never lands inside another thread's open transaction.
        self._lock = threading.Lock()
        #: Chains whose newest records a route publishes itself (``append_claiming``).
        self._claimed: dict[str, int] = {}
        #: Published cursors moved by ``published`` and not yet written: chain → sequence
        #: number. Written in the next append's transaction, or by the next ``unpublished``.
        self._moves: dict[str, int] = {}

    # -- SQL plumbing -----------------------------------------------------------------------

    def _sql(self, query: str) -> str:
        return query.replace("?", "%s") if self._postgres else query

    def _run(self, query: str, parameters: Sequence[Any] = ()) -> Any:
        return self._db.execute(self._sql(query), parameters)

    def _executemany(self, query: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self._postgres:
            # psycopg 3 pipelines the rows of one executemany: one round trip for the batch.
            with self._db.cursor() as cursor:  # type: ignore[attr-defined]
                cursor.executemany(self._sql(query), rows)
            return
        self._db.executemany(query, rows)  # type: ignore[attr-defined]

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._lock, self._locked_transaction():
            yield

    @contextmanager
    def _locked_transaction(self) -> Iterator[None]:
        """A transaction; the caller holds the lock."""
        if self._postgres:
            with self._db.transaction():  # type: ignore[attr-defined]
                yield
            return
        # The write lock at once (a reader upgrading later could fail on a busy database);
        # the connection as a context manager commits, or rolls back on any exception.
        self._db.execute("BEGIN IMMEDIATE")
        with self._db:  # type: ignore[attr-defined]
            yield

    def create_schema(self) -> None:
        """Create the tables if they do not exist."""
        blob, serial = ("BYTEA", "BIGSERIAL") if self._postgres else ("BLOB", "INTEGER")
        statements = _SCHEMA.format(blob=blob, serial=serial).split(";")
        with self._transaction():
            if self._postgres:  # two instances starting at once must not race on CREATE
                self._run("SELECT pg_advisory_xact_lock(7305401)")
            for statement in statements:
                if statement.strip():
                    self._run(statement)
            for table, column, definition in _ADDED_COLUMNS:
                self._add_column(table, column, definition)
            # Housekeeping asks for the unanchored checkpoints every tick: an index of the few
            # pending ones, not a scan of every checkpoint ever signed.
            self._run(
                "CREATE INDEX IF NOT EXISTS audit_checkpoints_unanchored "
                "ON audit_checkpoints (id) WHERE NOT anchored"
            )

    def _add_column(self, table: str, column: str, definition: str) -> None:
        if self._postgres:
            self._run(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {definition}")
            return
        present = {row[1] for row in self._run(f"PRAGMA table_info({table})").fetchall()}
        if column not in present:
            self._run(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")

    # -- writing ----------------------------------------------------------------------------

    def append(self, entries: Sequence[tuple[str, AuditDraft]]) -> list[AuditRecord]:
        """Place every (chain, draft) at the end of its chain, in order, in one transaction.

        A consumed record at or below the chain's last consumed offset is marked
        ``redelivered``: the same message handled again after a crash or a rebalance.
        """
        return self._append(entries, claim=False).records

    def append_claiming(self, entries: Sequence[tuple[str, AuditDraft]]) -> Appended:
        """``append``, and claim for the caller each chain whose published cursor was at its
        head before this append (nothing of it waits to be published): the caller publishes
        this append's records of those chains itself, then calls ``published`` (they are
        out) or ``release`` (they are not). Until then ``unpublished`` leaves the claimed
        chains out, so the housekeeping of this process does not publish them as well."""
        return self._append(entries, claim=True)

    def _append(self, entries: Sequence[tuple[str, AuditDraft]], *, claim: bool) -> Appended:
        claimed: dict[str, int] = {}
        try:
            with self._lock:
                with self._locked_transaction():
                    # The cursors batches before this one moved, first: the claims read them.
                    self._write_moves()
                    placed, heads = self._place(entries, claimed if claim else None)
                    # One statement for the whole batch: a round trip (PostgreSQL) and a
                    # statement step (SQLite) per record cost more than the insert itself.
                    self._executemany(_INSERT, [_row(record) for record in placed])
                    self._executemany(
                        "UPDATE audit_chains SET seq = ?, head_hash = ?, last_offset = ? "
                        "WHERE chain = ?",
                        [(h.seq, h.hash, h.last_offset, chain) for chain, h in heads.items()],
                    )
                    # Claimed under the store's lock, in the transaction that placed the
                    # records: a housekeeping round either read the chain before (and saw
                    # none of them) or finds it claimed.
                    for chain in claimed:
                        claimed[chain] = heads[chain].seq
                    self._claimed.update(claimed)
                self._moves.clear()
        except BaseException:
            self.release(claimed)  # nothing was placed: housekeeping keeps the chains
            raise
        return Appended(placed, claimed)

    def _place(
        self, entries: Sequence[tuple[str, AuditDraft]], claimed: dict[str, int] | None
    ) -> tuple[list[AuditRecord], dict[str, _Head]]:
        """The records of ``entries`` hashed in chain order, and each chain's new head; into
        ``claimed`` (if given), the chains whose cursor is at their head and unclaimed."""
        placed: list[AuditRecord] = []
        # Each chain's (seq, hash, last consumed offset) as it moves: a tuple per record, a
        # ``_Head`` per chain once the batch is placed.
        moving: dict[str, tuple[int, str, int | None]] = {}
        published: dict[str, int] = {}
        consumed = Direction.CONSUMED
        place = AuditRecord.place
        for chain, draft in entries:
            at = moving.get(chain)
            if at is None:
                head = self._locked_head(chain)
                at = (head.seq, head.hash, head.last_offset)
                published[chain] = head.published
                free = chain not in self._claimed
                if claimed is not None and head.published == head.seq and free:
                    claimed[chain] = head.seq
            seq, previous, last_offset = at
            redelivered = False
            if draft.direction is consumed and draft.offset is not None:
                redelivered = last_offset is not None and draft.offset <= last_offset
                last_offset = max(draft.offset, last_offset or -1)
            record = place(draft, chain, seq + 1, previous, redelivered=redelivered)
            moving[chain] = (seq + 1, record.record_hash, last_offset)
            placed.append(record)
        heads = {chain: _Head(*at, published[chain]) for chain, at in moving.items()}
        return placed, heads

    def _locked_head(self, chain: str) -> _Head:
        self._run(
            "INSERT INTO audit_chains (chain, seq, head_hash) VALUES (?, 0, ?) "
            "ON CONFLICT (chain) DO NOTHING",
            (chain, GENESIS_HASH),
        )
        lock = " FOR UPDATE" if self._postgres else ""
        row = self._run(
            "SELECT seq, head_hash, last_offset, published_seq FROM audit_chains "  # noqa: S608 - constant text
            f"WHERE chain = ?{lock}",
            (chain,),
        ).fetchone()
        return _Head(int(row[0]), str(row[1]), row[2], int(row[3]))

    def published(self, claimed: Mapping[str, int]) -> None:
        """The records of claimed chains up to their sequence numbers in ``claimed`` are on
        ``hub.audit.v1``: move the cursors and release the claims.

        The cursors move in memory now and reach the database with the next append's
        transaction (or the next ``unpublished``, which housekeeping calls every half second),
        not in a transaction and an fsync of their own per batch. This store reads them moved
        at once; a move lost to a crash only makes housekeeping publish those records again
        after the restart, which consumers deduplicate on ``(chain, seq)``, as after a crash
        between a Kafka commit and this call.
        """
        with self._lock:
            for chain, seq in claimed.items():
                if seq > self._moves.get(chain, 0):
                    self._moves[chain] = seq
                self._claimed.pop(chain, None)

    def _write_moves(self) -> None:
        """Write the cursors ``published`` moved (lock held, in a transaction)."""
        self._executemany(
            "UPDATE audit_chains SET published_seq = ? WHERE chain = ? AND published_seq < ?",
            [(seq, chain, seq) for chain, seq in self._moves.items()],
        )

    def _flush_moves(self) -> None:
        """Write the moved cursors, if any, in a transaction of their own (lock held)."""
        if self._moves:
            with self._locked_transaction():
                self._write_moves()
            self._moves.clear()

    def release(self, chains: Iterable[str]) -> None:
        """Give claimed chains back to housekeeping (their records were not published)."""
        with self._lock:
            for chain in chains:
                self._claimed.pop(chain, None)

    def add_checkpoint(self, sign: CheckpointSigner) -> StoredCheckpoint | None:
        """Store the checkpoint ``sign`` makes of the current heads and the last signature.

        One transaction holding the checkpoint table: checkpoints written by several instances
        still form one line, each naming the one before.
        """
        with self._transaction():
            if self._postgres:
                self._run("LOCK TABLE audit_checkpoints IN EXCLUSIVE MODE")
            heads = self._heads()
            if not heads:
                return None
            last = self._run(
                "SELECT signature FROM audit_checkpoints ORDER BY id DESC LIMIT 1"
            ).fetchone()
            created_at, body, signature = sign(heads, None if last is None else last[0])
            cursor = self._run(
                "INSERT INTO audit_checkpoints (created_at, body, signature) VALUES (?, ?, ?) "
                "RETURNING id",
                (created_at, body, signature),
            )
            return StoredCheckpoint(int(cursor.fetchone()[0]), created_at, body, signature)

    def mark_published(self, chain: str, seq: int) -> None:
        """Records of ``chain`` up to ``seq`` are on ``hub.audit.v1``."""
        with self._transaction():
            self._mark_published(chain, seq)

    def _mark_published(self, chain: str, seq: int) -> None:
        self._run(
            "UPDATE audit_chains SET published_seq = ? WHERE chain = ? AND published_seq < ?",
            (seq, chain, seq),
        )

    def unanchored(self) -> list[StoredCheckpoint]:
        """Checkpoints not yet anchored outside the store, oldest first."""
        with self._lock:
            rows = self._run(_CHECKPOINTS + "WHERE NOT anchored ORDER BY id").fetchall()
        return _stored_checkpoints(rows)

    def mark_anchored(self, ids: Sequence[int]) -> None:
        """Checkpoints ``ids`` are anchored outside the store."""
        with self._transaction():
            for checkpoint in ids:
                self._run(
                    "UPDATE audit_checkpoints SET anchored = TRUE WHERE id = ?", (checkpoint,)
                )

    def prune_payloads(self, before: str) -> int:
        """Drop the payloads of records older than ``before``; hashes (evidence) stay."""
        with self._transaction():
            cursor = self._run(
                "UPDATE audit_records SET payload = NULL "
                "WHERE recorded_at < ? AND payload IS NOT NULL",
                (before,),
            )
            return int(cursor.rowcount)

    # -- reading ----------------------------------------------------------------------------

    def heads(self) -> dict[str, ChainHead]:
        """Every chain's head, as one consistent snapshot."""
        with self._lock:
            return self._heads()

    def _heads(self) -> dict[str, ChainHead]:
        rows = self._run("SELECT chain, seq, head_hash FROM audit_chains").fetchall()
        return {row[0]: ChainHead(int(row[1]), row[2]) for row in rows if int(row[1]) > 0}

    def chain(
        self, chain: str, first: int = 1, last: int | None = None, page: int = 1000
    ) -> Iterator[AuditRecord]:
        """Records ``first``..``last`` of one chain in sequence order, read ``page`` at a time
        (a reader that stops early asks for a small page)."""
        bound = last if last is not None else 2**62

        def read_page(after: int) -> list[AuditRecord]:
            with self._lock:
                rows = self._run(
                    f"SELECT {_COLUMNS} FROM audit_records "  # noqa: S608 - constant text
                    "WHERE chain = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
                    (chain, after, bound, page),
                ).fetchall()
            return [_record(row) for row in rows]

        return pages_after(read_page, first - 1, lambda record: record.seq)

    def window(self, chain: str, since: str | None, until: str | None) -> tuple[int, int] | None:
        """The first and last sequence numbers of ``chain`` recorded in [since, until)."""
        with self._lock:
            row = self._run(
                "SELECT MIN(seq), MAX(seq) FROM audit_records WHERE chain = ? "
                "AND recorded_at >= ? AND recorded_at < ?",
                (chain, since or "", until or "~"),
            ).fetchone()
        return None if row is None or row[0] is None else (int(row[0]), int(row[1]))

    def record_at(self, chain: str, seq: int) -> AuditRecord | None:
        """One record, if it exists."""
        with self._lock:
            row = self._run(
                f"SELECT {_COLUMNS} FROM audit_records WHERE chain = ? AND seq = ?",  # noqa: S608
                (chain, seq),
            ).fetchone()
        return None if row is None else _record(row)

    def chains(self) -> list[str]:
        """Every chain that has records, by name.

        Read from the records themselves, not from the table of chain heads (a chain whose
        head row is gone must still be verified), one index search per chain: ``SELECT
        DISTINCT`` read every record's key, and PostgreSQL the whole table, on every verify and
        export."""
        with self._lock:
            rows = self._run(
                "WITH RECURSIVE names(chain) AS ("
                " SELECT MIN(chain) FROM audit_records"
                " UNION ALL SELECT (SELECT MIN(chain) FROM audit_records WHERE chain > names.chain)"
                " FROM names WHERE names.chain IS NOT NULL)"
                " SELECT chain FROM names WHERE chain IS NOT NULL"
            ).fetchall()
        return [row[0] for row in rows]

    def page_statement(
        self, query: RecordQuery, after: tuple[str, str, int] | None = None
    ) -> tuple[str, list[Any]]:
        """The statement (``?`` placeholders) and parameters by which ``select`` reads one page
        of ``query``'s records from this store: the first, or the one after the record at
        ``after`` (recorded_at, chain, seq)."""
        return _page_statement(query, after, postgres=self._postgres)

    def select(self, query: RecordQuery) -> Iterator[AuditRecord]:
        """Records matching ``query`` in recorded order, read in pages."""

        def read_page(after: tuple[str, str, int] | None) -> list[AuditRecord]:
            statement, parameters = self.page_statement(query, after)
            with self._lock:
                rows = self._run(statement, parameters).fetchall()
            return [_record(row) for row in rows]

        return pages_after(read_page, None, lambda r: (r.recorded_at, r.chain, r.seq))

    def unpublished(self, limit: int) -> list[AuditRecord]:
        """Records not yet on ``hub.audit.v1``, chain by chain in sequence order.

        Chain by chain from the chains table, each a range of the primary key: one query over
        both tables made SQLite scan every record (published or not) on every call, under the
        lock the pipeline's appends wait for, so the audit stream got slower as the log grew.
        """
        rows: list[Any] = []
        with self._lock:
            self._flush_moves()
            behind = self._run(
                "SELECT chain, published_seq FROM audit_chains WHERE seq > published_seq "
                "ORDER BY chain"
            ).fetchall()
            for chain, published in behind:
                if len(rows) >= limit:
                    break
                if chain in self._claimed:  # a route is publishing its newest records
                    continue
                rows.extend(
                    self._run(
                        f"SELECT {_COLUMNS} FROM audit_records "  # noqa: S608 - constant text
                        "WHERE chain = ? AND seq > ? ORDER BY seq LIMIT ?",
                        (chain, published, limit - len(rows)),
                    ).fetchall()
                )
        return [_record(row) for row in rows]

    def checkpoints(self, page: int = 100) -> Iterator[StoredCheckpoint]:
        """Every checkpoint, oldest first, read ``page`` at a time (each states every chain
        head, and a busy log makes one every 1,000 records: all of them do not fit in
        memory)."""

        def read_page(after: int) -> list[StoredCheckpoint]:
            with self._lock:
                rows = self._run(
                    _CHECKPOINTS + "WHERE id > ? ORDER BY id LIMIT ?", (after, page)
                ).fetchall()
            return _stored_checkpoints(rows)

        return pages_after(read_page, 0, lambda checkpoint: checkpoint.id)

    def latest_checkpoints(self, count: int) -> list[StoredCheckpoint]:
        """The newest ``count`` checkpoints, newest first (a checkpoint states every chain
        head, and a busy log makes one every 1,000 records: reading all to show a few reads
        megabytes)."""
        with self._lock:
            rows = self._run(
                _CHECKPOINTS + "ORDER BY id DESC LIMIT ?",
                (max(count, 0),),
            ).fetchall()
        return _stored_checkpoints(rows)

    def checkpoint_count(self) -> int:
        """How many checkpoints the store holds."""
        with self._lock:
            row = self._run("SELECT COUNT(*) FROM audit_checkpoints").fetchone()
        return int(row[0])

    def record_count(self) -> int:
        """How many records the store holds (the sum of the chain lengths)."""
        with self._lock:
            row = self._run("SELECT COALESCE(SUM(seq), 0) FROM audit_chains").fetchone()
        return int(row[0])

    def close(self) -> None:
        """Write the moved cursors and close the connection."""
        with self._lock:
            # A move lost here only makes housekeeping publish those records again.
            with suppress(Exception):
                self._flush_moves()
            self._db.close()


def _open_sqlite(path: Path) -> AuditStore:
    db = durable_sqlite(path, "audit store", AuditStoreError)
    store = AuditStore(db, postgres=False, name=str(path))
    store.create_schema()
    return store


def _open_postgres(dsn: str) -> AuditStore:
    db = postgres_connection(dsn, "HUB_AUDIT_DSN", AuditStoreError)
    store = AuditStore(db, postgres=True, name="postgresql")
    store.create_schema()
    return store


def open_audit_store(data_dir: Path, dsn: str | None) -> AuditStore:
    """The audit store: PostgreSQL when ``dsn`` is set, else SQLite in ``data_dir``."""
    if dsn:
        return _open_postgres(dsn)
    return _open_sqlite(data_dir / SQLITE_FILE)
