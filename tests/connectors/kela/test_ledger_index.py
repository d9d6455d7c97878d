"""The ledger indexes corrections only: a correction is checked against what the corrections
before it took back, found through the index, and an ordinary record (nearly every record) is
recorded without an index insert beyond its key. A ledger made with the older full index loses
it when the hub next opens it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from connectors.kela.ledger import _TAKEN_BACK, BenefitLedger
from tests.support import SECRET

LEDGER = "kela-ledger.sqlite3"
INDEX = "kela_records_correction_of"


def _indexes(path: Path) -> dict[str, str | None]:
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'kela_records'"
        ).fetchall()
    db.close()
    return {str(name): sql for name, sql in rows}


def _plan(path: Path) -> str:
    with sqlite3.connect(path) as db:
        rows = db.execute(
            f"EXPLAIN QUERY PLAN {_TAKEN_BACK.format(schema='main')}", ("K", "K", "K")
        )
        plan = "\n".join(str(row[-1]) for row in rows.fetchall())
    db.close()
    return plan


def test_the_corrections_taken_back_are_found_through_the_index(tmp_path: Path) -> None:
    BenefitLedger.open(tmp_path, SECRET).close()
    plan = _plan(tmp_path / LEDGER)
    assert f"USING INDEX {INDEX} (belongs_to=?)" in plan
    assert "SCAN" not in plan  # neither the table nor the whole index is read


def test_only_corrections_are_indexed(tmp_path: Path) -> None:
    BenefitLedger.open(tmp_path, SECRET).close()
    definitions = _indexes(tmp_path / LEDGER)
    # The primary key's own index (no SQL of its own) and the corrections' index, nothing else.
    assert set(definitions) == {"sqlite_autoindex_kela_records_1", INDEX}
    assert str(definitions[INDEX]).endswith("WHERE corrects IS NOT NULL")


def test_a_ledger_with_the_full_index_gets_the_corrections_index_instead(
    tmp_path: Path,
) -> None:
    BenefitLedger.open(tmp_path, SECRET).close()
    with sqlite3.connect(tmp_path / LEDGER) as db:
        db.execute(f"DROP INDEX {INDEX}")
        db.execute("CREATE INDEX kela_records_belongs_to ON kela_records (belongs_to)")
    db.close()
    # A dry run upgrades the real ledger it reads, as opening it for the hub does.
    BenefitLedger.dry_run(tmp_path, SECRET, scratch_dir=tmp_path).close()
    assert set(_indexes(tmp_path / LEDGER)) == {"sqlite_autoindex_kela_records_1", INDEX}
    assert f"USING INDEX {INDEX}" in _plan(tmp_path / LEDGER)
