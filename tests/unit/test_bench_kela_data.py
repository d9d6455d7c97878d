"""The benchmark's Kela files are valid under the connector's rules: every line is accepted."""

from __future__ import annotations

from pathlib import Path

from bench.kela_data import generate
from connectors.kela.intake import Intake, Taken
from connectors.kela.ledger import BenefitLedger
from tests.support import SECRET


def test_every_generated_line_is_accepted(tmp_path: Path) -> None:
    path = generate(tmp_path / "kela.csv", 5_000)
    ledger = BenefitLedger.open(tmp_path / "data", SECRET)
    intake = Intake(ledger, SECRET)
    outcomes = [intake.take(raw, n) for n, raw in enumerate(path.read_bytes().splitlines()[1:], 2)]
    ledger.close()
    refused = [outcome for outcome in outcomes if not isinstance(outcome, Taken)]
    assert refused == []
    assert sum(outcome.is_correction for outcome in outcomes if isinstance(outcome, Taken)) > 50
