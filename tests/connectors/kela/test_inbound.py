"""Kela's payment-day lines: parsed exactly as the interface document says, never raising."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.kela.inbound import (
    EVENT_ID_NAMESPACE,
    REASONS,
    SOURCE,
    Attribution,
    MissingAttributionError,
    check_header,
    decode_line,
    event_id_for,
    parse_line,
    to_event,
)
from connectors.kela.native import BENEFIT_CODES, COLUMNS, HEADER, KelaBenefit, PaymentDayRow
from schemas.codes import BenefitV2
from schemas.envelope import BenefitDayV2Event
from schemas.person_ref import person_ref_for
from schemas.rejection import Rejection
from tests.strategies import build_identity_code, identity_codes

CODE = "131052-930V"
OTHER_CODE = build_identity_code(dt.date(1985, 6, 15), 951)
SECRET = b"test-secret-for-kela-inbound-0123456789"

VALID: dict[str, str] = {
    "tapahtumatunnus": "K2025-000123456",
    "hetu": CODE,
    "kotikunta": "398",
    "etuus": "TMT",
    "jakso_alku": "01.02.2025",
    "jakso_loppu": "28.02.2025",
    "maksupaivat": "20",
    "maksettu": "737,55",
    "kertyma": "120",
    "maksupvm": "03.03.2025",
    "korjattava": "",
}


def fullwidth(digits: str) -> str:
    """``digits`` in FULLWIDTH DIGIT characters: str.isdigit() and int() accept them."""
    return digits.translate({ord("0") + i: 0xFF10 + i for i in range(10)})


def arabic_indic(digits: str) -> str:
    """``digits`` in ARABIC-INDIC DIGIT characters: str.isdigit() and int() accept them."""
    return digits.translate({ord("0") + i: 0x0660 + i for i in range(10)})


def line_with(**changes: str) -> str:
    """The valid line with some columns replaced."""
    unknown = set(changes) - set(COLUMNS)
    assert not unknown, unknown
    return ";".join((VALID | changes)[column] for column in COLUMNS)


def correction_with(**changes: str) -> str:
    return line_with(
        **{
            "tapahtumatunnus": "K2025-000123999",
            "maksupaivat": "-5",
            "maksettu": "-184,40",
            "kertyma": "115",
            "korjattava": "K2025-000123456",
        }
        | changes
    )


def parsed(line: str, line_number: int | None = 7) -> PaymentDayRow:
    result = parse_line(line, line_number)
    assert isinstance(result, PaymentDayRow), result
    return result


def rejected(line: str, line_number: int | None = 7) -> Rejection:
    result = parse_line(line, line_number)
    assert isinstance(result, Rejection), result
    assert result.reason in REASONS
    assert result.line == line_number
    return result


# --- decoding and the header ------------------------------------------------------------


def test_decode_strips_a_leading_byte_order_mark() -> None:
    assert decode_line(("\ufeff" + HEADER + "\r\n").encode("utf-8"), 1) == HEADER


def test_header_after_a_byte_order_mark_is_accepted() -> None:
    first = decode_line(("\ufeff" + HEADER + "\r\n").encode("utf-8"), 1)
    assert isinstance(first, str)
    assert check_header(first) is None


def test_header_check_itself_tolerates_bom_and_line_ending() -> None:
    assert check_header("\ufeff" + HEADER + "\r\n") is None
    assert check_header(HEADER + "\n") is None


@pytest.mark.parametrize("ending", ["\r\n", "\n"], ids=["crlf", "lf"])
def test_crlf_and_lf_line_endings_give_the_same_row(ending: str) -> None:
    text = decode_line((line_with() + ending).encode("utf-8"), 2)
    assert text == line_with()
    assert isinstance(text, str)
    assert parsed(text, 2) == parsed(line_with(), 2)


def test_parse_line_tolerates_a_line_ending_left_on() -> None:
    assert parsed(line_with() + "\r\n") == parsed(line_with())


def test_bytes_that_are_not_utf8_are_rejected_with_the_line_number() -> None:
    result = decode_line("K1;Hollola".encode("latin-1") + b"\xe4", 12)
    assert isinstance(result, Rejection)
    assert result.reason == "not-utf8"
    assert result.line == 12
    assert "0xe4" in result.detail


def test_header_with_different_case_is_rejected_naming_the_column() -> None:
    result = check_header(HEADER.replace("kotikunta", "Kotikunta"))
    assert result == Rejection(
        "bad-header", "header column 3 must be 'kotikunta', got 'Kotikunta'", line=1
    )


def test_header_missing_a_column_is_rejected_with_the_count() -> None:
    result = check_header(HEADER.removesuffix(";korjattava"))
    assert result is not None
    assert result.reason == "bad-header"
    assert "11" in result.detail
    assert "10" in result.detail


def test_header_with_an_extra_column_is_rejected() -> None:
    result = check_header(HEADER + ";lisatieto")
    assert result is not None
    assert result.reason == "bad-header"
    assert "got 12" in result.detail


def test_header_with_spaces_is_rejected() -> None:
    result = check_header(HEADER.replace(";", "; "))
    assert result is not None
    assert result.reason == "bad-header"


def test_a_data_line_in_place_of_the_header_does_not_leak_its_identity_code() -> None:
    result = check_header(line_with())
    assert result is not None
    assert result.reason == "bad-header"
    assert result.line == 1
    assert CODE not in result.detail


# --- a valid line -------------------------------------------------------------------------


def test_valid_line_gives_the_typed_row() -> None:
    assert parsed(line_with(), 3) == PaymentDayRow(
        tapahtumatunnus="K2025-000123456",
        hetu=CODE,
        kotikunta="398",
        etuus=KelaBenefit.TMT,
        jakso_alku=dt.date(2025, 2, 1),
        jakso_loppu=dt.date(2025, 2, 28),
        maksupaivat=20,
        maksettu=Decimal("737.55"),
        kertyma=120,
        maksupvm=dt.date(2025, 3, 3),
        korjattava=None,
        line=3,
    )


@pytest.mark.parametrize("code", ["TMT", "PPR", "APR", "YLT"])
def test_each_documented_benefit_code_is_parsed(code: str) -> None:
    assert parsed(line_with(etuus=code)).etuus is KelaBenefit(code)


@pytest.mark.parametrize(("code", "benefit"), [(k.value, v) for k, v in BENEFIT_CODES.items()])
def test_each_benefit_code_maps_to_its_canonical_benefit(code: str, benefit: BenefitV2) -> None:
    row = parsed(line_with(etuus=code))
    event = to_event(row, SECRET)
    assert event.data.benefit is benefit
    assert event.type == "fi.paijathame.hub.benefit-day.v2"


def test_benefit_codes_are_exactly_the_documented_four() -> None:
    # YLT is general support, a value of benefit-day.v2 only (v1 is released with three).
    assert BENEFIT_CODES == {
        KelaBenefit.TMT: BenefitV2.LABOUR_MARKET_SUBSIDY,
        KelaBenefit.PPR: BenefitV2.BASIC_ALLOWANCE,
        KelaBenefit.APR: BenefitV2.EARNINGS_RELATED_BASIC_PART,
        KelaBenefit.YLT: BenefitV2.GENERAL_SUPPORT,
    }


@pytest.mark.parametrize(
    ("start", "end"),
    [("01.04.2026", "30.04.2026"), ("20.04.2026", "10.05.2026"), ("01.05.2026", "31.05.2026")],
)
def test_general_support_for_any_period_is_plausible(start: str, end: str) -> None:
    # The document says YLT replaced TMT and PPR for periods from 1 May 2026, but its rules
    # for a receiver do not make an earlier YLT period implausible: the parser does not either.
    row = parsed(line_with(etuus="YLT", jakso_alku=start, jakso_loppu=end, maksupaivat="10"))
    assert row.etuus is KelaBenefit.YLT


def test_tmt_and_ppr_still_parse_for_periods_after_general_support_began() -> None:
    for code in ("TMT", "PPR"):
        row = parsed(line_with(etuus=code, jakso_alku="01.06.2026", jakso_loppu="30.06.2026"))
        assert row.etuus is KelaBenefit(code)


def test_header_is_the_eleven_documented_columns_in_order() -> None:
    assert HEADER == (
        "tapahtumatunnus;hetu;kotikunta;etuus;jakso_alku;jakso_loppu;"
        "maksupaivat;maksettu;kertyma;maksupvm;korjattava"
    )


def test_spaces_around_fields_are_stripped() -> None:
    spaced = ";".join(f" {VALID[column]}\t" for column in COLUMNS)
    assert parsed(spaced) == parsed(line_with())


@pytest.mark.parametrize(
    ("text", "amount"),
    [("737,55", "737.55"), ("737,5", "737.50"), ("737", "737.00"), ("0,05", "0.05")],
)
def test_decimal_comma_amounts_become_cents(text: str, amount: str) -> None:
    assert str(parsed(line_with(maksettu=text)).maksettu) == amount


def test_negative_zero_amount_is_zero() -> None:
    assert str(parsed(line_with(maksettu="-0,00")).maksettu) == "0.00"


def test_zero_days_and_twenty_five_days_are_accepted() -> None:
    assert parsed(line_with(maksupaivat="0")).maksupaivat == 0
    assert parsed(line_with(maksupaivat="25")).maksupaivat == 25


def test_correction_with_negative_days_and_euros_is_accepted() -> None:
    row = parsed(correction_with())
    assert row.maksupaivat == -5
    assert row.maksettu == Decimal("-184.40")
    assert row.korjattava == "K2025-000123456"


def test_correction_may_take_back_twenty_five_days() -> None:
    assert parsed(correction_with(maksupaivat="-25")).maksupaivat == -25


def test_one_day_period_is_accepted() -> None:
    row = parsed(line_with(jakso_alku="28.02.2025", jakso_loppu="28.02.2025", maksupaivat="1"))
    assert row.jakso_alku == row.jakso_loppu


# --- plausibility -------------------------------------------------------------------------


def test_twenty_five_days_in_a_one_day_period_are_implausible() -> None:
    # The line: 25 days paid for one calendar day, with a cumulative count of 3.
    line = line_with(
        jakso_alku="28.02.2025", jakso_loppu="28.02.2025", maksupaivat="25", kertyma="3"
    )
    result = rejected(line)
    assert result.reason == "implausible-record"
    assert "1 calendar days" in result.detail


@pytest.mark.parametrize(
    ("end", "days", "plausible"),
    [
        ("10.02.2025", "10", True),  # as many days as the period has
        ("10.02.2025", "11", False),  # one more
        ("09.02.2025", "10", False),  # a period one day shorter
        ("01.02.2025", "1", True),
        ("01.02.2025", "2", False),
    ],
)
def test_paid_days_are_at_most_the_calendar_days_of_the_period(
    end: str, days: str, plausible: bool
) -> None:
    result = parse_line(line_with(jakso_loppu=end, maksupaivat=days), 2)
    if plausible:
        assert isinstance(result, PaymentDayRow)
    else:
        assert isinstance(result, Rejection)
        assert result.reason == "implausible-record"


@pytest.mark.parametrize(("days", "plausible"), [("-10", True), ("-11", False)])
def test_a_correction_takes_back_at_most_the_calendar_days_of_its_period(
    days: str, plausible: bool
) -> None:
    result = parse_line(correction_with(jakso_loppu="10.02.2025", maksupaivat=days), 2)
    assert isinstance(result, PaymentDayRow) is plausible
    if not plausible:
        assert isinstance(result, Rejection)
        assert result.reason == "implausible-record"


@pytest.mark.parametrize(
    ("cumulative", "plausible"), [("20", True), ("19", False), ("21", True), ("0", False)]
)
def test_cumulative_days_are_at_least_the_days_of_a_normal_record(
    cumulative: str, plausible: bool
) -> None:
    result = parse_line(line_with(maksupaivat="20", kertyma=cumulative), 2)
    assert isinstance(result, PaymentDayRow) is plausible
    if not plausible:
        assert isinstance(result, Rejection)
        assert result.reason == "implausible-record"
        assert CODE not in result.detail


def test_cumulative_days_below_the_days_taken_back_are_plausible_in_a_correction() -> None:
    # The rule is for a normal record: a correction's kertyma is the count after taking back.
    assert parsed(correction_with(maksupaivat="-5", kertyma="0")).kertyma == 0


def test_zero_days_with_zero_cumulative_days_are_plausible() -> None:
    assert parsed(line_with(maksupaivat="0", kertyma="0")).kertyma == 0


# --- one test per bad input ---------------------------------------------------------------


def test_too_few_fields_are_rejected_with_the_count() -> None:
    result = rejected(line_with().rsplit(";", 1)[0])
    assert result.reason == "wrong-column-count"
    assert "expected 11" in result.detail
    assert "got 10" in result.detail


def test_too_many_fields_are_rejected_with_the_count() -> None:
    result = rejected(line_with() + ";extra")
    assert result.reason == "wrong-column-count"
    assert "got 12" in result.detail


def test_empty_line_is_rejected_as_wrong_column_count() -> None:
    assert rejected("").reason == "wrong-column-count"


def test_comma_separated_line_is_rejected_as_wrong_column_count() -> None:
    assert rejected(line_with().replace(";", ",")).reason == "wrong-column-count"


def test_empty_record_id_is_rejected() -> None:
    assert rejected(line_with(tapahtumatunnus="")).reason == "missing-record-id"


def test_blank_record_id_is_rejected_as_missing() -> None:
    assert rejected(line_with(tapahtumatunnus="   ")).reason == "missing-record-id"


@pytest.mark.parametrize("record_id", ["K" * 51, "K2025 000123", "K2025-ä", "K\x00"])
def test_record_id_not_1_to_50_visible_ascii_is_rejected(record_id: str) -> None:
    assert rejected(line_with(tapahtumatunnus=record_id)).reason == "bad-record-id"


def test_malformed_corrected_record_id_is_rejected() -> None:
    assert rejected(correction_with(korjattava="K" * 51)).reason == "bad-record-id"


@pytest.mark.parametrize(
    "hetu",
    [
        "131052-930X",  # wrong check character
        "131052Q930V",  # unknown century sign
        "310252-930V",  # 31 February
        "131052-930",  # too short
        "",  # missing
        "131052-93OV",  # letter O for a zero
    ],
)
def test_invalid_identity_code_is_rejected_without_echoing_it(hetu: str) -> None:
    result = rejected(line_with(hetu=hetu))
    assert result.reason == "invalid-identity-code"
    assert result.detail.startswith("hetu: identity code")
    if hetu:
        assert hetu not in result.detail
    assert "131052" not in result.detail


def test_identity_code_with_non_ascii_digits_is_rejected() -> None:
    assert rejected(line_with(hetu=arabic_indic(CODE))).reason == "invalid-identity-code"


@pytest.mark.parametrize(
    "municipality", ["39", "3980", "39A", "", arabic_indic("398"), fullwidth("398")]
)
def test_municipality_not_three_ascii_digits_is_rejected(municipality: str) -> None:
    assert rejected(line_with(kotikunta=municipality)).reason == "bad-municipality-code"


@pytest.mark.parametrize("benefit", ["XYZ", "tmt", "", "TMT1", "ATT"])
def test_unknown_benefit_code_is_rejected(benefit: str) -> None:
    result = rejected(line_with(etuus=benefit))
    assert result.reason == "unknown-benefit-code"
    assert "TMT, PPR, APR" in result.detail


def test_impossible_date_is_rejected_naming_column_and_text() -> None:
    result = rejected(line_with(jakso_alku="31.02.2025"), 17)
    assert result == Rejection("bad-date", "jakso_alku '31.02.2025' is not a date", line=17)


@pytest.mark.parametrize(
    ("column", "text"),
    [
        ("jakso_alku", "2025-02-01"),
        ("jakso_loppu", "1.2.2025"),
        ("maksupvm", "03.03.25"),
        ("maksupvm", ""),
        ("jakso_alku", "00.02.2025"),
        ("jakso_loppu", "29.02.2025"),
        ("maksupvm", "03.13.2025"),
        ("jakso_alku", "01.02.0000"),
        ("maksupvm", fullwidth("03") + ".03.2025"),
    ],
)
def test_date_not_dd_mm_yyyy_or_impossible_is_rejected(column: str, text: str) -> None:
    result = rejected(line_with(**{column: text}))
    assert result.reason == "bad-date"
    assert result.detail.startswith(column)


def test_period_end_before_start_is_rejected() -> None:
    result = rejected(line_with(jakso_alku="28.02.2025", jakso_loppu="01.02.2025"))
    assert result.reason == "period-end-before-start"
    assert "01.02.2025" in result.detail
    assert "28.02.2025" in result.detail


@pytest.mark.parametrize("column", ["maksupaivat", "kertyma"])
@pytest.mark.parametrize(
    "text", ["2,5", "2.5", "x", "", "+3", "1e3", fullwidth("20"), arabic_indic("2"), "- 3"]
)
def test_days_that_are_not_an_integer_are_rejected(column: str, text: str) -> None:
    result = rejected(line_with(**{column: text}))
    assert result.reason == "bad-integer"
    assert result.detail.startswith(column)


def test_absurdly_long_integer_is_rejected_not_raised() -> None:
    assert rejected(line_with(kertyma="9" * 5000)).reason == "bad-integer"


def test_decimal_point_instead_of_comma_is_rejected() -> None:
    result = rejected(line_with(maksettu="737.55"))
    assert result.reason == "decimal-point-not-comma"
    assert "737.55" in result.detail


@pytest.mark.parametrize(
    "amount",
    [
        "737,555",
        "abc",
        "",
        "1 234,55",
        "1.234,55",
        "737,",
        ",55",
        "+737,55",
        arabic_indic("737,55"),
        "9" * 11,
    ],
)
def test_amount_unparseable_or_with_more_than_two_decimals_is_rejected(amount: str) -> None:
    assert rejected(line_with(maksettu=amount)).reason == "bad-amount"


def test_negative_cumulative_days_are_rejected() -> None:
    assert rejected(line_with(kertyma="-1")).reason == "negative-cumulative-days"


def test_negative_cumulative_days_are_rejected_in_a_correction_too() -> None:
    assert rejected(correction_with(kertyma="-1")).reason == "negative-cumulative-days"


def test_negative_days_without_correction_are_rejected() -> None:
    assert rejected(line_with(maksupaivat="-5")).reason == "negative-without-correction"


def test_negative_euros_without_correction_are_rejected() -> None:
    assert rejected(line_with(maksettu="-184,40")).reason == "negative-without-correction"


def test_far_negative_days_without_correction_are_rejected_as_uncorrected() -> None:
    assert rejected(line_with(maksupaivat="-30")).reason == "negative-without-correction"


def test_more_than_twenty_five_days_are_rejected() -> None:
    result = rejected(line_with(maksupaivat="26"))
    assert result.reason == "days-out-of-range"
    assert "0..25" in result.detail


def test_correction_taking_back_more_than_twenty_five_days_is_rejected() -> None:
    result = rejected(correction_with(maksupaivat="-26"))
    assert result.reason == "days-out-of-range"
    assert "-25..25" in result.detail


def test_first_failing_column_is_reported() -> None:
    line = line_with(kotikunta="x", etuus="x", jakso_alku="x")
    assert rejected(line).reason == "bad-municipality-code"


@pytest.mark.parametrize("line_number", [None, 1, 99_999])
def test_rejection_carries_the_line_number_given(line_number: int | None) -> None:
    assert rejected(line_with(etuus="XYZ"), line_number).line == line_number


# --- the canonical event ------------------------------------------------------------------


def test_valid_line_gives_the_expected_event() -> None:
    event = to_event(parsed(line_with()), SECRET)
    assert isinstance(event, BenefitDayV2Event)
    assert event.id == event_id_for("K2025-000123456")
    assert event.source == SOURCE == "urn:fi:paijathame:hub:connector:kela"
    assert event.type == "fi.paijathame.hub.benefit-day.v2"
    assert event.dataschema == "urn:fi:paijathame:hub:schema:fi.paijathame.hub.benefit-day.v2"
    assert event.subject == person_ref_for(CODE, SECRET)
    assert event.data.model_dump(mode="json") == {
        "record_id": "K2025-000123456",
        "person_id": CODE,
        "home_municipality": "398",
        "benefit": "labour_market_subsidy",
        "period_start": "2025-02-01",
        "period_end": "2025-02-28",
        "paid_days": 20,
        "amount_paid": "737.55",
        "cumulative_days": 120,
        "payment_date": "2025-03-03",
        "corrects_record_id": None,
        "corrects_event_id": None,
        "stated_home_municipality": None,
        "corrects_unseen_record": False,
    }


@pytest.mark.parametrize(
    ("payment_date", "time"),
    [("03.03.2025", "2025-03-03T00:00:00+02:00"), ("15.07.2025", "2025-07-15T00:00:00+03:00")],
)
def test_event_time_is_payment_date_at_midnight_in_helsinki(payment_date: str, time: str) -> None:
    event = to_event(parsed(line_with(maksupvm=payment_date)), SECRET)
    assert event.time.tzinfo is not None
    assert event.model_dump(mode="json")["time"] == time


def test_correction_event_points_at_the_corrected_event() -> None:
    original = to_event(parsed(line_with()), SECRET)
    attribution = Attribution("398", original.id)
    event = to_event(parsed(correction_with()), SECRET, attribution)
    assert event.data.corrects_record_id == "K2025-000123456"
    assert event.data.corrects_event_id == event_id_for("K2025-000123456") == original.id
    assert event.data.paid_days == -5
    assert event.data.amount_paid == Decimal("-184.40")


def test_correction_event_is_financed_by_the_corrected_records_municipality() -> None:
    row = parsed(correction_with(kotikunta="098"))
    event = to_event(row, SECRET, Attribution("398", event_id_for("K2025-000123456")))
    assert event.data.home_municipality == "398"
    assert event.data.stated_home_municipality == "098"
    assert event.data.corrects_unseen_record is False


def test_correction_of_an_unseen_record_is_marked_and_keeps_its_own_municipality() -> None:
    event = to_event(parsed(correction_with()), SECRET, Attribution("398", None, unseen=True))
    assert event.data.corrects_unseen_record is True
    assert event.data.corrects_event_id is None
    assert event.data.home_municipality == event.data.stated_home_municipality == "398"


def test_a_correction_without_its_attribution_is_refused() -> None:
    with pytest.raises(MissingAttributionError):
        to_event(parsed(correction_with()), SECRET)


def test_an_attribution_given_for_a_normal_record_is_ignored() -> None:
    event = to_event(parsed(line_with()), SECRET, Attribution("560", "x", unseen=True))
    assert event == to_event(parsed(line_with()), SECRET)


def test_event_id_is_deterministic() -> None:
    assert event_id_for("K2025-000123456") == event_id_for("K2025-000123456")


def test_event_ids_of_different_records_differ() -> None:
    ids = {event_id_for(f"K2025-{n:09d}") for n in range(1000)}
    assert len(ids) == 1000


def test_event_id_is_a_uuid5_in_the_fixed_namespace() -> None:
    assert uuid.uuid5(uuid.NAMESPACE_URL, SOURCE) == EVENT_ID_NAMESPACE
    expected = uuid.uuid5(EVENT_ID_NAMESPACE, "kela.benefit-day:K2025-000123456")
    assert event_id_for("K2025-000123456") == str(expected)
    assert uuid.UUID(event_id_for("K1")).version == 5


def test_same_row_gives_a_byte_identical_event() -> None:
    first = to_event(parsed(line_with()), SECRET).model_dump_json()
    second = to_event(parsed(line_with()), SECRET).model_dump_json()
    assert first == second


def test_redelivered_line_gives_the_same_event_id_whatever_its_line_number() -> None:
    assert to_event(parsed(line_with(), 3), SECRET) == to_event(parsed(line_with(), None), SECRET)


def test_subject_is_the_person_ref_and_not_the_identity_code() -> None:
    event = to_event(parsed(line_with()), SECRET)
    assert re.fullmatch(r"p-[0-9a-f]{32}", event.subject)
    assert CODE not in event.subject
    assert "131052" not in event.subject
    assert CODE not in event.id
    dumped = event.model_dump(mode="json")
    del dumped["data"]["person_id"]
    assert CODE not in repr(dumped)


def test_different_people_get_different_subjects() -> None:
    mine = to_event(parsed(line_with()), SECRET)
    theirs = to_event(parsed(line_with(hetu=OTHER_CODE)), SECRET)
    assert mine.subject != theirs.subject


# --- properties ---------------------------------------------------------------------------

_BREAKAGES: dict[str, dict[str, str]] = {
    "bad check character": {},  # applied to the code itself below
    "bad date": {"jakso_alku": "31.02.2025"},
    "bad municipality": {"kotikunta": "3a8"},
    "unknown benefit": {"etuus": "XYZ"},
    "period reversed": {"jakso_alku": "28.02.2025", "jakso_loppu": "01.02.2025"},
    "bad integer": {"maksupaivat": "2,5"},
    "decimal point": {"maksettu": "737.55"},
    "bad amount": {"maksettu": "737,555"},
    "negative uncorrected": {"maksupaivat": "-3"},
    "too many days": {"maksupaivat": "30"},
    "negative cumulative": {"kertyma": "-4"},
    "missing record id": {"tapahtumatunnus": ""},
}


def _break_check_character(code: str) -> str:
    alphabet = "0123456789ABCDEFHJKLMNPRSTUVWXY"
    return code[:-1] + alphabet[(alphabet.index(code[-1]) + 1) % len(alphabet)]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    code=identity_codes(),
    breakage=st.sampled_from(sorted(_BREAKAGES)),
    target=st.sampled_from(COLUMNS),
    shape=st.sampled_from(["exact", "prefixed", "suffixed", "extra column", "short"]),
)
def test_identity_codes_never_appear_in_a_rejection_detail(
    code: str, breakage: str, target: str, shape: str
) -> None:
    hetu = _break_check_character(code) if breakage == "bad check character" else code
    fields: dict[str, Any] = VALID | {"hetu": hetu} | _BREAKAGES[breakage]
    # The code also lands in another column, as a mixed-up or hand-edited file might have it.
    placed = {"exact": code, "prefixed": "x" + code, "suffixed": code + "0"}.get(shape, code)
    fields[target] = placed
    line = ";".join(fields[column] for column in COLUMNS)
    if shape == "extra column":
        line += ";" + code
    elif shape == "short":
        line = line.rsplit(";", 1)[0]
    result = parse_line(line, 5)
    if isinstance(result, Rejection):
        assert code not in result.detail
        assert hetu not in result.detail
        assert code[:6] not in result.detail
    header_result = check_header(line)
    assert header_result is not None
    assert code not in header_result.detail


# Any bytes, text and near-valid fields through the whole route: tests/fuzz/test_kela.py.
@settings(max_examples=300)
@given(st.text())
def test_arbitrary_text_keeps_its_line_number_and_the_header_check_answers(text: str) -> None:
    result = parse_line(text, 4)
    assert isinstance(result, PaymentDayRow | Rejection)
    assert result.line == 4
    header = check_header(text)
    assert header is None or isinstance(header, Rejection)


@st.composite
def valid_rows(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31)))
    length = draw(st.integers(0, 40))
    end = start + dt.timedelta(days=length)
    correction = draw(st.booleans())
    most = min(25, length + 1)  # plausible: at most the calendar days of the period
    days = draw(st.integers(-most if correction else 0, most))
    cents = draw(st.integers(-(10**12) + 1 if correction else 0, 10**12 - 1))
    return {
        "tapahtumatunnus": draw(st.from_regex(r"[!-:<-~]{1,50}", fullmatch=True)),
        "hetu": draw(identity_codes()),
        "kotikunta": f"{draw(st.integers(0, 999)):03d}",
        "etuus": draw(st.sampled_from(sorted(KelaBenefit))),
        "jakso_alku": start,
        "jakso_loppu": end,
        "maksupaivat": days,
        "maksettu": Decimal(cents).scaleb(-2),
        "kertyma": draw(st.integers(0 if correction else max(days, 0), 10**6)),
        "maksupvm": end + dt.timedelta(days=draw(st.integers(0, 10))),
        "korjattava": draw(st.from_regex(r"K[0-9]{4}-[0-9]{9}", fullmatch=True))
        if correction
        else None,
    }


def _render(values: dict[str, Any]) -> str:
    def text(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, dt.date):
            return value.strftime("%d.%m.%Y")
        if isinstance(value, Decimal):
            return f"{value:.2f}".replace(".", ",")
        return str(value)

    return ";".join(text(values[column]) for column in COLUMNS)


@settings(max_examples=300)
@given(valid_rows(), st.integers(1, 10**6))
def test_valid_generated_rows_parse_back_to_the_same_values(
    values: dict[str, Any], line_number: int
) -> None:
    row = parsed(_render(values), line_number)
    assert row.model_dump() == values | {"line": line_number}
    corrects = values["korjattava"]
    attribution = None if corrects is None else Attribution("398", event_id_for(corrects))
    event = to_event(row, SECRET, attribution)
    assert event.data.record_id == values["tapahtumatunnus"]
    assert event.data.amount_paid == values["maksettu"]
    assert to_event(row, SECRET, attribution).model_dump_json() == event.model_dump_json()
