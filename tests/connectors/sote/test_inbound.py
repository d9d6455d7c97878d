"""Päijät-Sote's Task: read exactly as the interface says, never raising, never leaking."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from typing import Any, Final

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.sote.inbound import (
    EVENT_ID_NAMESPACE,
    OTHER_FHIR_TASK_STATUSES,
    REASONS,
    SOURCE,
    TASK_STATES,
    TaskUpdate,
    parse_task,
    status_event,
    status_event_id,
)
from schemas.codes import Authority, Partner, ReferralState
from schemas.envelope import ReferralStatusEvent
from schemas.identity_code import IDENTITY_CODE_SHAPE
from schemas.person_ref import person_ref_for
from schemas.rejection import Rejection
from tests.fuzz.json_documents import set_path
from tests.strategies import identity_codes

CODE: Final = "131052-930V"
SECRET: Final = b"test-secret-for-sote-connector-0123456789"
PERSON_REF: Final = person_ref_for(CODE, SECRET)
ABSENT: Final = object()
HELSINKI_WINTER: Final = dt.timezone(dt.timedelta(hours=2))

#: A Task as Päijät-Sote sends it: accepted, with a reason.
TASK: Final[dict[str, Any]] = {
    "resourceType": "Task",
    "id": "t-4411",
    "basedOn": [
        {"identifier": {"system": "urn:fi:paijathame:hub:referral", "value": "L-2025-000871"}}
    ],
    "status": "accepted",
    "statusReason": {"text": "Asiakas ohjattu kuntouttavaan työtoimintaan."},
    "intent": "order",
    "lastModified": "2025-03-20T09:30:00+02:00",
}

STATUSES: Final = ["received", "accepted", "rejected", "in-progress", "completed", "cancelled"]


def task(**changes: object) -> dict[str, Any]:
    """TASK with top-level keys changed; ``ABSENT`` removes one."""
    merged = {**TASK, **changes}
    return {k: v for k, v in merged.items() if v is not ABSENT}


def raw(**changes: object) -> bytes:
    return orjson.dumps(task(**changes))


def based_on(**identifier: object) -> list[dict[str, Any]]:
    return [{"identifier": {k: v for k, v in identifier.items() if v is not ABSENT}}]


def parsed(value: bytes) -> TaskUpdate:
    result = parse_task(value)
    assert isinstance(result, TaskUpdate), result
    return result


def rejected(value: bytes) -> Rejection:
    result = parse_task(value)
    assert isinstance(result, Rejection), result
    assert result.reason in REASONS
    assert not IDENTITY_CODE_SHAPE.search(result.detail)
    return result


# --- accepted Tasks ------------------------------------------------------------------------


def test_the_example_task_becomes_its_update() -> None:
    assert parse_task(raw()) == TaskUpdate(
        referral_id="L-2025-000871",
        state=ReferralState.ACCEPTED,
        reason="Asiakas ohjattu kuntouttavaan työtoimintaan.",
        at=dt.datetime(2025, 3, 20, 9, 30, tzinfo=HELSINKI_WINTER),
    )


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("received", ReferralState.RECEIVED),
        ("accepted", ReferralState.ACCEPTED),
        ("rejected", ReferralState.REJECTED),
        ("in-progress", ReferralState.IN_PROGRESS),
        ("completed", ReferralState.COMPLETED),
        ("cancelled", ReferralState.CANCELLED),
    ],
)
def test_each_interface_status_maps_to_its_state(status: str, state: ReferralState) -> None:
    assert parsed(raw(status=status)).state is state
    assert TASK_STATES[status] is state


def test_the_six_statuses_cover_every_canonical_state() -> None:
    assert list(TASK_STATES) == STATUSES
    assert set(TASK_STATES.values()) == set(ReferralState)


@pytest.mark.parametrize(
    "status_reason",
    [ABSENT, {}, {"text": " "}, {"coding": [{"system": "urn:x", "code": "y"}]}],
    ids=["absent", "empty-object", "blank-text", "coding-only"],
)
def test_no_reason_text_gives_no_reason(status_reason: object) -> None:
    assert parsed(raw(statusReason=status_reason)).reason is None


def test_reason_text_is_kept_as_sent() -> None:
    text = " Ei vapaita paikkoja;\nuusi lähete syksyllä. "
    assert parsed(raw(statusReason={"text": text})).reason == text


def test_a_missing_referral_system_is_allowed() -> None:
    update = parsed(raw(basedOn=based_on(value="L-1")))
    assert update.referral_id == "L-1"


def test_only_the_first_based_on_is_read() -> None:
    second = {"identifier": {"system": "urn:x", "value": "other"}}
    update = parsed(raw(basedOn=[*TASK["basedOn"], second]))
    assert update.referral_id == "L-2025-000871"


@pytest.mark.parametrize(
    ("last_modified", "expected"),
    [
        ("2025-03-20T09:30:00+02:00", dt.datetime(2025, 3, 20, 9, 30, tzinfo=HELSINKI_WINTER)),
        ("2025-03-20T07:30:00Z", dt.datetime(2025, 3, 20, 7, 30, tzinfo=dt.UTC)),
        (
            "2025-07-01T10:00:00.123456789+03:00",
            dt.datetime(2025, 7, 1, 10, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=3))),
        ),
        (
            "2025-03-20T01:30:00-05:30",
            dt.datetime(2025, 3, 20, 1, 30, tzinfo=dt.timezone(-dt.timedelta(hours=5, minutes=30))),
        ),
    ],
)
def test_last_modified_keeps_its_offset(last_modified: str, expected: dt.datetime) -> None:
    at = parsed(raw(lastModified=last_modified)).at
    assert at == expected
    assert at.utcoffset() == expected.utcoffset()
    assert isinstance(at.tzinfo, dt.timezone)


def test_task_update_is_frozen() -> None:
    update = parsed(raw())
    with pytest.raises(dataclasses.FrozenInstanceError):
        update.state = ReferralState.REJECTED  # type: ignore[misc]


# --- one test per reason ---------------------------------------------------------------------


def test_bytes_that_are_not_utf8_are_not_utf8() -> None:
    result = rejected(raw(statusReason={"text": "ä"}).replace("ä".encode(), b"\xe4"))
    assert result.reason == "not-utf8"
    assert result.detail.startswith("byte 0xe4 at position")


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"{",
        b"not json",
        b"[]",
        b'"Task"',
        b"null",
        b"1",
        b"\xef\xbb\xbf{}",
        b'{"status":"accepted","status":"rejected"}',
        b"[" * 2000 + b"]" * 2000,
    ],
    ids=[
        "empty",
        "truncated",
        "text",
        "array",
        "string",
        "null",
        "number",
        "bom",
        "duplicate-key",
        "deep",
    ],
)
def test_what_is_not_a_json_object_is_malformed_json(value: bytes) -> None:
    assert rejected(value).reason == "malformed-json"


def test_a_repeated_key_is_malformed_json_naming_the_key() -> None:
    value = raw()[:-1] + b',"status":"cancelled"}'
    assert rejected(value) == Rejection("malformed-json", "key 'status' appears more than once")


@pytest.mark.parametrize(
    ("resource_type", "detail"),
    [
        (ABSENT, "resourceType is missing: the message is not a FHIR resource"),
        ("ServiceRequest", "resourceType 'ServiceRequest' is not Task"),
        ("task", "resourceType 'task' is not Task"),
        (None, "resourceType must be a string, got null"),
        (CODE, "resourceType <11 characters, not shown> is not Task"),
    ],
)
def test_another_resource_is_not_a_task(resource_type: object, detail: str) -> None:
    assert rejected(raw(resourceType=resource_type)) == Rejection("not-a-task", detail)


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"intent": ABSENT}, "intent: Value for the field 'intent' is required."),
        ({"status": ABSENT}, "status: Value for the field 'status' is required."),
        ({"status": 5}, "status: Input should be a valid string"),
        (
            {"lastModified": "2025-03-20T09:30:00"},
            "lastModified: Value error, DateTime value string does not match spec regex.",
        ),
        ({"basedOn": {"identifier": {"value": "L-1"}}}, "basedOn: Input should be a valid list"),
        (
            {"statusReason": {"text": ""}},
            "statusReason.text: String should match pattern '[ \\r\\n\\t\\S]+'",
        ),
        ({"diagnosis": "F32.1"}, "diagnosis: Extra inputs are not permitted"),
        ({CODE: "x"}, "<key not shown>: Extra inputs are not permitted"),
        ({"status__ext": {"id": "x"}}, "status__ext: not a FHIR JSON element name"),
        ({"resource_type": "Task"}, "resource_type: not a FHIR JSON element name"),
        (
            {"contained": [{"resourceType": "Bogus"}]},
            "contained: a contained resource has an unknown resourceType",
        ),
    ],
)
def test_what_fhir_refuses_is_invalid_fhir_with_the_first_error(
    changes: dict[str, object], detail: str
) -> None:
    assert rejected(raw(**changes)) == Rejection("invalid-fhir", detail)


@pytest.mark.parametrize(
    "changes",
    [
        # Found by test_mutated_tasks_never_raise: the library raised AttributeError.
        {"_status": "null"},
        {"_status": "[]"},
        {"_lastModified": "1"},
        {"basedOn": [{"identifier": {"value": "L-2025-000871", "_value": "true"}}]},
    ],
    ids=["null", "array", "number", "nested"],
)
def test_an_extension_that_is_json_text_in_a_string_is_invalid_fhir(
    changes: dict[str, object],
) -> None:
    assert rejected(raw(**changes)) == Rejection(
        "invalid-fhir", "an extension (a key starting with '_') must be a JSON object"
    )


def test_invalid_fhir_counts_further_errors() -> None:
    result = rejected(raw(status=5, intent=[], foo=1))
    assert result == Rejection(
        "invalid-fhir", "intent: Input should be a valid string (and 2 more)"
    )


def test_a_library_message_that_quotes_the_input_is_withheld() -> None:
    contained = [{"resourceType": "Patient", "id": "p1"}]
    # The library's own wrong-resource-type message quotes the value; it must not get out.
    result = rejected(raw(contained=contained, basedOn=[{"resourceType": f"x{CODE}"}]))
    assert result.reason == "invalid-fhir"
    assert CODE not in result.detail


@pytest.mark.parametrize(
    "value",
    [ABSENT, [], [{}], [{"reference": "ServiceRequest/L-1"}], based_on(system="urn:fi:x")],
    ids=["absent", "empty", "empty-reference", "reference-only", "system-only"],
)
def test_a_task_naming_no_referral_is_missing_based_on(value: object) -> None:
    assert rejected(raw(basedOn=value)) == Rejection(
        "missing-based-on",
        "basedOn[0].identifier.value is missing: the Task does not name the referral",
    )


def test_a_referral_id_too_long_to_be_one_is_bad_referral_id() -> None:
    assert rejected(raw(basedOn=based_on(value="L" * 51))) == Rejection(
        "bad-referral-id", "basedOn[0].identifier.value must be 1-50 characters (got 51)"
    )


@pytest.mark.parametrize(
    ("system", "shown"),
    [
        ("urn:oid:1.2.246.21", "'urn:oid:1.2.246.21'"),
        ("urn:fi:paijathame:hub:referral:", "'urn:fi:paijathame:hub:referral:'"),
        (f"urn:x:{CODE}", "<17 characters, not shown>"),
    ],
)
def test_a_referral_under_another_system_is_wrong_referral_system(system: str, shown: str) -> None:
    assert rejected(raw(basedOn=based_on(system=system, value="L-1"))) == Rejection(
        "wrong-referral-system",
        f"basedOn[0].identifier.system {shown} is not urn:fi:paijathame:hub:referral",
    )


@pytest.mark.parametrize("status", sorted(OTHER_FHIR_TASK_STATUSES))
def test_a_fhir_status_outside_the_interface_is_unknown_task_status(status: str) -> None:
    result = rejected(raw(status=status))
    assert result.reason == "unknown-task-status"
    assert result.detail.startswith(f"status '{status}' is a FHIR Task status outside")


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        ("bogus", "'bogus'"),
        ("ACCEPTED", "'ACCEPTED'"),
        ("in_progress", "'in_progress'"),
        (CODE, "<11 characters, not shown>"),
        ("hyväksytty", "<10 characters, not shown>"),
    ],
)
def test_a_status_no_one_knows_is_unknown_task_status(status: str, shown: str) -> None:
    assert rejected(raw(status=status)) == Rejection(
        "unknown-task-status",
        f"status {shown} is not one of received, accepted, rejected, in-progress, completed, "
        "cancelled",
    )


def test_a_status_only_in_an_extension_is_unknown_task_status() -> None:
    extension = {"extension": [{"url": "urn:x", "valueString": "y"}]}
    result = rejected(raw(status=ABSENT, _status=extension))
    assert result.reason == "unknown-task-status"
    assert result.detail.startswith("status has no value")


@pytest.mark.parametrize(
    ("last_modified", "detail"),
    [
        (ABSENT, "lastModified is missing: the update has no time"),
        ("2025-03-20", None),
        ("2025-03", None),
        ("2025", None),
        ("2016-12-31T23:59:60Z", None),
    ],
)
def test_a_task_without_a_moment_is_missing_last_modified(
    last_modified: object, detail: str | None
) -> None:
    result = rejected(raw(lastModified=last_modified))
    assert result.reason == "missing-last-modified"
    assert result.detail == (
        detail
        or "lastModified is not a date-time with a time zone (a bare or partial date, or "
        "a leap second, is not a moment)"
    )


def test_checks_run_in_the_documented_order() -> None:
    assert rejected(raw(resourceType="Patient", status=5)).reason == "not-a-task"
    assert rejected(raw(basedOn=ABSENT, status=5)).reason == "invalid-fhir"
    assert rejected(raw(basedOn=ABSENT, status="draft")).reason == "missing-based-on"
    assert (
        rejected(raw(basedOn=based_on(system="urn:x", value="L" * 51))).reason
        == "wrong-referral-system"
    )
    assert rejected(raw(basedOn=based_on(value="L" * 51), status="x")).reason == "bad-referral-id"
    assert rejected(raw(status="draft", lastModified=ABSENT)).reason == "unknown-task-status"


# --- canonical events ------------------------------------------------------------------------


def test_status_event_is_the_expected_cloud_event() -> None:
    update = parsed(raw())
    event = status_event(update, PERSON_REF, Authority.LAHTI)
    assert isinstance(event, ReferralStatusEvent)
    assert event.id == status_event_id(update, Authority.LAHTI)
    assert event.source == SOURCE == "urn:fi:paijathame:hub:connector:sote"
    assert event.type == "fi.paijathame.hub.referral-status.v1"
    assert event.dataschema == "urn:fi:paijathame:hub:schema:fi.paijathame.hub.referral-status.v1"
    assert event.subject == PERSON_REF
    assert event.model_dump(mode="json")["time"] == "2025-03-20T09:30:00+02:00"
    assert event.model_dump(mode="json")["data"] == {
        "referral_id": "L-2025-000871",
        "state": "accepted",
        "reason": "Asiakas ohjattu kuntouttavaan työtoimintaan.",
        "reported_by": "sote",
        "referral_sender": "lahti",
        "at": "2025-03-20T09:30:00+02:00",
    }
    assert event.data.reported_by is Partner.SOTE


def test_event_id_is_uuid5_in_the_fixed_namespace() -> None:
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, "urn:fi:paijathame:hub:connector:sote")
    assert namespace == EVENT_ID_NAMESPACE
    update = parsed(raw())
    assert status_event_id(update, Authority.LAHTI) == str(
        uuid.uuid5(
            EVENT_ID_NAMESPACE,
            "sote.referral-status:lahti/L-2025-000871/accepted/2025-03-20T07:30:00+00:00",
        )
    )
    assert uuid.UUID(status_event_id(update, Authority.LAHTI)).version == 5


def test_a_redelivered_task_gives_a_byte_identical_event() -> None:
    first = status_event(parsed(raw()), PERSON_REF, Authority.PH).model_dump_json()
    second = status_event(parsed(raw()), PERSON_REF, Authority.PH).model_dump_json()
    assert first == second


def test_the_same_instant_with_another_offset_gives_the_same_id() -> None:
    here = parsed(raw(lastModified="2025-03-20T09:30:00+02:00"))
    utc = parsed(raw(lastModified="2025-03-20T07:30:00Z"))
    assert status_event_id(here, Authority.LAHTI) == status_event_id(utc, Authority.LAHTI)


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "completed"},
        {"lastModified": "2025-03-20T09:30:01+02:00"},
        {"basedOn": based_on(value="L-2025-000872")},
    ],
)
def test_another_update_gets_another_id(changes: dict[str, object]) -> None:
    assert status_event_id(parsed(raw(**changes)), Authority.LAHTI) != status_event_id(
        parsed(raw()), Authority.LAHTI
    )


def test_the_same_update_of_the_two_authorities_referrals_gets_two_ids() -> None:
    update = parsed(raw())
    assert status_event_id(update, Authority.LAHTI) != status_event_id(update, Authority.PH)


def test_event_ids_are_distinct_across_referrals_states_and_times() -> None:
    at = dt.datetime(2025, 3, 20, tzinfo=dt.UTC)
    ids = {
        status_event_id(
            TaskUpdate(f"L-{n}", state, None, at + dt.timedelta(seconds=s)), Authority.LAHTI
        )
        for n in range(20)
        for state in ReferralState
        for s in range(5)
    }
    assert len(ids) == 20 * len(ReferralState) * 5


# --- properties (the route's contract: tests/fuzz/test_sote.py) -----------------------------

_SECRET_TEXT: Final = st.text(min_size=1, max_size=30).map(lambda text: f"SALAINEN {text}")


def _placed(code: str, shape: str) -> str:
    return {"exact": code, "prefixed": "x" + code, "suffixed": code + "0", "spaced": f" {code} "}[
        shape
    ]


#: Every string element of the example Task, and a few more a Task may carry.
_STRING_PATHS: Final[list[tuple[str | int, ...]]] = [
    ("resourceType",),
    ("id",),
    ("basedOn", 0, "identifier", "system"),
    ("basedOn", 0, "identifier", "value"),
    ("basedOn", 0, "reference"),
    ("basedOn", 0, "display"),
    ("status",),
    ("statusReason", "text"),
    ("intent",),
    ("lastModified",),
    ("description",),
    ("for", "identifier", "value"),
    ("note", 0, "text"),
    ("contained", 0, "resourceType"),
]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    code=identity_codes(),
    free_text=_SECRET_TEXT,
    targets=st.sets(st.sampled_from(_STRING_PATHS), min_size=1),
    shape=st.sampled_from(["exact", "prefixed", "suffixed", "spaced"]),
    as_key=st.booleans(),
)
def test_identity_codes_and_free_text_never_appear_in_a_rejection(
    code: str,
    free_text: str,
    targets: set[tuple[str | int, ...]],
    shape: str,
    as_key: bool,
) -> None:
    document = json.loads(json.dumps(TASK))
    for index, path in enumerate(sorted(targets, key=str)):
        set_path(document, path, _placed(code, shape) if index % 2 == 0 else free_text)
    if as_key:
        document[code] = free_text
    result = parse_task(orjson.dumps(document))
    assert isinstance(result, TaskUpdate | Rejection)
    if isinstance(result, Rejection):
        assert result.reason in REASONS
        for secret in (code, code[:6], free_text):
            assert secret not in result.detail
        assert not IDENTITY_CODE_SHAPE.search(result.detail)


@settings(max_examples=200, deadline=None)
@given(
    referral_id=st.text(min_size=1, max_size=50),
    status=st.sampled_from(STATUSES),
    reason=st.none() | st.text(min_size=1, max_size=80),
    at=st.datetimes(
        min_value=dt.datetime(1900, 1, 2),
        max_value=dt.datetime(2999, 12, 30),
        timezones=st.integers(min_value=-14 * 60 + 1, max_value=14 * 60 - 1).map(
            lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
        ),
    ),
)
def test_every_valid_task_parses_to_its_values(
    referral_id: str, status: str, reason: str | None, at: dt.datetime
) -> None:
    document = task(
        basedOn=based_on(system="urn:fi:paijathame:hub:referral", value=referral_id),
        status=status,
        statusReason=ABSENT if reason is None else {"text": reason},
        lastModified=at.isoformat(),
    )
    result = parse_task(orjson.dumps(document))
    if isinstance(result, Rejection):
        # FHIR refuses some strings (empty, or with characters outside its string type).
        assert result.reason == "invalid-fhir", result
        return
    assert result.referral_id == referral_id
    assert result.state is TASK_STATES[status]
    assert result.reason == (reason if reason is not None and reason.strip() else None)
    assert result.at == at
    assert result.at.utcoffset() == at.utcoffset()


@pytest.mark.parametrize(
    ("last_modified", "placed"),
    [
        ("0001-01-01T00:00:00Z", True),  # the first moment there is
        ("0001-01-01T00:00:00+00:01", False),  # a minute before it, in UTC
        ("0001-01-01T00:00:00+14:00", False),
        ("9999-12-31T23:59:59Z", True),  # the last second there is
        ("9999-12-31T23:59:59-00:01", False),  # a minute after it, in UTC
    ],
)
def test_a_last_modified_without_a_utc_instant_is_refused_not_an_internal_error(
    last_modified: str, placed: bool
) -> None:
    value = raw(lastModified=last_modified)
    if placed:
        assert parsed(value).at.astimezone(dt.UTC).year in {1, 9999}
        return
    result = rejected(value)
    assert result.reason == "missing-last-modified"
    assert "between years 1 and 9999" in result.detail
