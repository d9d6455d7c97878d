"""Staged writes hold no lock: another connection can write while a publish is in flight."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hub.core.sqlite_store import TransactionalStore
from hub.distribution.delivery_log import DeliveryLog

SCHEMA = "CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY)"


def test_staged_writes_block_no_other_writer(tmp_path: Path) -> None:
    first = TransactionalStore(tmp_path / "s.sqlite3", SCHEMA)
    second = TransactionalStore(tmp_path / "s.sqlite3", SCHEMA)
    first.stage("INSERT INTO t VALUES (?)", ("a",))  # ... its publish is in flight ...
    second.stage("INSERT INTO t VALUES (?)", ("b",))
    second.commit()  # must not wait for `first` (it used to, until "database is locked")
    first.commit()
    assert first.first("SELECT COUNT(*) FROM {schema}.t", ()) == (2,)


def test_rollback_forgets_and_commit_is_atomic(tmp_path: Path) -> None:
    store = TransactionalStore(tmp_path / "s.sqlite3", SCHEMA)
    store.stage("INSERT INTO t VALUES (?)", ("a",))
    store.rollback()
    store.commit()
    assert store.first("SELECT k FROM {schema}.t", ()) is None
    store.stage("INSERT INTO t VALUES (?)", ("a",))
    store.stage("INSERT INTO t VALUES (?)", ("a",))  # violates the key: nothing is written
    with pytest.raises(sqlite3.IntegrityError):
        store.commit()
    assert store.first("SELECT k FROM {schema}.t", ()) is None


def test_delivery_log_sees_its_staged_deliveries_and_survives_reopen(tmp_path: Path) -> None:
    log = DeliveryLog.open(tmp_path)
    log.stage("out.kela.client-status", "e1")
    assert log.delivered("out.kela.client-status", "e1")
    assert not DeliveryLog.open(tmp_path).delivered("out.kela.client-status", "e1")
    log.commit()
    assert DeliveryLog.open(tmp_path).delivered("out.kela.client-status", "e1")
    assert not DeliveryLog.open(tmp_path).delivered("out.lahti.client-status", "e1")
