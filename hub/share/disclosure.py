"""``hub share statement --reveal`` as a disclosure in the audit log.

Every person whose identity code a revealed statement shows gets one audit record, before
anything is printed: ``produced`` to ``out.<authority>.share-reveal`` (the authority whose
statement it is), with the person reference, the fields shown and the legal basis, so that
``hub audit disclosures --person`` lists it beside what partners received. The record's
payload is what was shown about the person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final

import orjson

from hub.audit.recorder import AuditRecorder, chain_of
from hub.audit.records import AuditDraft, Direction, EventFacts
from hub.core.topics import outbound_topic

__all__ = ["LEGAL_BASIS", "REVEAL_EVENT_TYPE", "RevealedLine", "record_reveal", "reveal_topic"]

REVEAL_EVENT_TYPE: Final = "fi.paijathame.hub.share-statement.reveal"
LEGAL_BASIS: Final = (
    "Laki työttömyysturvan rahoituksesta 555/1998, 4 §: the municipality checks Kela's "
    "invoice of its share"
)
_GROUP: Final = "hub.share-statement"

#: One revealed detail line: the person's reference, authority and the cells shown.
RevealedLine = tuple[str, str, Mapping[str, str]]


def reveal_topic(authority: str) -> str:
    """The topic name a reveal to ``authority`` is recorded under (never published)."""
    return outbound_topic(authority, "share-reveal")


def record_reveal(
    recorder: AuditRecorder, lines: Iterable[RevealedLine], fields: Sequence[str]
) -> int:
    """Record one disclosure per person and authority of ``lines``; how many were recorded."""
    shown: dict[tuple[str, str], list[Mapping[str, str]]] = {}
    for person_ref, authority, cells in lines:
        shown.setdefault((person_ref, authority), []).append(cells)
    entries = []
    for (person_ref, authority), shown_lines in sorted(shown.items()):
        topic = reveal_topic(authority)
        entries.append(
            (
                chain_of(_GROUP, topic, 0),
                AuditDraft(
                    Direction.PRODUCED,
                    orjson.dumps(shown_lines),
                    topic=topic,
                    facts=EventFacts(
                        event_type=REVEAL_EVENT_TYPE,
                        person_ref=person_ref,
                        partner=authority,
                        legal_basis=LEGAL_BASIS,
                        fields=tuple(fields),
                    ),
                ),
            )
        )
    if entries:
        recorder.record_all(entries)
    return len(entries)
