"""Päijät-Sote's contract examples: each input becomes exactly its committed result.

Under ``contracts/sote/examples/``:

* ``service-request/NAME.json`` is a projected canonical service-referral event and
  ``NAME.expected.json`` the FHIR ``ServiceRequest`` Päijät-Sote receives (pretty-printed
  here; compared as parsed JSON, since the wire form is compact);
* ``task/NAME.json`` is a FHIR ``Task`` from Päijät-Sote and ``NAME.expected.json`` the status
  update it becomes (``referral_id``, ``state``, ``reason``, ``at``, and ``requester`` when
  the Task names one);
* ``task/rejected/NAME.json`` must be rejected with the reason in ``NAME.reason``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest

from connectors.sote.inbound import REASONS, TASK_STATES, TaskUpdate, parse_task
from connectors.sote.outbound import render_service_request
from schemas.identity_code import IDENTITY_CODE_SHAPE, is_temporary
from schemas.rejection import Rejection

EXAMPLES: Final = Path(__file__).parents[2] / "contracts" / "sote" / "examples"
SERVICE_REQUEST: Final = EXAMPLES / "service-request"
TASK: Final = EXAMPLES / "task"
REJECTED: Final = TASK / "rejected"


def _inputs(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.json") if not p.name.endswith(".expected.json"))


def _expected(path: Path) -> Any:
    expected = path.with_name(path.name.removesuffix(".json") + ".expected.json")
    return json.loads(expected.read_text(encoding="utf-8"))


def _reason(path: Path) -> str:
    return path.with_suffix(".reason").read_text(encoding="utf-8").strip()


def _name(path: Path) -> str:
    return path.name.removesuffix(".json")


RENDERED: Final = _inputs(SERVICE_REQUEST)
ACCEPTED: Final = _inputs(TASK)
REJECTED_TASKS: Final = sorted(REJECTED.glob("*.json"))


def test_examples_exist() -> None:
    assert len(RENDERED) >= 3
    assert len(ACCEPTED) >= len(TASK_STATES)
    assert len(REJECTED_TASKS) >= len(REASONS)


@pytest.mark.parametrize("example", RENDERED, ids=_name)
def test_projected_referral_renders_to_its_committed_service_request(example: Path) -> None:
    projected = json.loads(example.read_text(encoding="utf-8"))
    rendered = render_service_request(projected)
    assert json.loads(rendered) == _expected(example)
    ServiceRequest.model_validate_json(rendered)


def test_the_documented_referrals_are_covered() -> None:
    services_and_urgencies = set()
    for example in RENDERED:
        coding = _expected(example)["code"]["coding"][0]
        services_and_urgencies.add((coding["code"], _expected(example)["priority"]))
    assert ("KUNTOUTTAVA_TYOTOIMINTA", "routine") in services_and_urgencies
    assert ("TERVEYSTARKASTUS", "urgent") in services_and_urgencies
    assert "MONIALAINEN_TUKI" in {code for code, _ in services_and_urgencies}


@pytest.mark.parametrize("example", ACCEPTED, ids=_name)
def test_task_becomes_its_committed_update(example: Path) -> None:
    update = parse_task(example.read_bytes())
    assert isinstance(update, TaskUpdate), update
    found = {
        "referral_id": update.referral_id,
        "state": update.state.value,
        "reason": update.reason,
        "at": update.at.isoformat(),
    }
    if update.requester is not None:
        found["requester"] = update.requester.value
    assert found == _expected(example)


def test_every_status_has_an_accepted_example() -> None:
    statuses = {json.loads(p.read_text(encoding="utf-8"))["status"] for p in ACCEPTED}
    assert statuses == set(TASK_STATES)


@pytest.mark.parametrize("example", REJECTED_TASKS, ids=_name)
def test_rejected_task_gives_exactly_its_reason(example: Path) -> None:
    result = parse_task(example.read_bytes())
    assert isinstance(result, Rejection), result
    assert result.reason == _reason(example)
    assert not IDENTITY_CODE_SHAPE.search(result.detail)


def test_every_reason_has_a_rejected_example() -> None:
    assert {_reason(path) for path in REJECTED_TASKS} == set(REASONS)


def test_every_example_has_its_expectation() -> None:
    for directory in (SERVICE_REQUEST, TASK):
        expected = {
            p.name.removesuffix(".expected.json") for p in directory.glob("*.expected.json")
        }
        assert expected == {_name(p) for p in _inputs(directory)}
    for path in REJECTED_TASKS:
        assert path.with_suffix(".reason").is_file(), path.name
    reasons = {p.name.removesuffix(".reason") for p in REJECTED.glob("*.reason")}
    assert reasons == {_name(p) for p in REJECTED_TASKS}


def test_examples_use_only_temporary_identity_codes() -> None:
    for path in EXAMPLES.rglob("*.json"):
        text = path.read_bytes().decode("utf-8", errors="replace")
        for code in IDENTITY_CODE_SHAPE.findall(text):
            assert is_temporary(code), path.name
