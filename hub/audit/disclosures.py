"""``hub audit disclosures``: every disclosure about one person, from the audit log.

The answer to a data subject's access request: when, to which partner, which event, which
fields, on what legal basis. A disclosure is a record of a message the hub produced (or a
replay sent) to a partner's topic; redelivered copies are listed and marked, since the partner
did receive them again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Final

import orjson

from hub.audit.records import AuditRecord, Direction
from hub.audit.store import AuditStore, RecordQuery

__all__ = ["COLUMNS", "Disclosure", "disclosures_of", "render_csv", "render_json"]

COLUMNS: Final = (
    "when",
    "partner",
    "topic",
    "event_id",
    "event_type",
    "fields",
    "legal_basis",
    "note",
)


@dataclass(frozen=True, slots=True)
class Disclosure:
    """One message about the person that reached a partner."""

    when: str
    partner: str
    topic: str
    event_id: str
    event_type: str
    fields: tuple[str, ...]
    legal_basis: str
    note: str


def _disclosure(record: AuditRecord) -> Disclosure:
    notes = []
    if record.redelivered:
        notes.append("sent again after a redelivery")
    if record.replay_of is not None:
        notes.append(f"replay of {record.replay_of}")
    return Disclosure(
        when=record.recorded_at,
        partner=record.partner or "",
        topic=record.topic or "",
        event_id=record.event_id or "",
        event_type=record.event_type or "",
        fields=record.fields,
        legal_basis=record.legal_basis or "",
        note="; ".join(notes),
    )


def disclosures_of(store: AuditStore, person_ref: str) -> Iterator[Disclosure]:
    """The person's disclosures to partners, oldest first."""
    directions = (Direction.PRODUCED, Direction.REPLAYED, Direction.DISCLOSED)
    query = RecordQuery(person_ref=person_ref, directions=directions)
    for record in store.select(query):
        if record.partner is None:
            continue
        # Shown through the console (an auditor's look-up) is a disclosure as well.
        if record.direction == Direction.DISCLOSED or (record.topic or "").startswith("out."):
            yield _disclosure(record)


def render_csv(disclosures: Iterable[Disclosure]) -> str:
    """CSV with a header row; fields separated by spaces within their cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for d in disclosures:
        fields = " ".join(d.fields)
        writer.writerow(
            (d.when, d.partner, d.topic, d.event_id, d.event_type, fields, d.legal_basis, d.note)
        )
    return buffer.getvalue()


def render_json(disclosures: Iterable[Disclosure]) -> str:
    """A JSON array of objects."""
    return orjson.dumps([asdict(d) for d in disclosures], option=orjson.OPT_INDENT_2).decode()
