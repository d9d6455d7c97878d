"""Which records of a Kela file a later line of the same file can look up: all a dry run
(``hub ingest kela FILE --dry-run``) has to stage.

A dry run checks each line as the real ingest would, against the real ledger and against the
lines before it in the file; so it stages every new record in a throw-away ledger, and most of
its time went into writing a million of them there (the scratch file's B-trees grow past
SQLite's cache, and every chunk's look-up reads them). Yet a record is only ever read back when
a later line names it: a line with the same ``tapahtumatunnus`` (a duplicate, or a conflicting
one), or a correction, whose ``korjattava`` names the record it corrects and whose chain ends at
a record (``belongs_to``) that may be named only in the real ledger. Nearly every record of a
monthly file is named by no other line.

So before a dry run takes the lines, one pass over the file notes, for each record id, whether
anything can ask for it again: an id seen twice, every id a correction names, and the record
each named id belongs to in the real ledger. A new record that is not a correction and that
nothing asks for is then checked and counted, but not staged. Corrections are always staged,
since a later correction of the same record sums them.

The notes are two Bloom filters of a fixed size, so memory stays flat however large the file:
a filter can say "perhaps" for an id nothing asks for (then the record is staged needlessly,
as before), never "no" for one that something does. Up to ``DESIGNED_LINES`` lines, fewer than
one record in a thousand is staged needlessly; beyond that, more, and the dry run slows towards
what it was, never wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final

from rbloom import Bloom

from connectors.kela.inbound import decode_line
from connectors.kela.native import BLANKS, SEPARATOR
from schemas.rejection import Rejection

__all__ = ["DESIGNED_LINES", "LaterLookups", "later_lookups"]

#: The file size (data lines) the filters are made for, at a false-positive rate of 1 in 1,000.
DESIGNED_LINES: Final = 2_000_000
_FALSE_POSITIVES: Final = 0.001
#: Ids a correction names, looked up in the real ledger together: one query per this many.
_ROOTS_PER_QUERY: Final = 1000

#: The records ``record_ids`` belong to in the real ledger (``BenefitLedger.roots``).
Roots = Callable[[list[str]], Iterable[str]]


class LaterLookups:
    """The record ids a later line of one file may ask the ledger for (see the module)."""

    def __init__(self, designed_lines: int = DESIGNED_LINES) -> None:
        self._seen = Bloom(designed_lines, _FALSE_POSITIVES)
        # Far fewer ids are asked for than seen (duplicates and corrections): a smaller filter.
        self._asked = Bloom(max(designed_lines // 10, 1), _FALSE_POSITIVES)

    def note_record(self, record_id: str) -> None:
        """A line carries ``record_id``: a second line with it asks for the first."""
        if record_id in self._seen:
            self._asked.add(record_id)
        else:
            self._seen.add(record_id)

    def note_asked(self, record_id: str) -> None:
        """Something asks for ``record_id`` (a correction names it, or a chain ends at it)."""
        self._asked.add(record_id)

    def may_be_asked_for(self, record_id: str) -> bool:
        """False only if nothing in the file asks for ``record_id`` after its line."""
        return record_id in self._asked


def later_lookups(path: Path, roots: Roots, designed_lines: int = DESIGNED_LINES) -> LaterLookups:
    """Read the data lines of ``path`` (a file ``check_file`` accepted) once, for their ids.

    The ids are taken as the parser takes them (BOM, line ending and blanks around a field
    removed); a line the parser will reject only makes the notes larger. ``roots`` answers
    which records the named ids belong to in the real ledger.
    """
    lookups = LaterLookups(designed_lines)
    named: list[str] = []
    with path.open("rb") as handle:
        handle.readline()  # the header
        for raw in handle:
            text = decode_line(raw)
            if isinstance(text, Rejection):
                continue  # the parser rejects the line too: it stages nothing
            fields = text.split(SEPARATOR)
            lookups.note_record(fields[0].strip(BLANKS))
            corrects = fields[-1].strip(BLANKS) if len(fields) > 1 else ""
            if corrects:
                lookups.note_asked(corrects)
                named.append(corrects)
                if len(named) == _ROOTS_PER_QUERY:
                    _note_roots(lookups, roots, named)
                    named = []
    _note_roots(lookups, roots, named)
    return lookups


def _note_roots(lookups: LaterLookups, roots: Roots, named: list[str]) -> None:
    if named:
        for root in roots(named):
            lookups.note_asked(root)
