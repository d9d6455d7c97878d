"""Records reach their route whatever their headers hold (``hub.broker.raw_records``)."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord
from faststream.kafka.message import KafkaMessage
from faststream.kafka.parser import AioKafkaBatchParser, AioKafkaParser

from hub.broker.raw_records import parse_leniently, undecoded


def _record(offset: int, headers: list[tuple[str, bytes | None]]) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord("in.t", 0, offset, 0, 0, b"k", b"{body", None, 1, 5, headers)


def _parsers() -> tuple[AioKafkaParser, AioKafkaBatchParser]:
    return AioKafkaParser(KafkaMessage, None), AioKafkaBatchParser(KafkaMessage, None)


async def test_readable_headers_go_to_faststream_as_they_are() -> None:
    single, _ = _parsers()
    record = _record(3, [("a", b"1"), ("b", "ä".encode())])
    parsed = await parse_leniently(record, single.parse_message)
    assert parsed.raw_message is record
    assert parsed.headers == {"a": "1", "b": "ä"}


@pytest.mark.parametrize("odd", [b"\xff", None, b"ok\xc3"], ids=["not-utf8", "null", "cut"])
async def test_a_header_faststream_cannot_read_is_left_out_and_the_record_kept(
    odd: bytes | None,
) -> None:
    single, batch = _parsers()
    first, second = _record(1, [("a", b"1"), ("x", odd)]), _record(2, [("x", odd)])
    with pytest.raises((UnicodeDecodeError, AttributeError)):
        await batch.parse_batch((first, second))  # FastStream's parser on its own

    parsed = await parse_leniently((first, second), batch.parse_batch)
    records: Any = parsed.raw_message
    assert [(r.offset, r.value, r.key, r.headers) for r in records] == [
        (1, b"{body", b"k", [("a", b"1")]),
        (2, b"{body", b"k", []),
    ]
    alone = await parse_leniently(first, single.parse_message)
    assert alone.raw_message.headers == [("a", b"1")]


async def test_the_handler_gets_no_body_to_decode() -> None:
    single, _ = _parsers()
    parsed = await single.parse_message(_record(1, [("content-type", b"application/json")]))
    assert await undecoded(parsed) is None
