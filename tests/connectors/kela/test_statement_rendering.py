"""Kela's XML written directly is the document ElementTree writes, byte for byte, and a
projection the direct reading does not take fails as the model fails: for generated
projections in distribution's JSON form, with one field of another kind, and event ids of
any characters."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.kela.outbound import (
    StatementFields,
    render_statement,
    render_statement_with_element_tree,
)
from schemas.client_status import ServicePeriod
from schemas.codes import Authority, EmploymentStatus, ServiceCode
from tests.strategies import identity_codes

_ZONES: Final = st.sampled_from(
    [
        dt.UTC,
        dt.timezone(dt.timedelta(hours=2)),
        dt.timezone(dt.timedelta(hours=-3, minutes=-30)),
        dt.timezone(dt.timedelta(hours=14)),
        dt.timezone(dt.timedelta(hours=-14)),
    ]
)
_DATES: Final = st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))


@st.composite
def _services(draw: st.DrawFn) -> ServicePeriod:
    start = draw(_DATES)
    end = draw(st.none() | st.dates(start, dt.date(9999, 12, 31)))
    return ServicePeriod(code=draw(st.sampled_from(list(ServiceCode))), start=start, end=end)


def _fields() -> st.SearchStrategy[StatementFields]:
    return st.builds(
        StatementFields,
        authority=st.sampled_from(list(Authority)),
        person_id=identity_codes(),
        employment_status=st.sampled_from(list(EmploymentStatus)),
        status_since=_DATES,
        job_search_active=st.booleans(),
        service=st.none() | _services(),
        changed_at=st.datetimes(dt.datetime(1, 1, 2), dt.datetime(9999, 12, 30), timezones=_ZONES),
    )


#: Values of other kinds: what the model may still take (Python objects, lax strings) and
#: what it refuses.
_ODD: Final[st.SearchStrategy[Any]] = st.sampled_from(
    [None, True, 1, 1.5, "", "x", [], {}, ["lahti"], {"code": "TKO"}, "true", "1",
     "2025-03-01", "2025-02-30", "2025-03-01T08:12:00", "2025-03-01T08:12:00+14:01",
     "2025-03-01T08:12:00.1234567Z", "2025-03-01T08:12:00+0200", "2025-03-01 08:12:00Z",
     "2025-03-01T08:12:00-00:00", "0000-01-01", "131052-930V", "131052-930X", "lahti",
     "unemployed", "02", dt.date(2025, 3, 1), dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
     Authority.PH, EmploymentStatus.EMPLOYED, {"code": "TKO", "start": "2025-03-02",
     "end": "2025-03-01"}, {"code": "TKO", "start": "2025-03-01", "extra": 1},
     {"code": "XYZ", "start": "2025-03-01"}, {"start": "2025-03-01"}]
)  # fmt: skip
_KEYS: Final = (*StatementFields.model_fields, "note", "service.end", "service.start")
_EVENT_IDS: Final = (
    st.uuids().map(str)
    | st.text(max_size=30)
    | st.sampled_from(["a&b", "<x>", 'q"t', "\u00e4\u20ac", "", "x" * 201, "tab\there"])
)


@st.composite
def projections(draw: st.DrawFn) -> dict[str, Any]:
    """A projection as distribution hands it over, one time in three with a field (or a
    field of ``service``) replaced, removed or added."""
    projected: dict[str, Any] = draw(_fields()).model_dump(mode="json")
    if draw(st.integers(0, 2)) == 0:
        key = draw(st.sampled_from(_KEYS))
        value = draw(_ODD | st.just(...))
        target = projected
        if key.startswith("service."):
            target = projected.get("service") or {}
            key = key.removeprefix("service.")
        if value is ...:
            target.pop(key, None)
        else:
            target[key] = value
    return projected


def _outcome(render: Any, event_id: str, projected: dict[str, Any]) -> tuple[str, object]:
    try:
        return "document", render(event_id, projected)
    except Exception as exc:  # noqa: BLE001 - the failure itself is compared.
        return type(exc).__name__, str(exc)


@settings(max_examples=1000)
@given(_EVENT_IDS, projections())
def test_the_document_is_element_tree_s_byte_for_byte(
    event_id: str, projected: dict[str, Any]
) -> None:
    assert _outcome(render_statement, event_id, projected) == _outcome(
        render_statement_with_element_tree, event_id, projected
    )


def test_the_generated_projections_are_mostly_rendered() -> None:
    # Otherwise the property above would hold without the direct writing ever running.
    rendered = 0

    @settings(max_examples=200, database=None)
    @given(projections())
    def count(projected: dict[str, Any]) -> None:
        nonlocal rendered
        rendered += _outcome(render_statement, "e-1", projected)[0] == "document"

    count()
    assert rendered > 120
