"""Contract loading: a broken contract stops start-up naming the file and the field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from connectors import CONNECTORS
from contracts import CONTRACT_DIR, MUNICIPALITIES_FILE
from hub.app.runtime import renderers_for
from hub.core.errors import ConfigurationError
from hub.distribution.contracts import (
    Condition,
    Receipt,
    load_contract_book,
    load_municipalities,
    project,
)
from schemas.codes import Authority, Partner

FORMATS = tuple(renderers_for(CONNECTORS))


@pytest.fixture
def contract_dir(tmp_path: Path) -> Path:
    for path in CONTRACT_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_packaged_contracts_and_municipalities_load() -> None:
    book = load_contract_book(FORMATS)
    assert set(book.contracts) == {
        Partner.KELA, Partner.LAHTI, Partner.PH, Partner.SOTE, Partner.KEHA,
    }  # fmt: skip
    assert book.municipalities["398"] is Authority.LAHTI
    assert {code for code, a in book.municipalities.items() if a is Authority.PH} == {
        "016", "081", "098", "111", "142", "316", "560", "576", "781",
    }  # fmt: skip


BROKEN = [
    # (file, text in it, replaced by, the start of the expected error after the file name)
    ("kela.yaml", "- status_since", "- notes", "receives[0].fields[3]: 'notes' is not a field"),
    ("kela.yaml", "topic: out.kela.", "topic: out.lahti.", "receives[0].topic: 'out.lahti.client"),
    ("kela.yaml", "format: kela-tvpt-xml", "format: csv", "receives[0].format: 'csv' has no"),
    ("kela.yaml", "family: client-status", "family: x", "receives[0].family: 'x' is not a"),
    ("kela.yaml", "when: always", "when: home-municipality-in-area", "receives[0].when: home-"),
    ("kela.yaml", "when: always", "when: sometimes", "receives.0.when: Input should be"),
    ("lahti.yaml", "legal_basis:", "legal_basiss:", "receives.0.legal_basis: Field required"),
    ("lahti.yaml", "partner: lahti", "partner: ph", "partner: 'ph' in a file named lahti.yaml"),
    ("ph.yaml", "receives:", "receives: [", "not valid YAML"),
]


@pytest.mark.parametrize(("file", "old", "new", "message"), BROKEN)
def test_broken_contract_is_named_by_file_and_field(
    contract_dir: Path, file: str, old: str, new: str, message: str
) -> None:
    _edit(contract_dir / file, old, new)
    with pytest.raises(ConfigurationError) as caught:
        load_contract_book(FORMATS, contract_dir)
    assert str(caught.value).startswith(f"{contract_dir / file}: {message}")


def test_municipality_table_errors_name_the_entry(tmp_path: Path) -> None:
    table = tmp_path / "m.yaml"
    table.write_text('"398": lahti\n"98": ph\n', encoding="utf-8")
    with pytest.raises(ConfigurationError, match="'98': municipality codes are 3 digits"):
        load_municipalities(table)
    table.write_text('"398": helsinki\n', encoding="utf-8")
    with pytest.raises(ConfigurationError, match="398: 'helsinki' is not an authority"):
        load_municipalities(table)


def test_municipality_table_is_configuration(tmp_path: Path) -> None:
    table = tmp_path / "m.yaml"
    table.write_text(MUNICIPALITIES_FILE.read_text(encoding="utf-8") + '"091": lahti\n')
    book = load_contract_book(FORMATS, CONTRACT_DIR, table)
    [disclosure] = book.disclosures_for("benefit-day", {"home_municipality": "091"})
    assert disclosure.partner is Partner.LAHTI


def test_benefit_day_goes_only_to_the_authority_of_the_home_municipality() -> None:
    book = load_contract_book(FORMATS)
    for code, authority in book.municipalities.items():
        partners = [
            d.partner for d in book.disclosures_for("benefit-day", {"home_municipality": code})
        ]
        assert partners == [Partner(authority.value)]
    assert book.disclosures_for("benefit-day", {"home_municipality": "091"}) == []
    assert book.disclosures_for("benefit-day", {}) == []


def test_projection_keeps_envelope_and_only_listed_data_fields() -> None:
    receipt = Receipt(
        family="client-status",
        topic="out.kela.client-status",
        format="kela-tvpt-xml",
        when=Condition.ALWAYS,
        fields=("person_id", "service"),
        legal_basis={"statute": "s", "section": "1 §", "text": "t"},  # type: ignore[arg-type]
    )
    event = {
        "specversion": "1.0", "id": "e1", "source": "s", "type": "t", "subject": "p-1",
        "time": "2025-03-01T08:12:00+02:00", "datacontenttype": "application/json",
        "dataschema": "urn:x", "extension": "dropped",
        "data": {"person_id": "x", "note": "secret", "case_worker": "V M", "service": None},
    }  # fmt: skip
    projected = project(event, receipt)
    assert projected["data"] == {"person_id": "x", "service": None}
    assert "extension" not in projected
    assert projected["subject"] == "p-1"
