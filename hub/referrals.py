"""The referral register: every referral the hub has carried and where it stands.

Fed from the canonical topics (``hub.service-referral.v1`` opens a referral,
``hub.referral-status.v1`` moves it), so it is the same on every hub instance that reads them.
The contracts ask it one question: does this person have an open referral with this partner
(Päijät-Sote may receive client-status only then, law 381/2023)? The receiver's connector asks
another: may the referral move to this state? (``transition``: sent → received → accepted or
rejected; accepted → in progress → completed; cancelled from any state that is not final; the
``received`` step may be skipped.) Every change is kept in a history for support staff.
Keeps no identity codes: persons are known by their pseudonymous reference.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Final

from hub.sqlite_store import TransactionalStore
from schemas.codes import ReferralState

__all__ = [
    "FINAL_STATES",
    "SENT",
    "HistoryEntry",
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
    referral_id TEXT PRIMARY KEY,
    person_ref  TEXT NOT NULL,
    sender      TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    service     TEXT NOT NULL,
    state       TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS referrals_by_person ON referrals (person_ref, recipient);
CREATE TABLE IF NOT EXISTS referral_history (
    referral_id TEXT NOT NULL,
    state       TEXT NOT NULL,
    at          TEXT NOT NULL,
    at_utc      TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_referral ON referral_history (referral_id);
"""

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
    ReferralState.ACCEPTED.value: frozenset({ReferralState.IN_PROGRESS, ReferralState.CANCELLED}),
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


@dataclass(frozen=True, slots=True)
class ReferralRecord:
    """One referral as the register knows it."""

    referral_id: str
    person_ref: str
    sender: str
    recipient: str
    service: str
    state: str


class ReferralRegister:
    """Durable referral states, keyed by referral id."""

    def __init__(self, store: TransactionalStore) -> None:
        self._store = store
        # Staged, not yet committed: a route translating several messages before one commit
        # must judge the second Task of a referral against the state the first one staged.
        self._staged_referrals: dict[str, ReferralRecord] = {}
        self._staged_states: dict[str, str] = {}

    @classmethod
    def open(cls, data_dir: Path) -> ReferralRegister:
        """The register of a data directory."""
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
        if self.referral(referral_id) is not None:
            return
        self._store.stage(
            "INSERT OR IGNORE INTO referrals VALUES (?, ?, ?, ?, ?, ?, ?)",
            (referral_id, person_ref, sender, recipient, service, SENT, _now()),
        )
        self._staged_referrals[referral_id] = ReferralRecord(
            referral_id, person_ref, sender, recipient, service, SENT
        )
        self._stage_history(referral_id, SENT, sent_at)

    def stage_state(self, referral_id: str, state: ReferralState, at: dt.datetime) -> Transition:
        """Move a referral to ``state`` if the state machine allows it; say what happened.

        An unknown referral, a repeat and an illegal transition change nothing (``ILLEGAL`` is
        returned for an unknown referral too).
        """
        record = self.referral(referral_id)
        if record is None:
            return Transition.ILLEGAL
        verdict = transition(record.state, state)
        if verdict is Transition.ALLOWED:
            self._store.stage(
                "UPDATE referrals SET state = ?, updated_at = ? WHERE referral_id = ?",
                (state.value, _now(), referral_id),
            )
            self._staged_states[referral_id] = state.value
            self._stage_history(referral_id, state.value, at)
        return verdict

    def _stage_history(self, referral_id: str, state: str, at: dt.datetime) -> None:
        self._store.stage(
            "INSERT INTO referral_history VALUES (?, ?, ?, ?, ?)",
            (referral_id, state, at.isoformat(), _utc(at), _now()),
        )

    def history(self, referral_id: str) -> list[HistoryEntry]:
        """Every recorded state of a referral, oldest first (committed)."""
        rows = self._store.all(
            "SELECT state, at, recorded_at FROM referral_history WHERE referral_id = ? "
            "ORDER BY rowid",
            (referral_id,),
        )
        return [HistoryEntry(*(str(value) for value in row)) for row in rows]

    def referral(self, referral_id: str) -> ReferralRecord | None:
        """What the register knows of one referral: committed, with what this register has
        staged on top."""
        record = self._staged_referrals.get(referral_id)
        if record is None:
            row = self._store.first(
                "SELECT referral_id, person_ref, sender, recipient, service, state "
                "FROM {schema}.referrals WHERE referral_id = ?",
                (referral_id,),
            )
            if row is None:
                return None
            record = ReferralRecord(*(str(value) for value in row))
        state = self._staged_states.get(referral_id)
        return record if state is None else replace(record, state=state)

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
            "  WHERE h.referral_id = r.referral_id AND h.state = ? AND h.at_utc <= ?) "
            "AND NOT EXISTS (SELECT 1 FROM {schema}.referral_history AS h "
            "  WHERE h.referral_id = r.referral_id AND h.state IN (?, ?, ?) AND h.at_utc <= ?)",
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
