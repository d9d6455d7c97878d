"""Kela's monthly payment-day file into the hub (``hub ingest kela FILE [--dry-run]``).

Two passes over the file, both streaming (memory does not grow with the file): the first
(``check_file``) checks the file is usable at all (exists, UTF-8 throughout, the right header),
so that a wrongly encoded file is refused whole instead of flooding the dead-letter topic line
by line; the second takes every line through the connector's intake, the same one the
``in.kela.benefit-day`` route uses, in chunks of 1,000 lines. A dry run reads the file once
more between the two, for the records a later line can ask for (``connectors.kela.later_lookups``):
it stages only those.

Each chunk goes through the routing layer (``hub.routing.lines.handle_lines``, through
``hub.connector``): its events and dead letters are published in one Kafka transaction by a producer
of the ingest's own (``transactional.id`` ``hub.ingest.kela.<instance>``), every line is audited on
the chain ``file/kela`` (the line number as its offset) with what it became before that commit, and
the ledger commits after it. So re-running a file after a failure publishes exactly what is missing:
the rest is recognised as duplicates.

A rejected line is dead-lettered (``hub.routing.pipeline.dead_letter_for``) with the file name and
line number, once: the ledger remembers each dead-lettered line (a keyed digest of file name,
line number and bytes), so re-running a file does not dead-letter its rejected lines again. A
line too large for a dead letter goes compressed, or its bytes into the quarantine store, as on
the streaming path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from connectors.kela.event_json import published_versions
from connectors.kela.inbound import check_header
from connectors.kela.intake import Checked, Duplicate, Intake, Taken
from connectors.kela.later_lookups import later_lookups
from connectors.kela.recipients import Recipients
from connectors.kela.wiring import ROUTE
from hub.connector import (
    Accepted,
    Audit,
    ContractBook,
    FileLine,
    HandledLine,
    Publisher,
    QuarantineStore,
    dead_letter_for,
    handle_lines,
)
from hub.core.errors import HubError
from schemas.rejection import Rejection

__all__ = [
    "CHUNK_LINES",
    "FILE_CHAIN",
    "NOT_ROUTED",
    "TRANSACTIONAL_GROUP",
    "FileUnusableError",
    "IngestFencedError",
    "IngestSummary",
    "check_file",
    "ingest_file",
]

NOT_ROUTED: Final = "not routed"
#: The audit chain of every line read from a Kela file.
FILE_CHAIN: Final = "file/kela"
#: The ingest's ``transactional.id`` is this and the hub instance: under the hub's ``hub.``
#: prefix (``hub.admin.acls``), and apart from the routes' ids (``hub.<connector>.<instance>``).
TRANSACTIONAL_GROUP: Final = "hub.ingest.kela"
#: Lines per chunk: one ledger query, one Kafka transaction, one audit append.
CHUNK_LINES: Final = 1000
_KEPT_REJECTIONS: Final = 100
#: Bytes of whole lines ``check_file`` decodes at once.
_CHECKED_AT_ONCE: Final = 1 << 20
#: What a line of a dry run hands on: nothing to publish (one instance, never changed).
_UNPUBLISHED: Final = Accepted([])


class FileUnusableError(HubError):
    """The file cannot be ingested at all (missing, not UTF-8, wrong header, empty)."""

    exit_code = 2


class IngestFencedError(HubError):
    """Another ``hub ingest kela`` of the same hub instance started and took over."""

    def __init__(self) -> None:
        super().__init__(
            "another hub ingest kela of this hub instance (HUB_INSTANCE_ID) started and took "
            "over; what this one committed stays, run the file again when that one is done"
        )


@dataclass
class IngestSummary:
    """What an ingest did, for the closing report."""

    lines: int = 0
    accepted: int = 0
    duplicates: int = 0
    corrections: int = 0
    rejected: int = 0
    #: Rejected lines an earlier ingest of the file dead-lettered: not dead-lettered again.
    already_dead_lettered: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    rejections: list[Rejection] = field(default_factory=list)
    recipients: Counter[str] = field(default_factory=Counter)

    def reject(self, rejection: Rejection) -> None:
        """Count a rejection; keep the first ones for the report (memory stays bounded)."""
        self.rejected += 1
        self.reasons[rejection.reason] += 1
        if len(self.rejections) < _KEPT_REJECTIONS:
            self.rejections.append(rejection)


def check_file(path: Path) -> None:
    """Refuse a file that cannot be ingested: missing, empty, not UTF-8, wrong header."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise FileUnusableError(f"{path}: cannot open: {exc.strerror}") from None
    with handle:
        first = handle.readline()
        if not first.strip():
            raise FileUnusableError(f"{path}: empty file (no header line)")
        rejection = check_header(_decoded_or_refused(path, first, 1))
        if rejection is not None:
            raise FileUnusableError(f"{path}: line 1: {rejection.detail}")
        number = 2
        # Whole lines at a time, so no character is split between two decodes (no UTF-8
        # sequence holds a newline byte); one decode per block, not one per line.
        while lines := handle.readlines(_CHECKED_AT_ONCE):
            _decoded_or_refused(path, b"".join(lines), number)
            number += len(lines)


def _decoded_or_refused(path: Path, data: bytes, first_line: int) -> str:
    """``data``, whole lines from line ``first_line`` on, as text; else the file is refused,
    naming the first line that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.reason == "unexpected end of data":
            # A character cut short: only the last line can end that way, without a newline.
            where = "the end of the file"
        else:
            line = first_line + data.count(b"\n", 0, error.start)
            where = f"line {line}"
        raise FileUnusableError(f"{path}: not UTF-8 at {where}") from None


def _data_lines(path: Path) -> Iterator[tuple[int, bytes, int]]:
    """(line number, raw line, bytes read so far) of every non-blank data line."""
    read = 0
    with path.open("rb") as handle:
        read += len(handle.readline())  # the header, checked by check_file
        for number, raw in enumerate(handle, start=2):
            read += len(raw)
            if raw.strip():
                yield number, raw, read


def _chunks(
    lines: Iterator[tuple[int, bytes, int]], size: int
) -> Iterator[list[tuple[int, bytes, int]]]:
    """``lines`` in lists of ``size`` (the last one shorter): one chunk at a time in memory."""
    chunk: list[tuple[int, bytes, int]] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def ingest_file(
    path: Path,
    intake: Intake,
    book: ContractBook,
    publisher: Publisher | None,
    progress: Callable[[int], None] = lambda _read: None,
    audit: Audit | None = None,
    quarantine: QuarantineStore | None = None,
    *,
    chunk_lines: int = CHUNK_LINES,
) -> IngestSummary:
    """Take every data line of a checked file through ``intake``; publish unless dry run.

    ``publisher=None`` is a dry run: lines are validated and the summary is computed, nothing
    is published or audited (nor serialised to be), and ``intake``'s ledger must be a dry-run
    ledger. ``progress``
    is told the bytes read after each chunk (of ``chunk_lines`` lines, one transaction each);
    ``quarantine`` takes a dead letter too large for the broker even compressed.
    """
    summary = IngestSummary()
    source = f"file:{path.name}"
    outcome = _Outcomes(summary, Recipients(book, "benefit-day"), intake, path.name, publisher)
    # A dry run stages only the records a later line can ask for: one pass over the file says
    # which (``connectors.kela.later_lookups``).
    lookups = None if publisher is not None else later_lookups(path, intake.ledger.roots)
    for chunk in _chunks(_data_lines(path), chunk_lines):
        # One ledger query for the whole chunk, not one per line.
        lines = [(raw, number) for number, raw, _read in chunk]
        results = intake.take_many(lines) if lookups is None else intake.check_many(lines, lookups)
        handled = [
            HandledLine(number, raw, outcome(number, raw, taken))
            for (number, raw, _read), taken in zip(chunk, results, strict=True)
        ]
        summary.lines += len(handled)
        await handle_lines(publisher, source, handled, intake.ledger, audit, quarantine)
        progress(chunk[-1][2])
    outcome.count_recipients()
    return summary


class _Outcomes:
    """What each line of the file became, counted in ``summary``."""

    def __init__(
        self,
        summary: IngestSummary,
        recipients: Recipients,
        intake: Intake,
        file_name: str,
        publisher: Publisher | None,
    ) -> None:
        self._summary = summary
        self._recipients = recipients
        self._intake = intake
        self._file_name = file_name
        # A dry run publishes nothing: the events are not serialised for it.
        self._render = publisher is not None
        # How many records each combination of recipients received (in the order each first
        # came), counted into ``summary.recipients`` by ``count_recipients``: one count per
        # record instead of one per recipient.
        self._receipts: Counter[tuple[str, ...]] = Counter()

    def __call__(
        self, number: int, raw: bytes, taken: Taken | Checked | Duplicate | Rejection
    ) -> Accepted:
        """Line ``number``'s messages, or its dead letter, or nothing (a duplicate; a line
        dead-lettered by an earlier run; any line of a dry run)."""
        summary = self._summary
        if isinstance(taken, Taken | Checked):
            summary.accepted += 1
            summary.corrections += taken.row.korjattava is not None
            # Each partner receives the record on the major version its contract names.
            self._receipts[
                self._recipients.partners(taken.data, published_versions(taken.row))
            ] += 1
            # Only a dry run checks a record without staging it: nothing to publish then.
            if isinstance(taken, Taken) and self._render:
                return Accepted(taken.messages())
            return _UNPUBLISHED
        if isinstance(taken, Duplicate):
            summary.duplicates += 1
            return Accepted([])
        return self._rejected(number, raw, taken)

    def count_recipients(self) -> None:
        """Add the recipients of the records so far to ``summary.recipients``, as if each
        record had been counted in turn (the same totals, each name first where it first
        came)."""
        recipients = self._summary.recipients
        for partners, records in self._receipts.items():
            for partner in partners or (NOT_ROUTED,):
                recipients[partner] += records
        self._receipts.clear()

    def _rejected(self, number: int, raw: bytes, rejection: Rejection) -> Accepted:
        self._summary.reject(rejection)
        ledger = self._intake.ledger
        if ledger.was_dead_lettered(self._file_name, number, raw):
            # An earlier run of this file put it in the dead-letter topic already.
            self._summary.already_dead_lettered += 1
            return Accepted([])
        ledger.stage_dead_letter(self._file_name, number, raw)
        line = FileLine(self._file_name, number, raw.rstrip(b"\r\n"))
        return Accepted([dead_letter_for(ROUTE.connector, line, rejection)])
