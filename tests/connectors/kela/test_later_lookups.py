"""A dry run stages only the records a later line of its file can ask for
(``connectors.kela.later_lookups``), and decides every line as if it had staged them all.

Real SQLite ledgers (a real one with history as the dry run's read-only base, and the dry run's
scratch) in temporary data directories; the files are written to disk and read as the ingest
reads them.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors import CONNECTORS
from connectors.kela.file_ingest import ingest_file
from connectors.kela.intake import Checked, Duplicate, Intake, Taken
from connectors.kela.later_lookups import LaterLookups, later_lookups
from connectors.kela.ledger import BenefitLedger
from connectors.kela.native import HEADER
from hub.app.runtime import contract_book_for
from hub.core.settings import HubSettings
from schemas.rejection import Rejection
from tests.strategies import build_identity_code
from tests.support import CODE, SECRET

OTHER: Final = build_identity_code(dt.date(1985, 6, 15), 951)
IDS: Final = ("K1", "K2", "K3", "K4", "K5", "K6")
#: The hub began receiving Kela's data then: a correction of an unseen record whose period
#: ended before it is accepted (and chains to that record if it comes later).
DATA_START: Final = dt.date(2025, 1, 1)
DECEMBER: Final = ("01.12.2024", "31.12.2024")
FEBRUARY: Final = ("01.02.2025", "28.02.2025")


def _line(
    record: str,
    corrects: str = "",
    days: int = 5,
    hetu: str = CODE,
    municipality: str = "398",
    period: tuple[str, str] = FEBRUARY,
) -> bytes:
    euros = f"{days * 30},00" if days >= 0 else f"-{-days * 30},00"
    start, end = period
    return (
        f"{record};{hetu};{municipality};TMT;{start};{end};{days};{euros};100;03.03.2025;{corrects}"
    ).encode()


def _write(path: Path, lines: Iterable[bytes]) -> Path:
    path.write_bytes(b"\n".join([HEADER.encode(), *lines]) + b"\n")
    return path


Outcome = tuple[object, ...]


def _outcome(result: Taken | Checked | Duplicate | Rejection) -> Outcome:
    # A checked record is a taken one that was not staged: the same row, never a correction.
    if isinstance(result, Rejection):
        return ("rejection", result.reason, result.detail, result.line)
    if isinstance(result, Duplicate):
        return ("duplicate", result.record_id, result.line)
    if isinstance(result, Checked):
        return ("accepted", result.row, None)
    return ("accepted", result.row, result.attribution)


Roots = Callable[[list[str]], Iterable[str]]


def _dry_run(
    data_dir: Path,
    scratch: Path,
    file: Path,
    chunk: int,
    *,
    lookups: Callable[[BenefitLedger], LaterLookups] | None,
) -> tuple[list[Outcome], BenefitLedger]:
    """Every line of ``file`` as a dry run decides it, ``chunk`` lines between commits; with
    ``lookups`` None, staging every record (the dry run as it was)."""
    ledger = BenefitLedger.dry_run(data_dir, SECRET, scratch)
    intake = Intake(ledger, SECRET, DATA_START)
    asked = None if lookups is None else lookups(ledger)
    raw_lines = file.read_bytes().splitlines()[1:]
    numbered = [(raw, number) for number, raw in enumerate(raw_lines, start=2)]
    outcomes: list[Outcome] = []
    for start in range(0, len(numbered), chunk):
        lines: list[tuple[bytes, int | None]] = list(numbered[start : start + chunk])
        results = intake.take_many(lines) if asked is None else intake.check_many(lines, asked)
        outcomes.extend(_outcome(result) for result in results)
        ledger.commit()
    return outcomes, ledger


def _history(data_dir: Path, lines: list[bytes]) -> None:
    """The real ledger of ``data_dir`` after taking ``lines`` (what earlier files brought)."""
    ledger = BenefitLedger.open(data_dir, SECRET)
    intake = Intake(ledger, SECRET, DATA_START)
    for number, raw in enumerate(lines, start=2):
        intake.take(raw, number)
    ledger.commit()
    ledger.close()


lines = st.builds(
    _line,
    st.sampled_from(IDS),
    st.sampled_from(("", "", "", *IDS, "K9")),
    st.integers(-6, 6),
    st.sampled_from((CODE, OTHER)),
    st.sampled_from(("398", "098")),
    st.sampled_from((DECEMBER, FEBRUARY)),
) | st.sampled_from(
    (
        b"K7;not-a-code;398;TMT;01.02.2025;28.02.2025;1;1,00;1;03.03.2025;",  # rejected
        b"K8;too;few;fields",
        b"\xef\xbb\xbf K5 ;"
        + CODE.encode()
        + b";398;TMT;01.02.2025;28.02.2025;1;30,00;9;03.03.2025; K2 ",
    )
)


@settings(max_examples=150, deadline=None)
@given(
    history=st.lists(lines, max_size=5),
    file_lines=st.lists(lines, min_size=1, max_size=12),
    chunk=st.integers(1, 5),
    designed_lines=st.sampled_from((1, 4, 1000)),
)
def test_a_dry_run_decides_every_line_as_if_it_staged_every_record(
    history: list[bytes], file_lines: list[bytes], chunk: int, designed_lines: int
) -> None:
    # designed_lines 1 and 4 fill the filters: many records are staged that nothing asks for,
    # which must change no outcome either.
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        _history(base / "data", history)
        file = _write(base / "kela.csv", file_lines)
        staged_all, every = _dry_run(base / "data", base, file, chunk, lookups=None)
        fewer, some = _dry_run(
            base / "data",
            base,
            file,
            chunk,
            lookups=lambda ledger: later_lookups(file, ledger.roots, designed_lines),
        )
        every.close()
        some.close()
    assert fewer == staged_all


def test_a_record_nothing_asks_for_is_counted_but_not_staged(tmp_path: Path) -> None:
    file = _write(
        tmp_path / "kela.csv",
        [
            _line("K1"),  # asked for by nothing
            _line("K2"),  # corrected below
            _line("K3", corrects="K2", days=-1),
            _line("K4"),  # sent twice
            _line("K4"),
        ],
    )
    outcomes, ledger = _dry_run(
        tmp_path / "data",
        tmp_path,
        file,
        10,
        lookups=lambda ledger: later_lookups(file, ledger.roots),
    )
    assert [outcome[0] for outcome in outcomes] == ["accepted"] * 4 + ["duplicate"]
    assert ledger.entry("K1") is None
    assert {"K2", "K3", "K4"} == {i for i in ("K2", "K3", "K4") if ledger.entry(i) is not None}
    ledger.close()


def test_a_record_named_only_by_the_real_ledger_is_staged(tmp_path: Path) -> None:
    # The real ledger holds a correction of K1 from before the data start, when the hub had
    # never seen K1: its chain ends at K1. The file brings K1 late, then corrects that
    # correction: only K1's days in the scratch ledger can show it takes back too much.
    _history(tmp_path / "data", [_line("C0", corrects="K1", days=-2, period=DECEMBER)])
    file = _write(
        tmp_path / "kela.csv",
        [
            _line("K1", days=3, period=DECEMBER),
            _line("C1", corrects="C0", days=-2, period=DECEMBER),
        ],
    )

    def with_roots(roots: Roots) -> list[Outcome]:
        outcomes, ledger = _dry_run(
            tmp_path / "data",
            tmp_path,
            file,
            1,
            lookups=lambda _ledger: later_lookups(file, roots),
        )
        ledger.close()
        return outcomes

    staged_all, ledger = _dry_run(tmp_path / "data", tmp_path, file, 1, lookups=None)
    ledger.close()
    assert staged_all[1][:2] == ("rejection", "over-correction")
    real = BenefitLedger.open(tmp_path / "data", SECRET)
    assert with_roots(real.roots) == staged_all
    # Without the real ledger's answer K1 is not staged, and the correction goes through.
    assert with_roots(lambda _ids: ())[1][0] == "accepted"
    real.close()


def test_the_ids_are_read_as_the_parser_reads_them(tmp_path: Path) -> None:
    # Only spaces and tabs are blanks to the parser: an id with another space character in it
    # is rejected, and asks for nothing.
    file = _write(
        tmp_path / "kela.csv",
        [
            b"\xef\xbb\xbf K1 ;rest;of;it;\t K2\t\r",
            b"K3;x;" + "\u00e4".encode() + b";K4",
            b"K5;not utf-8 \xff;K6",
            b"",
            b"K7",
            b"K8;K9",
            b"K10;x;" + "\u00a0K11".encode(),
        ],
    )
    lookups = later_lookups(file, lambda _ids: ())
    ids = [f"K{number}" for number in range(1, 12)]
    assert [i for i in ids if lookups.may_be_asked_for(i)] == ["K2", "K4", "K9"]


def test_an_id_seen_twice_is_asked_for_and_one_seen_once_is_not(tmp_path: Path) -> None:
    file = _write(tmp_path / "kela.csv", [b"K1;a", b"K2;b", b"K1;c", b"K3;d;K3"])
    lookups = later_lookups(file, lambda _ids: ())
    assert [lookups.may_be_asked_for(i) for i in ("K1", "K2", "K3")] == [True, False, True]


def test_the_real_ledger_is_asked_for_the_named_ids_a_thousand_at_a_time(tmp_path: Path) -> None:
    asked: list[list[str]] = []

    def roots(ids: list[str]) -> set[str]:
        asked.append(list(ids))
        return {f"R{ids[0]}"}

    for corrections, queries in ((999, 1), (1000, 1), (1001, 2), (0, 0)):
        asked.clear()
        named = [f"C{index}" for index in range(corrections)]
        plain = [b"K;x;", b"K"]  # no correction named: nothing to ask the ledger
        file = _write(
            tmp_path / "kela.csv", plain + [f"K{i};x;{c}".encode() for i, c in enumerate(named)]
        )
        lookups = later_lookups(file, roots)
        assert [len(ids) for ids in asked] == [
            len(named[j : j + 1000]) for j in range(0, corrections, 1000)
        ]
        assert len(asked) == queries
        assert [i for ids in asked for i in ids] == named
        assert all(lookups.may_be_asked_for(f"R{ids[0]}") for ids in asked)


def test_the_real_ledgers_roots_are_where_each_chain_ends(tmp_path: Path) -> None:
    _history(
        tmp_path,
        [
            _line("K1"),
            _line("C1", corrects="K1", days=-1),
            _line("C2", corrects="C1", days=-1),
            _line("U1", corrects="K9", days=-1, period=DECEMBER),
        ],
    )
    ledger = BenefitLedger.open(tmp_path, SECRET)
    assert ledger.roots(["C2", "K1", "U1", "nothing"]) == {"K1", "K9"}
    assert ledger.roots([]) == set()
    ledger.close()


async def test_a_dry_run_of_a_file_counts_every_record_and_stages_only_those_asked_for(
    tmp_path: Path,
) -> None:
    file = _write(
        tmp_path / "kela.csv",
        [_line("K1"), _line("K2"), _line("K3", corrects="K2", days=-1), _line("K4", hetu=OTHER)],
    )
    book = contract_book_for(HubSettings(data_dir=tmp_path / "data"), CONNECTORS)
    ledger = BenefitLedger.dry_run(tmp_path / "data", SECRET, tmp_path)
    summary = await ingest_file(file, Intake(ledger, SECRET), book, None, chunk_lines=2)
    assert (summary.lines, summary.accepted, summary.corrections) == (4, 4, 1)
    assert summary.recipients == {"lahti": 4}
    assert [i for i in ("K1", "K2", "K3", "K4") if ledger.entry(i) is not None] == ["K2", "K3"]
    ledger.close()
