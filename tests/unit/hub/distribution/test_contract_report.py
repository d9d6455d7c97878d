"""The data-protection officers' view of the contracts, and its committed copy in docs/."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors import CONNECTORS
from hub.app.runtime import renderers_for
from hub.distribution.contract_report import aggregates_of, contract_markdown, contract_report
from hub.distribution.contracts import ContractBook, load_contract_book
from schemas.codes import Partner

BOOK = load_contract_book(renderers_for(CONNECTORS))
DOCS = Path(__file__).parents[4] / "docs" / "contracts"


def test_kela_report_lists_sent_and_withheld_fields_with_the_legal_basis() -> None:
    name, [report] = contract_report(BOOK, Partner.KELA)
    assert name.startswith("Kela")
    assert [field for field, _ in report.fields] == [
        "authority", "person_id", "employment_status", "status_since",
        "job_search_active", "service", "changed_at",
    ]  # fmt: skip
    assert {"case_worker", "note", "client_number"} <= set(report.withheld)
    assert report.statute == "Työttömyysturvalaki (1290/2002)"
    assert dict(report.fields)["employment_status"] == "Employment status (työllisyystilanne)."


def test_moved_out_notice_is_reported_as_a_notice_without_status_details() -> None:
    _, reports = contract_report(BOOK, Partner.LAHTI)
    [notice] = [r for r in reports if r.notice == "moved-out"]
    assert "moved out" in notice.condition
    assert "employment_status" in notice.withheld


def test_a_partner_without_contract_receives_nothing() -> None:
    without = ContractBook(
        {p: c for p, c in BOOK.contracts.items() if p is not Partner.KEHA}, BOOK.municipalities
    )
    assert contract_report(without, Partner.KEHA)[1] == []
    assert "Nothing: there is no contract" in contract_markdown(without, Partner.KEHA)


def test_keha_receives_aggregated_figures_and_no_field_about_a_person() -> None:
    assert contract_report(BOOK, Partner.KEHA)[1] == []
    [aggregate] = aggregates_of(BOOK, Partner.KEHA)
    assert aggregate.topic == "out.keha.statistics"
    assert aggregate.document == "fi.paijathame.hub.monthly-statistics.v1"
    markdown = contract_markdown(BOOK, Partner.KEHA)
    assert "Nothing: there is no contract" not in markdown
    assert "No field about a person is sent" in markdown


@pytest.mark.parametrize("partner", list(Partner))
def test_committed_contract_docs_match_the_contracts(partner: Partner) -> None:
    committed = (DOCS / f"{partner.value}.md").read_text(encoding="utf-8")
    name = partner.value
    assert committed == contract_markdown(BOOK, partner) + "\n", (
        f"docs/contracts/{name}.md is stale: run "
        f"`hub contracts show {name} --format markdown > docs/contracts/{name}.md`"
    )
