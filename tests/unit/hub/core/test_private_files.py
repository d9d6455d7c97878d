"""Files that can hold personal data or secrets are the owner's alone, whatever the umask."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.authorities.state import AuthorityState
from connectors.kela.ledger import BenefitLedger
from hub.audit.export import export_window
from hub.audit.records import AuditDraft, Direction
from hub.audit.signing import load_or_create_signing_key
from hub.audit.store import open_audit_store
from hub.broker.connection import write_local_state
from hub.console.users import UserStore
from hub.core.private_files import connect_sqlite, private_directory
from hub.core.settings import load_settings, pseudonym_secret
from hub.distribution.delivery_log import DeliveryLog
from hub.referrals.register import ReferralRegister
from hub.share.ledger import open_share_ledger
from hub.statistics.store import open_store

SECRET = b"k" * 32
_DRAFT = AuditDraft(Direction.CONSUMED, b'{"hetu": "131052-930V"}', "in.x", 0, 0)
# Modes as an older version left them under umask 022.
_WORLD_READABLE_DIR = 0o755
_WORLD_READABLE_FILE = 0o644


@pytest.fixture(autouse=True)
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _modes(root: Path) -> dict[str, int]:
    found = {".": _mode(root)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = _mode(path)
    return found


def _open_every_store(data_dir: Path) -> None:
    audit = open_audit_store(data_dir, None)
    audit.append([("test", _DRAFT)])
    audit.close()
    open_store(data_dir, None).close()
    open_share_ledger(data_dir, None).close()
    ReferralRegister.open(data_dir).close()
    DeliveryLog.open(data_dir).close()
    BenefitLedger.open(data_dir, SECRET).close()
    AuthorityState.open(data_dir, SECRET).close()
    UserStore.open(data_dir).close()
    load_or_create_signing_key(None, data_dir, may_generate=True)
    write_local_state(data_dir, "127.0.0.1:9092")


def test_every_store_is_created_owner_only_under_umask_022(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    _open_every_store(data_dir)
    modes = _modes(data_dir)
    assert {
        "audit.sqlite3",
        "statistics.sqlite3",
        "share-ledger.sqlite3",
        "referrals.sqlite3",
        "deliveries.sqlite3",
        "kela-ledger.sqlite3",
        "authorities.sqlite3",
        "console-users.sqlite3",
    } <= set(modes)
    wide = {name: oct(mode) for name, mode in modes.items() if mode & 0o077}
    assert wide == {}
    assert modes["."] == 0o700


def test_sqlite_write_ahead_files_inherit_the_owner_only_mode(tmp_path: Path) -> None:
    db = connect_sqlite(tmp_path / "data" / "x.sqlite3", isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (a)")
        db.execute("INSERT INTO t VALUES (1)")
        companions = {p.name: _mode(p) for p in (tmp_path / "data").iterdir()}
    finally:
        db.close()
    assert companions == {"x.sqlite3": 0o600, "x.sqlite3-wal": 0o600, "x.sqlite3-shm": 0o600}


def test_a_world_readable_data_dir_is_tightened_on_open(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    data_dir.chmod(_WORLD_READABLE_DIR)
    for name in ("audit.sqlite3", "audit.sqlite3-wal", "audit.sqlite3-shm"):
        (data_dir / name).touch()
        (data_dir / name).chmod(_WORLD_READABLE_FILE)
    open_audit_store(data_dir, None).close()
    assert {name: oct(mode) for name, mode in _modes(data_dir).items() if mode & 0o077} == {}


def test_existing_parents_are_left_alone(tmp_path: Path) -> None:
    tmp_path.chmod(_WORLD_READABLE_DIR)
    private_directory(tmp_path / "a" / "b")
    assert _mode(tmp_path) == 0o755
    assert _mode(tmp_path / "a" / "b") == 0o700


def test_the_generated_pseudonym_key_sits_in_an_owner_only_folder(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    pseudonym_secret(settings)
    assert _mode(tmp_path / "data") == 0o700


def test_an_audit_export_is_owner_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    store = open_audit_store(data_dir, None)
    store.append([("test", _DRAFT)])
    key = load_or_create_signing_key(None, data_dir, may_generate=True)
    out = tmp_path / "export"
    export_window(store, key.public_key(), out, None, None, "2026-12-02T00:00:00+00:00")
    store.close()
    modes = _modes(out)
    assert set(modes) == {".", "records.jsonl", "checkpoints.jsonl", "manifest.json"}
    assert {name: oct(mode) for name, mode in modes.items() if mode & 0o077} == {}


def test_opening_a_store_again_keeps_the_locks_of_its_open_connections(tmp_path: Path) -> None:
    # Closing any descriptor of the file drops every POSIX lock this process holds on it. A
    # connection of another process then believes it is the last one: on closing it
    # checkpoints and deletes the WAL under this process's connection, whose later commits
    # are lost to every other reader.
    path = tmp_path / "store.sqlite3"
    holder = connect_sqlite(path, isolation_level=None)
    try:
        holder.execute("PRAGMA journal_mode=WAL")
        holder.execute("CREATE TABLE t (x)")
        holder.execute("INSERT INTO t VALUES (1)")
        connect_sqlite(path, isolation_level=None).close()
        visit = (
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
            "c.execute('SELECT count(*) FROM t').fetchone(); c.close()"
        )
        subprocess.run([sys.executable, "-c", visit, str(path)], check=True)
        assert path.with_name(path.name + "-wal").exists()
        holder.execute("INSERT INTO t VALUES (2)")
        reader = sqlite3.connect(path)
        try:
            assert reader.execute("SELECT count(*) FROM t").fetchone() == (2,)
        finally:
            reader.close()
    finally:
        holder.close()
