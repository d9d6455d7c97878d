"""Fixtures shared by every test layer."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from hub.audit.store import AuditStore, open_audit_store
from tests.postgres import PostgresServer, postgres_server


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Let a test call ``configure_logging`` without leaking handlers into other tests."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.reset_defaults()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL cluster (Debian's server) for the session."""
    with postgres_server() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def audit_dsn(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """``None`` (SQLite in the data directory) or the DSN of a fresh PostgreSQL database:
    every audit test runs against both stores."""
    if request.param == "sqlite":
        return None
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


@pytest.fixture
def audit_store(audit_dsn: str | None, tmp_path: Path) -> Iterator[AuditStore]:
    """An empty audit store of either kind."""
    store = open_audit_store(tmp_path / "data", audit_dsn)
    try:
        yield store
    finally:
        store.close()
