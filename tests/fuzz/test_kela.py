"""Fuzzing Kela's payment days: the ``in.kela.benefit-day`` route and ``hub ingest kela``.

The route is the one ``hub up`` runs (``connectors.kela.wiring.build_routes``), on a ledger
in a fresh data directory that already holds the valid examples, so that a changed copy of
one is a conflicting duplicate and a correction of one is accepted. Inputs: arbitrary bytes,
broken lines (``kela_lines``) and byte-level mutations of the example lines. The file path,
fed broken files and mutations of the example files, checks the header and encoding
(``check_file``) and runs a dry-run ingest of whatever passes: a file is refused whole (with a
message free of identity codes) or every non-blank data line is accounted for.

``tests/connectors/kela/test_inbound.py`` already feeds ``parse_line`` arbitrary text and
near-valid field lists; these tests go through the whole route (decoding, the ledger, the
canonical event) and the file, with hostile encodings and framings.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Final

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors import CONNECTORS
from connectors.kela.file_ingest import FileUnusableError, IngestSummary, check_file, ingest_file
from connectors.kela.intake import REASONS, Intake
from connectors.kela.ledger import BenefitLedger
from connectors.kela.versions import BENEFIT_DAY_TOPIC, BENEFIT_DAY_V2_TOPIC
from connectors.kela.wiring import build_routes
from hub.connector import ConnectorContext
from hub.contracts import ContractBook, load_contract_book
from hub.pipeline import Accepted, Route
from hub.runtime import renderers_for
from hub.settings import load_settings
from schemas.envelope import BenefitDayEvent, BenefitDayV2Event
from tests.fuzz.corpus import codes_in_seeds, kela_file_seeds, kela_seeds
from tests.fuzz.hostile_values import FuzzInput
from tests.fuzz.kela_lines import broken_lines, kela_files
from tests.fuzz.mutations import mutated
from tests.fuzz.outcomes import answer
from tests.fuzz.profiles import fuzz_settings
from tests.fuzz.properties import Translated, known_reasons, translated
from tests.identity_code_scan import identity_codes_in
from tests.support import SECRET

pytestmark = pytest.mark.fuzz

LINE: Final = "kela line (in.kela.benefit-day)"
FILE: Final = "kela file (hub ingest kela)"
REASONS_OF_ROUTE: Final = known_reasons(REASONS)
CANONICAL: Final = {BENEFIT_DAY_V2_TOPIC: BenefitDayV2Event, BENEFIT_DAY_TOPIC: BenefitDayEvent}
FILE_CODES: Final = codes_in_seeds(kela_file_seeds())


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kela-fuzz")


@pytest.fixture(scope="module")
def route(data_dir: Path) -> Route:
    [kela] = build_routes(ConnectorContext(load_settings(data_dir=data_dir), SECRET))
    # Twice: the correction example names a record that sorts after it.
    for _ in range(2):
        for seed in kela_seeds():
            outcome = kela.translate(seed)
            if isinstance(outcome, Accepted):
                outcome.settle()
    return kela


@pytest.fixture(scope="module")
def book() -> ContractBook:
    return load_contract_book(renderers_for(CONNECTORS))


def _redelivered_once(route: Route, raw: bytes) -> Callable[[Translated], None]:
    def redelivered(_first: Translated) -> None:
        # The record is staged now: the same bytes again are a duplicate, published once.
        again = route.translate(raw)
        assert isinstance(again, Accepted)
        assert again.messages == []

    return redelivered


def _translated(route: Route, fuzz: FuzzInput) -> None:
    translated(LINE, route, fuzz, REASONS_OF_ROUTE, CANONICAL, _redelivered_once(route, fuzz.raw))


@fuzz_settings()
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_get_an_answer(route: Route, raw: bytes) -> None:
    _translated(route, FuzzInput(raw, frozenset()))


@fuzz_settings()
@given(broken_lines())
def test_broken_lines_get_an_answer(route: Route, fuzz: FuzzInput) -> None:
    _translated(route, fuzz)


@fuzz_settings()
@given(mutated(kela_seeds()))
def test_mutated_example_lines_get_an_answer(route: Route, raw: bytes) -> None:
    _translated(route, FuzzInput(raw, codes_in_seeds(kela_seeds())))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kela-files")


def _label(outcome: IngestSummary | FileUnusableError) -> str:
    if isinstance(outcome, FileUnusableError):
        return "file refused"
    return "file ingested, lines rejected" if outcome.rejected else "file ingested"


def _ingest(path: Path, data_dir: Path, book: ContractBook) -> IngestSummary | FileUnusableError:
    try:
        check_file(path)
    except FileUnusableError as refused:
        return refused
    ledger = BenefitLedger.dry_run(data_dir, SECRET, scratch_dir=path.parent)
    try:
        return asyncio.run(ingest_file(path, Intake(ledger, SECRET), book, None))
    finally:
        ledger.close()


def _refused_whole_or_ingested_line_by_line(
    data_dir: Path, book: ContractBook, scratch: Path, fuzz: FuzzInput
) -> None:
    with tempfile.TemporaryDirectory(dir=scratch) as folder:
        path = Path(folder) / "kela.csv"
        path.write_bytes(fuzz.raw)
        outcome = answer(FILE, lambda: _ingest(path, data_dir, book), _label)
    if isinstance(outcome, FileUnusableError):
        assert not identity_codes_in(str(outcome), fuzz.planted), str(outcome)
        return
    data_lines = sum(1 for line in fuzz.raw.split(b"\n")[1:] if line.strip())
    assert outcome.lines == data_lines
    assert outcome.accepted + outcome.duplicates + outcome.rejected == outcome.lines
    for rejection in outcome.rejections:
        assert rejection.reason in REASONS_OF_ROUTE, rejection
        assert not identity_codes_in(rejection.detail, fuzz.planted), rejection.detail


@fuzz_settings()
@given(kela_files())
def test_broken_files_are_refused_whole_or_ingested_line_by_line(
    data_dir: Path, book: ContractBook, scratch: Path, fuzz: FuzzInput
) -> None:
    _refused_whole_or_ingested_line_by_line(data_dir, book, scratch, fuzz)


@fuzz_settings()
@given(mutated(kela_file_seeds()))
def test_mutated_example_files_are_refused_whole_or_ingested_line_by_line(
    data_dir: Path, book: ContractBook, scratch: Path, raw: bytes
) -> None:
    _refused_whole_or_ingested_line_by_line(data_dir, book, scratch, FuzzInput(raw, FILE_CODES))
