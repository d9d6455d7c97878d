"""One Kela record in: bytes → canonical event staged in the ledger, a duplicate, or a
rejection. Shared by the streaming path (``wiring``) and the file path (``hub ingest kela``),
so a record is recognised as a duplicate, and a correction checked against the record it
corrects, whichever way each came first.

Does not publish and does not know the broker: the caller publishes ``Taken.event`` and then
commits (or rolls back) the ledger. A rejection's detail never quotes a record id: an id can
be, or hide, an identity code (the dead letter keeps the original line for people to read).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from connectors.kela import corrections
from connectors.kela.corrections import attribute
from connectors.kela.event_json import RecordData, event_document, event_messages
from connectors.kela.inbound import REASONS as LINE_REASONS
from connectors.kela.inbound import Attribution, decode_line, event_id_for, parse_fields, to_event
from connectors.kela.later_lookups import LaterLookups
from connectors.kela.ledger import BenefitLedger, Verdict
from connectors.kela.native import PaymentDayRow
from connectors.kela.one_pass import row_in_one_pass
from hub.connector import Outgoing
from schemas.envelope import BenefitDayV2Event
from schemas.person_ref import person_ref_for
from schemas.rejection import Rejection

__all__ = ["REASONS", "RETIRED_REASONS", "Checked", "Duplicate", "Intake", "Taken"]

#: Reasons no longer given, kept so old dead letters still read: ``YLT`` was dead-lettered as
#: ``benefit-not-in-canonical-schema`` until ``hub.benefit-day.v2`` carried it.
RETIRED_REASONS: Final[dict[str, str]] = {
    "benefit-not-in-canonical-schema": "retired: etuus was YLT before hub.benefit-day.v2; such "
    "a dead letter is sent again and now goes through",
}

#: Every reason a record can be rejected for, on either path: the line's own (``inbound``),
#: the ledger's, and the corrections' (``corrections``).
REASONS: Final[dict[str, str]] = {
    **LINE_REASONS,
    Verdict.CONFLICTING_DUPLICATE.value: "the record id was received before with different content",
    **corrections.REASONS,
}


class Taken(NamedTuple):
    """A new record, staged in the ledger, to be published: its canonical event
    (``benefit-day.v2``; ``connectors.kela.versions`` says what goes to v1 as well) as the
    JSON-mode ``document`` its messages are serialised from, and, when asked, as its model.

    A named tuple: immutable, and built without a ``object.__setattr__`` per field (one per
    record)."""

    row: PaymentDayRow
    event_id: str
    person_ref: str
    attribution: Attribution | None

    @property
    def is_correction(self) -> bool:
        """True when the record corrects an earlier one."""
        return self.row.korjattava is not None

    @property
    def document(self) -> dict[str, Any]:
        """``event.model_dump(mode="json")``, built directly (``connectors.kela.event_json``)
        on each read."""
        return event_document(self.row, self.event_id, self.person_ref, self.attribution)

    @property
    def data(self) -> RecordData:
        """The event's ``data`` in JSON mode, each field given when read."""
        return RecordData(self.row, self.attribution)

    @property
    def event(self) -> BenefitDayV2Event:
        """The canonical event as its model (built anew on each read: the hot paths use the
        document)."""
        # The secret only derives a person reference not given: this one is.
        return to_event(self.row, b"", self.attribution, self.person_ref)

    def messages(self) -> list[Outgoing]:
        """The record's Kafka messages: ``hub.benefit-day.v2``, and v1 when it can carry it."""
        return event_messages(self.document)


class Checked(NamedTuple):
    """A new record a dry run checked and counts, but neither stages nor identifies: no later
    line of its file asks for it (``connectors.kela.later_lookups``), and nothing is published,
    so neither its event id nor its person reference is needed. Never a correction."""

    row: PaymentDayRow

    @property
    def data(self) -> RecordData:
        """The event's ``data`` in JSON mode, as ``Taken.data`` gives it."""
        return RecordData(self.row, None)


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A record received before with the same content: accepted once, not published again."""

    record_id: str
    line: int | None


@dataclass(frozen=True, slots=True)
class Intake:
    """Kela records → canonical events, exactly once per ``tapahtumatunnus``.

    ``data_start`` is the day the hub began receiving Kela's data (``HUB_KELA_DATA_START``):
    a correction of an unknown record whose period ends before it is accepted as correcting a
    record the hub never saw. ``None``: every correction must find its record.
    """

    ledger: BenefitLedger
    secret: bytes
    data_start: dt.date | None = None

    def take(self, raw: bytes, line_number: int | None = None) -> Taken | Duplicate | Rejection:
        """Decode, parse, check against the ledger, build and stage the canonical event."""
        row = _row(raw, line_number)
        if isinstance(row, Rejection):
            return row
        return self._take_row(row, line_number)

    def take_many(
        self, lines: Sequence[tuple[bytes, int | None]]
    ) -> list[Taken | Duplicate | Rejection]:
        """``take`` of each (raw line, line number) in order, the ledger asked once for all.

        Every line is checked on its own first; the record ids (and the ids corrections name)
        of the lines that pass are then looked up in the ledger together, so a batch costs one
        query instead of one per line. Use it between two commits of the ledger: the answers
        hold until the next one.
        """
        rows = self._rows(lines)
        return [
            row if isinstance(row, Rejection) else self._take_row(row, line_number)
            for row, (_raw, line_number) in zip(rows, lines, strict=True)
        ]

    def check_many(
        self, lines: Sequence[tuple[bytes, int | None]], lookups: LaterLookups
    ) -> list[Taken | Checked | Duplicate | Rejection]:
        """``take_many`` for a dry run: the same outcomes, except that a new record no later
        line can ask for (``lookups``) is ``Checked``, not staged.

        Use it only with a dry-run ledger, with the ``lookups`` of the whole file.
        """
        rows = self._rows(lines)
        return [
            row if isinstance(row, Rejection) else self._check_row(row, line_number, lookups)
            for row, (_raw, line_number) in zip(rows, lines, strict=True)
        ]

    def _rows(self, lines: Sequence[tuple[bytes, int | None]]) -> list[PaymentDayRow | Rejection]:
        rows = [_row(raw, line_number) for raw, line_number in lines]
        parsed = [row for row in rows if not isinstance(row, Rejection)]
        self.ledger.prefetch(
            [row.tapahtumatunnus for row in parsed]
            + [row.korjattava for row in parsed if row.korjattava is not None]
        )
        return rows

    def _take_row(
        self, row: PaymentDayRow, line_number: int | None
    ) -> Taken | Duplicate | Rejection:
        known = self._known(row, line_number)
        return known if known is not None else self._new(row)

    def _check_row(
        self, row: PaymentDayRow, line_number: int | None, lookups: LaterLookups
    ) -> Taken | Checked | Duplicate | Rejection:
        known = self._known(row, line_number)
        if known is not None:
            return known
        if row.korjattava is None and not lookups.may_be_asked_for(row.tapahtumatunnus):
            return Checked(row)
        return self._new(row)

    def _known(self, row: PaymentDayRow, line_number: int | None) -> Duplicate | Rejection | None:
        """What the ledger already knows of ``row``'s record id, if it decides the line."""
        match self.ledger.verdict(row):
            case Verdict.DUPLICATE:
                return Duplicate(row.tapahtumatunnus, line_number)
            case Verdict.CONFLICTING_DUPLICATE:
                return Rejection(
                    Verdict.CONFLICTING_DUPLICATE.value,
                    "tapahtumatunnus was received before with different content",
                    line_number,
                )
        return None

    def _new(self, row: PaymentDayRow) -> Taken | Rejection:
        """A record the ledger does not hold: staged, or a correction's rejection."""
        person = person_ref_for(row.hetu, self.secret)
        if row.korjattava is None:
            event_id = event_id_for(row.tapahtumatunnus)
            self.ledger.stage(row, event_id, person_ref=person)
            return Taken(row, event_id, person, None)
        return self._correction(row, row.korjattava, person)

    def _correction(self, row: PaymentDayRow, corrects: str, person: str) -> Taken | Rejection:
        corrected = self.ledger.corrected_record(corrects)
        attribution = attribute(row, person, corrected, self.data_start)
        if isinstance(attribution, Rejection):
            return attribution
        event_id = event_id_for(row.tapahtumatunnus)
        self.ledger.stage(
            row,
            event_id,
            municipality=attribution.municipality,
            belongs_to=corrects if corrected is None else corrected.belongs_to,
            person_ref=person,
        )
        return Taken(row, event_id, person, attribution)


def _row(raw: bytes, line_number: int | None) -> PaymentDayRow | Rejection:
    """The line as a row, or why not: ``parse_line`` of ``decode_line``, without the calls
    between for the common case."""
    text = decode_line(raw, line_number)
    if isinstance(text, Rejection):
        return text
    return row_in_one_pass(text, line_number) or parse_fields(text, line_number)
