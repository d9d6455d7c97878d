"""The referral register: every referral the hub has carried and where it stands.

Fed from the canonical topics (``hub.service-referral.v1`` opens a referral,
``hub.referral-status.v1`` moves it), so it is the same on every hub instance that reads them.
The contracts ask it one question: does this person have an open referral with this partner
(Päijät-Sote may receive client-status only then, law 381/2023)? The receiver's connector asks
another: may the referral move to this state? (``transition``: sent → received → accepted or
rejected; accepted → in progress → completed; cancelled from any state that is not final; the
``received`` and ``in progress`` steps may be skipped.) Every change is kept in a history for
support staff. A referral is named by its sender and its id (:class:`ReferralKey`): both
authorities may use the same ``lahete_id``.
Keeps no identity codes: persons are known by their pseudonymous reference.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Final, NamedTuple

from hub.core.private_files import connect_sqlite
from hub.core.sqlite_store import TransactionalStore
from schemas.codes import ReferralState

__all__ = [
    "FINAL_STATES",
    "SENT",
    "HistoryEntry",
    "ReferralKey",
    "ReferralRecord",
    "ReferralRegister",
    "Transition",
    "transition",
]

#: States after which a referral no longer opens a relationship.
FINAL_STATES: Final = frozenset(
    {ReferralState.REJECTED, ReferralState.COMPLETED, ReferralState.CANCELLED}
)

_FILE: Final = "referrals.sqlite3"
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS referrals (
    sender      TEXT NOT NULL,
    referral_id TEXT NOT NULL,
    person_ref  TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    service     TEXT NOT NULL,
    state       TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (sender, referral_id)
);
CREATE INDEX IF NOT EXISTS referrals_by_person ON referrals (person_ref, recipient);
CREATE INDEX IF NOT EXISTS referrals_by_id ON referrals (referral_id);
CREATE TABLE IF NOT EXISTS referral_history (
    sender      TEXT NOT NULL,
    referral_id TEXT NOT NULL,
    state       TEXT NOT NULL,
    at          TEXT NOT NULL,
    at_utc      TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_referral ON referral_history (sender, referral_id);
"""

#: A register written before referrals were keyed by sender (one row per ``referral_id``)
#: becomes the new layout in one transaction: each old referral had exactly one sender, so
#: its history rows take that sender. (A second sender's referral with an id already taken
#: was never stored; the audit log still has its event, see docs/operations.md.)
_MIGRATE_FROM_ID_ONLY: Final = """
DROP INDEX IF EXISTS referrals_by_person;
DROP INDEX IF EXISTS history_by_referral;
ALTER TABLE referrals RENAME TO referrals_by_id_only;
ALTER TABLE referral_history RENAME TO referral_history_by_id_only;
CREATE TABLE referrals (
    sender      TEXT NOT NULL,
    referral_id TEXT NOT NULL,
    person_ref  TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    service     TEXT NOT NULL,
    state       TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (sender, referral_id)
);
CREATE TABLE referral_history (
    sender      TEXT NOT NULL,
    referral_id TEXT NOT NULL,
    state       TEXT NOT NULL,
    at          TEXT NOT NULL,
    at_utc      TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
INSERT INTO referrals
    SELECT sender, referral_id, person_ref, recipient, service, state, updated_at
    FROM referrals_by_id_only;
INSERT INTO referral_history
    SELECT r.sender, h.referral_id, h.state, h.at, h.at_utc, h.recorded_at
    FROM referral_history_by_id_only AS h JOIN referrals_by_id_only AS r USING (referral_id)
    ORDER BY h.rowid;
DROP TABLE referral_history_by_id_only;
DROP TABLE referrals_by_id_only;
"""


def _migrate(path: Path) -> bool:
    """Bring a register file of the id-only layout to the (sender, id) layout; True if it
    did. A new or current file is left alone.

    The layout is judged inside the write transaction: two processes opening one old file at
    once migrate it once (the second waits, then finds the new layout).
    """
    if not path.exists():
        return False
    db = connect_sqlite(path, isolation_level=None)
    try:
        db.execute("PRAGMA busy_timeout=10000")
        db.execute("BEGIN IMMEDIATE")
        try:
            columns = {row[1] for row in db.execute("PRAGMA table_info(referral_history)")}
            if not columns or "sender" in columns:
                db.execute("ROLLBACK")
                return False
            for statement in _MIGRATE_FROM_ID_ONLY.split(";"):
                if statement.strip():
                    db.execute(statement)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return True
    finally:
        db.close()


#: The state of a referral the hub carried and nobody answered yet.
SENT: Final = "sent"

_NEXT: Final[dict[str, frozenset[ReferralState]]] = {
    SENT: frozenset(
        {
            ReferralState.RECEIVED,
            ReferralState.ACCEPTED,
            ReferralState.REJECTED,
            ReferralState.CANCELLED,
        }
    ),
    ReferralState.RECEIVED.value: frozenset(
        {ReferralState.ACCEPTED, ReferralState.REJECTED, ReferralState.CANCELLED}
    ),
    # Straight to completed: a service done in one visit (a health check) never is "in
    # progress" in the receiver's system, and the sender must still learn it was done.
    ReferralState.ACCEPTED.value: frozenset(
        {ReferralState.IN_PROGRESS, ReferralState.COMPLETED, ReferralState.CANCELLED}
    ),
    ReferralState.IN_PROGRESS.value: frozenset({ReferralState.COMPLETED, ReferralState.CANCELLED}),
}


class Transition(StrEnum):
    """What a new state means for a referral in its current state."""

    ALLOWED = "allowed"
    REPEAT = "repeat"
    ILLEGAL = "illegal"


def transition(current: str, new: ReferralState) -> Transition:
    """Whether a referral in state ``current`` may move to ``new``."""
    if current == new.value:
        return Transition.REPEAT
    return Transition.ALLOWED if new in _NEXT.get(current, frozenset()) else Transition.ILLEGAL


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One recorded state of a referral: the state, when it happened, when it was recorded."""

    state: str
    at: str
    recorded_at: str


class ReferralKey(NamedTuple):
    """What names one referral: its sender and the sender's id for it (``lahete_id``).

    The id alone is not enough: the interface documents do not make ``lahete_id`` unique
    across the two authorities, and both may well number their referrals ``L-1``, ``L-2``...
    """

    sender: str
    referral_id: str

    def __str__(self) -> str:
        return f"{self.sender}/{self.referral_id}"


@dataclass(frozen=True, slots=True)
class ReferralRecord:
    """One referral as the register knows it."""

    referral_id: str
    person_ref: str
    sender: str
    recipient: str
    service: str
    state: str

    @property
    def key(self) -> ReferralKey:
        """The referral's key in the register."""
        return ReferralKey(self.sender, self.referral_id)


class ReferralRegister:
    """Durable referral states, keyed by sender and referral id (:class:`ReferralKey`)."""

    def __init__(self, store: TransactionalStore) -> None:
        self._store = store
        # Staged, not yet committed: a route translating several messages before one commit
        # must judge the second Task of a referral against the state the first one staged.
        self._staged_referrals: dict[ReferralKey, ReferralRecord] = {}
        self._staged_states: dict[ReferralKey, str] = {}

    @classmethod
    def open(cls, data_dir: Path) -> ReferralRegister:
        """The register of a data directory (a file of the id-only layout is migrated)."""
        _migrate(data_dir / _FILE)
        return cls(TransactionalStore(data_dir / _FILE, _SCHEMA))

    @staticmethod
    def exists(data_dir: Path) -> bool:
        """True if the data directory has a register (read-only commands create none)."""
        return (data_dir / _FILE).exists()

    def stage_referral(
        self,
        referral_id: str,
        person_ref: str,
        sender: str,
        recipient: str,
        service: str,
        sent_at: dt.datetime,
    ) -> None:
        """A referral was sent (a repeat of a known referral changes nothing)."""
        key = ReferralKey(sender, referral_id)
        if self.referral(key) is not None:
            return
        self._store.stage(
            "INSERT OR IGNORE INTO referrals VALUES (?, ?, ?, ?, ?, ?, ?)",
            (sender, referral_id, person_ref, recipient, service, SENT, _now()),
        )
        self._staged_referrals[key] = ReferralRecord(
            referral_id, person_ref, sender, recipient, service, SENT
        )
        self._stage_history(key, SENT, sent_at)

    def stage_state(self, key: ReferralKey, state: ReferralState, at: dt.datetime) -> Transition:
        """Move a referral to ``state`` if the state machine allows it; say what happened.

        An unknown referral, a repeat and an illegal transition change nothing (``ILLEGAL`` is
        returned for an unknown referral too).
        """
        record = self.referral(key)
        if record is None:
            return Transition.ILLEGAL
        verdict = transition(record.state, state)
        if verdict is Transition.ALLOWED:
            self._store.stage(
                "UPDATE referrals SET state = ?, updated_at = ? "
                "WHERE sender = ? AND referral_id = ?",
                (state.value, _now(), key.sender, key.referral_id),
            )
            self._staged_states[key] = state.value
            self._stage_history(key, state.value, at)
        return verdict

    def _stage_history(self, key: ReferralKey, state: str, at: dt.datetime) -> None:
        self._store.stage(
            "INSERT INTO referral_history VALUES (?, ?, ?, ?, ?, ?)",
            (key.sender, key.referral_id, state, at.isoformat(), _utc(at), _now()),
        )

    def history(self, key: ReferralKey) -> list[HistoryEntry]:
        """Every recorded state of a referral, oldest first (committed)."""
        rows = self._store.all(
            "SELECT state, at, recorded_at FROM referral_history "
            "WHERE sender = ? AND referral_id = ? ORDER BY rowid",
            (key.sender, key.referral_id),
        )
        return [HistoryEntry(*(str(value) for value in row)) for row in rows]

    def referral(self, key: ReferralKey) -> ReferralRecord | None:
        """What the register knows of one referral: committed, with what this register has
        staged on top."""
        record = self._staged_referrals.get(key)
        if record is None:
            row = self._store.first(
                "SELECT referral_id, person_ref, sender, recipient, service, state "
                "FROM {schema}.referrals WHERE sender = ? AND referral_id = ?",
                (key.sender, key.referral_id),
            )
            if row is None:
                return None
            record = ReferralRecord(*(str(value) for value in row))
        return self._with_staged_state(record)

    def _with_staged_state(self, record: ReferralRecord) -> ReferralRecord:
        state = self._staged_states.get(record.key)
        return record if state is None else replace(record, state=state)

    def named(self, referral_id: str) -> list[ReferralRecord]:
        """Every referral with the id ``referral_id``, whoever sent it, ordered by sender
        (committed and staged)."""
        # One query for every sender's row, rather than one for the senders and one each.
        rows = self._store.all(
            "SELECT referral_id, person_ref, sender, recipient, service, state "
            "FROM referrals WHERE referral_id = ?",
            (referral_id,),
        )
        found = {str(row[2]): ReferralRecord(*(str(value) for value in row)) for row in rows}
        found.update(
            (key.sender, record)
            for key, record in self._staged_referrals.items()
            if key.referral_id == referral_id
        )
        return [self._with_staged_state(found[sender]) for sender in sorted(found)]

    def recent(self, limit: int) -> list[ReferralRecord]:
        """The ``limit`` referrals recorded last (committed), newest first."""
        rows = self._store.all(
            "SELECT referral_id, person_ref, sender, recipient, service, state "
            "FROM referrals ORDER BY rowid DESC LIMIT ?",
            (limit,),
        )
        return [ReferralRecord(*(str(value) for value in row)) for row in rows]

    def has_open_referral(self, person_ref: str, recipient: str, at: dt.datetime) -> bool:
        """True if, at the time ``at``, the person had a referral with ``recipient`` that was
        sent and not yet final.

        Point in time on purpose: the answer for an event must not depend on how far the
        consumers of the different topics happen to have got.
        """
        finals = tuple(state.value for state in FINAL_STATES)
        when = _utc(at)
        row = self._store.first(
            "SELECT 1 FROM {schema}.referrals AS r WHERE r.person_ref = ? AND r.recipient = ? "
            "AND EXISTS (SELECT 1 FROM {schema}.referral_history AS h "
            "  WHERE h.sender = r.sender AND h.referral_id = r.referral_id "
            "  AND h.state = ? AND h.at_utc <= ?) "
            "AND NOT EXISTS (SELECT 1 FROM {schema}.referral_history AS h "
            "  WHERE h.sender = r.sender AND h.referral_id = r.referral_id "
            "  AND h.state IN (?, ?, ?) AND h.at_utc <= ?)",
            (person_ref, recipient, SENT, when, *finals, when),
        )
        return row is not None

    def commit(self) -> None:
        """Make staged changes durable."""
        self._store.commit()
        self._staged_referrals.clear()
        self._staged_states.clear()

    def rollback(self) -> None:
        """Forget staged changes."""
        self._store.rollback()
        self._staged_referrals.clear()
        self._staged_states.clear()

    def close(self) -> None:
        """Close the database."""
        self._store.close()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _utc(at: dt.datetime) -> str:
    # One offset and one precision, so that times compare as text in SQL.
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
