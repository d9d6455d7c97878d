"""``hub schemas check`` and ``hub schemas release`` through the real CLI entry point."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hub.cli import main
from schemas.releases import RELEASED_DIR

CLIENT_STATUS = "fi.paijathame.hub.client-status.v1"


@pytest.fixture
def released(tmp_path: Path) -> Path:
    copied = tmp_path / "released"
    shutil.copytree(RELEASED_DIR, copied)
    return copied


def _tamper(released: Path) -> None:
    """Make release 1 of client-status let `change_id` be absent: the current schema, which
    requires it, no longer reads every event release 1 allowed."""
    snapshot = released / CLIENT_STATUS / "1.schema.json"
    schema = json.loads(snapshot.read_text(encoding="utf-8"))
    schema["$defs"]["ClientStatus"]["required"].remove("change_id")
    snapshot.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")


def test_check_passes_on_the_committed_releases(
    released: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schemas", "check", "--released", str(released)]) == 0
    assert "keep every release readable" in capsys.readouterr().out


def test_check_fails_with_a_hint_when_the_current_schema_breaks_a_release(
    released: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _tamper(released)

    assert main(["schemas", "check", "--released", str(released)]) == 1

    err = capsys.readouterr().err
    assert f"{CLIENT_STATUS} (release 1): backward: data.change_id: property newly required" in err
    assert "hint: make `change_id` optional" in err
    assert "type fi.paijathame.hub.client-status.v2 on topic hub.client-status.v2" in err
    assert err.rstrip().endswith("see 'Schema evolution' in docs/canonical-events.md)")
    assert "Traceback" not in err


def test_release_refuses_a_breaking_schema_with_one_error_line(
    released: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _tamper(released)
    before = sorted(released.rglob("*"))

    assert main(["schemas", "release", "--released", str(released)]) == 1

    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("hub: error:")]
    assert errors == [
        "hub: error: nothing released: 1 change(s) break consumers of released schemas"
    ]
    assert "hint: make `change_id` optional" in err
    assert sorted(released.rglob("*")) == before


def test_release_then_check_on_a_new_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "new"
    assert main(["schemas", "check", "--released", str(folder)]) == 1
    # The six canonical event types (benefit-day in two major versions) and the state's
    # statistics document.
    assert "7 schema(s) not released: run `hub schemas release`" in capsys.readouterr().err

    assert main(["schemas", "release", "--released", str(folder)]) == 0
    assert capsys.readouterr().out.count("released ") == 7
    assert main(["schemas", "check", "--released", str(folder)]) == 0
    assert main(["schemas", "release", "--released", str(folder)]) == 0
    assert "nothing to release" in capsys.readouterr().out
