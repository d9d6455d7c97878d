"""The compatibility rule, one kind of change at a time: what it allows and what it rejects.

Each case is a released model and a current one, written as pydantic models the way the
canonical models are (closed: ``extra="forbid"``), compared through their JSON Schemas.
``backward``: the current schema must read what a release wrote. ``forward``: a consumer of
the release must read what the current schema writes, ignoring properties it does not know.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from schemas._base import CanonicalModel
from schemas.catalogue import EVENT_TYPES, json_schema_for
from schemas.compatibility import Breach, Direction, compare, compatibility

BACKWARD, FORWARD = Direction.BACKWARD, Direction.FORWARD


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(mode="validation")


def _breaches(
    released: type[BaseModel], current: type[BaseModel]
) -> set[tuple[Direction, Breach, str]]:
    found = compatibility(_schema(released), _schema(current), "release 1")
    return {(f.direction, f.breach, f.path) for f in found}


# --- properties and the closed content model ----------------------------------------------


class Closed(CanonicalModel):
    name: str


class ClosedWithOptional(CanonicalModel):
    name: str
    nickname: str | None = None


class ClosedWithRequired(CanonicalModel):
    name: str
    nickname: str


class Open(BaseModel):
    name: str


class OpenWithOptional(BaseModel):
    name: str
    nickname: str | None = None


def test_adding_an_optional_property_to_a_closed_model_is_allowed() -> None:
    # No released event can carry `nickname` (the model was closed), and a consumer of the
    # release ignores a property it does not know.
    assert _breaches(Closed, ClosedWithOptional) == set()


def test_adding_a_property_to_an_open_model_is_rejected() -> None:
    # Under the open model a released event may already carry `nickname` with any value.
    assert _breaches(Open, OpenWithOptional) == {(BACKWARD, Breach.OPEN_MODEL, "nickname")}


def test_removing_a_property_is_rejected_because_released_events_carry_it() -> None:
    assert _breaches(ClosedWithOptional, Closed) == {(BACKWARD, Breach.PROPERTY, "nickname")}


def test_adding_a_required_property_is_rejected_because_released_events_lack_it() -> None:
    assert _breaches(Closed, ClosedWithRequired) == {(BACKWARD, Breach.REQUIRED, "nickname")}


def test_making_a_required_property_optional_breaks_consumers_of_the_release() -> None:
    breaches = _breaches(ClosedWithRequired, ClosedWithOptional)
    assert (FORWARD, Breach.REQUIRED, "nickname") in breaches
    assert (FORWARD, Breach.TYPE, "nickname") in breaches  # null is new to them
    assert {b for b in breaches if b[0] is BACKWARD} == set()


def test_a_consumer_of_the_release_ignores_an_unknown_property_only_going_forward() -> None:
    current, released = _schema(ClosedWithOptional), _schema(Closed)
    assert compare(current, released, FORWARD) == []
    assert [f.breach for f in compare(current, released, BACKWARD)] == [Breach.PROPERTY]


# --- enums, Literal, const ---------------------------------------------------------------


class Status(CanonicalModel):
    status: Literal["open", "closed"]


class StatusReordered(CanonicalModel):
    status: Literal["closed", "open"] = Field(description="Now with a description.")


class StatusWithMore(CanonicalModel):
    status: Literal["open", "closed", "archived"]


class StatusWithLess(CanonicalModel):
    status: Literal["open"]


class StatusOther(CanonicalModel):
    status: Literal["closed"]


def test_reordering_and_describing_enum_values_is_allowed() -> None:
    assert _breaches(Status, StatusReordered) == set()


def test_adding_an_enum_value_breaks_consumers_of_the_release() -> None:
    assert _breaches(Status, StatusWithMore) == {(FORWARD, Breach.ENUM, "status")}


def test_removing_an_enum_value_breaks_reading_released_events() -> None:
    assert _breaches(Status, StatusWithLess) == {(BACKWARD, Breach.CONST, "status")}


def test_changing_a_literal_constant_breaks_both_ways() -> None:
    assert _breaches(StatusWithLess, StatusOther) == {
        (BACKWARD, Breach.CONST, "status"),
        (FORWARD, Breach.CONST, "status"),
    }


# --- types, unions and references ----------------------------------------------------------


class Count(CanonicalModel):
    count: int


class CountAsText(CanonicalModel):
    count: str


class CountOrText(CanonicalModel):
    count: int | str


class Label(CanonicalModel):
    label: str = "none"


class NullableLabel(CanonicalModel):
    label: str | None = "none"


class Period(CanonicalModel):
    start: dt.date


class Interval(CanonicalModel):
    """The same shape as Period under another name (another ``$defs`` entry)."""

    start: dt.date = Field(description="Renamed model, same content.")


class WithPeriod(CanonicalModel):
    period: Period | None = None


class WithInterval(CanonicalModel):
    period: Interval | None = None


def test_changing_a_type_breaks_both_ways() -> None:
    assert _breaches(Count, CountAsText) == {
        (BACKWARD, Breach.TYPE, "count"),
        (FORWARD, Breach.TYPE, "count"),
    }


def test_widening_to_a_union_breaks_only_consumers_of_the_release() -> None:
    assert _breaches(Count, CountOrText) == {(FORWARD, Breach.TYPE, "count")}
    assert _breaches(CountOrText, Count) == {(BACKWARD, Breach.TYPE, "count")}


def test_allowing_null_breaks_consumers_of_the_release() -> None:
    assert _breaches(Label, NullableLabel) == {(FORWARD, Breach.TYPE, "label")}


def test_a_literal_that_became_another_type_is_one_finding() -> None:
    findings = compare({"const": "a", "type": "string"}, {"type": "integer"}, BACKWARD)
    assert [(f.breach, f.detail) for f in findings] == [
        (Breach.TYPE, "the writer allows 'a', which the reader rejects")
    ]


def test_references_are_compared_by_content_not_by_name() -> None:
    assert _breaches(WithPeriod, WithInterval) == set()


class Node(CanonicalModel):
    value: int
    children: tuple[Node, ...] = ()


def test_a_recursive_model_compares_to_itself() -> None:
    assert _breaches(Node, Node) == set()


# --- strings: pattern, format, length ------------------------------------------------------

ThreeDigits = Annotated[str, Field(pattern=r"^[0-9]{3}$")]


class Municipality(CanonicalModel):
    code: str = Field(pattern=r"^[0-9]{3}$")


class MunicipalityFromAlias(CanonicalModel):
    code: ThreeDigits = Field(description="The same pattern through a type alias.")


class MunicipalityWider(CanonicalModel):
    code: str = Field(pattern=r"^[0-9]{3,4}$")


class KnownMunicipality(CanonicalModel):
    code: Literal["398", "098"]


def test_the_same_pattern_is_allowed() -> None:
    assert _breaches(Municipality, MunicipalityFromAlias) == set()


def test_a_changed_pattern_is_rejected_both_ways_since_patterns_are_not_compared() -> None:
    assert _breaches(Municipality, MunicipalityWider) == {
        (BACKWARD, Breach.PATTERN, "code"),
        (FORWARD, Breach.PATTERN, "code"),
    }


def test_released_values_are_checked_against_a_new_pattern_one_by_one() -> None:
    released, current = _schema(KnownMunicipality), _schema(Municipality)
    assert compare(released, current, BACKWARD) == []
    assert [f.breach for f in compare(current, released, FORWARD)] == [Breach.ENUM]


class Day(CanonicalModel):
    at: dt.date


class Moment(CanonicalModel):
    at: dt.datetime


class DayDescribed(CanonicalModel):
    at: dt.date = Field(description="Described now.")


def test_the_same_format_is_allowed() -> None:
    assert _breaches(Day, DayDescribed) == set()


def test_a_changed_format_is_rejected() -> None:
    assert _breaches(Day, Moment) == {
        (BACKWARD, Breach.FORMAT, "at"),
        (FORWARD, Breach.FORMAT, "at"),
    }


class Id100(CanonicalModel):
    id: str = Field(min_length=1, max_length=100)


class Id50(CanonicalModel):
    id: str = Field(min_length=1, max_length=50)


class Id200(CanonicalModel):
    id: str = Field(min_length=1, max_length=200)


class IdAtLeast2(CanonicalModel):
    id: str = Field(min_length=2, max_length=100)


class Id100Described(CanonicalModel):
    id: str = Field(min_length=1, max_length=100, description="Same bounds.")


def test_unchanged_bounds_are_allowed() -> None:
    assert _breaches(Id100, Id100Described) == set()


def test_a_tightened_length_breaks_reading_released_events() -> None:
    assert _breaches(Id100, Id50) == {(BACKWARD, Breach.BOUND, "id")}


def test_a_raised_minimum_length_breaks_reading_released_events() -> None:
    assert _breaches(Id100, IdAtLeast2) == {(BACKWARD, Breach.BOUND, "id")}


def test_a_loosened_length_breaks_consumers_of_the_release() -> None:
    assert _breaches(Id100, Id200) == {(FORWARD, Breach.BOUND, "id")}


# --- numbers -------------------------------------------------------------------------------


class Days(CanonicalModel):
    days: int = Field(ge=0, le=31)


class DaysPositive(CanonicalModel):
    days: int = Field(gt=0, le=31)


class DaysUpToYear(CanonicalModel):
    days: int = Field(ge=0, le=366)


def test_a_raised_minimum_breaks_reading_released_events() -> None:
    assert _breaches(Days, DaysPositive) == {(BACKWARD, Breach.BOUND, "days")}


def test_a_raised_maximum_breaks_consumers_of_the_release() -> None:
    assert _breaches(Days, DaysUpToYear) == {(FORWARD, Breach.BOUND, "days")}


def test_a_multiple_of_that_divides_the_released_one_is_allowed_backward() -> None:
    released = {"type": "number", "multipleOf": 0.5}
    assert compare(released, {"type": "number", "multipleOf": 0.25}, BACKWARD) == []
    rejected = compare(released, {"type": "number", "multipleOf": 1}, BACKWARD)
    assert [f.breach for f in rejected] == [Breach.BOUND]


# --- what the checker does not understand --------------------------------------------------


def test_an_unknown_keyword_only_the_writer_has_is_allowed() -> None:
    # The writer allows fewer instances: nothing the reader would refuse.
    writer = {"type": "object", "minProperties": 1}
    assert compare(writer, {"type": "object"}, BACKWARD) == []


def test_an_unknown_keyword_the_reader_changes_is_rejected() -> None:
    findings = compare({"type": "object"}, {"type": "object", "minProperties": 1}, BACKWARD)
    assert [(f.breach, f.path) for f in findings] == [(Breach.KEYWORD, "(the event)")]
    assert "schemas/compatibility.py" in findings[0].remedy


# --- findings on the real canonical schemas ------------------------------------------------


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_canonical_schema_is_compatible_with_itself(event_type: str) -> None:
    schema = json_schema_for(event_type)
    assert compatibility(schema, copy.deepcopy(schema)) == []


def test_a_finding_names_the_path_inside_the_event_and_how_to_fix_it() -> None:
    released = json_schema_for("fi.paijathame.hub.client-status.v1")
    current = copy.deepcopy(released)
    current["$defs"]["ClientStatus"]["required"].append("client_number")

    (finding,) = compatibility(released, current, "release 1")

    assert (finding.direction, finding.breach) == (BACKWARD, Breach.REQUIRED)
    assert finding.path == "data.client_number"
    assert finding.change == "property newly required"
    assert "release 1 lets it be absent" in finding.detail
    assert finding.remedy.startswith("make `client_number` optional")
