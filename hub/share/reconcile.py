"""``hub share reconcile``: Kela's invoice specification against the hub's own computation.

Line by line: the lines of one record (consecutive in Kela's file) are compared with that
record's share lines as the hub computes them (``hub.share.split``), matched by model and
percentage. The kinds of difference:

- ``billed-not-seen``: the hub never received the record;
- ``seen-not-billed``: the hub computes a share for the municipality and month that the file
  does not bill (also a step of a billed record the file leaves out);
- ``wrong-municipality``: the hub has the record financed by another municipality (the person
  lived elsewhere on the payment date);
- ``different-person``, ``different-month``: the record is another person's, or paid in
  another month than the invoice's;
- ``different-step``: billed at a percentage the hub does not give those days;
- ``different-days``; ``different-euros`` (more than 0,01 € apart);
- ``billed-twice``: a record's model and percentage on two lines.

Memory stays flat: the file is read a line at a time, the hub's records one at a time, and
which records were billed is kept in a scratch SQLite file. Differences go to a sink as they
are found (the CLI streams them into a CSV). They carry the person reference, never the
identity code.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Final

from hub.share.invoice import BadLine, InvoiceLine, read_invoice
from hub.share.ledger import ShareLedger, StoredRecord
from hub.share.rules import ShareRules
from hub.share.split import ShareLine, split
from schemas.person_ref import person_ref_for

__all__ = [
    "DIFFERENCE_COLUMNS",
    "TOLERANCE",
    "Difference",
    "Kind",
    "ReconcileReport",
    "reconcile",
]

#: Euros closer than this are the same (rounding of a cent either way).
TOLERANCE: Final = Decimal("0.01")
_COMMIT_EVERY: Final = 10_000
_BAD_LINES_KEPT: Final = 20


class Kind(StrEnum):
    """What kind of difference a line shows."""

    BILLED_NOT_SEEN = "billed-not-seen"
    SEEN_NOT_BILLED = "seen-not-billed"
    WRONG_MUNICIPALITY = "wrong-municipality"
    DIFFERENT_PERSON = "different-person"
    DIFFERENT_MONTH = "different-month"
    DIFFERENT_STEP = "different-step"
    DIFFERENT_DAYS = "different-days"
    DIFFERENT_EUROS = "different-euros"
    BILLED_TWICE = "billed-twice"
    BAD_LINE = "bad-line"


DIFFERENCE_COLUMNS: Final = (
    "line",
    "kind",
    "record_id",
    "person",
    "month",
    "municipality_billed",
    "municipality_hub",
    "model",
    "percent_billed",
    "percent_hub",
    "days_billed",
    "days_hub",
    "euros_billed",
    "euros_hub",
    "detail",
)


@dataclass(frozen=True, slots=True)
class Difference:
    """One difference; the billed side from the file, the hub side from its computation."""

    kind: Kind
    line: int | None = None
    record_id: str = ""
    person: str = ""
    month: str = ""
    municipality_billed: str = ""
    municipality_hub: str = ""
    model: str = ""
    percent_billed: int | None = None
    percent_hub: int | None = None
    days_billed: int | None = None
    days_hub: int | None = None
    euros_billed: Decimal | None = None
    euros_hub: Decimal | None = None
    detail: str = ""

    def cells(self) -> tuple[str, ...]:
        """The difference as text, in ``DIFFERENCE_COLUMNS`` order."""
        values = (
            self.line,
            self.kind.value,
            self.record_id,
            self.person,
            self.month,
            self.municipality_billed,
            self.municipality_hub,
            self.model,
            self.percent_billed,
            self.percent_hub,
            self.days_billed,
            self.days_hub,
            self.euros_billed,
            self.euros_hub,
            self.detail,
        )
        return tuple("" if value is None else str(value) for value in values)


@dataclass
class ReconcileReport:
    """Counts and totals of one reconciliation; the first bad lines for the summary."""

    lines: int = 0
    kinds: Counter[Kind] = field(default_factory=Counter)
    billed: Decimal = Decimal(0)
    computed: Decimal = Decimal(0)
    bad_lines: list[BadLine] = field(default_factory=list)

    @property
    def agree(self) -> bool:
        """True when no line differs and every line could be read."""
        return not self.kinds


class _Billed:
    """Which (record, model, percentage) the file billed: a scratch SQLite file."""

    def __init__(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="hub-reconcile-"))
        self._db = sqlite3.connect(self._dir / "billed.sqlite3")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute(
            "CREATE TABLE billed (record_id TEXT, model TEXT, percent INTEGER, "
            "PRIMARY KEY (record_id, model, percent)) WITHOUT ROWID"
        )
        self._pending = 0

    def add(self, line: InvoiceLine) -> bool:
        """Note ``line``; False if its record, model and percentage were billed before."""
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO billed VALUES (?, ?, ?)",
            (line.record_id, line.model.value, line.percent),
        )
        self._pending += 1
        if self._pending >= _COMMIT_EVERY:
            self._db.commit()
            self._pending = 0
        return cursor.rowcount == 1

    def has(self, record_id: str) -> bool:
        """True if any line of the file billed ``record_id``."""
        found = self._db.execute(
            "SELECT 1 FROM billed WHERE record_id = ? LIMIT 1", (record_id,)
        ).fetchone()
        return found is not None

    def close(self) -> None:
        self._db.close()
        shutil.rmtree(self._dir, ignore_errors=True)


def _groups(
    items: Iterable[InvoiceLine | BadLine],
) -> Iterator[list[InvoiceLine] | BadLine]:
    """Consecutive lines of one record together; bad lines alone, in file order."""
    group: list[InvoiceLine] = []
    for item in items:
        if isinstance(item, BadLine):
            yield item
            continue
        if group and group[-1].record_id != item.record_id:
            yield group
            group = []
        group.append(item)
    if group:
        yield group


def _billed_side(line: InvoiceLine, kind: Kind, person: str, **hub: object) -> Difference:
    return Difference(
        kind=kind,
        line=line.line,
        record_id=line.record_id,
        person=person,
        month=line.month,
        municipality_billed=line.municipality,
        model=line.model.value,
        percent_billed=line.percent,
        days_billed=line.days,
        euros_billed=line.share,
        **hub,  # type: ignore[arg-type]
    )


def _hub_side(line: ShareLine, kind: Kind) -> Difference:
    return Difference(
        kind=kind,
        record_id=line.record_id,
        person=line.person_ref,
        month=line.month,
        municipality_hub=line.municipality,
        model=line.model.value,
        percent_hub=line.percent,
        days_hub=line.days,
        euros_hub=line.share,
    )


def _compare(
    lines: list[InvoiceLine],
    stored: StoredRecord | None,
    hub_lines: list[ShareLine],
    secret: bytes,
) -> Iterator[Difference]:
    person = person_ref_for(lines[0].person_id, secret)
    if stored is None:
        for line in lines:
            yield _billed_side(line, Kind.BILLED_NOT_SEEN, person)
        return
    record = stored.share
    if record.municipality != lines[0].municipality:
        for line in lines:
            yield _billed_side(
                line, Kind.WRONG_MUNICIPALITY, person, municipality_hub=record.municipality
            )
        return
    if record.person_ref != person:
        yield _billed_side(lines[0], Kind.DIFFERENT_PERSON, person, detail="hetu")
    hub_month = f"{record.payment_date:%Y-%m}"
    if hub_month != lines[0].month:
        yield _billed_side(lines[0], Kind.DIFFERENT_MONTH, person, detail=f"paid in {hub_month}")
    by_step = {(line.model, line.percent): line for line in hub_lines}
    unmatched: list[InvoiceLine] = []
    for line in lines:
        hub = by_step.pop((line.model, line.percent), None)
        if hub is None:
            unmatched.append(line)
            continue
        if hub.days != line.days:
            yield _billed_side(line, Kind.DIFFERENT_DAYS, person, percent_hub=hub.percent,
                               days_hub=hub.days, euros_hub=hub.share)  # fmt: skip
        if abs(hub.share - line.share) > TOLERANCE:
            yield _billed_side(line, Kind.DIFFERENT_EUROS, person, percent_hub=hub.percent,
                               days_hub=hub.days, euros_hub=hub.share)  # fmt: skip
    left = list(by_step.values())
    for line in unmatched:
        hub = left.pop(0) if left else None
        yield _billed_side(
            line,
            Kind.DIFFERENT_STEP,
            person,
            percent_hub=hub.percent if hub is not None else 0,
            days_hub=hub.days if hub is not None else None,
            euros_hub=hub.share if hub is not None else Decimal(0),
        )
    for hub in left:
        yield _hub_side(hub, Kind.SEEN_NOT_BILLED)


def _unbilled(
    ledger: ShareLedger,
    rules: ShareRules,
    invoices: set[tuple[str, str]],
    billed: _Billed,
    report: ReconcileReport,
) -> Iterator[Difference]:
    """The hub's share lines of the invoiced municipalities and months the file never bills."""
    for month, municipality in sorted(invoices):
        for stored in ledger.records(month, {municipality}):
            # A billed record's share was counted when its lines were compared.
            if not billed.has(stored.share.record_id):
                for share in split(stored.share, rules):
                    report.computed += share.share
                    yield _hub_side(share, Kind.SEEN_NOT_BILLED)


def reconcile(
    path: Path,
    ledger: ShareLedger,
    rules: ShareRules,
    secret: bytes,
    sink: Callable[[Difference], None],
) -> ReconcileReport:
    """Compare the file at ``path`` with ``ledger``; every difference goes to ``sink``."""
    report = ReconcileReport()
    billed = _Billed()
    invoices: set[tuple[str, str]] = set()

    def found(difference: Difference) -> None:
        report.kinds[difference.kind] += 1
        sink(difference)

    try:
        for group in _groups(read_invoice(path)):
            if isinstance(group, BadLine):
                report.lines += 1
                if len(report.bad_lines) < _BAD_LINES_KEPT:
                    report.bad_lines.append(group)
                found(
                    Difference(Kind.BAD_LINE, group.line, detail=f"{group.reason}: {group.detail}")
                )
                continue
            report.lines += len(group)
            seen_before = billed.has(group[0].record_id)
            fresh = []
            for line in group:
                invoices.add((line.month, line.municipality))
                report.billed += line.share
                if billed.add(line):
                    fresh.append(line)
                else:
                    person = person_ref_for(line.person_id, secret)
                    found(_billed_side(line, Kind.BILLED_TWICE, person))
            if fresh:
                stored = ledger.record(fresh[0].record_id)
                hub_lines = [] if stored is None else split(stored.share, rules)
                if (
                    not seen_before
                    and stored is not None
                    and (
                        f"{stored.share.payment_date:%Y-%m}",
                        stored.share.municipality,
                    )
                    in invoices
                ):
                    report.computed += sum((line.share for line in hub_lines), Decimal(0))
                for difference in _compare(fresh, stored, hub_lines, secret):
                    found(difference)
        for difference in _unbilled(ledger, rules, invoices, billed, report):
            found(difference)
    finally:
        billed.close()
    return report
