"""Each Kela line is validated once, by the parser's checks: the native row and the canonical
event are built from it without pydantic checking them again. These tests hold the parser and
the models together: whatever the parser lets through, the models would have accepted too,
and the event is the one a validating build gives, to the byte.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.kela.inbound import (
    EVENT_ID_NAMESPACE,
    Attribution,
    event_id_for,
    parse_line,
    to_event,
)
from connectors.kela.native import PaymentDayRow
from connectors.kela.versions import as_v1
from schemas.benefit_day import BenefitDay, BenefitDayV2
from schemas.envelope import BenefitDayEvent, BenefitDayV2Event
from schemas.person_ref import person_ref_for
from tests.connectors.kela.test_inbound import _render, valid_rows
from tests.support import CODE, SECRET


def _validated_again(row: PaymentDayRow) -> PaymentDayRow:
    return PaymentDayRow.model_validate(row.model_dump())


@settings(max_examples=300)
@given(valid_rows(), st.integers(1, 10**6), st.sampled_from(("398", "098", "000")), st.booleans())
def test_what_the_parser_lets_through_the_models_accept_unchanged(
    values: dict[str, Any], line_number: int, municipality: str, unseen: bool
) -> None:
    row = parse_line(_render(values), line_number)
    assert isinstance(row, PaymentDayRow)
    again = _validated_again(row)
    assert again == row
    assert again.model_dump() == row.model_dump()
    assert type(again.etuus) is type(row.etuus)
    corrects = values["korjattava"]
    attribution = (
        None
        if corrects is None
        else Attribution(municipality, None if unseen else event_id_for(corrects), unseen)
    )
    event = to_event(row, SECRET, attribution)
    validated = BenefitDayV2Event.model_validate(event.model_dump())
    assert validated == event
    assert validated.model_dump_json() == event.model_dump_json()
    assert BenefitDayV2Event.model_validate_json(event.model_dump_json()) == event
    older = as_v1(event)  # the v1 copy is built without validation too
    if older is not None:
        assert BenefitDayEvent.model_validate(older.model_dump()) == older
        assert BenefitDayEvent.model_validate_json(older.model_dump_json()) == older


def test_a_given_person_reference_is_the_one_computed() -> None:
    row = parse_line(f"K1;{CODE};398;TMT;01.03.2025;31.03.2025;21;737,55;1021;05.04.2025;", 2)
    assert isinstance(row, PaymentDayRow)
    person = person_ref_for(CODE, SECRET)
    given_ref = to_event(row, SECRET, person_ref=person)
    assert given_ref.model_dump_json() == to_event(row, SECRET).model_dump_json()
    assert given_ref.subject == person


def test_the_event_carries_the_canonical_model_itself() -> None:
    row = parse_line(f"K1;{CODE};398;PPR;01.03.2025;31.03.2025;21;737,55;1021;05.04.2025;", 2)
    assert isinstance(row, PaymentDayRow)
    event = to_event(row, SECRET)
    assert type(event.data) is BenefitDayV2
    assert event.time == dt.datetime(2025, 4, 5, tzinfo=event.time.tzinfo)
    assert event.specversion == "1.0"
    assert event.type == "fi.paijathame.hub.benefit-day.v2"
    older = as_v1(event)
    assert older is not None
    assert type(older.data) is BenefitDay
    assert older.type == "fi.paijathame.hub.benefit-day.v1"


@settings(max_examples=300)
@given(st.text(min_size=1, max_size=50))
def test_the_event_id_is_uuid5_of_the_record_id(record_id: str) -> None:
    expected = uuid.uuid5(EVENT_ID_NAMESPACE, "kela.benefit-day:" + record_id)
    assert event_id_for(record_id) == str(expected)


def test_the_trusted_builds_hold_every_field_in_declaration_order() -> None:
    row = parse_line(f"K1;{CODE};398;TMT;01.03.2025;31.03.2025;2;73,76;21;05.04.2025;K0", 2)
    assert isinstance(row, PaymentDayRow)
    assert list(row.__dict__) == list(PaymentDayRow.model_fields)
    event = to_event(row, SECRET, Attribution("398", None, unseen=True))
    assert list(event.__dict__) == list(BenefitDayEvent.model_fields)
    assert list(event.data.__dict__) == list(BenefitDay.model_fields)
