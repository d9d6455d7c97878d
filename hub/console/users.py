"""Local console accounts: a name, a role and an Argon2id password hash, in SQLite.

Used when no OpenID Connect provider is configured (``hub console users add``). Passwords are
never stored or logged; a failed sign-in says nothing about which half was wrong.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hub.core.errors import ConfigurationError
from hub.core.private_files import connect_sqlite

__all__ = ["MIN_PASSWORD", "Role", "User", "UserStore"]

USERS_FILE: Final = "console-users.sqlite3"
#: Shortest password accepted for a local account.
MIN_PASSWORD: Final = 12
_NAME_MAX: Final = 64

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS console_users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL
);
"""


class Role(StrEnum):
    """What a signed-in person may do."""

    #: Watches flows, handles dead letters, sees referrals; never an identity code.
    OPERATOR = "operator"
    #: Reads the audit log and, on request (each time recorded), identity codes.
    AUDITOR = "auditor"


@dataclass(frozen=True, slots=True)
class User:
    """A signed-in person."""

    name: str
    role: Role


class UserStore:
    """The accounts of one data directory."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = connect_sqlite(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(_SCHEMA)
        self._hasher = PasswordHasher()

    @classmethod
    def open(cls, data_dir: Path) -> UserStore:
        """The account store of a data directory."""
        return cls(data_dir / USERS_FILE)

    def add(self, name: str, role: Role, password: str) -> None:
        """Create or replace the account ``name``."""
        name = name.strip()
        if not name or len(name) > _NAME_MAX or not name.isprintable():
            raise ConfigurationError(f"a user name is 1 to {_NAME_MAX} printable characters")
        if len(password) < MIN_PASSWORD:
            raise ConfigurationError(f"the password must be at least {MIN_PASSWORD} characters")
        hashed = self._hasher.hash(password)
        with self._lock:
            self._db.execute(
                "INSERT INTO console_users (name, role, password_hash) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET role = excluded.role, "
                "password_hash = excluded.password_hash",
                (name, role.value, hashed),
            )

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if ``password`` is theirs, else ``None``."""
        with self._lock:
            row = self._db.execute(
                "SELECT role, password_hash FROM console_users WHERE name = ?", (name,)
            ).fetchone()
        if row is None:
            # Hash anyway: an unknown name takes as long as a wrong password.
            self._hasher.hash(password)
            return None
        try:
            self._hasher.verify(row[1], password)
        except (VerificationError, InvalidHashError):
            return None
        return User(name, Role(row[0]))

    def names(self) -> list[tuple[str, Role]]:
        """Every account with its role, by name."""
        with self._lock:
            rows = self._db.execute("SELECT name, role FROM console_users ORDER BY name").fetchall()
        return [(row[0], Role(row[1])) for row in rows]

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
