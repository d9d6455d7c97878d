"""The JSON Schema of a partner's view: the canonical schema cut as ``project`` cuts events."""

from __future__ import annotations

from connectors import CONNECTORS
from hub.app.runtime import renderers_for
from hub.distribution.contracts import ENVELOPE_ATTRIBUTES, Receipt, load_contract_book
from hub.distribution.projection_schema import event_type_of, projected_schema
from schemas.codes import Partner

BOOK = load_contract_book(renderers_for(CONNECTORS))


def _receipt(partner: Partner, family: str, notice: str | None = None) -> Receipt:
    (receipt,) = (
        r for r in BOOK.contracts[partner].receives if r.family == family and r.notice == notice
    )
    return receipt


def test_kela_view_holds_exactly_its_contract_fields_and_the_definitions_they_use() -> None:
    receipt = _receipt(Partner.KELA, "client-status")
    schema = projected_schema(receipt)

    data = schema["$defs"]["ClientStatus"]
    assert set(data["properties"]) == set(receipt.fields)
    assert "note" not in data["properties"]
    assert set(data["required"]) <= set(receipt.fields)
    # `service` needs ServicePeriod and ServiceCode; nothing Kela does not get stays.
    assert set(schema["$defs"]) == {
        "Authority", "ClientStatus", "EmploymentStatus", "ServiceCode", "ServicePeriod",
    }  # fmt: skip
    assert set(schema["properties"]) == {*ENVELOPE_ATTRIBUTES, "data"}
    assert "$id" not in schema
    assert schema["title"].endswith("as received on out.kela.client-status")


def test_a_reduced_disclosure_requires_its_notice() -> None:
    schema = projected_schema(_receipt(Partner.LAHTI, "client-status", "moved-out"))
    assert schema["properties"]["hubnotice"]["const"] == "moved-out"
    assert "hubnotice" in schema["required"]


def test_event_type_of_a_family() -> None:
    assert event_type_of("referral-status") == "fi.paijathame.hub.referral-status.v1"
