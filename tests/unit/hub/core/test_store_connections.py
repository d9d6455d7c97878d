"""The stores' shared way of opening SQLite and PostgreSQL, and its one-line failures."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from hub.broker.local import find_free_port
from hub.core.store_connections import durable_sqlite, postgres_connection


class _StoreError(Exception):
    pass


def test_sqlite_is_owner_only_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    db = durable_sqlite(tmp_path / "s.sqlite3", "some store", _StoreError)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
        assert db.execute("PRAGMA busy_timeout").fetchone() == (10000,)
    finally:
        db.close()
    assert stat.S_IMODE((tmp_path / "s.sqlite3").stat().st_mode) == 0o600


def test_an_sqlite_file_that_cannot_be_opened_is_the_stores_own_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    where = tmp_path / "a-file" / "s.sqlite3"
    with pytest.raises(_StoreError, match=f"^{re.escape(f'some store {where}: ')}"):
        durable_sqlite(where, "some store", _StoreError)


def test_a_postgres_that_does_not_answer_names_the_setting_in_one_line() -> None:
    dsn = f"postgresql://hub@127.0.0.1:{find_free_port()}/hub"
    with pytest.raises(_StoreError, match=r"^HUB_SOME_DSN: cannot connect: ") as raised:
        postgres_connection(dsn, "HUB_SOME_DSN", _StoreError)
    assert "\n" not in str(raised.value)
