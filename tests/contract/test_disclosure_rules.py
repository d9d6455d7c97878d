"""The disclosure rules of DESIGN §5, proven against the contract files the hub runs with."""

from __future__ import annotations

import orjson
import pytest

from connectors import CONNECTORS
from hub.app.runtime import renderers_for
from hub.distribution.contracts import load_contract_book
from hub.distribution.routes import route_event
from schemas.codes import Partner
from tests.support import client_status_event

RENDERERS = renderers_for(CONNECTORS)
BOOK = load_contract_book(RENDERERS)

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


AREA = {"398": "lahti", "098": "ph", "560": "ph", "091": None}
NOTICE_FIELDS = {"authority", "person_id", "previous_home_municipality", "changed_at"}


@pytest.mark.parametrize("author", ["lahti", "ph"])
@pytest.mark.parametrize("home", sorted(AREA))
@pytest.mark.parametrize("previous", [None, *sorted(AREA)])
def test_an_authority_gets_its_residents_in_full_and_leavers_as_a_bare_notice(
    author: str, home: str, previous: str | None
) -> None:
    event = client_status_event(
        authority=author, home_municipality=home, previous_home_municipality=previous
    )
    routed = route_event(BOOK, RENDERERS, "client-status", event.model_dump_json().encode())
    assert isinstance(routed, list)
    for authority in ("lahti", "ph"):
        sent = [
            orjson.loads(m.value) for m in routed if m.topic == f"out.{authority}.client-status"
        ]
        if authority == author:
            assert sent == []  # an authority never gets its own records back
        elif AREA[home] == authority:
            [full] = sent
            assert "hubnotice" not in full
            assert full["data"]["employment_status"] == "unemployed"
            assert "note" not in full["data"]
            assert "case_worker" not in full["data"]
        elif previous is not None and AREA[previous] == authority:
            [notice] = sent
            assert notice["hubnotice"] == "moved-out"
            assert set(notice["data"]) == NOTICE_FIELDS
        else:
            assert sent == []  # a person outside its area: nothing at all


def test_sote_gets_client_status_only_with_an_open_referral() -> None:
    class Register:
        def __init__(self, open_for: set[str]) -> None:
            self.open_for = open_for

        def has_open_referral(self, person_ref: str, recipient: str, at: object) -> bool:
            return recipient == "sote" and person_ref in self.open_for

    event = client_status_event()
    value = event.model_dump_json().encode()
    closed = route_event(BOOK, RENDERERS, "client-status", value, Register(set()))
    opened = route_event(BOOK, RENDERERS, "client-status", value, Register({event.subject}))
    assert isinstance(closed, list)
    assert isinstance(opened, list)
    assert "out.sote.client-status" not in {m.topic for m in closed}
    [to_sote] = [m for m in opened if m.topic == "out.sote.client-status"]
    assert set(orjson.loads(to_sote.value)["data"]) == {
        "authority", "person_id", "employment_status", "status_since",
        "job_search_active", "service", "changed_at",
    }  # fmt: skip
