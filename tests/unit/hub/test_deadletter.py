"""Dead-letter headers: stable reason, masked bounded detail, source coordinates."""

from __future__ import annotations

from hub.deadletter import (
    DLQ_CONNECTOR,
    DLQ_DETAIL,
    DLQ_REASON,
    SOURCE_FILE,
    SOURCE_LINE,
    SOURCE_OFFSET,
    SOURCE_PARTITION,
    SOURCE_TOPIC,
    DeadLetter,
    FileSource,
    KafkaSource,
)

CODE = "131052-930V"


def _letter(reason: str = "bad-date", detail: str = "jakso_alku is not a date") -> DeadLetter:
    return DeadLetter(
        value=f"{CODE};31.02.2025".encode(),
        reason=reason,
        detail=detail,
        source=KafkaSource("in.kela.benefit-day", 2, 17),
        connector="kela",
    )


def test_headers_carry_reason_detail_and_source() -> None:
    assert _letter().headers() == {
        DLQ_REASON: "bad-date",
        DLQ_DETAIL: "jakso_alku is not a date",
        DLQ_CONNECTOR: "kela",
        SOURCE_TOPIC: "in.kela.benefit-day",
        SOURCE_PARTITION: "2",
        SOURCE_OFFSET: "17",
    }


def test_identity_code_in_detail_is_masked_but_value_keeps_original_bytes() -> None:
    letter = _letter(detail=f"person {CODE} unknown")
    assert CODE not in "".join(letter.headers().values())
    assert CODE.encode() in letter.value


def test_detail_is_bounded() -> None:
    detail = _letter(detail="x" * 5000).headers()[DLQ_DETAIL]
    assert len(detail) == 1000
    assert detail.endswith("…")


def test_a_reason_that_is_not_a_stable_code_is_replaced() -> None:
    assert _letter(reason=f"Bad {CODE}!").headers()[DLQ_REASON] == "invalid-reason-code"


def test_a_file_line_names_file_and_line_instead_of_kafka_coordinates() -> None:
    letter = DeadLetter(b"x", "bad-date", "d", FileSource("kela-2025-03.csv", 17), "kela")
    headers = letter.headers()
    assert (headers[SOURCE_FILE], headers[SOURCE_LINE]) == ("kela-2025-03.csv", "17")
    assert SOURCE_TOPIC not in headers
