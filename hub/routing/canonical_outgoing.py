"""The one way to build the Kafka message of a canonical event (``hub.<family>.v<major>``).

Every canonical message is built alike: the topic is the one the event's CloudEvents
``type`` names (``fi.paijathame.hub.client-status.v1`` → ``hub.client-status.v1``, through
``hub.core.topics``); the key is the person reference (``subject``), so one person's events keep
their order in one partition and no identity code is ever a key; the value is the event's
CloudEvents JSON (structured mode) with the ``content-type`` header saying so; ``event_id``
carries the event id for delivery deduplication and the audit, and the audit facts (id,
type, person reference) come with the message rather than being parsed back out of it.
"""

from __future__ import annotations

import functools
from typing import Final, Protocol

from hub.audit.records import EventFacts
from hub.core.topics import canonical_topic
from hub.routing.pipeline import Outgoing
from schemas.envelope import CLOUDEVENTS_CONTENT_TYPE

__all__ = [
    "CANONICAL_TYPE_PREFIX",
    "CONTENT_TYPE",
    "CanonicalEvent",
    "NotACanonicalTypeError",
    "canonical_message",
    "canonical_outgoing",
    "topic_of_type",
]

#: The CloudEvents ``type`` of every canonical event starts so.
CANONICAL_TYPE_PREFIX: Final = "fi.paijathame.hub."
#: The header that says what the value is.
CONTENT_TYPE: Final = "content-type"


class NotACanonicalTypeError(ValueError):
    """A CloudEvents type that names no canonical topic: a bug in the event's model."""


class CanonicalEvent(Protocol):
    """What the message of a canonical event is built from (every ``CloudEvent`` model)."""

    @property
    def id(self) -> str:
        """The event id."""
        ...

    @property
    def type(self) -> str:
        """The CloudEvents type, ``fi.paijathame.hub.<family>.v<major>``."""
        ...

    @property
    def subject(self) -> str:
        """The person reference."""
        ...

    def model_dump_json(self) -> str:
        """The event's CloudEvents JSON."""
        ...


@functools.lru_cache(maxsize=64)
def topic_of_type(event_type: str) -> str:
    """The canonical topic of CloudEvents type ``event_type``; raises
    ``NotACanonicalTypeError`` for a type outside ``fi.paijathame.hub.<family>.v<major>``."""
    # Cached: the hub knows a handful of types and asks once per message (a refusal raises
    # and is not cached).
    rest = event_type.removeprefix(CANONICAL_TYPE_PREFIX)
    family, dot, version = rest.partition(".")
    if (
        rest == event_type
        or not dot
        or not family
        or not version.startswith("v")
        or not version[1:].isdecimal()
        or not version[1:].isascii()
        or int(version[1:]) < 1
    ):
        raise NotACanonicalTypeError(f"{event_type!r} is not a canonical event type")
    return canonical_topic(family, int(version[1:]))


def canonical_outgoing(event: CanonicalEvent) -> Outgoing:
    """The Kafka message of canonical ``event``: on the topic its type names, keyed by its
    person reference, CloudEvents JSON with its content type, its id and audit facts."""
    return canonical_message(event.type, event.id, event.subject, event.model_dump_json().encode())


def canonical_message(event_type: str, event_id: str, subject: str, value: bytes) -> Outgoing:
    """The Kafka message of a canonical event already serialised: ``value`` is its CloudEvents
    JSON, ``event_type``, ``event_id`` and ``subject`` (the person reference) what it says.

    For a connector that renders the JSON itself (it must be the bytes the event's model
    gives); ``canonical_outgoing`` builds every other canonical message through it."""
    return Outgoing(
        topic_of_type(event_type),
        value,
        subject.encode(),
        {CONTENT_TYPE: CLOUDEVENTS_CONTENT_TYPE},
        event_id,
        EventFacts(event_id=event_id, event_type=event_type, person_ref=subject),
    )
