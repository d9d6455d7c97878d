"""One Kela record in: bytes → canonical event staged in the ledger, a duplicate, or a
rejection. Shared by the streaming path (``wiring``) and the file path (``hub ingest kela``),
so a record is recognised as a duplicate whichever way it came first.

Does not publish and does not know the broker: the caller publishes ``Taken.event`` and then
commits (or rolls back) the ledger. A rejection's detail never quotes a record id: an id can
be, or hide, an identity code (the dead letter keeps the original line for people to read).
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.kela.inbound import decode_line, parse_line, to_event
from connectors.kela.ledger import BenefitLedger, Verdict
from schemas.envelope import BenefitDayEvent
from schemas.rejection import Rejection

__all__ = ["Duplicate", "Intake", "Taken"]


@dataclass(frozen=True, slots=True)
class Taken:
    """A new record: its canonical event, staged in the ledger, to be published."""

    event: BenefitDayEvent

    @property
    def is_correction(self) -> bool:
        """True when the record corrects an earlier one."""
        return self.event.data.corrects_record_id is not None


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A record received before with the same content: accepted once, not published again."""

    record_id: str
    line: int | None


@dataclass(frozen=True, slots=True)
class Intake:
    """Kela records → canonical events, exactly once per ``tapahtumatunnus``."""

    ledger: BenefitLedger
    secret: bytes

    def take(self, raw: bytes, line_number: int | None = None) -> Taken | Duplicate | Rejection:
        """Decode, parse, check against the ledger, build and stage the canonical event."""
        text = decode_line(raw, line_number)
        if isinstance(text, Rejection):
            return text
        row = parse_line(text, line_number)
        if isinstance(row, Rejection):
            return row
        match self.ledger.verdict(row):
            case Verdict.DUPLICATE:
                return Duplicate(row.tapahtumatunnus, line_number)
            case Verdict.CONFLICTING_DUPLICATE:
                return Rejection(
                    Verdict.CONFLICTING_DUPLICATE.value,
                    "tapahtumatunnus was received before with different content",
                    line_number,
                )
            case Verdict.UNKNOWN_CORRECTED:
                return Rejection(
                    Verdict.UNKNOWN_CORRECTED.value,
                    "korjattava names a record the hub never received",
                    line_number,
                )
        event = to_event(row, self.secret)
        self.ledger.stage(row, event.id)
        return Taken(event)
