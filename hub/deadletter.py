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
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from hub.redaction import mask_identity_codes

__all__ = [
    "DLQ_CONNECTOR",
    "DLQ_DETAIL",
    "DLQ_REASON",
    "SOURCE_FILE",
    "SOURCE_LINE",
    "SOURCE_OFFSET",
    "SOURCE_PARTITION",
    "SOURCE_TOPIC",
    "DeadLetter",
    "FileSource",
    "KafkaSource",
]

DLQ_REASON: Final = "hub-dlq-reason"
DLQ_DETAIL: Final = "hub-dlq-detail"
DLQ_CONNECTOR: Final = "hub-dlq-connector"
SOURCE_TOPIC: Final = "hub-source-topic"
SOURCE_PARTITION: Final = "hub-source-partition"
SOURCE_OFFSET: Final = "hub-source-offset"
SOURCE_FILE: Final = "hub-source-file"
SOURCE_LINE: Final = "hub-source-line"

_MAX_DETAIL: Final = 1000
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
        detail = mask_identity_codes(self.detail)
        if len(detail) > _MAX_DETAIL:
            detail = detail[: _MAX_DETAIL - 1] + "…"
        return detail

    def headers(self) -> dict[str, str]:
        """The dead-letter headers; the detail is masked and bounded, the reason normalised."""
        reason = self.reason if _REASON_SHAPE.fullmatch(self.reason) else "invalid-reason-code"
        return {
            DLQ_REASON: reason,
            DLQ_DETAIL: self.shown_detail,
            DLQ_CONNECTOR: self.connector,
            **self.source.headers(),
        }
