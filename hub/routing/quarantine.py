"""The quarantine store: original bytes of dead letters too large for Kafka.

A message whose dead letter the broker will not take even compressed is kept here, on the
hub's own disk (``DATA_DIR/quarantine``), and the dead letter carries its reference instead.
Entries are content-addressed: the file name is the SHA-256 of the bytes (64 hex digits), so
the same message quarantined twice is one file, and a reader can check what it reads. A file
is written to a temporary name, flushed to disk, renamed into place and the directory flushed
too: an entry either is complete and durable or is not there, and it is durable before the
dead letter naming it is published. Files are readable by the hub's user only (0600, in a
0700 directory): they may hold whatever a partner sent, identity codes included.

Never logs or raises with the bytes it keeps; errors name the file only.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hub.core.errors import HubError

__all__ = [
    "QUARANTINE_DIR",
    "QuarantineEntry",
    "QuarantineError",
    "QuarantineStore",
    "sha256_of",
]

#: The store's folder inside the hub's data directory.
QUARANTINE_DIR: Final = "quarantine"

_REFERENCE: Final = re.compile(r"[0-9a-f]{64}")


class QuarantineError(HubError):
    """A quarantine entry is not there, is not a reference, or does not match its hash."""


def sha256_of(value: bytes) -> str:
    """The lower-case hex SHA-256 of ``value``: an entry's reference."""
    return hashlib.sha256(value).hexdigest()


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    """One kept message: its reference (the SHA-256 in hex) and its size in bytes."""

    sha256: str
    size: int


class QuarantineStore:
    """Content-addressed files under ``directory`` (created on first use)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> QuarantineStore:
        """The store of the hub whose data directory is ``data_dir``."""
        return cls(data_dir / QUARANTINE_DIR)

    def path_of(self, reference: str) -> Path:
        """The file of an entry; ``QuarantineError`` if ``reference`` is not a SHA-256."""
        if not _REFERENCE.fullmatch(reference):
            raise QuarantineError(f"not a quarantine reference (64 hex digits): {reference!r}")
        return self.directory / reference

    def keep(self, value: bytes) -> QuarantineEntry:
        """Store ``value`` durably (once: an entry already there is left as it is)."""
        entry = QuarantineEntry(sha256_of(value), len(value))
        target = self.path_of(entry.sha256)
        if target.is_file() and target.stat().st_size == entry.size:
            return entry
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self.directory / f".{entry.sha256}.{os.getpid()}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(value)
                handle.flush()
                os.fsync(handle.fileno())
            temporary.replace(target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            raise
        _sync_directory(self.directory)
        return entry

    def read(self, reference: str) -> bytes:
        """The bytes of an entry, checked against their SHA-256."""
        path = self.path_of(reference)
        try:
            value = path.read_bytes()
        except FileNotFoundError:
            raise QuarantineError(f"no quarantine entry {reference} in {self.directory}") from None
        if sha256_of(value) != reference:
            raise QuarantineError(f"quarantine entry {path} does not match its SHA-256")
        return value

    def entries(self) -> list[QuarantineEntry]:
        """Every entry, by reference."""
        if not self.directory.is_dir():
            return []
        return [
            QuarantineEntry(path.name, path.stat().st_size)
            for path in sorted(self.directory.iterdir())
            if _REFERENCE.fullmatch(path.name)
        ]

    def remove(self, reference: str) -> bool:
        """Delete an entry; False if it was not there."""
        try:
            self.path_of(reference).unlink()
        except FileNotFoundError:
            return False
        _sync_directory(self.directory)
        return True


def _sync_directory(directory: Path) -> None:
    """Flush a directory's entries (a rename or unlink in it) to disk."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
