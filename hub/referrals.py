"""The referral register: every referral the hub has carried and where it stands.

Fed from the canonical topics (``hub.service-referral.v1`` opens a referral,
``hub.referral-status.v1`` moves it), so it is the same on every hub instance that reads them.
The contracts ask it one question: does this person have an open referral with this partner
(Päijät-Sote may receive client-status only then, law 381/2023)? Keeps no identity codes:
persons are known by their pseudonymous reference.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hub.sqlite_store import TransactionalStore
from schemas.codes import ReferralState

__all__ = ["FINAL_STATES", "ReferralRecord", "ReferralRegister"]

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
"""
_SENT: Final = "sent"


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

    @classmethod
    def open(cls, data_dir: Path) -> ReferralRegister:
        """The register of a data directory."""
        return cls(TransactionalStore(data_dir / _FILE, _SCHEMA))

    def stage_referral(
        self, referral_id: str, person_ref: str, sender: str, recipient: str, service: str
    ) -> None:
        """A referral was sent (a repeat of a known referral changes nothing)."""
        self._store.stage(
            "INSERT OR IGNORE INTO referrals VALUES (?, ?, ?, ?, ?, ?, ?)",
            (referral_id, person_ref, sender, recipient, service, _SENT, _now()),
        )

    def stage_state(self, referral_id: str, state: ReferralState) -> bool:
        """A referral moved to ``state``; False if the register does not know the referral.

        Referrals are committed one message at a time, so a state always finds its referral
        committed before it.
        """
        if self.referral(referral_id) is None:
            return False
        self._store.stage(
            "UPDATE referrals SET state = ?, updated_at = ? WHERE referral_id = ?",
            (state.value, _now(), referral_id),
        )
        return True

    def referral(self, referral_id: str) -> ReferralRecord | None:
        """What the register knows of one referral (committed state)."""
        row = self._store.first(
            "SELECT referral_id, person_ref, sender, recipient, service, state "
            "FROM {schema}.referrals WHERE referral_id = ?",
            (referral_id,),
        )
        return None if row is None else ReferralRecord(*(str(value) for value in row))

    def has_open_referral(self, person_ref: str, recipient: str) -> bool:
        """True if the person has a referral with ``recipient`` that is not final."""
        finals = tuple(state.value for state in FINAL_STATES)
        row = self._store.first(
            "SELECT 1 FROM {schema}.referrals WHERE person_ref = ? AND recipient = ? "
            "AND state NOT IN (?, ?, ?)",
            (person_ref, recipient, *finals),
        )
        return row is not None

    def commit(self) -> None:
        """Make staged changes durable."""
        self._store.commit()

    def rollback(self) -> None:
        """Forget staged changes."""
        self._store.rollback()

    def close(self) -> None:
        """Close the database."""
        self._store.close()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()
