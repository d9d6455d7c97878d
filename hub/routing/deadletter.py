"""Dead-letter plumbing every connector uses.

A message that cannot be parsed, validated, translated or routed is published unchanged (the
original bytes) to ``hub.deadletter.v1`` with headers that say where it came from and why:

    hub-dlq-reason        short stable code partners can alert on (``bad-date``)
    hub-dlq-detail        human text, identity codes masked, at most 1000 characters
    hub-dlq-connector     the connector that gave up on it
    hub-source-topic / hub-source-partition / hub-source-offset   (consumed from Kafka)
    hub-source-file / hub-source-line                             (read from a file)

The original Kafka key is not copied: a partner may have put anything there, identity codes
included. Building a dead letter never raises.

A dead letter larger than the broker takes (the original bytes are about Kafka's 1 MB limit)
has smaller forms, tried in order (``smaller_forms``):

- compressed: the value is the gzip of the original bytes (``hub-dlq-encoding: gzip``), the
  reason unchanged;
- quarantined: the original bytes are kept in the hub's quarantine store
  (:mod:`hub.routing.quarantine`), the value is empty, ``hub-dlq-quarantine`` names the entry, the
  reason is ``too-large-quarantined`` and ``hub-dlq-original-reason`` keeps the first one.

Both carry ``hub-dlq-original-size`` and ``hub-dlq-original-sha256`` of the original bytes.
"""

from __future__ import annotations

import asyncio
import gzip
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Final

from hub.core.redaction import shown_detail
from hub.routing.quarantine import QuarantineEntry, QuarantineStore, sha256_of

__all__ = [
    "DLQ_CONNECTOR",
    "DLQ_DETAIL",
    "DLQ_ENCODING",
    "DLQ_ORIGINAL_REASON",
    "DLQ_ORIGINAL_SHA256",
    "DLQ_ORIGINAL_SIZE",
    "DLQ_QUARANTINE",
    "DLQ_REASON",
    "RETRIES_EXHAUSTED",
    "SOURCE_FILE",
    "SOURCE_LINE",
    "SOURCE_OFFSET",
    "SOURCE_PARTITION",
    "SOURCE_TOPIC",
    "TOO_LARGE_QUARANTINED",
    "DeadLetter",
    "DeadLetterForm",
    "FileLine",
    "FileSource",
    "KafkaSource",
    "compressed_form",
    "quarantined_form",
    "smaller_forms",
]

DLQ_REASON: Final = "hub-dlq-reason"
DLQ_DETAIL: Final = "hub-dlq-detail"
DLQ_CONNECTOR: Final = "hub-dlq-connector"
SOURCE_TOPIC: Final = "hub-source-topic"
SOURCE_PARTITION: Final = "hub-source-partition"
SOURCE_OFFSET: Final = "hub-source-offset"
SOURCE_FILE: Final = "hub-source-file"
SOURCE_LINE: Final = "hub-source-line"
DLQ_ENCODING: Final = "hub-dlq-encoding"
DLQ_ORIGINAL_SIZE: Final = "hub-dlq-original-size"
DLQ_ORIGINAL_SHA256: Final = "hub-dlq-original-sha256"
DLQ_QUARANTINE: Final = "hub-dlq-quarantine"
DLQ_ORIGINAL_REASON: Final = "hub-dlq-original-reason"

#: The original bytes are in the quarantine store: even compressed, the broker would not take them.
TOO_LARGE_QUARANTINED: Final = "too-large-quarantined"
#: Handling the message failed again and again (the detail names the last error's class).
RETRIES_EXHAUSTED: Final = "retries-exhausted"

_REASON_SHAPE: Final = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


@dataclass(frozen=True, slots=True)
class KafkaSource:
    """Where a consumed message came from."""

    topic: str
    partition: int
    offset: int

    def headers(self) -> dict[str, str]:
        """The source headers of a dead letter."""
        return {
            SOURCE_TOPIC: self.topic,
            SOURCE_PARTITION: str(self.partition),
            SOURCE_OFFSET: str(self.offset),
        }


@dataclass(frozen=True, slots=True)
class FileSource:
    """Where a line read from a file came from (``hub ingest``)."""

    name: str
    line: int

    def headers(self) -> dict[str, str]:
        """The source headers of a dead letter."""
        return {SOURCE_FILE: self.name, SOURCE_LINE: str(self.line)}


@dataclass(frozen=True, slots=True)
class FileLine:
    """A line read from a file: its bytes (the line break off) and where it was."""

    name: str
    line: int
    value: bytes

    @property
    def source(self) -> FileSource:
        """The file and line, as a dead letter names them."""
        return FileSource(self.name, self.line)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message the hub gave up on, with where it came from and why."""

    value: bytes
    reason: str
    detail: str
    source: KafkaSource | FileSource
    connector: str

    @property
    def shown_detail(self) -> str:
        """The detail as it may be shown anywhere (header, audit): identity codes masked,
        at most 1000 characters."""
        return shown_detail(self.detail)

    def headers(self) -> dict[str, str]:
        """The dead-letter headers; the detail is masked and bounded, the reason normalised."""
        reason = self.reason if _REASON_SHAPE.fullmatch(self.reason) else "invalid-reason-code"
        return {
            DLQ_REASON: reason,
            DLQ_DETAIL: self.shown_detail,
            DLQ_CONNECTOR: self.connector,
            **self.source.headers(),
        }


@dataclass(frozen=True, slots=True)
class DeadLetterForm:
    """A dead letter as it goes out: its value and headers."""

    value: bytes
    headers: Mapping[str, str]

    @property
    def summary(self) -> str:
        """``reason: detail``, as the audit record of the dead letter carries it."""
        return f"{self.headers.get(DLQ_REASON, '')}: {self.headers.get(DLQ_DETAIL, '')}"


def _original(value: bytes) -> dict[str, str]:
    return {DLQ_ORIGINAL_SIZE: str(len(value)), DLQ_ORIGINAL_SHA256: sha256_of(value)}


def compressed_form(value: bytes, headers: Mapping[str, str]) -> DeadLetterForm:
    """The dead letter with its value gzip-compressed (``hub-dlq-encoding: gzip``)."""
    # mtime=0: the same bytes always compress to the same dead letter.
    packed = gzip.compress(value, compresslevel=9, mtime=0)
    return DeadLetterForm(packed, {**headers, DLQ_ENCODING: "gzip", **_original(value)})


def quarantined_form(headers: Mapping[str, str], entry: QuarantineEntry) -> DeadLetterForm:
    """The dead letter of bytes kept in quarantine: an empty value, the entry's reference,
    size and SHA-256, reason ``too-large-quarantined`` (the first one kept beside it)."""
    reason = headers.get(DLQ_REASON, "")
    detail = (
        f"{entry.size} bytes, too large for a dead letter even compressed, kept in the hub's "
        f"quarantine store as {entry.sha256}; {reason}: {headers.get(DLQ_DETAIL, '')}"
    )
    return DeadLetterForm(
        b"",
        {
            **headers,
            DLQ_REASON: TOO_LARGE_QUARANTINED,
            DLQ_DETAIL: shown_detail(detail),
            DLQ_ORIGINAL_REASON: reason,
            DLQ_QUARANTINE: entry.sha256,
            DLQ_ORIGINAL_SIZE: str(entry.size),
            DLQ_ORIGINAL_SHA256: entry.sha256,
        },
    )


async def smaller_forms(
    value: bytes, headers: Mapping[str, str], store: QuarantineStore
) -> AsyncIterator[DeadLetterForm]:
    """The smaller forms of a dead letter the broker refused as it is, to try in order:
    compressed (when that is smaller), then quarantined. The quarantine entry is written,
    durably, only when the quarantined form is asked for: before its dead letter is sent."""
    compressed = await asyncio.to_thread(compressed_form, value, headers)
    if len(compressed.value) < len(value):
        yield compressed
    # Writing and flushing a megabyte to disk: off the event loop, heartbeats go on.
    entry = await asyncio.to_thread(store.keep, value)
    yield quarantined_form(headers, entry)
