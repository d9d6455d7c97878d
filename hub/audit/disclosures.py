"""``hub audit disclosures``: every disclosure about one person, from the audit log.

The answer to a data subject's access request: when, to which partner, which event, which
fields, on what legal basis. A disclosure is a record of a message the hub produced (or a
replay sent) to a partner's topic; redelivered copies are listed and marked, since the partner
did receive them again.
"""

from __future__ import annotations

import csv
import io
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Final

import orjson

from hub.audit.records import AuditRecord, Direction
from hub.audit.store import AuditStore, RecordQuery
from hub.core.topics import TopicKind, kind_of

__all__ = [
    "COLUMNS",
    "CONSOLE_TOPIC",
    "Disclosure",
    "disclosures_of",
    "render_csv",
    "render_json",
    "render_text",
]

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


#: How a disclosure in the console reads in the columns made for messages to partners.
CONSOLE_TOPIC: Final = "console"
_LOOK_UP: Final = "look-up by person"


def _console_disclosure(record: AuditRecord) -> Disclosure:
    """What an auditor saw in the console: a person's disclosure list, or a dead letter's
    original bytes, and the reason the auditor gave."""
    try:
        said = orjson.loads(record.detail or "{}")
    except orjson.JSONDecodeError:
        said = {}
    said = said if isinstance(said, dict) else {}
    what = str(said.get("what", ""))
    if what == _LOOK_UP:
        event, kind, fields = "-", "look-up by person", ("disclosure list (no identity code)",)
    else:
        event, kind, fields = what, "dead letter's original bytes", ("original bytes",)
    reason = str(said.get("reason", ""))
    return Disclosure(
        when=record.recorded_at,
        partner=record.partner or "",
        topic=CONSOLE_TOPIC,
        event_id=event,
        event_type=kind,
        fields=fields,
        legal_basis=record.legal_basis or "",
        note=f"auditor's reason: {reason}" if reason else "no reason recorded",
    )


def _disclosure(record: AuditRecord) -> Disclosure:
    if record.direction == Direction.DISCLOSED:
        return _console_disclosure(record)
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
        if (
            record.direction == Direction.DISCLOSED
            or kind_of(record.topic or "") is TopicKind.OUTBOUND
        ):
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


#: Labels of the text layout, padded to one width so the values line up.
_LABEL_WIDTH: Final = 8


def _labelled(label: str, value: str, width: int) -> list[str]:
    indent = " " * (2 + _LABEL_WIDTH)
    return textwrap.wrap(
        value,
        width=width,
        initial_indent=f"  {label:<{_LABEL_WIDTH}}",
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [f"  {label}"]


def render_text(disclosures: Iterable[Disclosure], width: int = 80) -> str:
    """One block per disclosure, lines wrapped at ``width`` (for a terminal or a letter).

    Eight columns side by side do not fit a terminal: a block keeps every value whole (an
    event id is copied from here into ``hub audit`` look-ups) and reads top to bottom.
    """
    blocks = []
    for d in disclosures:
        where = "in the web console" if d.topic == CONSOLE_TOPIC else f"on {d.topic}"
        lines = [f"{d.when}  to {d.partner} {where}"]
        lines += _labelled("event", d.event_id, width)
        lines += _labelled("type", d.event_type, width)
        lines += _labelled("fields", ", ".join(d.fields), width)
        lines += _labelled("basis", d.legal_basis, width)
        if d.note:
            lines += _labelled("note", d.note, width)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
