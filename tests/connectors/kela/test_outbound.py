"""Kela's labour-policy XML: the spec's document, the schema, and nothing beyond the contract."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Final

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from pydantic import ValidationError

from connectors.kela.outbound import (
    KELA_NAMESPACE,
    InvalidEventIdError,
    StatementFields,
    render_statement,
)
from schemas.client_status import ServicePeriod
from schemas.codes import Authority, EmploymentStatus, ServiceCode
from tests.strategies import identity_codes

XSD_PATH: Final = Path(__file__).resolve().parents[3] / "contracts" / "kela" / "tvpt.xsd"
SCHEMA: Final = etree.XMLSchema(file=str(XSD_PATH))
PARSER: Final = etree.XMLParser(resolve_entities=False, no_network=True)
NS: Final = {"k": KELA_NAMESPACE}
DECLARATION: Final = b'<?xml version="1.0" encoding="UTF-8"?>'

IDENTITY_CODE: Final = "131052-930V"
EVENT_ID: Final = "lahti:c0a8012e-7b1d-4c55-9e0e-1f1f2b9d3a10"

#: docs/partners/kela.md's example with its placeholders filled in and comments removed.
SPEC_DOCUMENT: Final = f"""<?xml version="1.0" encoding="UTF-8"?>
<TyovoimapoliittinenTieto xmlns="urn:fi:kela:tvpt:1" versio="1">
  <Tunniste>{EVENT_ID}</Tunniste>
  <Antaja>lahti</Antaja>
  <Henkilotunnus>{IDENTITY_CODE}</Henkilotunnus>
  <Tilanne koodi="02" alkaa="2025-03-01"/>
  <TyonhakuVoimassa>true</TyonhakuVoimassa>
  <Palvelu koodi="TKO" alkaa="2025-03-10" paattyy="2025-06-30"/>
  <Aikaleima>2025-03-01T08:12:00+02:00</Aikaleima>
</TyovoimapoliittinenTieto>
""".encode()

SPEC_ORDER: Final = (
    "Tunniste",
    "Antaja",
    "Henkilotunnus",
    "Tilanne",
    "TyonhakuVoimassa",
    "Palvelu",
    "Aikaleima",
)


def spec_projection(**changes: object) -> dict[str, Any]:
    """The spec example's data, as Kela's projection hands it over (pydantic JSON mode)."""
    data: dict[str, Any] = {
        "authority": "lahti",
        "person_id": IDENTITY_CODE,
        "employment_status": "unemployed",
        "status_since": "2025-03-01",
        "job_search_active": True,
        "service": {"code": "TKO", "start": "2025-03-10", "end": "2025-06-30"},
        "changed_at": "2025-03-01T08:12:00+02:00",
    }
    data.update(changes)
    return data


def parse(document: bytes) -> etree._Element:
    return etree.fromstring(document, PARSER)


def canonical(document: bytes) -> str:
    """C14N with whitespace-only text dropped: equal for structurally equal documents."""
    return ET.canonicalize(document.decode("utf-8"), strip_text=True)


def child(root: etree._Element, tag: str) -> etree._Element | None:
    return root.find(f"k:{tag}", NS)


def assert_valid(document: bytes) -> None:
    root = parse(document)
    assert SCHEMA.validate(root), SCHEMA.error_log


# --- The spec's document -------------------------------------------------------------------


def test_spec_example_renders_as_the_spec_draws_it() -> None:
    rendered = render_statement(EVENT_ID, spec_projection())

    assert rendered.splitlines()[0] == DECLARATION
    assert canonical(rendered) == canonical(SPEC_DOCUMENT)
    assert_valid(rendered)


def test_output_is_utf8_with_the_spec_declaration_and_kela_as_default_namespace() -> None:
    rendered = render_statement(EVENT_ID, spec_projection())

    assert rendered.startswith(DECLARATION + b"\n")
    rendered.decode("utf-8")
    assert rendered.splitlines()[1] == (
        b'<TyovoimapoliittinenTieto xmlns="urn:fi:kela:tvpt:1" versio="1">'
    )
    root = parse(rendered)
    assert root.tag == f"{{{KELA_NAMESPACE}}}TyovoimapoliittinenTieto"
    assert root.prefix is None
    assert root.nsmap == {None: KELA_NAMESPACE}
    assert all(element.prefix is None for element in root.iter())


def test_children_follow_the_spec_order_in_kela_namespace() -> None:
    root = parse(render_statement(EVENT_ID, spec_projection()))

    assert [etree.QName(element).namespace for element in root] == [KELA_NAMESPACE] * 7
    assert tuple(etree.QName(element).localname for element in root) == SPEC_ORDER


def test_rendering_is_deterministic() -> None:
    assert render_statement(EVENT_ID, spec_projection()) == render_statement(
        EVENT_ID, spec_projection()
    )


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (EmploymentStatus.SUBSIDISED_EMPLOYMENT, "00"),
        (EmploymentStatus.EMPLOYED, "01"),
        (EmploymentStatus.UNEMPLOYED, "02"),
        (EmploymentStatus.LAID_OFF, "03"),
        (EmploymentStatus.SHORTENED_WEEK, "04"),
        (EmploymentStatus.OUTSIDE_LABOUR_FORCE, "05"),
        (EmploymentStatus.IN_SERVICE, "07"),
        (EmploymentStatus.IN_EDUCATION, "08"),
        (EmploymentStatus.PART_TIME_WORK, "09"),
    ],
)
def test_status_is_sent_as_its_national_code(status: EmploymentStatus, code: str) -> None:
    rendered = render_statement(EVENT_ID, spec_projection(employment_status=status.value))

    tilanne = child(parse(rendered), "Tilanne")
    assert tilanne is not None
    assert dict(tilanne.items()) == {"koodi": code, "alkaa": "2025-03-01"}
    assert_valid(rendered)


@pytest.mark.parametrize(("active", "text"), [(True, "true"), (False, "false")])
def test_job_search_is_true_or_false(active: bool, text: str) -> None:
    element = child(
        parse(render_statement(EVENT_ID, spec_projection(job_search_active=active))),
        "TyonhakuVoimassa",
    )
    assert element is not None
    assert element.text == text


# --- Palvelu -------------------------------------------------------------------------------


def test_palvelu_is_sent_while_in_a_service() -> None:
    palvelu = child(parse(render_statement(EVENT_ID, spec_projection())), "Palvelu")

    assert palvelu is not None
    assert dict(palvelu.items()) == {"koodi": "TKO", "alkaa": "2025-03-10", "paattyy": "2025-06-30"}


@pytest.mark.parametrize(
    "projected",
    [spec_projection(service=None), {k: v for k, v in spec_projection().items() if k != "service"}],
    ids=["service-null", "service-absent"],
)
def test_palvelu_is_absent_without_a_service(projected: dict[str, Any]) -> None:
    rendered = render_statement(EVENT_ID, projected)
    root = parse(rendered)

    assert child(root, "Palvelu") is None
    assert tuple(etree.QName(element).localname for element in root) == tuple(
        tag for tag in SPEC_ORDER if tag != "Palvelu"
    )
    assert_valid(rendered)


def test_paattyy_is_omitted_when_the_service_has_no_end() -> None:
    rendered = render_statement(
        EVENT_ID, spec_projection(service={"code": "KTT", "start": "2025-05-05", "end": None})
    )

    palvelu = child(parse(rendered), "Palvelu")
    assert palvelu is not None
    assert dict(palvelu.items()) == {"koodi": "KTT", "alkaa": "2025-05-05"}
    assert b"paattyy" not in rendered
    assert_valid(rendered)


# --- Nothing beyond the contract -----------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("case_worker", "Virkailija Veera"),
        ("note", "Asiakas kertoi terveydentilastaan."),
        ("home_municipality", "398"),
        ("client_number", "A-12345"),
        ("change_id", "c0a8012e-7b1d-4c55-9e0e-1f1f2b9d3a10"),
        ("referral_reason", "työkyvyn arviointi"),
    ],
)
def test_a_field_outside_the_contract_makes_rendering_fail(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        render_statement(EVENT_ID, spec_projection(**{field: value}))

    assert [error["type"] for error in caught.value.errors()] == ["extra_forbidden"]
    assert value not in str(caught.value)


def test_a_field_outside_the_contract_inside_the_service_makes_rendering_fail() -> None:
    service = {"code": "TKO", "start": "2025-03-10", "end": None, "provider": "Koulutus Oy"}
    with pytest.raises(ValidationError):
        render_statement(EVENT_ID, spec_projection(service=service))


@pytest.mark.parametrize(
    "projected",
    [
        spec_projection(person_id="131052-930A"),  # wrong check character
        spec_projection(employment_status="06"),
        spec_projection(note=IDENTITY_CODE),
        spec_projection(authority=IDENTITY_CODE),
        spec_projection(changed_at="2025-03-01T08:12:00"),
    ],
    ids=["bad-check", "retired-status", "code-in-extra-field", "code-as-authority", "naive-time"],
)
def test_validation_errors_never_contain_the_identity_code(projected: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        render_statement(EVENT_ID, projected)

    assert projected["person_id"] not in str(caught.value)
    assert IDENTITY_CODE not in str(caught.value)
    assert IDENTITY_CODE not in repr(caught.value)


@pytest.mark.parametrize("status", ["06", "unemployment_pension", "10", "", "UNEMPLOYED", "02"])
def test_a_retired_or_unknown_status_cannot_be_rendered(status: str) -> None:
    # Only canonical values are accepted; national codes (even valid ones) are not.
    with pytest.raises(ValidationError):
        render_statement(EVENT_ID, spec_projection(employment_status=status))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("authority", "kela"),
        ("service", {"code": "XYZ", "start": "2025-03-10", "end": None}),
        ("service", {"code": "TKO", "start": "2025-06-30", "end": "2025-03-10"}),
        ("status_since", "01.03.2025"),
        ("person_id", "131052-030V"),
    ],
)
def test_values_outside_the_code_lists_cannot_be_rendered(field: str, value: object) -> None:
    with pytest.raises(ValidationError):
        render_statement(EVENT_ID, spec_projection(**{field: value}))


@pytest.mark.parametrize("missing", ["authority", "person_id", "employment_status", "changed_at"])
def test_a_missing_required_field_cannot_be_rendered(missing: str) -> None:
    projected = {k: v for k, v in spec_projection().items() if k != missing}
    with pytest.raises(ValidationError):
        render_statement(EVENT_ID, projected)


# --- The schema is not vacuous -------------------------------------------------------------


def _modified(edit: str) -> etree._Element:
    """The spec example after one hand edit."""
    root = parse(render_statement(EVENT_ID, spec_projection()))
    tilanne, palvelu, aikaleima = (child(root, tag) for tag in ("Tilanne", "Palvelu", "Aikaleima"))
    assert tilanne is not None
    assert palvelu is not None
    assert aikaleima is not None
    if edit == "retired-code-06":
        tilanne.set("koodi", "06")
    elif edit == "unknown-code-10":
        tilanne.set("koodi", "10")
    elif edit == "extra-element":
        etree.SubElement(root, f"{{{KELA_NAMESPACE}}}Vastuuvirkailija").text = "Veera"
    elif edit == "extra-attribute":
        tilanne.set("perustelu", "terveys")
    elif edit == "wrong-order":
        root.remove(palvelu)
        root.insert(0, palvelu)
    elif edit == "local-time":
        aikaleima.text = "2025-03-01T08:12:00"
    elif edit == "bad-version":
        root.set("versio", "2")
    elif edit == "bad-identity-code":
        hetu = child(root, "Henkilotunnus")
        assert hetu is not None
        hetu.text = "131052G930V"
    elif edit == "unknown-service":
        palvelu.set("koodi", "XYZ")
    elif edit == "palvelu-without-start":
        del palvelu.attrib["alkaa"]
    elif edit == "no-namespace":
        return parse(etree.tostring(root).replace(KELA_NAMESPACE.encode(), b"urn:x"))
    else:  # pragma: no cover - a typo in the parameter list
        raise AssertionError(edit)
    return root


@pytest.mark.parametrize(
    "edit",
    [
        "retired-code-06",
        "unknown-code-10",
        "extra-element",
        "extra-attribute",
        "wrong-order",
        "local-time",
        "bad-version",
        "bad-identity-code",
        "unknown-service",
        "palvelu-without-start",
        "no-namespace",
    ],
)
def test_schema_rejects_a_hand_modified_document(edit: str) -> None:
    assert not SCHEMA.validate(_modified(edit))


@pytest.mark.parametrize("timestamp", ["2025-03-01T06:12:00Z", "2025-03-01T08:12:00.5+02:00"])
def test_schema_accepts_z_and_fractions_in_aikaleima(timestamp: str) -> None:
    root = parse(render_statement(EVENT_ID, spec_projection()))
    aikaleima = child(root, "Aikaleima")
    assert aikaleima is not None
    aikaleima.text = timestamp
    assert SCHEMA.validate(root), SCHEMA.error_log


# --- Event id ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event_id", ['<&>"', "a]]>b", "<Tunniste>x</Tunniste>", "&amp;", "ääkköset €", "'\"'"]
)
def test_special_characters_in_the_event_id_are_escaped(event_id: str) -> None:
    rendered = render_statement(event_id, spec_projection())

    tunniste = child(parse(rendered), "Tunniste")
    assert tunniste is not None
    assert tunniste.text == event_id
    assert len(tunniste) == 0
    assert_valid(rendered)


def test_markup_characters_appear_only_as_entities() -> None:
    rendered = render_statement('<&>"', spec_projection())

    assert b'<Tunniste>&lt;&amp;&gt;"</Tunniste>' in rendered


@pytest.mark.parametrize(
    "event_id", ["", "x" * 201, "a\x00b", "a\nb", "a\rb", "a\tb", "a\x1bb", "a\ufffeb"]
)
def test_an_event_id_that_cannot_be_a_tunniste_is_refused(event_id: str) -> None:
    with pytest.raises(InvalidEventIdError):
        render_statement(event_id, spec_projection())


def test_an_event_id_of_200_characters_is_sent() -> None:
    assert_valid(render_statement("x" * 200, spec_projection()))


# --- Aikaleima -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changed_at", "aikaleima"),
    [
        ("2025-03-01T08:12:00+02:00", "2025-03-01T08:12:00+02:00"),
        ("2025-07-01T08:12:00+03:00", "2025-07-01T08:12:00+03:00"),
        ("2025-03-01T08:12:59.999999+02:00", "2025-03-01T08:12:59+02:00"),
        ("2025-03-01T06:12:00Z", "2025-03-01T06:12:00+00:00"),
        ("2025-03-01T06:12:00.123Z", "2025-03-01T06:12:00+00:00"),
        ("2025-03-01T01:12:00-05:00", "2025-03-01T01:12:00-05:00"),
        ("2025-03-01T11:42:00+05:30", "2025-03-01T11:42:00+05:30"),
    ],
)
def test_aikaleima_keeps_its_offset_and_whole_seconds(changed_at: str, aikaleima: str) -> None:
    rendered = render_statement(EVENT_ID, spec_projection(changed_at=changed_at))

    element = child(parse(rendered), "Aikaleima")
    assert element is not None
    assert element.text == aikaleima
    assert_valid(rendered)


@pytest.mark.parametrize(
    "changed_at",
    [
        "2025-03-01T08:12:00+15:00",
        "2025-03-01T08:12:00-23:59",
        dt.datetime(2025, 3, 1, 8, 12, tzinfo=dt.timezone(dt.timedelta(hours=2, seconds=30))),
    ],
)
def test_an_offset_xsd_cannot_carry_is_refused(changed_at: object) -> None:
    with pytest.raises(ValidationError):
        render_statement(EVENT_ID, spec_projection(changed_at=changed_at))


# --- Property ------------------------------------------------------------------------------

_OFFSETS: Final = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)


@st.composite
def service_periods(draw: st.DrawFn) -> ServicePeriod:
    start = draw(st.dates())
    end = draw(st.none() | st.dates(min_value=start))
    return ServicePeriod(code=draw(st.sampled_from(ServiceCode)), start=start, end=end)


def statement_fields() -> st.SearchStrategy[StatementFields]:
    return st.builds(
        StatementFields,
        authority=st.sampled_from(Authority),
        person_id=identity_codes(),
        employment_status=st.sampled_from(EmploymentStatus),
        status_since=st.dates(),
        job_search_active=st.booleans(),
        service=st.none() | service_periods(),
        changed_at=st.datetimes(timezones=_OFFSETS),
    )


def event_ids() -> st.SearchStrategy[str]:
    characters = st.characters(exclude_categories=("Cc", "Cs"), exclude_characters="\ufffe\uffff")
    return st.text(characters, min_size=1, max_size=200)


def _date(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


@settings(max_examples=200, deadline=None)
@given(event_id=event_ids(), fields=statement_fields())
def test_every_valid_statement_validates_and_reads_back(
    event_id: str, fields: StatementFields
) -> None:
    rendered = render_statement(event_id, fields.model_dump(mode="json"))

    root = parse(rendered)
    assert SCHEMA.validate(root), SCHEMA.error_log
    values = {etree.QName(element).localname: element for element in root}
    assert values["Tunniste"].text == event_id
    assert values["Antaja"].text == fields.authority.value
    assert values["Henkilotunnus"].text == fields.person_id
    assert values["Tilanne"].get("koodi") == fields.employment_status.national_code
    assert _date(values["Tilanne"].get("alkaa")) == fields.status_since
    assert values["TyonhakuVoimassa"].text == str(fields.job_search_active).lower()
    if fields.service is None:
        assert "Palvelu" not in values
    else:
        palvelu = values["Palvelu"]
        assert palvelu.get("koodi") == fields.service.code.value
        assert _date(palvelu.get("alkaa")) == fields.service.start
        assert _date(palvelu.get("paattyy")) == fields.service.end
    aikaleima = values["Aikaleima"].text
    assert aikaleima is not None
    sent = dt.datetime.fromisoformat(aikaleima)
    assert sent == fields.changed_at.replace(microsecond=0)
    assert sent.utcoffset() == fields.changed_at.utcoffset()
