"""The disclosure rules of DESIGN §5, proven against the contract files the hub runs with."""

from __future__ import annotations

from connectors import CONNECTORS
from hub.contracts import load_contract_book
from hub.runtime import renderers_for
from schemas.codes import Partner

BOOK = load_contract_book(renderers_for(CONNECTORS))

#: Fields that are internal to an authority or may hold health information.
NEVER_TO_KELA = {"case_worker", "note", "reason", "client_number"}


def test_kela_never_receives_internal_notes_case_workers_or_referral_reasons() -> None:
    for receipt in BOOK.contracts[Partner.KELA].receives:
        assert not NEVER_TO_KELA & set(receipt.fields), receipt.family
        assert receipt.family not in {"service-referral", "referral-status"}


def test_kela_receives_exactly_the_fields_of_its_interface_document() -> None:
    [receipt] = BOOK.contracts[Partner.KELA].receives
    assert set(receipt.fields) == {
        "authority", "person_id", "employment_status", "status_since",
        "job_search_active", "service", "changed_at",
    }  # fmt: skip


def test_benefit_data_goes_to_labour_authorities_only() -> None:
    for partner, contract in BOOK.contracts.items():
        if any(r.family == "benefit-day" for r in contract.receives):
            assert partner in {Partner.LAHTI, Partner.PH}


def test_sote_never_receives_benefit_data() -> None:
    sote = BOOK.contracts.get(Partner.SOTE)
    assert sote is None or all(r.family != "benefit-day" for r in sote.receives)


def test_every_disclosure_names_a_legal_basis() -> None:
    for contract in BOOK.contracts.values():
        for receipt in contract.receives:
            basis = receipt.legal_basis
            assert basis.statute
            assert basis.section
            assert basis.text
