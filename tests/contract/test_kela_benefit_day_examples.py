"""Kela benefit-day contract examples: each line becomes exactly its committed event or reason.

``contracts/kela/examples/benefit-day/NAME.csv`` holds one data line (a Kafka message value)
and ``NAME.json`` the canonical event it must become; ``rejected/NAME.csv`` holds a line that
must be rejected with the reason in ``rejected/NAME.reason``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.kela.inbound import REASONS, decode_line, parse_line, to_event
from connectors.kela.native import PaymentDayRow
from schemas.rejection import Rejection

EXAMPLES = Path(__file__).parents[2] / "contracts" / "kela" / "examples" / "benefit-day"
SECRET = b"contract-example-secret-0123456789abcdef"

ACCEPTED = sorted(EXAMPLES.glob("*.csv"))
REJECTED = sorted((EXAMPLES / "rejected").glob("*.csv"))

#: Reasons a single data line cannot show: the header is a file's, invalid-row is a safety net.
NOT_FOR_A_DATA_LINE = {"bad-header", "invalid-row"}


def _parse(path: Path) -> PaymentDayRow | Rejection:
    text = decode_line(path.read_bytes(), 1)
    return text if isinstance(text, Rejection) else parse_line(text, 1)


def test_examples_exist() -> None:
    assert len(ACCEPTED) >= 5
    assert len(REJECTED) >= 15


@pytest.mark.parametrize("example", ACCEPTED, ids=lambda path: path.stem)
def test_accepted_example_becomes_its_committed_event(example: Path) -> None:
    row = _parse(example)
    assert isinstance(row, PaymentDayRow), row
    expected = json.loads(example.with_suffix(".json").read_text(encoding="utf-8"))
    assert to_event(row, SECRET).model_dump(mode="json") == expected


@pytest.mark.parametrize("example", REJECTED, ids=lambda path: path.stem)
def test_rejected_example_gives_exactly_its_reason(example: Path) -> None:
    result = _parse(example)
    assert isinstance(result, Rejection), result
    assert result.reason == example.with_suffix(".reason").read_text(encoding="utf-8").strip()
    assert result.line == 1


def test_every_data_line_reason_has_a_rejected_example() -> None:
    shown = {path.with_suffix(".reason").read_text(encoding="utf-8").strip() for path in REJECTED}
    assert shown == set(REASONS) - NOT_FOR_A_DATA_LINE


def test_every_example_has_its_expectation() -> None:
    for path in ACCEPTED:
        assert path.with_suffix(".json").is_file(), path.name
    for path in REJECTED:
        assert path.with_suffix(".reason").is_file(), path.name
    assert {p.stem for p in EXAMPLES.glob("*.json")} == {p.stem for p in ACCEPTED}
