"""Kela benefit-day contract examples: each line becomes exactly its committed event or reason.

``contracts/kela/examples/benefit-day/NAME.csv`` holds one data line (a Kafka message value)
and ``NAME.json`` the canonical event it must become on ``hub.benefit-day.v1``; ``v2/NAME.csv``
and ``v2/NAME.json`` the same for ``hub.benefit-day.v2`` (general support, ``YLT``, only there);
``rejected/NAME.csv`` holds lines of which the last must be rejected with the reason in
``rejected/NAME.reason`` and every earlier one accepted (the records a correction or a
redelivery is checked against).

Every example goes through the connector's intake (the code both paths share) on a fresh
ledger. The accepted examples are taken together, corrections after the records they correct;
the hub began receiving Kela's data on ``DATA_START`` (``HUB_KELA_DATA_START``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Final

import pytest

from connectors.kela.intake import REASONS, Intake, Taken
from connectors.kela.ledger import BenefitLedger
from connectors.kela.versions import as_v1
from schemas.rejection import Rejection

EXAMPLES = Path(__file__).parents[2] / "contracts" / "kela" / "examples" / "benefit-day"
SECRET = b"contract-example-secret-0123456789abcdef"
DATA_START: Final = dt.date(2025, 1, 1)

ACCEPTED = sorted(EXAMPLES.glob("*.csv"))
ACCEPTED_V2 = sorted((EXAMPLES / "v2").glob("*.csv"))
REJECTED = sorted((EXAMPLES / "rejected").glob("*.csv"))

#: Reasons a data line cannot show: the header is a file's, invalid-row is a safety net.
NOT_FOR_A_DATA_LINE = {"bad-header", "invalid-row"}


def _is_correction(path: Path) -> bool:
    return not path.read_bytes().rstrip(b"\r\n").endswith(b";")


@pytest.fixture
def intake(tmp_path: Path) -> Intake:
    return Intake(BenefitLedger.open(tmp_path, SECRET), SECRET, DATA_START)


def test_examples_exist() -> None:
    assert len(ACCEPTED) >= 6
    assert len(REJECTED) >= 23  # one per reason a data line can show, some more than one


def test_accepted_examples_become_their_committed_events(intake: Intake) -> None:
    for example in sorted(ACCEPTED, key=_is_correction):
        taken = intake.take(example.read_bytes(), 1)
        assert isinstance(taken, Taken), (example.name, taken)
        expected = json.loads(example.with_suffix(".json").read_text(encoding="utf-8"))
        v1 = as_v1(taken.event)
        assert v1 is not None, example.name
        assert v1.model_dump(mode="json") == expected, example.name


def test_v2_examples_become_their_committed_v2_events(intake: Intake) -> None:
    assert {p.stem.split("-")[0] for p in ACCEPTED_V2} >= {"ylt", "tmt", "apr"}
    for example in sorted(ACCEPTED_V2, key=_is_correction):
        taken = intake.take(example.read_bytes(), 1)
        assert isinstance(taken, Taken), (example.name, taken)
        intake.ledger.commit()
        expected = json.loads(example.with_suffix(".json").read_text(encoding="utf-8"))
        assert taken.event.model_dump(mode="json") == expected, example.name
        # General support has no v1 event; every other benefit has one, with the same id.
        v1 = as_v1(taken.event)
        if expected["data"]["benefit"] == "general_support":
            assert v1 is None, example.name
        else:
            assert v1 is not None, example.name
            assert v1.id == taken.event.id, example.name


@pytest.mark.parametrize("example", REJECTED, ids=lambda path: path.stem)
def test_rejected_example_gives_exactly_its_reason(intake: Intake, example: Path) -> None:
    *before, last = example.read_bytes().splitlines()
    for number, raw in enumerate(before, start=1):
        assert isinstance(intake.take(raw, number), Taken), (example.name, number)
    result = intake.take(last, len(before) + 1)
    assert isinstance(result, Rejection), result
    assert result.reason == example.with_suffix(".reason").read_text(encoding="utf-8").strip()
    assert result.line == len(before) + 1


def test_every_data_line_reason_has_a_rejected_example() -> None:
    shown = {path.with_suffix(".reason").read_text(encoding="utf-8").strip() for path in REJECTED}
    assert shown == set(REASONS) - NOT_FOR_A_DATA_LINE


def test_every_example_has_its_expectation() -> None:
    for path in ACCEPTED:
        assert path.with_suffix(".json").is_file(), path.name
    for path in REJECTED:
        assert path.with_suffix(".reason").is_file(), path.name
    assert {p.stem for p in EXAMPLES.glob("*.json")} == {p.stem for p in ACCEPTED}


def test_every_reason_is_in_the_partner_documentation() -> None:
    page = (EXAMPLES.parents[3] / "docs" / "partners" / "kela.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z0-9-]+)` \|", page, flags=re.MULTILINE))
    assert set(REASONS) <= documented
