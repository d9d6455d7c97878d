"""What the labour-authority connector remembers: messages seen, and where people live.

- *Seen*: every ``muutosId`` and ``lahete_id`` published, with an HMAC fingerprint of its
  canonical content, so a duplicate delivery is accepted once (also across restarts) and a
  repeated id with other content is recognised as a conflict.
- *Residence*: each person's last known home municipality, by pseudonymous reference, so a
  status change that moves a person between the two authorities' areas can say where they
  moved from (``previous_home_municipality``): the new authority then receives the full event
  and the old one a moved-out notice.

Keeps no identity codes. Each route opens its own instance (its own connection and staged
writes); writes become durable with ``commit`` after the route's messages are published.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from enum import StrEnum
from pathlib import Path
from typing import Final

from hub.core.sqlite_store import TransactionalStore

__all__ = ["AuthorityState", "Seen"]

_FILE: Final = "authorities.sqlite3"
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS seen (
    family      TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    seen_at     TEXT NOT NULL,
    PRIMARY KEY (family, message_id)
);
CREATE TABLE IF NOT EXISTS residence (
    person_ref        TEXT PRIMARY KEY,
    home_municipality TEXT NOT NULL,
    changed_at        TEXT NOT NULL
);
"""


class Seen(StrEnum):
    """Whether a message id was published before."""

    NEW = "new"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"


class AuthorityState:
    """Seen message ids and residences; see the module docstring."""

    def __init__(self, store: TransactionalStore, secret: bytes) -> None:
        self._store = store
        self._secret = secret
        self._staged_seen: dict[tuple[str, str], str] = {}
        self._staged_home: dict[str, tuple[str, str]] = {}

    @classmethod
    def open(cls, data_dir: Path, secret: bytes) -> AuthorityState:
        """The connector state of a data directory."""
        return cls(TransactionalStore(data_dir / _FILE, _SCHEMA), secret)

    def fingerprint(self, canonical_json: bytes) -> str:
        """Keyed digest of a message's canonical content."""
        return hmac.new(self._secret, canonical_json, hashlib.sha256).hexdigest()

    def seen(self, family: str, message_id: str, fingerprint: str) -> Seen:
        """NEW, a DUPLICATE (same content) or a CONFLICT (same id, other content)."""
        known = self._staged_seen.get((family, message_id))
        if known is None:
            row = self._store.first(
                "SELECT fingerprint FROM {schema}.seen WHERE family = ? AND message_id = ?",
                (family, message_id),
            )
            known = None if row is None else str(row[0])
        if known is None:
            return Seen.NEW
        return Seen.DUPLICATE if hmac.compare_digest(known, fingerprint) else Seen.CONFLICT

    def home_of(self, person_ref: str) -> tuple[str, str] | None:
        """(home municipality, changed at ISO time) last recorded for the person."""
        staged = self._staged_home.get(person_ref)
        if staged is not None:
            return staged
        row = self._store.first(
            "SELECT home_municipality, changed_at FROM {schema}.residence WHERE person_ref = ?",
            (person_ref,),
        )
        return None if row is None else (str(row[0]), str(row[1]))

    def stage_seen(self, family: str, message_id: str, fingerprint: str) -> None:
        """Remember a published message id."""
        self._staged_seen[(family, message_id)] = fingerprint
        self._store.stage(
            "INSERT OR REPLACE INTO seen VALUES (?, ?, ?, ?)",
            (family, message_id, fingerprint, dt.datetime.now(dt.UTC).isoformat()),
        )

    def stage_home(self, person_ref: str, municipality: str, changed_at: dt.datetime) -> None:
        """Record the person's home municipality as of ``changed_at`` (older news is ignored)."""
        known = self.home_of(person_ref)
        if known is not None and dt.datetime.fromisoformat(known[1]) > changed_at:
            return
        self._staged_home[person_ref] = (municipality, changed_at.isoformat())
        self._store.stage(
            "INSERT OR REPLACE INTO residence VALUES (?, ?, ?)",
            (person_ref, municipality, changed_at.isoformat()),
        )

    def commit(self) -> None:
        """Make staged writes durable: call only after the messages are published."""
        self._store.commit()
        self._staged_seen.clear()
        self._staged_home.clear()

    def rollback(self) -> None:
        """Forget staged writes: publishing failed."""
        self._store.rollback()
        self._staged_seen.clear()
        self._staged_home.clear()

    def close(self) -> None:
        """Close the database."""
        self._store.close()
