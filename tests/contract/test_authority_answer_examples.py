"""The authorities' answer examples: each input becomes exactly its committed status update.

Under ``contracts/authorities/examples/referral-answer/``: ``NAME.json`` is an answer on
``in.<authority>.referral-status`` and ``NAME.expected.json`` the update it becomes
(``referral_id``, ``state``, ``reason``, ``at``); ``rejected/NAME.json`` must be rejected with
the reason in ``NAME.reason``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

import pytest

from connectors.authorities.referral_answer import ANSWER_REASONS, Answer, parse_answer
from schemas.codes import ReferralState
from schemas.identity_code import IDENTITY_CODE_SHAPE, is_temporary
from schemas.rejection import Rejection

EXAMPLES: Final = (
    Path(__file__).parents[2] / "contracts" / "authorities" / "examples" / "referral-answer"
)
ACCEPTED: Final = sorted(p for p in EXAMPLES.glob("*.json") if ".expected." not in p.name)
REJECTED: Final = sorted((EXAMPLES / "rejected").glob("*.json"))


def _name(path: Path) -> str:
    return path.name.removesuffix(".json")


@pytest.mark.parametrize("example", ACCEPTED, ids=_name)
def test_answer_becomes_its_committed_update(example: Path) -> None:
    answer = parse_answer(example.read_bytes())
    assert isinstance(answer, Answer), answer
    expected = json.loads(example.with_name(f"{_name(example)}.expected.json").read_text())
    assert {
        "referral_id": answer.referral_id,
        "state": answer.state.value,
        "reason": answer.reason,
        "at": answer.at.isoformat(),
    } == expected


@pytest.mark.parametrize("example", REJECTED, ids=_name)
def test_rejected_answer_gives_exactly_its_reason(example: Path) -> None:
    result = parse_answer(example.read_bytes())
    assert isinstance(result, Rejection), result
    assert result.reason == example.with_suffix(".reason").read_text().strip()
    assert not IDENTITY_CODE_SHAPE.search(result.detail)


def test_every_state_and_every_reason_has_an_example() -> None:
    states = {json.loads(p.read_text())["state"] for p in EXAMPLES.glob("*.expected.json")}
    assert states == {state.value for state in ReferralState}
    reasons = {p.with_suffix(".reason").read_text().strip() for p in REJECTED}
    assert reasons == set(ANSWER_REASONS)


def test_examples_use_only_temporary_identity_codes() -> None:
    for path in EXAMPLES.rglob("*.json"):
        for code in IDENTITY_CODE_SHAPE.findall(path.read_bytes().decode("utf-8", "replace")):
            assert is_temporary(code), path.name
