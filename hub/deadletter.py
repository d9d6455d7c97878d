"""Dead-letter plumbing every connector uses.

A message that cannot be parsed, validated, translated or routed is published unchanged (the
original bytes) to ``hub.deadletter.v1`` with headers that say where it came from and why:

    hub-dlq-reason        short stable code partners can alert on (``bad-date``)
    hub-dlq-detail        human text, identity codes masked, at most 1000 characters
    hub-dlq-connector     the connector that gave up on it
    hub-source-topic / hub-source-partition / hub-source-offset

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
    "SOURCE_OFFSET",
    "SOURCE_PARTITION",
    "SOURCE_TOPIC",
    "DeadLetter",
]

DLQ_REASON: Final = "hub-dlq-reason"
DLQ_DETAIL: Final = "hub-dlq-detail"
DLQ_CONNECTOR: Final = "hub-dlq-connector"
SOURCE_TOPIC: Final = "hub-source-topic"
SOURCE_PARTITION: Final = "hub-source-partition"
SOURCE_OFFSET: Final = "hub-source-offset"

_MAX_DETAIL: Final = 1000
_REASON_SHAPE: Final = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message the hub gave up on, with where it came from and why."""

    value: bytes
    reason: str
    detail: str
    source_topic: str
    source_partition: int
    source_offset: int
    connector: str

    def headers(self) -> dict[str, str]:
        """The dead-letter headers; the detail is masked and bounded, the reason normalised."""
        reason = self.reason if _REASON_SHAPE.fullmatch(self.reason) else "invalid-reason-code"
        detail = mask_identity_codes(self.detail)
        if len(detail) > _MAX_DETAIL:
            detail = detail[: _MAX_DETAIL - 1] + "…"
        return {
            DLQ_REASON: reason,
            DLQ_DETAIL: detail,
            DLQ_CONNECTOR: self.connector,
            SOURCE_TOPIC: self.source_topic,
            SOURCE_PARTITION: str(self.source_partition),
            SOURCE_OFFSET: str(self.source_offset),
        }
