"""Released snapshots: the committed releases hold, ``release_schemas`` appends, the gate is
transitive over every release and refuses to release a breaking schema."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from schemas.catalogue import SCHEMA_TYPES, render_schema
from schemas.compatibility import Breach, Direction
from schemas.releases import (
    RELEASED_DIR,
    IncompatibleSchemas,
    check_releases,
    next_major,
    release_schemas,
    releases_of,
)

CLIENT_STATUS = "fi.paijathame.hub.client-status.v1"


def _released_copy(tmp_path: Path) -> Path:
    copied = tmp_path / "released"
    shutil.copytree(RELEASED_DIR, copied)
    return copied


def _edit(path: Path, change: Any) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    change(schema)
    path.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")


def _with_legacy_property(schema: dict[str, Any]) -> None:
    schema["$defs"]["ClientStatus"]["properties"]["legacy_code"] = {"type": "string"}


def test_the_committed_schemas_keep_every_release_readable() -> None:
    assert check_releases() == []


@pytest.mark.parametrize("event_type", SCHEMA_TYPES)
def test_every_type_has_a_first_release(event_type: str) -> None:
    assert [number for number, _ in releases_of(event_type)][:1] == [1]


def test_release_into_an_empty_folder_writes_release_1_of_every_type(tmp_path: Path) -> None:
    written = release_schemas(tmp_path)

    assert sorted(written) == sorted(tmp_path / t / "1.schema.json" for t in SCHEMA_TYPES)
    assert (tmp_path / CLIENT_STATUS / "1.schema.json").read_text() == render_schema(CLIENT_STATUS)
    assert check_releases(tmp_path) == []
    assert release_schemas(tmp_path) == []


def test_an_unreleased_schema_is_reported_but_not_as_breaking(tmp_path: Path) -> None:
    released = _released_copy(tmp_path)
    _edit(released / CLIENT_STATUS / "1.schema.json", lambda s: s.update(description="old"))

    (finding,) = check_releases(released)

    assert (finding.event_type, finding.release, finding.breaking) == (CLIENT_STATUS, 2, False)
    assert "hub schemas release" in finding.hint


def test_a_compatible_change_is_released_as_the_next_number(tmp_path: Path) -> None:
    released = _released_copy(tmp_path)
    # Release 1 lacked an optional property the current schema has: a compatible addition.
    _edit(
        released / CLIENT_STATUS / "1.schema.json",
        lambda s: s["$defs"]["ClientStatus"]["properties"].pop("note"),
    )

    written = release_schemas(released)

    assert written == [released / CLIENT_STATUS / "2.schema.json"]
    assert check_releases(released) == []


def test_every_release_is_checked_not_only_the_last(tmp_path: Path) -> None:
    released = _released_copy(tmp_path)
    # Release 1 carried `legacy_code`; release 2 dropped it, and equals the current schema.
    folder = released / CLIENT_STATUS
    shutil.copy(folder / "1.schema.json", folder / "2.schema.json")
    _edit(folder / "1.schema.json", _with_legacy_property)

    findings = check_releases(released)

    assert [(f.release, f.finding and f.finding.breach) for f in findings] == [(1, Breach.PROPERTY)]
    assert findings[0].finding is not None
    assert findings[0].finding.path == "data.legacy_code"


def test_a_breaking_schema_is_not_released(tmp_path: Path) -> None:
    released = _released_copy(tmp_path)
    _edit(released / CLIENT_STATUS / "1.schema.json", _with_legacy_property)
    before = sorted(released.rglob("*"))

    with pytest.raises(IncompatibleSchemas) as refused:
        release_schemas(released)

    (finding,) = refused.value.findings
    assert finding.finding is not None
    assert finding.finding.direction is Direction.BACKWARD
    assert "fi.paijathame.hub.client-status.v2 on topic hub.client-status.v2" in finding.hint
    assert sorted(released.rglob("*")) == before


def test_a_released_type_without_a_model_is_reported(tmp_path: Path) -> None:
    released = _released_copy(tmp_path)
    gone = released / "fi.paijathame.hub.gone.v1"
    gone.mkdir()
    shutil.copy(released / CLIENT_STATUS / "1.schema.json", gone / "1.schema.json")

    (finding,) = check_releases(released)

    assert finding.event_type == "fi.paijathame.hub.gone.v1"
    assert finding.breaking
    assert "SCHEMA_TYPES" in finding.hint


def test_a_snapshot_must_be_named_by_its_number(tmp_path: Path) -> None:
    released = _released_copy(tmp_path)
    shutil.copy(released / CLIENT_STATUS / "1.schema.json", released / CLIENT_STATUS / "x.json")
    with pytest.raises(ValueError, match=r"x\.json: a release snapshot is named"):
        check_releases(released)


def test_next_major_names_the_type_and_topic() -> None:
    assert next_major(CLIENT_STATUS) == (
        "fi.paijathame.hub.client-status.v2",
        "hub.client-status.v2",
    )
    assert next_major("fi.paijathame.hub.benefit-day.v9")[1] == "hub.benefit-day.v10"
