"""The Kela path's fast builds against the reference builds they replace, on generated and
mutated input: a line accepted in one pass is the row the field-by-field parser gives (and every
other line gets the parser's verdict), the events serialised from the directly built document
are the models' bytes, message for message, and the contracts see the same data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.kela.event_json import (
    RecordData,
    event_data,
    event_document,
    event_messages,
    published_versions,
)
from connectors.kela.inbound import (
    Attribution,
    event_id_for,
    parse_fields,
    parse_line,
    to_event,
)
from connectors.kela.native import COLUMNS, PaymentDayRow
from connectors.kela.one_pass import row_in_one_pass
from connectors.kela.wiring import canonical_messages
from tests.connectors.kela.test_inbound import _render, valid_rows
from tests.fuzz.kela_lines import KELA_DOMAIN
from tests.support import CODE, SECRET

_FIELD_TEXT = st.one_of(
    st.sampled_from(KELA_DOMAIN),
    st.text(alphabet="0123456789,.;- \tAKYZ\ufeff\r\n", max_size=14),
    st.text(max_size=8),
)


_DAYS = st.one_of(st.sampled_from(["0", "1", "-1"]), st.integers(-30, 30).map(str))
_DATES = st.dates(dt.date(2024, 12, 30), dt.date(2025, 1, 3)).map(lambda d: f"{d:%d.%m.%Y}")
_PLAUSIBLE = {
    "maksupaivat": _DAYS,
    "kertyma": _DAYS,
    "maksettu": st.sampled_from(["-0,00", "0,00", "-1,5", "12,34", "-737,55", "1"]),
    "jakso_alku": _DATES,
    "jakso_loppu": _DATES,
    "korjattava": st.sampled_from(["", "K1"]),
}


@st.composite
def mutated_lines(draw: st.DrawFn) -> str:
    """A valid line with up to three fields replaced, blanks around some, a line ending."""
    fields = _render(draw(valid_rows())).split(";")
    for _ in range(draw(st.integers(0, 3))):
        fields[draw(st.integers(0, len(COLUMNS) - 1))] = draw(_FIELD_TEXT)
    # Well-formed values that break the rules across fields (period order, days against
    # the period and the cumulative count, signs without a correction).
    for column, values in _PLAUSIBLE.items():
        if draw(st.integers(0, 3)) == 0:
            fields[COLUMNS.index(column)] = draw(values)
    if draw(st.booleans()):
        position = draw(st.integers(0, len(COLUMNS) - 1))
        fields[position] = draw(st.sampled_from([" ", "\t", ""])) + fields[position] + " "
    prefix = draw(st.sampled_from(["", "\ufeff", "\ufeff\ufeff"]))
    return prefix + ";".join(fields) + draw(st.sampled_from(["", "\r\n", "\n", "\r"]))


def _verdict(result: PaymentDayRow | Any) -> Any:
    if isinstance(result, PaymentDayRow):
        return ("row", result.model_dump(), type(result.etuus), str(result.maksettu))
    return ("rejected", result.reason, result.detail, result.line)


@settings(max_examples=600)
@given(st.one_of(mutated_lines(), st.text(max_size=120)), st.integers(1, 10**6))
def test_a_line_gets_the_field_by_field_parsers_verdict(line: str, number: int) -> None:
    assert _verdict(parse_line(line, number)) == _verdict(parse_fields(line, number))


@settings(max_examples=400)
@given(mutated_lines(), st.integers(1, 10**6))
def test_what_one_pass_accepts_the_parser_accepts_as_the_same_row(line: str, number: int) -> None:
    text = line.removeprefix("\ufeff").rstrip("\r\n")
    fast = row_in_one_pass(text, number)
    if fast is not None:
        assert _verdict(fast) == _verdict(parse_fields(text, number))
        assert list(fast.__dict__) == list(PaymentDayRow.model_fields)


@settings(max_examples=300)
@given(valid_rows(), st.integers(1, 10**6))
def test_every_generated_valid_line_is_settled_in_one_pass(values: dict[str, Any], n: int) -> None:
    # The fast path is the common case: a plainly written valid line never falls back.
    assert row_in_one_pass(_render(values), n) is not None


def _row_and_attribution(
    values: dict[str, Any], unseen: bool, municipality: str
) -> tuple[PaymentDayRow, Attribution | None]:
    row = parse_line(_render(values), 7)
    assert isinstance(row, PaymentDayRow)
    if row.korjattava is None:
        return row, None
    corrects = None if unseen else event_id_for(row.korjattava)
    return row, Attribution(municipality, corrects, unseen=unseen)


@settings(max_examples=400)
@given(valid_rows(), st.booleans(), st.sampled_from(("398", "098", "000")))
def test_the_messages_are_the_models_messages_byte_for_byte(
    values: dict[str, Any], unseen: bool, municipality: str
) -> None:
    row, attribution = _row_and_attribution(values, unseen, municipality)
    event = to_event(row, SECRET, attribution)
    document = event_document(row, event.id, event.subject, attribution)
    assert document == event.model_dump(mode="json")
    fast, reference = event_messages(document), canonical_messages(event)
    assert [(m.topic, m.value, m.key, dict(m.headers), m.event_id, m.facts) for m in fast] == [
        (m.topic, m.value, m.key, dict(m.headers), m.event_id, m.facts) for m in reference
    ]
    assert len(published_versions(row)) == len(fast)
    assert [int(m.topic.rpartition(".v")[2]) for m in fast] == list(published_versions(row))


@settings(max_examples=300)
@given(valid_rows(), st.booleans(), st.sampled_from(("398", "098")))
def test_the_record_data_read_field_by_field_is_the_events_data(
    values: dict[str, Any], unseen: bool, municipality: str
) -> None:
    row, attribution = _row_and_attribution(values, unseen, municipality)
    expected = to_event(row, SECRET, attribution).model_dump(mode="json")["data"]
    view = RecordData(row, attribution)
    assert {key: view[key] for key in expected} == expected
    assert dict(view) == expected == event_data(row, attribution)
    assert len(view) == len(expected)
    assert view.get("no-such-field") is None


def test_a_record_that_corrects_nothing_ignores_an_attribution_as_to_event_does() -> None:
    row = parse_line(f"K1;{CODE};398;TMT;01.03.2025;31.03.2025;21;737,55;1021;05.04.2025;", 2)
    assert isinstance(row, PaymentDayRow)
    stray = Attribution("098", None, unseen=True)
    event = to_event(row, SECRET, stray)
    assert event_document(row, event.id, event.subject, stray) == event.model_dump(mode="json")
    assert RecordData(row, stray)["home_municipality"] == "398"


def test_an_event_time_in_summer_and_winter_is_the_models() -> None:
    for day in (dt.date(2025, 1, 15), dt.date(2025, 7, 15), dt.date(2025, 3, 30)):
        line = f"K1;{CODE};398;TMT;01.01.2025;14.01.2025;1;1,00;1;{day:%d.%m.%Y};"
        row = parse_line(line, 2)
        assert isinstance(row, PaymentDayRow)
        event = to_event(row, SECRET)
        document = event_document(row, event.id, event.subject, None)
        assert event_messages(document)[0].value == event.model_dump_json().encode()


def _line(**changes: str) -> str:
    fields = {
        "tapahtumatunnus": "K1",
        "hetu": CODE,
        "kotikunta": "398",
        "etuus": "TMT",
        "jakso_alku": "01.01.2025",
        "jakso_loppu": "14.01.2025",
        "maksupaivat": "5",
        "maksettu": "100,00",
        "kertyma": "5",
        "maksupvm": "18.01.2025",
        "korjattava": "",
    } | changes
    return ";".join(fields[column] for column in COLUMNS)


@pytest.mark.parametrize(
    "line",
    [
        _line(),
        _line(jakso_alku="02.01.2025", jakso_loppu="01.01.2025", maksupaivat="0", kertyma="0"),
        _line(kertyma="4"),
        _line(maksupaivat="-1", kertyma="0"),
        _line(maksettu="-1,00"),
        _line(maksettu="-0,00"),
        _line(maksettu="-0,00", korjattava="K0"),
        _line(maksupaivat="15", kertyma="15"),
        _line(jakso_loppu="31.01.2025", maksupaivat="26", kertyma="26"),
        _line(maksupaivat="-26", korjattava="K0", jakso_loppu="31.01.2025"),
        _line(maksupaivat="-14", maksettu="-5", korjattava="K0", kertyma="0"),
        _line(jakso_alku="30.02.2025"),
        _line(hetu=CODE[:-1] + "A"),
        _line(kotikunta="\u0663\u0669\u0668"),
        _line(maksettu="1,5"),
        _line(maksettu="1.50"),
        _line(korjattava="x" * 51),
    ],
)
def test_each_rule_across_fields_gets_the_parsers_verdict(line: str) -> None:
    assert _verdict(parse_line(line, 3)) == _verdict(parse_fields(line, 3))
