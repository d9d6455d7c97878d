"""Where an operator's handling of a dead letter stands, apart from the quarantine code.

A module of its own so that the CLI can offer ``--state`` without loading the Kafka client.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["State"]


class State(StrEnum):
    """Where an operator's handling of a dead letter stands."""

    OPEN = "open"
    RESUBMITTED = "resubmitted"
    CLOSED = "closed"
