"""Päijät-Sote's ServiceRequest: exactly the interface table, valid FHIR, nothing beyond it."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any, Final

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from connectors.authorities.native import REFERRAL_SERVICES
from connectors.sote.outbound import (
    DEFAULT_ORGANISATIONS,
    PRIORITIES,
    PROFILE,
    SERVICE_CODES,
    SERVICE_NAMES,
    Organisations,
    ServiceRequestFields,
    UnrenderableReferralError,
    WrongEventTypeError,
    render_service_request,
    resource_id,
    to_service_request,
)
from hub.core.settings import HubSettings
from schemas.codes import Authority, Partner, ReferralService, Urgency
from tests.strategies import identity_codes

CODE: Final = "131052-930V"
REASON: Final = "Pitkä työttömyys; asiakas hyötyy kuntouttavasta työtoiminnasta."
#: uuid5 of "lahti/L-2025-000871": a change here changes every resource id on Sote's server.
RESOURCE_ID: Final = "6f13cb88-6256-57b2-b9a2-bf62bdc2e0c3"
LAHTI_OID: Final = "urn:oid:1.2.246.10.9990001.10"
PH_OID: Final = "urn:oid:1.2.246.10.9990002.10"
SOTE_OID: Final = "urn:oid:1.2.246.10.9990003.10"
PROFILE_URL: Final = "urn:fi:paijathame:hub:fhir:StructureDefinition:service-request"

#: A projected canonical referral (the hub's projection output, JSON mode).
PROJECTED: Final[dict[str, Any]] = {
    "specversion": "1.0",
    "id": "0b6f6a3e-3b0e-5b8e-9d55-0c3f3e7d6a11",
    "source": "urn:fi:paijathame:hub:connector:lahti",
    "type": "fi.paijathame.hub.service-referral.v1",
    "subject": "p-4bb62d54c3928bbd4e402027e3d58d3d",
    "time": "2025-03-14T10:00:00+02:00",
    "datacontenttype": "application/json",
    "dataschema": "urn:fi:paijathame:hub:schema:fi.paijathame.hub.service-referral.v1",
    "data": {
        "referral_id": "L-2025-000871",
        "person_id": CODE,
        "sender": "lahti",
        "recipient": "sote",
        "service": "rehabilitative_work_activity",
        "reason": REASON,
        "urgency": "routine",
        "requested_start": "2025-04-01",
        "sent_at": "2025-03-14T10:00:00+02:00",
    },
}

#: What Päijät-Sote receives for PROJECTED, in FHIR's element order.
GOLDEN: Final[dict[str, Any]] = {
    "resourceType": "ServiceRequest",
    "id": RESOURCE_ID,
    "meta": {"profile": [PROFILE_URL]},
    "identifier": [{"system": "urn:fi:paijathame:hub:referral", "value": "L-2025-000871"}],
    "status": "active",
    "intent": "order",
    "priority": "routine",
    "code": {
        "coding": [
            {
                "system": "urn:fi:paijathame:hub:service",
                "code": "KUNTOUTTAVA_TYOTOIMINTA",
                "display": "Kuntouttava työtoiminta",
            }
        ]
    },
    "subject": {"identifier": {"system": "urn:oid:1.2.246.21", "value": CODE}},
    "occurrencePeriod": {"start": "2025-04-01"},
    "authoredOn": "2025-03-14T10:00:00+02:00",
    "requester": {
        "type": "Organization",
        "identifier": {"system": "urn:ietf:rfc:3986", "value": LAHTI_OID},
    },
    "performer": [
        {"type": "Organization", "identifier": {"system": "urn:ietf:rfc:3986", "value": SOTE_OID}}
    ],
    "reasonCode": [{"text": REASON}],
}

TABLE_ELEMENTS: Final = {
    "resourceType",
    "id",
    "meta",
    "identifier",
    "status",
    "intent",
    "code",
    "subject",
    "requester",
    "performer",
    "reasonCode",
    "priority",
    "occurrencePeriod",
    "authoredOn",
}


def projected(**data: object) -> dict[str, Any]:
    """PROJECTED with ``data`` fields changed; ``...`` removes a field."""
    fields = {**PROJECTED["data"], **data}
    return {**PROJECTED, "data": {k: v for k, v in fields.items() if v is not ...}}


def rendered(**data: object) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(render_service_request(projected(**data)))
    return result


# --- the golden example ----------------------------------------------------------------------


def test_full_example_renders_exactly_the_golden_resource() -> None:
    assert json.loads(render_service_request(PROJECTED)) == GOLDEN


def test_output_is_compact_utf8_json_in_fhir_element_order() -> None:
    expected = json.dumps(GOLDEN, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert render_service_request(PROJECTED) == expected
    assert "työtoiminta".encode() in render_service_request(PROJECTED)


def test_rendering_is_deterministic() -> None:
    assert render_service_request(PROJECTED) == render_service_request(dict(PROJECTED))


def test_output_revalidates_as_a_fhir_service_request() -> None:
    raw = render_service_request(PROJECTED)
    resource = ServiceRequest.model_validate_json(raw)
    assert resource.model_dump_json(exclude_none=True).encode("utf-8") == raw


# --- each element of the table ---------------------------------------------------------------


def _at(resource: dict[str, Any], path: str) -> object:
    value: Any = resource
    for part in path.split("."):
        value = value[int(part)] if part.isdigit() else value[part]
    return value


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("identifier.0.system", "urn:fi:paijathame:hub:referral"),
        ("identifier.0.value", "L-2025-000871"),
        ("status", "active"),
        ("intent", "order"),
        ("code.coding.0.system", "urn:fi:paijathame:hub:service"),
        ("code.coding.0.code", "KUNTOUTTAVA_TYOTOIMINTA"),
        ("code.coding.0.display", "Kuntouttava työtoiminta"),
        ("subject.identifier.system", "urn:oid:1.2.246.21"),
        ("subject.identifier.value", CODE),
        ("id", RESOURCE_ID),
        ("meta.profile.0", PROFILE_URL),
        ("requester.type", "Organization"),
        ("requester.identifier.system", "urn:ietf:rfc:3986"),
        ("requester.identifier.value", LAHTI_OID),
        ("performer.0.type", "Organization"),
        ("performer.0.identifier.system", "urn:ietf:rfc:3986"),
        ("performer.0.identifier.value", SOTE_OID),
        ("reasonCode.0.text", REASON),
        ("priority", "routine"),
        ("occurrencePeriod.start", "2025-04-01"),
        ("authoredOn", "2025-03-14T10:00:00+02:00"),
    ],
)
def test_each_table_element_holds_its_value(path: str, value: str) -> None:
    assert _at(rendered(), path) == value


def test_no_element_beyond_the_table() -> None:
    resource = rendered()
    assert set(resource) == TABLE_ELEMENTS
    assert len(resource["identifier"]) == 1
    assert set(resource["identifier"][0]) == {"system", "value"}
    assert set(resource["code"]) == {"coding"}
    assert len(resource["code"]["coding"]) == 1
    assert set(resource["code"]["coding"][0]) == {"system", "code", "display"}
    assert resource["subject"] == {"identifier": {"system": "urn:oid:1.2.246.21", "value": CODE}}
    assert resource["meta"] == {"profile": [PROFILE_URL]}
    assert resource["requester"] == GOLDEN["requester"]
    assert resource["performer"] == GOLDEN["performer"]
    assert resource["reasonCode"] == [{"text": REASON}]
    assert resource["occurrencePeriod"] == {"start": "2025-04-01"}


@pytest.mark.parametrize(
    ("service", "code", "display"),
    [
        ("rehabilitative_work_activity", "KUNTOUTTAVA_TYOTOIMINTA", "Kuntouttava työtoiminta"),
        ("health_check", "TERVEYSTARKASTUS", "Työttömien terveystarkastus"),
        ("work_ability_assessment", "TYOKYVYN_ARVIOINTI", "Työkyvyn arviointi"),
        ("multisector_support", "MONIALAINEN_TUKI", "Monialainen tuki"),
    ],
)
def test_service_is_sent_as_its_interface_code_and_finnish_name(
    service: str, code: str, display: str
) -> None:
    coding = rendered(service=service)["code"]["coding"]
    assert coding == [{"system": "urn:fi:paijathame:hub:service", "code": code, "display": display}]


def test_service_codes_are_the_interface_documents_codes() -> None:
    # The same codes the authorities' referrals arrive with (labour-authorities.md).
    from_document = {service: code for code, service in REFERRAL_SERVICES.items()}
    assert dict(SERVICE_CODES) == {
        service: code
        for service, code in from_document.items()
        if service is not ReferralService.INTEGRATION_TRAINING
    }
    assert set(SERVICE_NAMES) == set(SERVICE_CODES)
    assert all(name.isprintable() and name == name.strip() for name in SERVICE_NAMES.values())


@pytest.mark.parametrize(("urgency", "priority"), [("routine", "routine"), ("urgent", "urgent")])
def test_urgency_is_the_priority(urgency: str, priority: str) -> None:
    assert rendered(urgency=urgency)["priority"] == priority
    assert PRIORITIES[Urgency(urgency)] == priority


@pytest.mark.parametrize(("sender", "oid"), [("lahti", LAHTI_OID), ("ph", PH_OID)])
def test_sender_is_the_requester_by_its_oid(sender: str, oid: str) -> None:
    assert rendered(sender=sender)["requester"] == {
        "type": "Organization",
        "identifier": {"system": "urn:ietf:rfc:3986", "value": oid},
    }


def test_configured_oids_name_the_organisations() -> None:
    names = Organisations(lahti="1.2.3", ph="1.2.4", sote="2.25.0")
    lahti = json.loads(render_service_request(PROJECTED, names))
    ph = json.loads(render_service_request(projected(sender="ph"), names))
    assert lahti["requester"]["identifier"]["value"] == "urn:oid:1.2.3"
    assert ph["requester"]["identifier"]["value"] == "urn:oid:1.2.4"
    assert lahti["performer"][0]["identifier"]["value"] == "urn:oid:2.25.0"


def test_the_default_oids_are_the_settings_defaults() -> None:
    defaults = HubSettings.model_fields
    assert (
        Organisations(
            lahti=defaults["organisation_oid_lahti"].default,
            ph=defaults["organisation_oid_ph"].default,
            sote=defaults["organisation_oid_sote"].default,
        )
        == DEFAULT_ORGANISATIONS
    )


@pytest.mark.parametrize("oid", ["", "1", "3.1", "1.02", "1.2.", "urn:oid:1.2", "1..2", "1.2 "])
def test_an_organisation_identifier_that_is_no_oid_is_refused(oid: str) -> None:
    with pytest.raises(ValueError, match="lahti"):
        Organisations(lahti=oid, ph="1.2", sote="1.2")


@pytest.mark.parametrize("oid", ["0.0", "1.2", "2.999.0.10", "1.2.246.10.9990001.10"])
def test_an_oid_is_accepted(oid: str) -> None:
    assert Organisations(lahti=oid, ph=oid, sote=oid).of(Authority.LAHTI) == f"urn:oid:{oid}"


def test_the_profile_is_the_published_one() -> None:
    assert PROFILE == PROFILE_URL


def test_the_resource_id_is_stable_and_per_sender() -> None:
    assert rendered()["id"] == resource_id(Authority.LAHTI, "L-2025-000871") == RESOURCE_ID
    assert rendered(sender="ph")["id"] != RESOURCE_ID
    assert rendered(referral_id="L-2025-000872")["id"] != RESOURCE_ID
    # Nothing else of the referral moves the id: a re-sent referral updates the same resource.
    assert rendered(reason="x", urgency="urgent", service="health_check")["id"] == RESOURCE_ID


@pytest.mark.parametrize("referral_id", ["a", "L/1", "ä ö", "x" * 50, "ph/L-1"])
def test_every_referral_id_gives_a_fhir_id(referral_id: str) -> None:
    # FHIR ids: [A-Za-z0-9-.]{1,64}, whatever the referral id holds.
    assert re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", rendered(referral_id=referral_id)["id"])


def test_the_sender_and_id_cannot_be_confused() -> None:
    # "lahti" + "ph/L-1" must not meet "ph" + "L-1" or any other split of the same text.
    assert resource_id(Authority.LAHTI, "ph/L-1") != resource_id(Authority.PH, "L-1")
    assert resource_id(Authority.LAHTI, "L-1") != resource_id(Authority.PH, "L-1")


@pytest.mark.parametrize(
    ("sent_at", "authored_on"),
    [
        ("2025-03-14T10:00:00+02:00", "2025-03-14T10:00:00+02:00"),
        ("2025-07-14T10:00:00+03:00", "2025-07-14T10:00:00+03:00"),
        ("2025-03-14T10:00:59.999999+02:00", "2025-03-14T10:00:59+02:00"),
        ("2025-03-14T08:00:00Z", "2025-03-14T08:00:00Z"),
        ("2025-03-14T08:00:00+00:00", "2025-03-14T08:00:00Z"),
        ("2025-03-14T03:00:00-05:00", "2025-03-14T03:00:00-05:00"),
        ("2025-03-14T13:30:00+05:30", "2025-03-14T13:30:00+05:30"),
        ("2025-03-14T23:00:00+14:00", "2025-03-14T23:00:00+14:00"),
    ],
)
def test_authored_on_keeps_its_offset_to_whole_seconds(sent_at: str, authored_on: str) -> None:
    assert rendered(sent_at=sent_at)["authoredOn"] == authored_on


@pytest.mark.parametrize("reason", ["", " ", "\n\t "])
def test_a_blank_reason_is_left_out(reason: str) -> None:
    resource = rendered(reason=reason)
    assert "reasonCode" not in resource
    assert set(resource) == TABLE_ELEMENTS - {"reasonCode"}


@pytest.mark.parametrize("reason", ['<&>"\\', "rivi 1\nrivi 2", "ääkköset € 💡", " x "])
def test_any_other_reason_is_sent_as_is(reason: str) -> None:
    assert rendered(reason=reason)["reasonCode"] == [{"text": reason}]


# --- refusals ----------------------------------------------------------------------------------


def test_integration_training_is_never_sent_to_sote() -> None:
    with pytest.raises(ValidationError) as caught:
        render_service_request(projected(service="integration_training"))
    assert [e["loc"] for e in caught.value.errors()] == [("service",)]


@pytest.mark.parametrize("recipient", ["lahti", "ph", "kela", "keha", "SOTE", ""])
def test_a_referral_for_another_recipient_is_refused(recipient: str) -> None:
    with pytest.raises(ValidationError) as caught:
        render_service_request(projected(recipient=recipient))
    assert [e["loc"] for e in caught.value.errors()] == [("recipient",)]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("consent", True),
        ("note", "Asiakas kertoi terveydentilastaan."),
        ("case_worker", "Virtanen Maija"),
        ("home_municipality", "398"),
        ("hetu", CODE),
    ],
)
def test_a_field_outside_the_contract_makes_rendering_fail(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        render_service_request(projected(**{field: value}))
    assert [e["type"] for e in caught.value.errors()] == ["extra_forbidden"]
    assert CODE not in str(caught.value)
    assert "terveydentilastaan" not in str(caught.value)


@pytest.mark.parametrize("missing", [*PROJECTED["data"]])
def test_a_missing_field_makes_rendering_fail(missing: str) -> None:
    with pytest.raises(ValidationError):
        render_service_request(projected(**{missing: ...}))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("person_id", "131052-930A"),
        ("person_id", "131052G930V"),
        ("sender", "kela"),
        ("service", "KUNTOUTTAVA_TYOTOIMINTA"),
        ("urgency", "kiireellinen"),
        ("requested_start", "1.4.2025"),
        ("sent_at", "2025-03-14T10:00:00"),
        ("sent_at", "2025-03-14T10:00:00+15:00"),
        ("referral_id", ""),
        ("referral_id", "L" * 51),
        ("reason", None),
    ],
)
def test_a_value_that_does_not_fit_makes_rendering_fail(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        render_service_request(projected(**{field: value}))
    assert "131052" not in str(caught.value)


def test_a_second_offset_is_refused() -> None:
    odd = dt.datetime(2025, 3, 14, 10, tzinfo=dt.timezone(dt.timedelta(hours=2, seconds=30)))
    with pytest.raises(ValidationError):
        render_service_request(projected(sent_at=odd))


def test_validation_errors_never_contain_the_identity_code() -> None:
    with pytest.raises(ValidationError) as caught:
        render_service_request(projected(person_id=CODE[:-1] + "A", reason=CODE, consent=CODE))
    assert "131052" not in str(caught.value)
    assert "131052" not in repr(caught.value)


@pytest.mark.parametrize(
    "event_type", ["fi.paijathame.hub.referral-status.v1", "fi.paijathame.hub.client-status.v1"]
)
def test_an_event_of_another_type_is_refused(event_type: str) -> None:
    with pytest.raises(WrongEventTypeError):
        render_service_request({**PROJECTED, "type": event_type})


def test_data_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValidationError):
        render_service_request({**PROJECTED, "data": None})


def test_a_fhir_validation_failure_names_elements_not_values() -> None:
    # model_construct skips the input model, as a bug upstream might.
    fields = ServiceRequestFields.model_construct(
        **{
            **ServiceRequestFields.model_validate(PROJECTED["data"]).__dict__,
            "referral_id": 1310529,
        }
    )
    with pytest.raises(UnrenderableReferralError) as caught:
        to_service_request(fields)
    assert str(caught.value) == "the ServiceRequest fails FHIR validation: Identifier at value"
    assert "1310529" not in str(caught.value)


# --- property ------------------------------------------------------------------------------------

_OFFSETS: Final = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)


def request_fields() -> st.SearchStrategy[ServiceRequestFields]:
    return st.builds(
        ServiceRequestFields,
        referral_id=st.text(
            st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=50
        ),
        person_id=identity_codes(),
        sender=st.sampled_from(Authority),
        recipient=st.just(Partner.SOTE),
        service=st.sampled_from(sorted(SERVICE_CODES)),
        reason=st.text(max_size=200),
        urgency=st.sampled_from(Urgency),
        requested_start=st.dates(min_value=dt.date(1000, 1, 1)),
        sent_at=st.datetimes(
            min_value=dt.datetime(1000, 1, 2),
            max_value=dt.datetime(9999, 12, 30),
            timezones=_OFFSETS,
        ),
    )


@settings(max_examples=150, deadline=None)
@given(fields=request_fields())
def test_every_valid_referral_renders_valid_fhir_that_reads_back(
    fields: ServiceRequestFields,
) -> None:
    raw = render_service_request({**PROJECTED, "data": fields.model_dump(mode="json")})
    resource = json.loads(raw)
    ServiceRequest.model_validate(resource)
    assert set(resource) <= TABLE_ELEMENTS
    assert resource["identifier"][0]["value"] == fields.referral_id
    assert resource["subject"]["identifier"]["value"] == fields.person_id
    assert resource["id"] == resource_id(fields.sender, fields.referral_id)
    assert resource["requester"]["identifier"]["value"] == DEFAULT_ORGANISATIONS.of(fields.sender)
    assert resource["code"]["coding"][0]["code"] == SERVICE_CODES[fields.service]
    assert resource["priority"] == PRIORITIES[fields.urgency]
    assert dt.date.fromisoformat(resource["occurrencePeriod"]["start"]) == fields.requested_start
    authored_on = dt.datetime.fromisoformat(resource["authoredOn"])
    assert authored_on == fields.sent_at.replace(microsecond=0)
    assert authored_on.utcoffset() == fields.sent_at.utcoffset()
    if fields.reason.strip():
        assert resource["reasonCode"] == [{"text": fields.reason}]
    else:
        assert "reasonCode" not in resource


def test_an_event_without_a_type_is_taken_as_a_referral() -> None:
    untyped = {k: v for k, v in PROJECTED.items() if k != "type"}
    assert render_service_request(untyped) == render_service_request(PROJECTED)


def test_the_wrong_type_error_names_the_expected_type() -> None:
    with pytest.raises(WrongEventTypeError, match=r"^expected a fi\.paijathame\.hub\.service-"):
        render_service_request({**PROJECTED, "type": "fi.paijathame.hub.client-status.v1"})


def test_integration_training_is_refused_with_its_reason() -> None:
    with pytest.raises(ValidationError, match="not one Päijät-Sote provides"):
        render_service_request(projected(service="integration_training"))
