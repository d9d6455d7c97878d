"""The authorities' JSON messages: parsed exactly as the interface document says, never raising."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any, Final

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.authorities.inbound import (
    EVENT_ID_NAMESPACE,
    REASONS,
    REFERRAL_REASONS,
    STATUS_CHANGE_REASONS,
    parse_referral,
    parse_status_change,
    referral_event,
    referral_event_id,
    source_for,
    status_event,
    status_event_id,
)
from connectors.authorities.native import (
    NOTIFICATION_FIELDS,
    REFERRAL_FIELDS,
    REFERRAL_SERVICES,
    URGENCY,
)
from schemas.client_status import ClientStatus, ServicePeriod
from schemas.codes import (
    Authority,
    EmploymentStatus,
    Partner,
    ReferralService,
    ServiceCode,
    Urgency,
)
from schemas.envelope import ClientStatusEvent, ServiceReferralEvent
from schemas.identity_code import IDENTITY_CODE_SHAPE
from schemas.person_ref import person_ref_for
from schemas.rejection import Rejection
from schemas.service_referral import ServiceReferral
from tests.strategies import build_identity_code, identity_codes

CODE: Final = "131052-930V"
OTHER_CODE: Final = build_identity_code(dt.date(1985, 6, 15), 951)
SECRET: Final = b"test-secret-for-authorities-0123456789"
ABSENT: Final = object()
LAHTI: Final = Authority.LAHTI
PH: Final = Authority.PH
HELSINKI_WINTER: Final = dt.timezone(dt.timedelta(hours=2))

#: The document's change notification, with a temporary identity code in place of its own.
NOTIFICATION: Final[dict[str, Any]] = {
    "muutosId": "c0a8012e-7b1d-4c55-9e0e-1f1f2b9d3a10",
    "asiakasnumero": "A-1002345",
    "hetu": CODE,
    "kotikunta": "398",
    "tyollisyystilanne": "02",
    "tilanneAlkaa": "2025-03-01",
    "tyonhakuVoimassa": True,
    "palvelu": {"koodi": "TKO", "alkaa": "2025-03-10", "paattyy": "2025-06-30"},
    "vastuuvirkailija": "Virtanen Maija",
    "muistiinpano": "free text written by the case worker",
    "muutettu": "2025-03-01T08:12:00+02:00",
}

#: The document's service referral, with a temporary identity code in place of its own.
REFERRAL: Final[dict[str, Any]] = {
    "lahete_id": "L-2025-000871",
    "hetu": CODE,
    "lahettaja": "lahti",
    "vastaanottaja": "sote",
    "palvelu": "KUNTOUTTAVA_TYOTOIMINTA",
    "perustelu": "free text: why the referral is made (may contain health information)",
    "kiireellisyys": "normaali",
    "toivottu_alku": "2025-04-01",
    "suostumus": True,
    "lahetetty": "2025-03-14T10:00:00+02:00",
}


def fullwidth(digits: str) -> str:
    """``digits`` in FULLWIDTH DIGIT characters: str.isdigit() and int() accept them."""
    return digits.translate({ord("0") + i: 0xFF10 + i for i in range(10)})


def arabic_indic(digits: str) -> str:
    """``digits`` in ARABIC-INDIC DIGIT characters: str.isdigit() and int() accept them."""
    return digits.translate({ord("0") + i: 0x0660 + i for i in range(10)})


def _with(base: dict[str, Any], changes: dict[str, Any]) -> bytes:
    merged = {**base, **changes}
    return orjson.dumps({key: value for key, value in merged.items() if value is not ABSENT})


def notification(**changes: Any) -> bytes:
    """The document's notification with some keys replaced (``ABSENT`` removes one)."""
    return _with(NOTIFICATION, changes)


def service(**changes: Any) -> dict[str, Any]:
    """The document's ``palvelu`` with some keys replaced (``ABSENT`` removes one)."""
    merged = {**NOTIFICATION["palvelu"], **changes}
    return {key: value for key, value in merged.items() if value is not ABSENT}


def referral(**changes: Any) -> bytes:
    """The document's referral with some keys replaced (``ABSENT`` removes one)."""
    return _with(REFERRAL, changes)


def status_of(raw: bytes, authority: Authority = LAHTI) -> ClientStatus:
    result = parse_status_change(raw, authority)
    assert isinstance(result, ClientStatus), result
    return result


def status_rejected(raw: bytes, authority: Authority = LAHTI) -> Rejection:
    result = parse_status_change(raw, authority)
    assert isinstance(result, Rejection), result
    assert result.reason in STATUS_CHANGE_REASONS
    assert result.line is None
    assert not IDENTITY_CODE_SHAPE.search(result.detail)
    return result


def referral_of(raw: bytes, authority: Authority = LAHTI) -> ServiceReferral:
    result = parse_referral(raw, authority)
    assert isinstance(result, ServiceReferral), result
    return result


def referral_rejected(raw: bytes, authority: Authority = LAHTI) -> Rejection:
    result = parse_referral(raw, authority)
    assert isinstance(result, Rejection), result
    assert result.reason in REFERRAL_REASONS
    assert not IDENTITY_CODE_SHAPE.search(result.detail)
    return result


def test_reason_sets_are_the_documented_reasons() -> None:
    assert set(REASONS) == STATUS_CHANGE_REASONS | REFERRAL_REASONS
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", reason) for reason in REASONS)


# --- the document's client-status notification ---------------------------------------------


def test_document_notification_becomes_the_expected_client_status() -> None:
    assert status_of(notification()) == ClientStatus(
        change_id="c0a8012e-7b1d-4c55-9e0e-1f1f2b9d3a10",
        authority=Authority.LAHTI,
        client_number="A-1002345",
        person_id=CODE,
        home_municipality="398",
        previous_home_municipality=None,
        employment_status=EmploymentStatus.UNEMPLOYED,
        status_since=dt.date(2025, 3, 1),
        job_search_active=True,
        service=ServicePeriod(
            code=ServiceCode.TKO, start=dt.date(2025, 3, 10), end=dt.date(2025, 6, 30)
        ),
        case_worker="Virtanen Maija",
        note="free text written by the case worker",
        changed_at=dt.datetime(2025, 3, 1, 8, 12, tzinfo=HELSINKI_WINTER),
    )


def test_the_authority_comes_from_the_topic_not_the_message() -> None:
    assert status_of(notification(), PH).authority is Authority.PH
    assert status_of(notification(kotikunta="098"), LAHTI).authority is Authority.LAHTI


def test_previous_home_municipality_is_left_for_the_hub() -> None:
    assert status_of(notification()).previous_home_municipality is None


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("00", EmploymentStatus.SUBSIDISED_EMPLOYMENT),
        ("01", EmploymentStatus.EMPLOYED),
        ("02", EmploymentStatus.UNEMPLOYED),
        ("03", EmploymentStatus.LAID_OFF),
        ("04", EmploymentStatus.SHORTENED_WEEK),
        ("05", EmploymentStatus.OUTSIDE_LABOUR_FORCE),
        ("07", EmploymentStatus.IN_SERVICE),
        ("08", EmploymentStatus.IN_EDUCATION),
        ("09", EmploymentStatus.PART_TIME_WORK),
    ],
)
def test_each_national_code_maps_to_its_canonical_status(
    code: str, status: EmploymentStatus
) -> None:
    assert status_of(notification(tyollisyystilanne=code)).employment_status is status


@pytest.mark.parametrize("code", ["TKO", "TKE", "KTT", "OMO", "VAL", "KOT"])
def test_each_service_code_is_accepted(code: str) -> None:
    result = status_of(notification(palvelu=service(koodi=code)))
    assert result.service is not None
    assert result.service.code.value == code


def test_null_palvelu_means_no_service() -> None:
    assert status_of(notification(palvelu=None)).service is None


@pytest.mark.parametrize("end", [None, ABSENT], ids=["null", "absent"])
def test_service_without_a_known_end_is_accepted(end: object) -> None:
    result = status_of(notification(palvelu=service(paattyy=end)))
    assert result.service == ServicePeriod(code=ServiceCode.TKO, start=dt.date(2025, 3, 10))


def test_one_day_service_is_accepted() -> None:
    result = status_of(notification(palvelu=service(alkaa="2025-03-10", paattyy="2025-03-10")))
    assert result.service is not None
    assert result.service.start == result.service.end


@pytest.mark.parametrize("value", [None, ABSENT], ids=["null", "absent"])
def test_case_worker_and_note_may_be_null_or_absent(value: object) -> None:
    result = status_of(notification(vastuuvirkailija=value, muistiinpano=value))
    assert result.case_worker is None
    assert result.note is None


def test_job_search_false_is_kept() -> None:
    assert status_of(notification(tyonhakuVoimassa=False)).job_search_active is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-01T06:12:00Z", dt.datetime(2025, 3, 1, 6, 12, tzinfo=dt.UTC)),
        (
            "2025-03-01T08:12:00.5+02:00",
            dt.datetime(2025, 3, 1, 8, 12, 0, 500_000, tzinfo=HELSINKI_WINTER),
        ),
        (
            "2025-03-01T08:12:00.123456789+02:00",
            dt.datetime(2025, 3, 1, 8, 12, 0, 123_456, tzinfo=HELSINKI_WINTER),
        ),
        (
            "2025-03-01T22:12:00+14:00",
            dt.datetime(2025, 3, 1, 22, 12, tzinfo=dt.timezone(dt.timedelta(hours=14))),
        ),
        (
            "2025-07-01T08:12:00-05:00",
            dt.datetime(2025, 7, 1, 8, 12, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        ),
    ],
)
def test_rfc3339_timestamps_keep_their_offset(text: str, expected: dt.datetime) -> None:
    changed_at = status_of(notification(muutettu=text)).changed_at
    assert changed_at == expected
    assert changed_at.utcoffset() == expected.utcoffset()


def test_non_ascii_free_text_is_kept_as_written() -> None:
    note = "Asiakas kertoi selkävaivoista; terveystarkastus sovittu. \u2603"
    assert status_of(notification(muistiinpano=note)).note == note


# --- one test per client-status rejection reason --------------------------------------------


def test_bytes_that_are_not_utf8_are_rejected() -> None:
    raw = notification(muistiinpano="selkä").replace("ä".encode(), b"\xe4")
    result = status_rejected(raw)
    assert result.reason == "not-utf8"
    assert "0xe4" in result.detail


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   ",
        b"muutosId=1",
        b'{"muutosId": "x",}',
        notification()[:-1],
        notification() + b"{}",
        b"\xef\xbb\xbf" + notification(),
        b'{"hetu": NaN}',
    ],
    ids=["empty", "blank", "not-json", "trailing-comma", "truncated", "two-values", "bom", "nan"],
)
def test_text_that_is_not_json_is_rejected(raw: bytes) -> None:
    assert status_rejected(raw).reason == "malformed-json"


@pytest.mark.parametrize("raw", [b"[]", b'"x"', b"1", b"null", b"true", b"[{}]"])
def test_json_that_is_not_an_object_is_rejected_naming_its_type(raw: bytes) -> None:
    result = status_rejected(raw)
    assert result.reason == "malformed-json"
    assert "must be a JSON object" in result.detail


def test_json_nested_deeper_than_the_parser_allows_is_rejected() -> None:
    assert status_rejected(b"[" * 5000 + b"]" * 5000).reason == "malformed-json"


def test_deeply_nested_value_inside_an_object_is_rejected_not_raised() -> None:
    raw = b'{"muistiinpano": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    assert status_rejected(raw).reason in {"malformed-json", "wrong-field-type"}


def test_a_repeated_key_is_rejected_rather_than_picking_one() -> None:
    raw = notification().replace(b'"hetu":', f'"hetu":"{OTHER_CODE}","hetu":'.encode(), 1)
    result = status_rejected(raw)
    assert result.reason == "duplicate-field"
    assert "'hetu'" in result.detail


def test_a_repeated_key_inside_palvelu_is_rejected() -> None:
    raw = notification().replace(b'"koodi":"TKO"', b'"koodi":"TKO","koodi":"KTT"', 1)
    assert status_rejected(raw).reason == "duplicate-field"


@pytest.mark.parametrize(
    "field", sorted(set(NOTIFICATION_FIELDS) - {"vastuuvirkailija", "muistiinpano"})
)
def test_a_missing_required_key_is_rejected_naming_it(field: str) -> None:
    result = status_rejected(notification(**{field: ABSENT}))
    assert result == Rejection("missing-field", f"{field} is missing")


@pytest.mark.parametrize("field", ["koodi", "alkaa"])
def test_a_missing_key_of_palvelu_is_rejected_naming_it(field: str) -> None:
    result = status_rejected(notification(palvelu=service(**{field: ABSENT})))
    assert result == Rejection("missing-field", f"palvelu.{field} is missing")


def test_an_unknown_key_is_rejected_naming_it() -> None:
    result = status_rejected(notification(turvakielto=True))
    assert result.reason == "unknown-field"
    assert "'turvakielto'" in result.detail


def test_an_unknown_key_in_palvelu_is_rejected() -> None:
    result = status_rejected(notification(palvelu=service(paikka="Lahti")))
    assert result.reason == "unknown-field"
    assert result.detail.startswith("palvelu.'paikka'")


def test_a_key_with_different_case_is_unknown_and_the_real_one_missing() -> None:
    raw = notification(muutosId=ABSENT, muutosID="c0a8")
    assert status_rejected(raw).reason == "missing-field"
    raw = notification(muistiinpano=ABSENT, Muistiinpano="x")
    assert status_rejected(raw).reason == "unknown-field"


def test_an_unknown_key_that_is_an_identity_code_is_not_echoed() -> None:
    result = status_rejected(notification(**{CODE: "x"}))
    assert result.reason == "unknown-field"
    assert CODE not in result.detail


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("muutosId", 12345, "muutosId must be a string, got number"),
        ("muutosId", None, "muutosId must be a string, got null"),
        ("hetu", None, "hetu must be a string, got null"),
        ("kotikunta", 398, "kotikunta must be a string, got number"),
        ("tyollisyystilanne", 2, "tyollisyystilanne must be a string, got number"),
        ("tilanneAlkaa", ["2025-03-01"], "tilanneAlkaa must be a string, got array"),
        ("tyonhakuVoimassa", "true", "tyonhakuVoimassa must be a boolean, got string"),
        ("tyonhakuVoimassa", 1, "tyonhakuVoimassa must be a boolean, got number"),
        ("tyonhakuVoimassa", None, "tyonhakuVoimassa must be a boolean, got null"),
        ("palvelu", "TKO", "palvelu must be an object or null, got string"),
        ("palvelu", [], "palvelu must be an object or null, got array"),
        ("vastuuvirkailija", {"nimi": "x"}, "vastuuvirkailija must be a string, got object"),
        ("muistiinpano", False, "muistiinpano must be a string, got boolean"),
        ("muutettu", 1740809520, "muutettu must be a string, got number"),
    ],
)
def test_a_value_of_the_wrong_json_type_is_rejected_naming_field_and_type(
    field: str, value: object, expected: str
) -> None:
    assert status_rejected(notification(**{field: value})) == Rejection(
        "wrong-field-type", expected
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("koodi", None), ("alkaa", 20250310), ("paattyy", True)],
)
def test_a_palvelu_value_of_the_wrong_type_is_rejected(field: str, value: object) -> None:
    result = status_rejected(notification(palvelu=service(**{field: value})))
    assert result.reason == "wrong-field-type"
    assert result.detail.startswith(f"palvelu.{field} must be a string")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("muutosId", ""),
        ("muutosId", "x" * 101),
        ("muutosId", "c0a8 012e"),
        ("muutosId", "muutos-ä"),
        ("muutosId", "c0a8\x00"),
        ("asiakasnumero", ""),
        ("asiakasnumero", "A" * 51),
        ("asiakasnumero", f"A {CODE}"),
    ],
)
def test_an_identifier_that_is_empty_too_long_or_not_visible_ascii_is_rejected(
    field: str, value: str
) -> None:
    result = status_rejected(notification(**{field: value}))
    assert result.reason == "bad-identifier"
    assert result.detail.startswith(field)
    assert f"got {len(value)} characters" in result.detail


def test_identifiers_at_their_canonical_limits_are_accepted() -> None:
    result = status_of(notification(muutosId="x" * 100, asiakasnumero="A" * 50))
    assert len(result.change_id) == 100
    assert result.client_number == "A" * 50


@pytest.mark.parametrize(
    "hetu",
    [
        "131052-930X",  # wrong check character
        "131052Q930V",  # unknown century sign
        "310252-930V",  # 31 February
        "131052-930",  # too short
        "",  # empty
        "131052-93OV",  # letter O for a zero
        " 131052-930V",  # leading space
        "131052-930v",  # lower-case check character
    ],
)
def test_invalid_identity_code_is_rejected_without_echoing_it(hetu: str) -> None:
    result = status_rejected(notification(hetu=hetu))
    assert result.reason == "invalid-identity-code"
    assert result.detail.startswith("hetu: identity code")
    assert "131052" not in result.detail
    assert "930" not in result.detail


def test_the_century_sign_is_kept_as_written() -> None:
    code = build_identity_code(dt.date(1990, 1, 10), 999, "Y")
    assert status_of(notification(hetu=code)).person_id == "100190Y999P"


@pytest.mark.parametrize(
    "municipality", ["39", "3980", "39A", "", " 398", arabic_indic("398"), fullwidth("398")]
)
def test_municipality_not_three_ascii_digits_is_rejected(municipality: str) -> None:
    assert status_rejected(notification(kotikunta=municipality)).reason == "bad-municipality-code"


def test_municipality_outside_the_region_is_accepted() -> None:
    # Routing by municipality is the contracts' business, not the parser's.
    assert status_of(notification(kotikunta="091")).home_municipality == "091"


def test_retired_employment_status_06_is_rejected_not_guessed() -> None:
    result = status_rejected(notification(tyollisyystilanne="06"))
    assert result.reason == "unknown-employment-status-code"
    assert "06 is retired" in result.detail


@pytest.mark.parametrize(
    "code", ["10", "2", "002", "", "AA", " 02", arabic_indic("02"), "unemployed"]
)
def test_unknown_employment_status_code_is_rejected(code: str) -> None:
    result = status_rejected(notification(tyollisyystilanne=code))
    assert result.reason == "unknown-employment-status-code"
    assert "00-05, 07-09" in result.detail


@pytest.mark.parametrize("code", ["XYZ", "tko", "", "TKO ", "KUNTOUTTAVA_TYOTOIMINTA"])
def test_unknown_service_code_is_rejected(code: str) -> None:
    result = status_rejected(notification(palvelu=service(koodi=code)))
    assert result.reason == "unknown-service-code"
    assert "TKO, TKE, KTT, OMO, VAL, KOT" in result.detail


@pytest.mark.parametrize(
    ("where", "text"),
    [
        ("tilanneAlkaa", "01.03.2025"),
        ("tilanneAlkaa", "2025-02-29"),
        ("tilanneAlkaa", "2025-3-1"),
        ("tilanneAlkaa", "20250301"),
        ("tilanneAlkaa", "2025-03-01T00:00:00+02:00"),
        ("tilanneAlkaa", "0000-01-01"),
        ("tilanneAlkaa", ""),
        ("palvelu.alkaa", "2025-13-01"),
        ("palvelu.paattyy", "2025-06-31"),
        ("palvelu.alkaa", fullwidth("2025") + "-03-10"),
    ],
)
def test_a_date_not_yyyy_mm_dd_or_impossible_is_rejected(where: str, text: str) -> None:
    if where.startswith("palvelu."):
        raw = notification(palvelu=service(**{where.removeprefix("palvelu."): text}))
    else:
        raw = notification(**{where: text})
    result = status_rejected(raw)
    assert result.reason == "bad-date"
    assert result.detail.startswith(where)


def test_impossible_date_detail_names_field_and_text() -> None:
    assert status_rejected(notification(tilanneAlkaa="2025-02-29")) == Rejection(
        "bad-date", "tilanneAlkaa '2025-02-29' is not a date"
    )


def test_timestamp_without_an_offset_is_rejected() -> None:
    assert status_rejected(notification(muutettu="2025-03-01T08:12:00")) == Rejection(
        "bad-timestamp", "muutettu has no time-zone offset (Z or ±HH:MM)"
    )


@pytest.mark.parametrize(
    "text",
    [
        "2025-03-01",
        "2025-03-01 08:12:00+02:00",
        "2025-03-01T08:12+02:00",
        "2025-03-01T08:12:00+0200",
        "2025-03-01T08:12:00+02",
        "2025-03-01t08:12:00z",
        "2025-02-30T08:12:00+02:00",
        "2025-03-01T24:00:00+02:00",
        "2025-03-01T08:12:60+02:00",
        "2025-03-01T08:12:00+24:00",
        "2025-03-01T08:12:00+14:01",
        "2025-03-01T08:12:00-23:59",
        "2025-03-01T08:12:00.1234567890+02:00",
        "01.03.2025 08:12",
        "",
    ],
)
def test_timestamp_not_rfc3339_is_rejected(text: str) -> None:
    result = status_rejected(notification(muutettu=text))
    assert result.reason == "bad-timestamp"
    assert result.detail.startswith("muutettu")


def test_service_ending_before_it_starts_is_rejected() -> None:
    raw = notification(palvelu=service(alkaa="2025-06-30", paattyy="2025-03-10"))
    assert status_rejected(raw) == Rejection(
        "service-end-before-start",
        "palvelu.paattyy 2025-03-10 is before palvelu.alkaa 2025-06-30",
    )


def test_the_first_failure_in_document_order_is_reported() -> None:
    raw = notification(kotikunta="x", tyollisyystilanne="06", tilanneAlkaa="x")
    assert status_rejected(raw).reason == "bad-municipality-code"


def test_shape_is_checked_before_values() -> None:
    raw = notification(hetu="x", extra=1)
    assert status_rejected(raw).reason == "unknown-field"


def test_cross_field_rules_come_after_every_field() -> None:
    raw = notification(palvelu=service(alkaa="2025-06-30", paattyy="2025-03-10"), muutettu="x")
    assert status_rejected(raw).reason == "bad-timestamp"


def test_free_text_is_never_quoted_even_where_a_code_belongs() -> None:
    note = "Asiakas kertoi selkävaivoista"
    for raw in (notification(kotikunta=note), notification(tyollisyystilanne=note)):
        result = status_rejected(raw)
        assert note not in result.detail
        assert "not shown" in result.detail


# --- the document's service referral --------------------------------------------------------


def test_document_referral_becomes_the_expected_service_referral() -> None:
    assert referral_of(referral()) == ServiceReferral(
        referral_id="L-2025-000871",
        person_id=CODE,
        sender=Authority.LAHTI,
        recipient=Partner.SOTE,
        service=ReferralService.REHABILITATIVE_WORK_ACTIVITY,
        reason="free text: why the referral is made (may contain health information)",
        urgency=Urgency.ROUTINE,
        requested_start=dt.date(2025, 4, 1),
        consent=True,
        sent_at=dt.datetime(2025, 3, 14, 10, tzinfo=HELSINKI_WINTER),
    )


def test_referral_services_are_exactly_the_documented_five() -> None:
    assert REFERRAL_SERVICES == {
        "KUNTOUTTAVA_TYOTOIMINTA": ReferralService.REHABILITATIVE_WORK_ACTIVITY,
        "TERVEYSTARKASTUS": ReferralService.HEALTH_CHECK,
        "TYOKYVYN_ARVIOINTI": ReferralService.WORK_ABILITY_ASSESSMENT,
        "MONIALAINEN_TUKI": ReferralService.MULTISECTOR_SUPPORT,
        "KOTOUTUMISKOULUTUS": ReferralService.INTEGRATION_TRAINING,
    }


def test_urgencies_are_exactly_the_documented_two() -> None:
    assert URGENCY == {"normaali": Urgency.ROUTINE, "kiireellinen": Urgency.URGENT}


@pytest.mark.parametrize(
    "palvelu",
    ["KUNTOUTTAVA_TYOTOIMINTA", "TERVEYSTARKASTUS", "TYOKYVYN_ARVIOINTI", "MONIALAINEN_TUKI"],
)
@pytest.mark.parametrize("authority", [LAHTI, PH])
def test_sote_services_go_to_sote_from_either_authority(palvelu: str, authority: Authority) -> None:
    result = referral_of(referral(palvelu=palvelu, lahettaja=authority.value), authority)
    assert result.service is REFERRAL_SERVICES[palvelu]
    assert result.sender is authority
    assert result.recipient is Partner.SOTE


@pytest.mark.parametrize(("sender", "recipient"), [(LAHTI, Partner.PH), (PH, Partner.LAHTI)])
def test_integration_training_goes_to_the_other_authority(
    sender: Authority, recipient: Partner
) -> None:
    raw = referral(
        palvelu="KOTOUTUMISKOULUTUS", lahettaja=sender.value, vastaanottaja=recipient.value
    )
    result = referral_of(raw, sender)
    assert result.service is ReferralService.INTEGRATION_TRAINING
    assert result.recipient is recipient


def test_urgent_referral_is_urgent() -> None:
    assert referral_of(referral(kiireellisyys="kiireellinen")).urgency is Urgency.URGENT


def test_empty_reason_is_accepted_as_written() -> None:
    assert referral_of(referral(perustelu="")).reason == ""


# --- one test per referral rejection reason -------------------------------------------------


@pytest.mark.parametrize("sender", ["ph", "kela", "sote", "LAHTI", "", "lahti "])
def test_sender_other_than_the_topics_authority_is_rejected(sender: str) -> None:
    result = referral_rejected(referral(lahettaja=sender), LAHTI)
    assert result.reason == "sender-mismatch"
    assert "'lahti'" in result.detail


def test_lahti_referral_on_the_ph_topic_is_rejected() -> None:
    assert referral_rejected(referral(), PH).reason == "sender-mismatch"


@pytest.mark.parametrize(
    ("palvelu", "recipient"),
    [
        ("KUNTOUTTAVA_TYOTOIMINTA", "kela"),
        ("KUNTOUTTAVA_TYOTOIMINTA", "ph"),
        ("TERVEYSTARKASTUS", "lahti"),
        ("TYOKYVYN_ARVIOINTI", "keha"),
        ("MONIALAINEN_TUKI", "kela"),
        ("KOTOUTUMISKOULUTUS", "sote"),
        ("KOTOUTUMISKOULUTUS", "lahti"),
        ("KOTOUTUMISKOULUTUS", "kela"),
    ],
)
def test_referral_to_the_wrong_receiver_for_its_service_is_rejected(
    palvelu: str, recipient: str
) -> None:
    result = referral_rejected(referral(palvelu=palvelu, vastaanottaja=recipient))
    assert result.reason == "wrong-recipient"
    assert f"not '{recipient}'" in result.detail


@pytest.mark.parametrize("recipient", ["SOTE", "hyvinvointialue", ""])
def test_referral_to_an_unknown_receiver_is_rejected(recipient: str) -> None:
    result = referral_rejected(referral(vastaanottaja=recipient))
    assert result.reason == "wrong-recipient"
    assert "not a partner of the hub" in result.detail


@pytest.mark.parametrize("palvelu", ["KTT", "kuntouttava_tyotoiminta", "", "TERVEYSTARKASTUS "])
def test_unknown_referral_service_is_rejected(palvelu: str) -> None:
    result = referral_rejected(referral(palvelu=palvelu))
    assert result.reason == "unknown-referral-service"
    assert "KOTOUTUMISKOULUTUS" in result.detail


@pytest.mark.parametrize("urgency", ["kiire", "Normaali", "", "urgent"])
def test_unknown_urgency_is_rejected(urgency: str) -> None:
    result = referral_rejected(referral(kiireellisyys=urgency))
    assert result.reason == "unknown-urgency"
    assert "normaali, kiireellinen" in result.detail


def test_referral_without_consent_is_rejected_not_forwarded() -> None:
    result = referral_rejected(referral(suostumus=False))
    assert result.reason == "no-consent"
    assert REFERRAL["perustelu"] not in result.detail


@pytest.mark.parametrize("field", REFERRAL_FIELDS)
def test_every_referral_key_is_required(field: str) -> None:
    assert referral_rejected(referral(**{field: ABSENT})) == Rejection(
        "missing-field", f"{field} is missing"
    )


def test_unknown_referral_key_is_rejected() -> None:
    result = referral_rejected(referral(diagnoosi="F32.1"))
    assert result.reason == "unknown-field"
    assert "F32.1" not in result.detail


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("suostumus", "true"),
        ("suostumus", None),
        ("perustelu", None),
        ("perustelu", ["a"]),
        ("lahettaja", None),
        ("palvelu", 1),
        ("toivottu_alku", None),
        ("lahetetty", 1),
    ],
)
def test_referral_value_of_the_wrong_type_is_rejected(field: str, value: object) -> None:
    result = referral_rejected(referral(**{field: value}))
    assert result.reason == "wrong-field-type"
    assert result.detail.startswith(f"{field} must be a")


@pytest.mark.parametrize("referral_id", ["", "L" * 51, "L 2025", "L-ä"])
def test_bad_referral_id_is_rejected(referral_id: str) -> None:
    assert referral_rejected(referral(lahete_id=referral_id)).reason == "bad-identifier"


def test_invalid_identity_code_in_a_referral_is_rejected_without_echoing_it() -> None:
    result = referral_rejected(referral(hetu="131052-930X"))
    assert result.reason == "invalid-identity-code"
    assert "131052" not in result.detail


def test_bad_requested_start_is_rejected() -> None:
    assert referral_rejected(referral(toivottu_alku="1.4.2025")).reason == "bad-date"


def test_referral_time_without_offset_is_rejected() -> None:
    result = referral_rejected(referral(lahetetty="2025-03-14T10:00:00"))
    assert result.reason == "bad-timestamp"
    assert result.detail.startswith("lahetetty")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [(b"\xff", "not-utf8"), (b"[]", "malformed-json"), (b'{"a":1,"a":1}', "duplicate-field")],
)
def test_referral_bytes_that_are_not_a_json_object_are_rejected(raw: bytes, reason: str) -> None:
    assert referral_rejected(raw).reason == reason


def test_wrong_recipient_is_checked_before_consent() -> None:
    raw = referral(vastaanottaja="kela", suostumus=False)
    assert referral_rejected(raw).reason == "wrong-recipient"


# --- canonical events ------------------------------------------------------------------------


def test_status_event_is_the_expected_cloud_event() -> None:
    status = status_of(notification(), PH)
    event = status_event(status, SECRET)
    assert isinstance(event, ClientStatusEvent)
    assert event.id == status_event_id("c0a8012e-7b1d-4c55-9e0e-1f1f2b9d3a10", PH)
    assert event.source == source_for(PH) == "urn:fi:paijathame:hub:connector:ph"
    assert event.type == "fi.paijathame.hub.client-status.v1"
    assert event.dataschema == "urn:fi:paijathame:hub:schema:fi.paijathame.hub.client-status.v1"
    assert event.subject == person_ref_for(CODE, SECRET)
    assert event.time == status.changed_at
    assert event.model_dump(mode="json")["time"] == "2025-03-01T08:12:00+02:00"
    assert event.data == status


def test_referral_event_is_the_expected_cloud_event() -> None:
    result = referral_of(referral())
    event = referral_event(result, SECRET)
    assert isinstance(event, ServiceReferralEvent)
    assert event.id == referral_event_id("L-2025-000871", Authority.LAHTI)
    assert event.source == "urn:fi:paijathame:hub:connector:lahti"
    assert event.type == "fi.paijathame.hub.service-referral.v1"
    assert event.dataschema == "urn:fi:paijathame:hub:schema:fi.paijathame.hub.service-referral.v1"
    assert event.subject == person_ref_for(CODE, SECRET)
    assert event.model_dump(mode="json")["time"] == "2025-03-14T10:00:00+02:00"
    assert event.data == result


def test_event_ids_are_uuid5_in_the_fixed_namespace_with_a_prefix_per_family() -> None:
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, "urn:fi:paijathame:hub:connector:authorities")
    assert namespace == EVENT_ID_NAMESPACE
    assert status_event_id("m1", Authority.LAHTI) == str(
        uuid.uuid5(EVENT_ID_NAMESPACE, "authorities.client-status:lahti/m1")
    )
    assert referral_event_id("m1", Authority.PH) == str(
        uuid.uuid5(EVENT_ID_NAMESPACE, "authorities.service-referral:ph/m1")
    )
    assert status_event_id("m1", Authority.PH) != referral_event_id("m1", Authority.PH)
    assert referral_event_id("m1", Authority.PH) != referral_event_id("m1", Authority.LAHTI)
    assert status_event_id("m1", Authority.PH) != status_event_id("m1", Authority.LAHTI)
    assert uuid.UUID(status_event_id("m1", Authority.PH)).version == 5


def test_event_ids_are_deterministic_and_distinct() -> None:
    assert status_event_id("a", PH) == status_event_id("a", PH)
    assert len({status_event_id(f"m-{n}", PH) for n in range(1000)}) == 1000
    assert len({referral_event_id(f"L-{n}", Authority.LAHTI) for n in range(1000)}) == 1000


def test_redelivered_notification_gives_a_byte_identical_event() -> None:
    first = status_event(status_of(notification()), SECRET).model_dump_json()
    second = status_event(status_of(notification()), SECRET).model_dump_json()
    assert first == second


def test_identity_code_appears_only_inside_data() -> None:
    for event in (
        status_event(status_of(notification()), SECRET),
        referral_event(referral_of(referral()), SECRET),
    ):
        dumped = event.model_dump(mode="json")
        del dumped["data"]["person_id"]
        assert CODE not in json.dumps(dumped)
        assert "131052" not in json.dumps(dumped)


def test_different_people_get_different_subjects() -> None:
    mine = status_event(status_of(notification()), SECRET)
    theirs = status_event(status_of(notification(hetu=OTHER_CODE)), SECRET)
    assert mine.subject != theirs.subject


# --- properties -------------------------------------------------------------------------------

#: Ways to break a valid notification; each names the key to change and its new value.
_STATUS_BREAKAGES: Final[dict[str, dict[str, Any]]] = {
    "none": {},
    "bad check character": {},  # applied to the code below
    "bad municipality": {"kotikunta": "3a8"},
    "retired status": {"tyollisyystilanne": "06"},
    "bad date": {"tilanneAlkaa": "2025-02-30"},
    "no offset": {"muutettu": "2025-03-01T08:12:00"},
    "service reversed": {
        "palvelu": {"koodi": "TKO", "alkaa": "2025-06-30", "paattyy": "2025-03-10"}
    },
    "unknown service": {"palvelu": {"koodi": "XYZ", "alkaa": "2025-03-10"}},
    "missing muutosId": {"muutosId": ABSENT},
    "bad type": {"tyonhakuVoimassa": "true"},
}

_REFERRAL_BREAKAGES: Final[dict[str, dict[str, Any]]] = {
    "none": {},
    "bad check character": {},
    "sender": {"lahettaja": "ph"},
    "recipient": {"vastaanottaja": "kela"},
    "service": {"palvelu": "XYZ"},
    "urgency": {"kiireellisyys": "heti"},
    "no consent": {"suostumus": False},
    "bad date": {"toivottu_alku": "2025-04-31"},
    "missing": {"lahete_id": ABSENT},
}

_SECRET_TEXT: Final = st.text(min_size=1, max_size=40).map(lambda text: f"SALAINEN {text}")


def _break_check_character(code: str) -> str:
    alphabet = "0123456789ABCDEFHJKLMNPRSTUVWXY"
    return code[:-1] + alphabet[(alphabet.index(code[-1]) + 1) % len(alphabet)]


def _placed(code: str, shape: str) -> object:
    return {
        "exact": code,
        "prefixed": "x" + code,
        "suffixed": code + "0",
        "spaced": f" {code} ",
        "as key": code,
    }[shape]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    code=identity_codes(),
    note=_SECRET_TEXT,
    case_worker=_SECRET_TEXT,
    breakage=st.sampled_from(sorted(_STATUS_BREAKAGES)),
    target=st.sampled_from([*NOTIFICATION_FIELDS, "palvelu.koodi", "palvelu.alkaa"]),
    shape=st.sampled_from(["exact", "prefixed", "suffixed", "spaced", "as key"]),
    free_text_target=st.sampled_from(["kotikunta", "tyollisyystilanne", "muutosId", "none"]),
)
def test_identity_codes_and_free_text_never_appear_in_a_status_rejection(
    code: str,
    note: str,
    case_worker: str,
    breakage: str,
    target: str,
    shape: str,
    free_text_target: str,
) -> None:
    hetu = _break_check_character(code) if breakage == "bad check character" else code
    fields: dict[str, Any] = {
        **NOTIFICATION,
        "hetu": hetu,
        "muistiinpano": note,
        "vastuuvirkailija": case_worker,
        **_STATUS_BREAKAGES[breakage],
    }
    # The code also lands in another place, as a mixed-up message might have it.
    if shape == "as key":
        fields[code] = "x"
    elif target.startswith("palvelu."):
        fields["palvelu"] = {**NOTIFICATION["palvelu"], target[8:]: _placed(code, shape)}
    else:
        fields[target] = _placed(code, shape)
    if free_text_target != "none":
        fields[free_text_target] = note
    result = parse_status_change(_with(fields, {}), LAHTI)
    if isinstance(result, Rejection):
        for secret in (code, hetu, code[:6], note, case_worker):
            assert secret not in result.detail
        assert not IDENTITY_CODE_SHAPE.search(result.detail)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    code=identity_codes(),
    reason=_SECRET_TEXT,
    breakage=st.sampled_from(sorted(_REFERRAL_BREAKAGES)),
    target=st.sampled_from(REFERRAL_FIELDS),
    shape=st.sampled_from(["exact", "prefixed", "suffixed", "spaced", "as key"]),
    reason_target=st.sampled_from(["palvelu", "kiireellisyys", "vastaanottaja", "none"]),
)
def test_identity_codes_and_reasons_never_appear_in_a_referral_rejection(
    code: str, reason: str, breakage: str, target: str, shape: str, reason_target: str
) -> None:
    hetu = _break_check_character(code) if breakage == "bad check character" else code
    fields: dict[str, Any] = {
        **REFERRAL,
        "hetu": hetu,
        "perustelu": reason,
        **_REFERRAL_BREAKAGES[breakage],
    }
    if shape == "as key":
        fields[code] = "x"
    else:
        fields[target] = _placed(code, shape)
    if reason_target != "none":
        fields[reason_target] = reason
    result = parse_referral(_with(fields, {}), LAHTI)
    if isinstance(result, Rejection):
        for secret in (code, hetu, code[:6], reason):
            assert secret not in result.detail
        assert not IDENTITY_CODE_SHAPE.search(result.detail)


# Any bytes, JSON values and examples with fields replaced through the routes:
# tests/fuzz/test_authorities.py.

_OFFSETS: Final = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)
_STATUS_CODES: Final = {status.national_code: status for status in EmploymentStatus}


@st.composite
def valid_notifications(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(st.dates(min_value=dt.date(1900, 1, 1)))
    end = draw(st.none() | st.dates(min_value=start))
    palvelu = draw(
        st.none()
        | st.just(
            {
                "koodi": draw(st.sampled_from(ServiceCode)).value,
                "alkaa": start.isoformat(),
                "paattyy": None if end is None else end.isoformat(),
            }
        )
    )
    changed_at = draw(
        st.datetimes(
            min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2999, 1, 1), timezones=_OFFSETS
        )
    )
    return {
        "muutosId": draw(st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1)),
        "asiakasnumero": draw(st.from_regex(r"[A-Z]-[0-9]{1,7}", fullmatch=True)),
        "hetu": draw(identity_codes()),
        "kotikunta": draw(st.from_regex(r"[0-9]{3}", fullmatch=True)),
        "tyollisyystilanne": draw(st.sampled_from(sorted(_STATUS_CODES))),
        "tilanneAlkaa": draw(st.dates(min_value=dt.date(1000, 1, 1))).isoformat(),
        "tyonhakuVoimassa": draw(st.booleans()),
        "palvelu": palvelu,
        "vastuuvirkailija": draw(st.none() | st.text()),
        "muistiinpano": draw(st.none() | st.text()),
        "muutettu": changed_at.isoformat(),
    }


@settings(max_examples=200, deadline=None)
@given(fields=valid_notifications(), authority=st.sampled_from(Authority))
def test_every_valid_notification_parses_to_its_values(
    fields: dict[str, Any], authority: Authority
) -> None:
    result = status_of(orjson.dumps(fields), authority)
    assert result.authority is authority
    assert result.change_id == fields["muutosId"]
    assert result.person_id == fields["hetu"]
    assert result.employment_status is _STATUS_CODES[fields["tyollisyystilanne"]]
    assert result.status_since.isoformat() == fields["tilanneAlkaa"]
    assert result.note == fields["muistiinpano"]
    changed_at = dt.datetime.fromisoformat(fields["muutettu"])
    assert result.changed_at == changed_at
    assert result.changed_at.utcoffset() == changed_at.utcoffset()
    if fields["palvelu"] is None:
        assert result.service is None
    else:
        assert result.service is not None
        assert result.service.code.value == fields["palvelu"]["koodi"]
    event = status_event(result, SECRET)
    assert event.data == result
