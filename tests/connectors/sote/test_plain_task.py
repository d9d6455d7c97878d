"""A plain Task read directly gives what ``fhir.resources`` gives: the same update, to the
offset, or the same rejection, word for word; for generated valid Tasks, Tasks a little off
the plain shape, and broken ones."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Final

import orjson
from fhir.resources.R4B.task import Task
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.sote.inbound import (
    OTHER_FHIR_TASK_STATUSES,
    TASK_STATES,
    TaskUpdate,
    library_task_fields,
    parse_task,
    parse_task_with_library,
)
from connectors.sote.outbound import DEFAULT_ORGANISATIONS, REFERRAL_SYSTEM
from connectors.sote.task_fields import plain_task_fields
from schemas.codes import Authority
from schemas.rejection import Rejection
from tests.fuzz.corpus import task_documents
from tests.fuzz.json_documents import ABSENT, broken_documents, set_path
from tests.strategies import identity_codes

_STATUSES: Final = (*TASK_STATES, *sorted(OTHER_FHIR_TASK_STATUSES))

#: Strings the plain reading takes, and every kind it leaves to the library.
_GOOD_TEXT: Final = st.text(
    st.characters(exclude_categories=["Cc", "Cs", "Zs", "Zl", "Zp", "Cf", "Co", "Cn"])
    | st.just(" "),
    min_size=1,
    max_size=30,
)
_ODD_TEXT: Final = (
    st.text(max_size=20)
    | st.sampled_from(["", " ", "   ", "\t", "x\n", "\x0bA", "A\x0b", "\xa0", "a b", "\u2028"])
    | st.text(st.characters(categories=["Zs", "Cc", "Cf", "Zl"]), min_size=1, max_size=3)
)
_ODD_VALUES: Final[st.SearchStrategy[Any]] = (
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.just([]) | st.just({})
)


@st.composite
def _offsets(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 7))
    if kind == 0:
        return "Z"
    if kind == 1:
        return draw(st.sampled_from(["+14:00", "-14:00", "-00:00", "+00:00", "+13:59", "-13:59"]))
    if kind == 2:
        return draw(
            st.sampled_from(["", "+2", "+0200", "z", "+02:60", "+24:00", " +02:00", "+14:30"])
        )
    sign = draw(st.sampled_from("+-"))
    return f"{sign}{draw(st.integers(0, 15)):02d}:{draw(st.integers(0, 59)):02d}"


_ODD_TIMES: Final = st.sampled_from(
    ["2025", "2025-03", "2025-03-20", "2025-03-20T09:30", "2025-03-20T09:30:00",
     "0000-01-01T00:00:00Z", "2025-13-01T00:00:00Z", "2025-03-20t09:30:00Z",
     "\uff12\uff10\uff12\uff15-03-20T09:30:00Z", "2025-03-20T24:00:00Z", "2025-03-20 09:30:00Z",
     "2025-03-20T09:30:00.Z", "2025-3-20T09:30:00Z", "+2025-03-20T09:30:00Z",
     "2025-03-20T23:59:60+02:00", "2025-02-29T10:00:00Z", "2024-02-29T10:00:00Z"]
)  # fmt: skip


@st.composite
def _last_modified(draw: st.DrawFn) -> str:
    year = draw(st.integers(1990, 2040) | st.integers(1, 9999))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 28) | st.integers(29, 31))
    hour = draw(st.integers(0, 23))
    minute = draw(st.integers(0, 59))
    second = draw(st.integers(0, 59) | st.just(60))  # 60: a leap second
    digits = draw(st.integers(0, 12))
    fraction = f".{draw(st.integers(0, 10**digits - 1)):0{digits}d}" if digits else ""
    return (
        f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
        f"{fraction}{draw(_offsets())}"
    )


def _reference(
    values: st.SearchStrategy[str], systems: st.SearchStrategy[str] = _GOOD_TEXT
) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"identifier": st.fixed_dictionaries({"value": values}, optional={"system": systems})}
    )


_REQUESTERS: Final = st.sampled_from(
    ["lahti", "ph", *(DEFAULT_ORGANISATIONS.of(authority) for authority in Authority)]
) | st.sampled_from(["sote", "urn:oid:1.2.3"])
_REFERRAL_IDS: Final = st.from_regex(r"L-[0-9]{1,8}", fullmatch=True) | _GOOD_TEXT


def plain_tasks() -> st.SearchStrategy[dict[str, Any]]:
    """Tasks of the plain shape (timestamps and values of any kind the library may refuse
    included)."""
    return st.fixed_dictionaries(
        {
            "resourceType": st.just("Task"),
            "basedOn": st.lists(
                _reference(_REFERRAL_IDS, st.just(REFERRAL_SYSTEM) | _GOOD_TEXT),
                min_size=1,
                max_size=2,
            ),
            "status": st.sampled_from(_STATUSES) | st.from_regex(r"[!-~]{1,12}", fullmatch=True),
            "intent": st.sampled_from(["order", "plan"]),
            "lastModified": _last_modified() | _ODD_TIMES,
        },
        optional={
            "id": st.from_regex(r"[A-Za-z0-9\-.]{1,70}", fullmatch=True),
            "statusReason": st.fixed_dictionaries({}, optional={"text": _GOOD_TEXT}),
            "for": _reference(identity_codes(), st.just("urn:oid:1.2.246.21")),
            "owner": _reference(st.just("sote")),
            "requester": _reference(_REQUESTERS),
        },
    )


#: Where a Task is bent out of the plain shape, and with what.
_BENDS: Final[tuple[tuple[tuple[str | int, ...], st.SearchStrategy[Any]], ...]] = (
    (("id",), _ODD_TEXT),
    (("basedOn",), st.just([]) | _ODD_TEXT),
    (("basedOn", 0, "identifier", "value"), _ODD_TEXT),
    (("basedOn", 0, "identifier", "system"), _ODD_TEXT),
    (("basedOn", 0, "identifier", "use"), st.just("official")),
    (("basedOn", 0, "reference"), st.just("ServiceRequest/1")),
    (("basedOn", 0, "identifier"), _ODD_VALUES),
    (("status",), _ODD_TEXT),
    (("intent",), _ODD_TEXT),
    (("statusReason",), st.just({"coding": []}) | _ODD_VALUES),
    (("statusReason", "text"), _ODD_TEXT),
    (("requester", "identifier", "value"), _ODD_TEXT),
    (("requester", "display"), st.just("Lahti")),
    (("for",), _ODD_VALUES),
    (("lastModified",), _ODD_TIMES | _ODD_TEXT),
    (("note",), st.just([{"text": "x"}])),
    (("_status",), st.just({"extension": []}) | _ODD_VALUES),
    (("status__ext",), st.just({})),
)


@st.composite
def nearly_plain_tasks(draw: st.DrawFn) -> dict[str, Any]:
    """A plain Task with one element bent out of the plain shape: replaced by a value of
    another kind or type, removed, or joined by one more."""
    task = draw(plain_tasks())
    path, values = draw(st.sampled_from(_BENDS))
    set_path(task, path, draw(st.just(ABSENT) | values | _ODD_VALUES))
    return task


def _same(fast: TaskUpdate | Rejection, library: TaskUpdate | Rejection) -> None:
    assert fast == library
    if isinstance(fast, TaskUpdate):
        assert isinstance(library, TaskUpdate)
        # Equal datetimes may still differ in offset or zone type: compare what is written.
        assert fast.at.isoformat() == library.at.isoformat()
        assert type(fast.at.tzinfo) is type(library.at.tzinfo)


@settings(max_examples=800, suppress_health_check=[HealthCheck.too_slow])
@given(plain_tasks() | nearly_plain_tasks())
def test_a_plain_or_nearly_plain_task_reads_as_the_library_reads_it(task: dict[str, Any]) -> None:
    value = orjson.dumps(task)
    _same(parse_task(value), parse_task_with_library(value))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(plain_tasks() | nearly_plain_tasks())
def test_the_plain_reading_takes_only_tasks_the_library_takes_and_reads_alike(
    task: dict[str, Any],
) -> None:
    fields = plain_task_fields(json.loads(json.dumps(task)))
    if fields is None:
        return
    read = library_task_fields(Task.model_validate(task))
    assert (fields.based_on, fields.status, fields.reason, fields.requester) == (
        read.based_on,
        read.status,
        read.reason,
        read.requester,
    )
    if fields.last_modified is not None:
        assert isinstance(fields.last_modified, dt.datetime)
        assert isinstance(read.last_modified, dt.datetime)
        assert fields.last_modified.replace(tzinfo=None) == read.last_modified.replace(tzinfo=None)
        assert fields.last_modified.utcoffset() == read.last_modified.utcoffset()


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(broken_documents(task_documents(), (*_STATUSES, "order", REFERRAL_SYSTEM)))
def test_a_broken_task_is_refused_as_the_library_refuses_it(broken: Any) -> None:
    _same(parse_task(broken.raw), parse_task_with_library(broken.raw))


def test_the_example_tasks_take_the_plain_reading() -> None:
    # Otherwise the properties above would hold without the fast path ever running.
    for document in task_documents():
        assert plain_task_fields(document) is not None


def test_a_plain_task_the_library_would_refuse_is_not_plain() -> None:
    # 30 February: the pattern fits, the calendar does not.
    assert plain_task_fields({**task_documents()[0], "lastModified": "2025-02-30T09:30:00Z"}) is (
        None
    )
    assert isinstance(
        parse_task(orjson.dumps({**task_documents()[0], "lastModified": "2025-02-30T09:30:00Z"})),
        Rejection,
    )
