"""What a route does with one record, without a broker: outputs, rejections, bugs."""

from __future__ import annotations

from aiokafka.structs import ConsumerRecord
from structlog.testing import capture_logs

from hub.core.topics import DEADLETTER_TOPIC
from hub.routing.deadletter import (
    DLQ_CONNECTOR,
    DLQ_DETAIL,
    DLQ_REASON,
    SOURCE_FILE,
    SOURCE_LINE,
    SOURCE_OFFSET,
    SOURCE_TOPIC,
    FileLine,
)
from hub.routing.pipeline import Accepted, Outgoing, Route, dead_letter_for, outcome_of
from schemas.rejection import Rejection

CODE = "131052-930V"


def _record(value: bytes | None, offset: int = 5) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="in.test",
        partition=1,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=None,
        value=value,
        checksum=None,
        serialized_key_size=-1,
        serialized_value_size=len(value or b""),
        headers=[],
    )


def _upper(value: bytes) -> list[Outgoing] | Rejection:
    if not value:
        return Rejection("empty-message", "the message has no bytes")
    if value.startswith(b"boom"):
        raise KeyError(value.decode())
    return [Outgoing("out.test", value.upper(), b"p-key")]


ROUTE = Route("test", ("in.test",), _upper)


def test_translated_message_is_published_where_the_translation_says() -> None:
    assert outcome_of(ROUTE, _record(b"hello")).messages == [
        Outgoing("out.test", b"HELLO", b"p-key")
    ]


def test_rejection_becomes_a_dead_letter_with_original_bytes() -> None:
    [letter] = outcome_of(ROUTE, _record(None, offset=9)).messages
    assert letter.topic == DEADLETTER_TOPIC
    assert letter.value == b""
    assert letter.key is None
    assert letter.headers[DLQ_REASON] == "empty-message"
    assert letter.headers[SOURCE_OFFSET] == "9"


def test_a_translation_bug_is_dead_lettered_as_internal_error_without_identity_code() -> None:
    original = f"boom {CODE}".encode()
    [letter] = outcome_of(ROUTE, _record(original)).messages
    assert letter.value == original
    assert letter.headers[DLQ_REASON] == "internal-error"
    assert letter.headers[DLQ_DETAIL].startswith("KeyError: ")
    assert CODE not in letter.headers[DLQ_DETAIL]


def test_consumer_group_defaults_to_the_connector_name() -> None:
    assert ROUTE.consumer_group == "hub.test"
    assert Route("x", ("t",), _upper, group_id="g").consumer_group == "g"


class _Calls(list[str]):
    """A ledger that lists the calls it gets."""

    def commit(self) -> None:
        self.append("commit")

    def rollback(self) -> None:
        self.append("rollback")


def test_accepted_outcome_keeps_its_ledger() -> None:
    calls = _Calls()
    accepted = Accepted([], calls)
    route = Route("test", ("in.test",), lambda _value: accepted)
    outcome = outcome_of(route, _record(b"x"))
    outcome.settle()
    outcome.abandon()
    assert calls == ["commit", "rollback"]
    Accepted([]).settle()  # no ledger: nothing to do
    Accepted([]).abandon()


def test_the_audit_detail_of_a_dead_letter_is_masked_like_its_header() -> None:
    def quoting(_value: bytes) -> Rejection:
        return Rejection("conflicting-duplicate", f"record {CODE} seen before with other data")

    [letter] = outcome_of(Route("test", ("in.test",), quoting), _record(b"x")).messages
    assert letter.facts is not None
    assert letter.facts.detail is not None
    assert CODE not in letter.facts.detail
    assert letter.facts.detail == f"conflicting-duplicate: {letter.headers[DLQ_DETAIL]}"


def test_building_a_dead_letter_logs_nothing_it_is_logged_once_acknowledged() -> None:
    with capture_logs() as logs:
        accepted = outcome_of(ROUTE, _record(b""))
    assert accepted.messages[0].topic == DEADLETTER_TOPIC
    assert [e for e in logs if e["event"] == "message dead-lettered"] == []


def test_a_file_line_is_dead_lettered_with_its_file_and_line_number() -> None:
    rejection = Rejection("bad-date", f"jakso_alku of {CODE} is not a date")
    letter = dead_letter_for("kela", FileLine("kela-2025-03.csv", 17, b"the line"), rejection)
    assert (letter.topic, letter.value, letter.key) == (DEADLETTER_TOPIC, b"the line", None)
    assert letter.headers[SOURCE_FILE] == "kela-2025-03.csv"
    assert letter.headers[SOURCE_LINE] == "17"
    assert SOURCE_TOPIC not in letter.headers
    assert letter.headers[DLQ_CONNECTOR] == "kela"
    assert CODE not in letter.headers[DLQ_DETAIL]
    assert letter.facts is not None
    assert letter.facts.detail == f"bad-date: {letter.headers[DLQ_DETAIL]}"


def test_a_record_is_dead_lettered_in_the_name_of_its_route_or_a_connector() -> None:
    rejection = Rejection("empty-message", "no bytes")
    by_route = dead_letter_for(ROUTE, _record(b"x", offset=3), rejection)
    by_name = dead_letter_for("other", _record(b"x", offset=3), rejection)
    assert by_route.headers[DLQ_CONNECTOR] == "test"
    assert by_name.headers[DLQ_CONNECTOR] == "other"
    assert (by_name.headers[SOURCE_TOPIC], by_name.headers[SOURCE_OFFSET]) == ("in.test", "3")
    assert SOURCE_FILE not in by_name.headers
