"""What an audit record says about a message: drawn from the canonical event it is or yields.

Connectors need not know about the audit: a canonical event (the value of every ``hub.*``
message) names its id, type and person reference, and a partner message carries the facts of
its disclosure, set where the contract allowed it (``hub.distribution``).
"""

from __future__ import annotations

import functools
from typing import Final

import orjson

from hub.audit.records import EventFacts
from hub.core.topics import TopicKind, kind_of, partner_of

__all__ = ["canonical_facts", "source_partner"]

_CANONICAL_TYPE_PREFIX: Final = "fi.paijathame.hub."


#: How many events' facts ``canonical_facts`` remembers: every route consuming a canonical
#: topic (distribution, statistics, ledgers) audits the same event at about the same time, and
#: the facts of a remembered event cost a hash of its bytes instead of a parse.
_REMEMBERED: Final = 512


@functools.lru_cache(maxsize=_REMEMBERED)
def canonical_facts(value: bytes) -> EventFacts | None:
    """Id, type and person reference of a canonical event; ``None`` if ``value`` is not one."""
    try:
        raw = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(raw, dict):
        return None
    event_id, event_type, subject = raw.get("id"), raw.get("type"), raw.get("subject")
    if not (isinstance(event_type, str) and event_type.startswith(_CANONICAL_TYPE_PREFIX)):
        return None
    return EventFacts(
        event_id=event_id if isinstance(event_id, str) else None,
        event_type=event_type,
        person_ref=subject if isinstance(subject, str) and subject.startswith("p-") else None,
    )


def source_partner(topic: str) -> str | None:
    """The partner that produces a native inbound topic (``in.<partner>.<family>``)."""
    return partner_of(topic) if kind_of(topic) is TopicKind.INBOUND else None
