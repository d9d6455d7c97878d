"""Generated parts of docs/: the settings table and the partners' ACLs follow the code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import Field

from connectors import CONNECTORS
from hub.admin.acls import acl_bindings
from hub.app.runtime import renderers_for
from hub.cli import main
from hub.core.errors import ConfigurationError
from hub.core.settings import HubSettings
from hub.distribution.contracts import load_contract_book
from hub.spec.doc_sections import PARTNER_PAGES, Section, render_docs, sections, splice
from hub.spec.settings_doc import settings_table

BOOK = load_contract_book(renderers_for(CONNECTORS))
DOCS = Path(__file__).parents[4] / "docs"


def test_committed_docs_match_the_code() -> None:
    stale = [str(p) for p, (now, generated) in render_docs(DOCS, BOOK).items() if now != generated]
    assert not stale, f"{stale} are out of date: run `hub docs generate` and commit the result"


def test_every_setting_has_a_row_with_its_default_and_description() -> None:
    table = settings_table()
    for name, field in HubSettings.model_fields.items():
        [row] = [
            line for line in table.splitlines() if line.startswith(f"| `HUB_{name.upper()}` |")
        ]
        assert str(field.description).replace("|", "\\|") in row
    assert "| `HUB_TOPIC_PARTITIONS` | `3` | 1 to 1000 |" in table
    assert "| `HUB_LOG_LEVEL` | `info` | `debug`, `info`, `warning`, `error` |" in table
    assert "| `HUB_KAFKA_BOOTSTRAP` | unset |" in table
    assert "| `HUB_TOPIC_RETENTION_MS` | `604800000` (7 d) | ≥ -1 |" in table


class _WithAuditKey(HubSettings):
    audit_signing_key_file: Path | None = Field(
        default=None, description="File holding the key that signs audit records."
    )


class _Undocumented(HubSettings):
    audit_signing_key_file: Path | None = None


def test_a_new_setting_appears_without_editing_the_table() -> None:
    table = settings_table(_WithAuditKey)
    assert (
        "| `HUB_AUDIT_SIGNING_KEY_FILE` | unset | path | File holding the key that signs audit "
        "records. |" in table
    )


def test_a_setting_without_description_is_refused() -> None:
    with pytest.raises(ValueError, match="audit_signing_key_file has no description"):
        settings_table(_Undocumented)


def test_every_partner_with_acls_has_them_on_its_page() -> None:
    principals = {b.principal for b in acl_bindings(BOOK)} - {"User:hub"}
    assert {f"User:{partner}" for partner in PARTNER_PAGES} == principals
    for partner, page in PARTNER_PAGES.items():
        text = (DOCS / page).read_text(encoding="utf-8")
        assert f"Kafka principal `User:{partner}`:" in text
        assert f"| read | consumer groups starting with | `{partner}.` |" in text


def test_missing_markers_are_named() -> None:
    section = Section("operations.md", "settings", lambda: "table")
    with pytest.raises(ConfigurationError, match="markers of the generated part 'settings'"):
        splice("no markers here", section)
    assert splice(f"a\n{section.start}\nold\n{section.end}\nb", section) == (
        f"a\n{section.start}\ntable\n{section.end}\nb"
    )


@pytest.mark.usefixtures("restore_logging", "cli_env")
def test_check_fails_on_a_stale_part_and_generate_repairs_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = tmp_path / "docs"
    for section in sections(BOOK):
        (docs / section.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DOCS / section.path, docs / section.path)
    operations = docs / "operations.md"
    operations.write_text(
        operations.read_text(encoding="utf-8").replace("`HUB_LOG_LEVEL`", "`HUB_LOGLEVEL`"),
        encoding="utf-8",
    )
    assert main(["docs", "check", "--docs", str(docs)]) == 1
    assert f"{operations} is out of date" in capsys.readouterr().err
    assert main(["docs", "generate", "--docs", str(docs)]) == 0
    assert main(["docs", "check", "--docs", str(docs)]) == 0
    assert operations.read_text(encoding="utf-8") == (DOCS / "operations.md").read_text(
        encoding="utf-8"
    )
