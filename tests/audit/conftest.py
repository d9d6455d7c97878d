"""Fixtures of the audit tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.audit.store import AuditStore
from tests.audit.tampering import Insider


@pytest.fixture
def insider(audit_store: AuditStore, audit_dsn: str | None, tmp_path: Path) -> Iterator[Insider]:
    """A connection of an insider's own to the database of ``audit_store``."""
    with Insider(tmp_path / "data", audit_dsn) as connection:
        yield connection
