"""How a route's subscriber hands it the records it consumed: as they came, untouched.

A route reads the records' bodies itself (its translation is where bad bytes become a dead
letter with a reason). FastStream would first decode every header value as UTF-8 and every
body as JSON where it could: work thrown away, and worse, a header value that is not UTF-8
or is null (Kafka allows both), or a body its ``content-type`` header calls JSON and is not,
made FastStream fail before the route saw anything, so the record, and every batch holding
it, never reached the route and its partition stood still.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka.structs import ConsumerRecord
from faststream.message import StreamMessage

__all__ = ["parse_leniently", "undecoded"]

Parser = Callable[[Any], Awaitable[StreamMessage[Any]]]


async def parse_leniently(message: Any, original: Parser) -> StreamMessage[Any]:
    """FastStream's own parsing of a record or a batch; where a header value is not UTF-8
    or null, the record goes to it without that header (routes never read input headers)."""
    try:
        return await original(message)
    except (UnicodeDecodeError, AttributeError):
        if isinstance(message, tuple):
            return await original(tuple(_readable(record) for record in message))
        return await original(_readable(message))


async def undecoded(message: StreamMessage[Any]) -> None:
    """No body for the handler: it reads the raw records."""


def _readable(record: ConsumerRecord[bytes, bytes]) -> ConsumerRecord[bytes, bytes]:
    headers = [(name, value) for name, value in record.headers if _is_utf8(value)]
    return dataclasses.replace(record, headers=headers)


def _is_utf8(value: bytes | None) -> bool:
    if value is None:
        return False
    try:
        value.decode()
    except UnicodeDecodeError:
        return False
    return True
