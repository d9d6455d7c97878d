"""The ServiceRequest built directly is the one ``fhir.resources`` builds, byte for byte, and
it validates as a FHIR R4B ServiceRequest: for arbitrary referrals, not only the examples."""

from __future__ import annotations

import datetime as dt

import orjson
from fhir.resources.R4B.servicerequest import ServiceRequest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.sote.outbound import (
    SERVICE_CODES,
    ServiceRequestFields,
    render_service_request,
    service_request_document,
    to_service_request,
)
from schemas.codes import Authority, Urgency
from tests.strategies import identity_codes

_ZONES = st.sampled_from(
    [dt.UTC, dt.timezone(dt.timedelta(hours=2)), dt.timezone(dt.timedelta(hours=-3, minutes=-30))]
)


@st.composite
def referrals(draw: st.DrawFn) -> ServiceRequestFields:
    return ServiceRequestFields(
        referral_id=draw(st.text(min_size=1, max_size=50)),
        person_id=draw(identity_codes()),
        sender=draw(st.sampled_from(list(Authority))),
        recipient="sote",
        service=draw(st.sampled_from(list(SERVICE_CODES))),
        reason=draw(st.text(max_size=80)),
        urgency=draw(st.sampled_from(list(Urgency))),
        requested_start=draw(st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1))),
        sent_at=draw(
            st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1), timezones=_ZONES)
        ),
    )


def _projected(fields: ServiceRequestFields) -> dict[str, object]:
    return {
        "type": "fi.paijathame.hub.service-referral.v1",
        "data": fields.model_dump(mode="json"),
    }


@settings(max_examples=300)
@given(referrals())
def test_the_rendering_is_the_library_s_byte_for_byte(fields: ServiceRequestFields) -> None:
    try:
        expected = to_service_request(fields).model_dump_json(exclude_none=True).encode()
    except Exception as exc:  # noqa: BLE001 - the library refusing: so must the renderer.
        refused = type(exc)
        try:
            render_service_request(_projected(fields))
        except refused:
            return
        raise AssertionError("the library refuses a referral the renderer takes") from None
    assert render_service_request(_projected(fields)) == expected


@settings(max_examples=100)
@given(referrals().filter(lambda f: f.referral_id.strip() and f.reason.isprintable()))
def test_the_direct_document_validates_as_fhir(fields: ServiceRequestFields) -> None:
    document = service_request_document(fields)
    resource = ServiceRequest.model_validate(document)
    assert orjson.loads(resource.model_dump_json(exclude_none=True)) == document
