"""Kela's payment days: the ``in.kela.benefit-day`` route keeps the connector contract
(``tests.connector_contract``), and ``hub ingest kela`` accounts for every line of any file.

The route is the one ``hub up`` runs (``connectors.kela.wiring.build_routes``), on a ledger
in a fresh data directory that already holds the example lines, so that a changed copy of one
is a conflicting duplicate and a correction of one is accepted. Inputs beyond the contract's
own: broken lines (``kela_lines``), arbitrary text, and lines of near-valid field values; an
accepted line delivered again is a duplicate that publishes nothing. The file path, fed broken
files and mutations of the example files, checks the header and encoding (``check_file``) and
runs a dry-run ingest of whatever passes: a file is refused whole (with a message free of
identity codes) or every non-blank data line is accounted for.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
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
from hub.app.runtime import renderers_for
from hub.connector import ConnectorContext
from hub.core.settings import load_settings
from hub.distribution.contracts import ContractBook, load_contract_book
from hub.routing.pipeline import Accepted, Route
from schemas.envelope import BenefitDayEvent, BenefitDayV2Event
from tests.connector_contract import ConnectorContract
from tests.fuzz.corpus import codes_in_seeds, kela_examples, kela_file_seeds, kela_seeds
from tests.fuzz.hostile_values import FuzzInput
from tests.fuzz.kela_lines import broken_lines, kela_files
from tests.fuzz.mutations import mutated
from tests.fuzz.outcomes import answer
from tests.fuzz.profiles import fuzz_settings
from tests.fuzz.properties import Translated, known_reasons
from tests.identity_code_scan import identity_codes_in
from tests.support import CODE, SECRET

pytestmark = pytest.mark.fuzz

FILE: Final = "kela file (hub ingest kela)"
REASONS_OF_ROUTE: Final = known_reasons(REASONS)
FILE_CODES: Final = codes_in_seeds(kela_file_seeds())
#: When the hub began receiving Kela's data: a correction of a record paid before is accepted
#: unattributed (one of the examples is one).
DATA_START: Final = dt.date(2025, 1, 1)

#: Field values near the valid ones: separators, signs, decimal commas and points, impossible
#: dates, digits of another script, a byte-order mark, an identity code.
_FIELD_TEXT: Final = st.sampled_from(
    ["", " ", ";", "-", "0", "25", "-25", "26", "2,5", "737,55", "737.55", "-0,00", "31.02.2025",
     "01.02.2025", "28.02.2025", "TMT", "tmt", "398", "\u0663", "\ufeff", "\r", CODE, "K1"]
)  # fmt: skip


class TestBenefitDay(ConnectorContract):
    parser = "kela line (in.kela.benefit-day)"
    reasons = REASONS_OF_ROUTE
    canonical = MappingProxyType(
        {BENEFIT_DAY_V2_TOPIC: BenefitDayV2Event, BENEFIT_DAY_TOPIC: BenefitDayEvent}
    )

    def build_routes(self, data_dir: Path) -> Sequence[Route]:
        settings = load_settings(data_dir=data_dir, kela_data_start=DATA_START)
        return build_routes(ConnectorContext(settings, SECRET))

    def seeds(self) -> Sequence[bytes]:
        return kela_seeds()

    def accepted_examples(self) -> Sequence[tuple[str, bytes]]:
        return [("kela", line) for line in kela_examples()]

    def prime(self, routes: Sequence[Route]) -> None:
        # Twice: the correction example names a record that sorts after it.
        for _ in range(2):
            super().prime(routes)

    def after_accepted(self, route: Route, raw: bytes) -> Callable[[Translated], None]:
        def redelivered(_first: Translated) -> None:
            # The record is staged now: the same bytes again are a duplicate, published once.
            again = route.translate(raw)
            assert isinstance(again, Accepted)
            assert again.messages == []

        return redelivered

    def near_valid_inputs(self) -> Mapping[str, st.SearchStrategy[FuzzInput]]:
        fields = st.lists(_FIELD_TEXT | st.text(max_size=12), min_size=9, max_size=13)
        return {
            "broken lines": broken_lines(),
            "arbitrary text": st.text().map(lambda text: FuzzInput(text.encode(), frozenset())),
            "near-valid field values": fields.map(
                lambda values: FuzzInput(";".join(values).encode(), frozenset({CODE}))
            ),
        }


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kela-fuzz")


@pytest.fixture(scope="module")
def book() -> ContractBook:
    return load_contract_book(renderers_for(CONNECTORS))


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
