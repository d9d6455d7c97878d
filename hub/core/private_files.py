"""Files that may hold personal data or secrets: owner-only (0600) in owner-only folders (0700).

The audit store, the ledgers and registers, the statistics and share stores, the console's
accounts and audit exports hold identity codes, payloads or password hashes. Their modes must
not depend on the umask of whoever started the hub, so every such file is made through this
module. A folder or file that already exists with wider modes (a data directory made by an
older version) is tightened when it is opened, provided this user owns it; SQLite gives its
``-wal`` and ``-shm`` files the mode of the database file, and existing ones are tightened too.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from typing import IO, Any, Final, Literal

__all__ = ["DIRECTORY_MODE", "FILE_MODE", "connect_sqlite", "private_directory", "private_file"]

DIRECTORY_MODE: Final = 0o700
FILE_MODE: Final = 0o600
_SQLITE_COMPANIONS: Final = ("-wal", "-shm", "-journal")


def _tighten(path: Path, mode: int) -> None:
    """Remove group and other permissions from ``path`` if this user owns it."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return
    if status.st_uid != os.geteuid() or not stat.S_IMODE(status.st_mode) & 0o077:
        return
    path.chmod(mode)


def private_directory(path: Path) -> Path:
    """Make ``path`` (and missing parents) and leave ``path`` itself readable by its owner only.

    Parents that already exist are not touched: they may be the user's home or a shared
    folder. The folder itself is tightened to 0700 even if it existed before.
    """
    path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    _tighten(path, DIRECTORY_MODE)
    return path


def _create(path: Path) -> None:
    # Never open (and so close) a descriptor of an existing database file: closing any
    # descriptor of a file drops every POSIX lock this process holds on it, the locks of
    # SQLite connections already open included, and their transactions then overwrite each
    # other. Only a file that does not exist yet is made here; an existing one is chmod-ed.
    if not path.exists():
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            pass
        else:
            os.close(descriptor)
    _tighten(path, FILE_MODE)


def connect_sqlite(path: Path, **options: Any) -> sqlite3.Connection:
    """Open the SQLite file ``path`` as the owner's alone: folder 0700, file and WAL 0600.

    ``options`` go to :func:`sqlite3.connect`. The file is created 0600 before SQLite opens
    it, so SQLite never makes it with the umask's mode, and its WAL files inherit that mode.
    """
    private_directory(path.parent)
    _create(path)
    for suffix in _SQLITE_COMPANIONS:
        _tighten(path.with_name(path.name + suffix), FILE_MODE)
    connection: sqlite3.Connection = sqlite3.connect(path, **options)
    return connection


def private_file(path: Path, mode: Literal["wb", "w", "xb", "x"] = "wb", **options: Any) -> IO[Any]:
    """Open ``path`` for writing, created (or truncated and tightened) as 0600.

    ``options`` (encoding, newline) go to :func:`os.fdopen`; ``x`` modes refuse an existing
    file.
    """
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if mode.startswith("x") else os.O_TRUNC)
    descriptor = os.open(path, flags, FILE_MODE)
    try:
        _tighten(path, FILE_MODE)
    except OSError:
        os.close(descriptor)
        raise
    return os.fdopen(descriptor, mode.replace("x", "w"), **options)
